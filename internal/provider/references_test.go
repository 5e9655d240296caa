package provider

import (
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
	sfake "github.com/saharagen/terraform-provider-saharagen/sahara/fake"
)

// refCloud has flavor m1.small (ID f-small), the test image, an external
// network "public" and an internal one (testNetworkID).
func refCloud(t *testing.T) *testCloud {
	cloud := newTestCloud(t)
	cloud.infra.Flavors = map[string]sfake.Flavor{"f-small": {Name: testFlavorID, VCPUs: 1, RAMMB: 2048}}
	cloud.infra.OnlyKnownFlavors = true
	cloud.infra.Networks = map[string]sahara.Network{"n-public": {Name: "public", External: true}, testNetworkID: {Name: "private"}}
	return cloud
}

// TestReferences_CheckedAtPlanWithAttributePaths: a flavor, image or pool
// that the cloud lacks fails `terraform plan` on the attribute that names
// it, with Sahara's message; names and IDs are both accepted.
func TestReferences_CheckedAtPlanWithAttributePaths(t *testing.T) {
	cases := map[string]struct{ config, msg, attr string }{
		"cluster flavor": {clusterConfig(1, 2, "", "") + "\n", "", ""},
		"flavor unknown": {strings.Replace(clusterConfig(1, 2, "", ""), `flavor_id      = "m1.small"
      node_processes = ["datanode"`, `flavor_id      = "m1.huge"
      node_processes = ["datanode"`, 1),
			"Requested flavor 'm1.huge' not found", `node_groups["worker"].flavor_id`},
		"default image by name": {strings.Replace(clusterConfig(1, 2, "", ""), testImageID, "fake-image", 1), "", ""},
		"default image missing": {strings.Replace(clusterConfig(1, 2, "", ""), testImageID, "ubuntu-old", 1),
			"Requested image 'ubuntu-old' is not registered", "default_image_id"},
		"pool not external": {clusterConfig(1, 2, `floating_ip_pool = "private"`, ""),
			"Floating IP pool private is not an external network", `node_groups["worker"].floating_ip_pool`},
		"pool by name": {clusterConfig(1, 2, `floating_ip_pool = "public"`, ""), "", ""},
		"network missing": {strings.Replace(clusterConfig(1, 2, "", ""), testNetworkID, "lan", 1),
			"Network lan not found", "neutron_management_network"},
		"template flavor": {ngtConfig("w", "m1.huge", `["datanode"]`, ""), "Requested flavor 'm1.huge' not found", "flavor_id"},
		"template image":  {ngtConfig("w", "f-small", `["datanode"]`, `image_id = "nope"`), "Requested image 'nope' is not registered", "image_id"},
		"cluster template inline group": {hcl(`
resource "saharagen_cluster_template" "t" {
  name           = "t"
  plugin_name    = "fake"
  plugin_version = "0.1"
  node_groups = {
    w = {
      flavor_id      = "m1.huge"
      node_processes = ["datanode"]
      count          = 1
    }
  }
}`), "Requested flavor 'm1.huge' not found", `node_groups["w"].flavor_id`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cloud := refCloud(t)
			step := resource.TestStep{Config: tc.config, PlanOnly: true, ExpectNonEmptyPlan: true}
			if tc.msg != "" {
				step.ExpectError = expectRE(tc.msg, tc.attr)
				if tc.attr != "" && !strings.Contains(tc.attr, "[") {
					step.ExpectError = msgRE(`with\s+\S+,\s+on .* in resource .*:\s+.*`+tc.attr, tc.msg)
				}
			}
			resource.UnitTest(t, resource.TestCase{ProtoV6ProviderFactories: cloud.factories(), Steps: []resource.TestStep{step}})
		})
	}
}

// TestReferences_UnchangedPlanReadsNothing: once the cluster exists, a plan
// that names no new flavor, image or network looks none up; a roll to a new
// flavor looks up that one.
func TestReferences_UnchangedPlanReadsNothing(t *testing.T) {
	cloud := refCloud(t)
	cloud.infra.Flavors["f-large"] = sfake.Flavor{Name: "m1.large", VCPUs: 2, RAMMB: 4096}
	var before int
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: cloud.factories(),
		Steps: []resource.TestStep{
			{Config: clusterConfig(1, 2, "", "")},
			{
				PreConfig: func() {
					before = cloud.infra.Calls("Flavor") + cloud.infra.Calls("Network") + cloud.infra.Calls("GetImage")
				},
				Config: clusterConfig(1, 2, "", ""), PlanOnly: true,
			},
			{
				PreConfig: func() {
					if n := cloud.infra.Calls("Flavor") + cloud.infra.Calls("Network") + cloud.infra.Calls("GetImage") - before; n != 0 {
						t.Errorf("an unchanged plan looked up %d flavors, images or networks, want 0", n)
					}
				},
				Config: strings.Replace(clusterConfig(1, 2, "", ""), `flavor_id      = "m1.small"
      node_processes = ["datanode"`, `flavor_id      = "m1.huge"
      node_processes = ["datanode"`, 1),
				ExpectError: expectRE("Requested flavor 'm1.huge' not found", `node_groups["worker"].flavor_id`),
			},
			{Config: strings.Replace(clusterConfig(1, 2, "", ""), `flavor_id      = "m1.small"
      node_processes = ["datanode"`, `flavor_id      = "m1.large"
      node_processes = ["datanode"`, 1)},
		},
	})
}
