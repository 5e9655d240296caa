package provider

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// A change to a group's servers rolls that group in place: same cluster,
// same master, the workers replaced one at a time under Sahara's names. A
// batch that fails leaves a truthful state and a plan that finishes the roll.
func TestCluster_ChangedGroupIsRolledNotRebuilt(t *testing.T) {
	cloud := newTestCloud(t)
	before, after := clusterConfig(1, 2, "", ""), clusterConfig(1, 2, `availability_zone = "zone-b"`, "")
	var id, master string
	ids := func() (string, string) {
		t.Helper()
		var c sahara.Cluster
		cid := cloud.ids(t, sahara.KindCluster)[0]
		if err := cloud.store.Get(t.Context(), sahara.KindCluster, cid, &c); err != nil {
			t.Fatal(err)
		}
		c.Link()
		return c.ID, c.NodeGroup("master").Instances[0].InstanceID
	}
	same := func(*terraform.State) error {
		if gotID, gotMaster := ids(); gotID != id || gotMaster != master {
			return fmt.Errorf("cluster %s master %s, want %s and %s untouched", gotID, gotMaster, id, master)
		}
		return nil
	}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: cloud.factories(),
		Steps: []resource.TestStep{
			{Config: before, Check: func(*terraform.State) error { id, master = ids(); return nil }},
			{
				// the second batch would add demo-worker-0 again: it fails
				PreConfig: func() { cloud.infra.Fail("SpawnInstances", "demo-worker-0", errors.New("no valid host was found")) },
				Config:    after,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(clusterAddr, plancheck.ResourceActionUpdate),
				}},
				ExpectError: regexpMust(`(?s)Rolling Replacement Error.*no valid host was\s+found`),
			},
			{
				// the state after the stopped roll: Active, one old and one new
				// worker; the plan goes on with the roll
				RefreshState:       true,
				ExpectNonEmptyPlan: true,
				Check: resource.ComposeTestCheckFunc(same,
					resource.TestCheckResourceAttr(clusterAddr, "status", "Active"),
					resource.TestCheckResourceAttr(clusterAddr, "node_groups.worker.instances.#", "2"),
					resource.TestCheckResourceAttr(clusterAddr, "node_groups.worker.instances.0.name", "demo-worker-1"),
					resource.TestCheckResourceAttr(clusterAddr, "node_groups.worker.instances.1.name", "demo-worker-2"),
				),
			},
			{
				PreConfig: cloud.infra.ClearFaults,
				Config:    after,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(clusterAddr, plancheck.ResourceActionUpdate),
				}},
				Check: same,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(clusterAddr, workerPath("instances"), instanceNames("demo-worker-0", "demo-worker-2")),
					statecheck.ExpectKnownValue(clusterAddr, workerPath("availability_zone"), knownvalue.StringExact("zone-b")),
				},
			},
			{Config: after, PlanOnly: true},
			{
				// the master runs processes the fake plugin cannot scale
				Config: strings.Replace(after, fmt.Sprintf(`flavor_id      = %q`, testFlavorID), `flavor_id      = "m1.large"`, 1),
				ExpectError: pathMsgRE("Chosen node group master cannot be scaled : Fake plugin cannot scale nodegroup with processes: namenode resourcemanager",
					`node_groups["master"].count`),
			},
			{Config: after, PlanOnly: true, Check: same},
			{
				// a roll that succeeds at once
				Config: clusterConfig(1, 2, `availability_zone = "zone-c"`, ""),
				Check:  same,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(clusterAddr, workerPath("instances"), instanceNames("demo-worker-0", "demo-worker-1")),
				},
			},
		},
	})
}
