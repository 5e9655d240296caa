package provider

import (
	"fmt"
	"slices"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// The CIDRs that may reach the plugin's ports are the cluster's own and
// change in place: the rules follow, no instance is replaced. A CIDR that
// is not one, or CIDRs without an auto security group, fail at plan on
// the attribute.
func TestCluster_AutoSecurityGroupCIDRsChangeInPlace(t *testing.T) {
	cloud := newTestCloud(t)
	cfg := func(cidrs string) string {
		return clusterConfig(1, 2, "auto_security_group = true\n"+cidrs, "")
	}
	sameServer := statecheck.CompareValue(compare.ValuesSame())
	server := workerPath("instances").AtSliceIndex(0).AtMapKey("id")
	sgCIDRs := func(want ...string) func(*terraform.State) error {
		return func(s *terraform.State) error {
			var c sahara.Cluster
			if err := cloud.store.Get(t.Context(), sahara.KindCluster, s.RootModule().Resources[clusterAddr].Primary.ID, &c); err != nil {
				return err
			}
			sg := c.NodeGroup("worker").SecurityGroupID
			if got := cloud.infra.SecurityGroupCIDRs(sg); !slices.Equal(got, want) {
				return fmt.Errorf("security group %s admits %v to the plugin's ports, want %v", sg, got, want)
			}
			return nil
		}
	}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: cloud.factories(),
		Steps: []resource.TestStep{
			{
				Config:      cfg(`auto_security_group_cidrs = ["10.0.0.0/33"]`),
				ExpectError: regexpMust(`(?s)"10.0.0.0/33" is not a CIDR.*Attribute:\s+node_groups\["worker"\].auto_security_group_cidrs`),
			},
			{
				Config:      clusterConfig(1, 2, `auto_security_group_cidrs = ["203.0.113.0/24"]`, ""),
				ExpectError: regexpMust(`(?s)auto_security_group_cidrs are rules of the group's auto\s+security\s+group.*Attribute: node_groups\["worker"\].auto_security_group_cidrs`),
			},
			{
				Config:            cfg(""),
				ConfigStateChecks: []statecheck.StateCheck{sameServer.AddStateValue(clusterAddr, server)},
				Check:             sgCIDRs(),
			},
			{
				Config: cfg(`auto_security_group_cidrs = ["203.0.113.0/24", "2001:db8::/48"]`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(clusterAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(clusterAddr, tfjsonpath.New("status"), knownvalue.StringExact(string(sahara.StatusActive))),
				}},
				ConfigStateChecks: []statecheck.StateCheck{sameServer.AddStateValue(clusterAddr, server)},
				Check:             sgCIDRs("2001:db8::/48", "203.0.113.0/24"),
			},
			{Config: cfg(`auto_security_group_cidrs = ["203.0.113.0/24", "2001:db8::/48"]`), PlanOnly: true},
			{
				Config:            cfg(""),
				ConfigStateChecks: []statecheck.StateCheck{sameServer.AddStateValue(clusterAddr, server)},
				Check:             sgCIDRs(),
			},
		},
	})
}
