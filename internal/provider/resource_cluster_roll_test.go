package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

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

// update_policy paces the roll: a surge of 2 replaces both workers in one
// batch (new ones take the free indexes 2 and 3 before the old ones go).
// Changing the policy, the description or is_public is an update that
// touches no instance.
func TestCluster_UpdatePolicyPacesTheRoll(t *testing.T) {
	cloud := newTestCloud(t)
	policy := `update_policy = { max_surge = 2 }`
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: cloud.factories(),
		Steps: []resource.TestStep{
			{Config: clusterConfig(1, 2, "", "")},
			{
				PreConfig: cloud.infra.ResetCalls,
				Config:    clusterConfig(1, 2, policy, "description = \"paced\"\n  is_public = true"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(clusterAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(clusterAddr, workerPath("instances"), instanceNames("demo-worker-0", "demo-worker-1")),
					// quiet: what the update does not touch stays known
					plancheck.ExpectKnownValue(clusterAddr, tfjsonpath.New("status"), knownvalue.StringExact("Active")),
					plancheck.ExpectKnownValue(clusterAddr, tfjsonpath.New("info"), knownvalue.MapSizeExact(1)),
				}},
				Check: func(*terraform.State) error {
					if n, m := cloud.infra.Calls("SpawnInstances"), cloud.infra.Calls("DeleteInstances"); n+m > 0 {
						return fmt.Errorf("a policy change spawned %d times and deleted %d times", n, m)
					}
					return nil
				},
			},
			{
				Config: clusterConfig(1, 2, policy+"\n    availability_zone = \"zone-b\"", ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectUnknownValue(clusterAddr, tfjsonpath.New("status")),
					plancheck.ExpectUnknownValue(clusterAddr, tfjsonpath.New("info")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(clusterAddr, workerPath("instances"), instanceNames("demo-worker-2", "demo-worker-3")),
				},
			},
			{Config: clusterConfig(1, 2, policy+"\n    availability_zone = \"zone-b\"", ""), PlanOnly: true},
		},
	})
}

// A change to a node group template reaches the clusters made from it: the
// template's id is planned unknown, so the cluster's plan rolls the group
// in the same apply (its servers' fields, and a node config the template
// sets).
func TestCluster_ChangedTemplateRollsItsGroup(t *testing.T) {
	cloud := newTestCloud(t)
	cfg := func(zone, heap string) string {
		return hcl(fmt.Sprintf(`
resource "saharagen_node_group_template" "worker" {
  name              = "worker"
  plugin_name       = "fake"
  plugin_version    = "0.1"
  flavor_id         = %[3]q
  node_processes    = ["datanode", "nodemanager"]
  availability_zone = %[4]q
  node_configs      = { HDFS = { "NameNode Heap Size" = %[5]q } }
}

resource "saharagen_cluster" "c" {
  name                       = "demo"
  plugin_name                = "fake"
  plugin_version             = "0.1"
  default_image_id           = %[1]q
  neutron_management_network = %[2]q
  node_groups = {
    master = {
      flavor_id      = %[3]q
      node_processes = ["namenode", "resourcemanager"]
      count          = 1
    }
    worker = {
      node_group_template_id = saharagen_node_group_template.worker.id
      count                  = 2
    }
  }
}`, testImageID, testNetworkID, testFlavorID, zone, heap))
	}
	record := func() *sahara.Cluster {
		var c sahara.Cluster
		if err := cloud.store.Get(t.Context(), sahara.KindCluster, cloud.ids(t, sahara.KindCluster)[0], &c); err != nil {
			t.Fatal(err)
		}
		c.Link()
		return &c
	}
	workers := func(zone, heap string) func(*terraform.State) error {
		return func(*terraform.State) error {
			ng := record().NodeGroup("worker")
			if got, _ := ng.NodeConfigs.Get("HDFS", "NameNode Heap Size"); fmt.Sprint(got) != heap || ng.AvailabilityZone != zone {
				return fmt.Errorf("the worker group has zone %s and heap size %v, want %s and %s", ng.AvailabilityZone, got, zone, heap)
			}
			if n := len(ng.Outdated()); n != 0 {
				return fmt.Errorf("%d outdated workers", n)
			}
			return nil
		}
	}
	rolled := resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
		plancheck.ExpectResourceAction(clusterAddr, plancheck.ResourceActionUpdate),
		plancheck.ExpectUnknownValue(clusterAddr, workerPath("instances")),
	}}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: cloud.factories(),
		Steps: []resource.TestStep{
			{Config: cfg("zone-a", "512")},
			{
				Config:           cfg("zone-b", "512"),
				ConfigPlanChecks: rolled,
				Check:            workers("zone-b", "512"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(clusterAddr, workerPath("instances"), instanceNames("demo-worker-0", "demo-worker-2")),
					statecheck.ExpectKnownValue(clusterAddr, workerPath("availability_zone"), knownvalue.StringExact("zone-b")),
				},
			},
			{Config: cfg("zone-b", "512"), PlanOnly: true},
			{
				// A node config of the template: rolled too.
				Config:           cfg("zone-b", "1024"),
				ConfigPlanChecks: rolled,
				Check:            workers("zone-b", "1024"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(clusterAddr, workerPath("instances"), instanceNames("demo-worker-0", "demo-worker-1")),
				},
			},
			{Config: cfg("zone-b", "1024"), PlanOnly: true},
			{
				// Changed in the store behind Terraform's back: the template's
				// plan puts it back, and the cluster's plan shows the roll.
				PreConfig: func() {
					var ngt sahara.NodeGroupTemplate
					id := record().NodeGroup("worker").NodeGroupTemplateID
					if err := cloud.store.Get(t.Context(), sahara.KindNodeGroupTemplate, id, &ngt); err != nil {
						t.Fatal(err)
					}
					ngt.AvailabilityZone = "zone-c"
					if err := cloud.store.Put(t.Context(), sahara.KindNodeGroupTemplate, id, &ngt); err != nil {
						t.Fatal(err)
					}
				},
				Config: cfg("zone-b", "1024"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("saharagen_node_group_template.worker", plancheck.ResourceActionUpdate),
					plancheck.ExpectResourceAction(clusterAddr, plancheck.ResourceActionUpdate),
				}},
				Check: workers("zone-b", "1024"),
			},
		},
	})
}

// recordGets counts reads of cluster records.
type recordGets struct {
	sahara.Store
	n atomic.Int64
}

func (s *recordGets) Get(ctx context.Context, kind, id string, v any) error {
	if kind == sahara.KindCluster {
		s.n.Add(1)
	}
	return s.Store.Get(ctx, kind, id, v)
}

// A plan reads the cluster's record once for its checks (roll, repair,
// scale), however many of them run: a plan that scales and rolls reads it
// as often as a plan that changes nothing.
func TestCluster_PlanReadsTheRecordOnce(t *testing.T) {
	cloud := newTestCloud(t)
	gets := &recordGets{}
	cloud.wrapStore = func(st sahara.Store) sahara.Store { gets.Store = st; return gets }
	var unchanged, changed int64
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: cloud.factories(),
		Steps: []resource.TestStep{
			{Config: clusterConfig(1, 2, "", "")},
			{PreConfig: func() { gets.n.Store(0) }, Config: clusterConfig(1, 2, "", ""), PlanOnly: true},
			{
				PreConfig:          func() { unchanged = gets.n.Swap(0) },
				Config:             clusterConfig(1, 3, `availability_zone = "zone-b"`, ""),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{PreConfig: func() { changed = gets.n.Load() }, Config: clusterConfig(1, 2, "", ""), PlanOnly: true},
		},
	})
	t.Logf("cluster record reads: %d for a plan with no change, %d for one that scales and rolls", unchanged, changed)
	if unchanged == 0 || changed != unchanged {
		t.Errorf("cluster record reads: %d for a plan with no change, %d for one that scales and rolls", unchanged, changed)
	}
}
