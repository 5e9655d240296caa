package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// templatesConfig is two node group templates and a cluster template using
// them, the worker count given.
func templatesConfig(workers int, masterFlavor string) string {
	return hcl(fmt.Sprintf(`
resource "saharagen_node_group_template" "master" {
  name           = "master"
  plugin_name    = "fake"
  plugin_version = "0.1"
  flavor_id      = "m1.medium"
  node_processes = ["namenode", "resourcemanager"]
}

resource "saharagen_node_group_template" "worker" {
  name             = "worker"
  plugin_name      = "fake"
  plugin_version   = "0.1"
  flavor_id        = "m1.small"
  node_processes   = ["datanode", "nodemanager"]
  volumes_per_node = 2
  volumes_size     = 10
}

resource "saharagen_cluster_template" "ct" {
  name           = "hadoop"
  plugin_name    = "fake"
  plugin_version = "0.1"
  default_image_id = %q
  cluster_configs = { HDFS = { "dfs.replication" = "1" } }
  node_groups = {
    master = { node_group_template_id = saharagen_node_group_template.master.id, count = 1 %s }
    worker = { node_group_template_id = saharagen_node_group_template.worker.id, count = %d }
  }
}`, testImageID, masterFlavor, workers))
}

func protect(cfg string) string {
	return strings.Replace(cfg, `name           = "hadoop"`, `name           = "hadoop"
  is_protected   = true`, 1)
}

func xlarge(cfg string) string { return strings.Replace(cfg, `"m1.small"`, `"m1.xlarge"`, 1) }

func TestClusterTemplate_ReferencesNodeGroupTemplates(t *testing.T) {
	cloud := newTestCloud(t)
	addr := "saharagen_cluster_template.ct"
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: cloud.factories(),
		Steps: []resource.TestStep{
			{
				Config: templatesConfig(2, ""),
				ConfigStateChecks: []statecheck.StateCheck{
					// Fields come from the node group template.
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("node_groups").AtMapKey("worker").AtMapKey("flavor_id"), knownvalue.StringExact("m1.small")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("node_groups").AtMapKey("worker").AtMapKey("volumes_per_node"), knownvalue.Int64Exact(2)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("node_groups").AtMapKey("master").AtMapKey("node_processes"),
						knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("namenode"), knownvalue.StringExact("resourcemanager")})),
				},
				Check: func(s *terraform.State) error {
					var ct sahara.ClusterTemplate
					if err := cloud.store.Get(context.Background(), sahara.KindClusterTemplate, s.RootModule().Resources[addr].Primary.ID, &ct); err != nil {
						return err
					}
					if len(ct.NodeGroups) != 2 || ct.NodeGroups[1].Name != "worker" || ct.NodeGroups[1].VolumesSize != 10 || ct.NodeGroups[1].NodeGroupTemplateID == "" {
						return fmt.Errorf("stored node groups not merged with their templates: %+v", ct.NodeGroups)
					}
					return nil
				},
			},
			{
				// An override of a template field is an in-place update of the cluster template.
				Config: templatesConfig(3, `, flavor_id = "m1.large"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("node_groups").AtMapKey("master").AtMapKey("flavor_id"), knownvalue.StringExact("m1.large")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("node_groups").AtMapKey("worker").AtMapKey("count"), knownvalue.Int64Exact(3)),
				},
			},
			{Config: templatesConfig(3, `, flavor_id = "m1.large"`), PlanOnly: true},
			{Config: protect(templatesConfig(3, `, flavor_id = "m1.large"`))},
			{
				// A node group template's change to servers plans its id unknown
				// (for the clusters using it): the cluster template, protected,
				// plans an update; at apply the id is the same, Terraform finds
				// nothing to change, and the protection refuses nothing. It
				// keeps its copy.
				Config: protect(xlarge(templatesConfig(3, `, flavor_id = "m1.large"`))),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("saharagen_node_group_template.worker", plancheck.ResourceActionUpdate),
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("node_groups").AtMapKey("worker").AtMapKey("flavor_id"), knownvalue.StringExact("m1.small")),
				},
			},
			{Config: protect(xlarge(templatesConfig(3, `, flavor_id = "m1.large"`))), PlanOnly: true},
			{Config: xlarge(templatesConfig(3, `, flavor_id = "m1.large"`))},
			{ResourceName: addr, ImportState: true, ImportStateVerify: true},
		},
		CheckDestroy: func(*terraform.State) error {
			for _, k := range []string{sahara.KindClusterTemplate, sahara.KindNodeGroupTemplate} {
				if ids := cloud.ids(t, k); len(ids) != 0 {
					return fmt.Errorf("%s left in the store: %v", k, ids)
				}
			}
			return nil
		},
	})
}

func TestClusterTemplate_PlanErrors(t *testing.T) {
	cloud := newTestCloud(t)
	cases := map[string]struct{ config, attr, want string }{
		"convert unsupported": {hcl(`
resource "saharagen_cluster_template" "ct" {
  name           = "dask"
  plugin_name    = "dask"
  plugin_version = "` + daskVersion(t) + `"
  convert_from   = "{}"
}`), "convert_from", `Plugin "dask" does not implement convert`},
		"unknown anti-affinity process": {hcl(`
resource "saharagen_cluster_template" "ct" {
  name           = "ct"
  plugin_name    = "fake"
  plugin_version = "0.1"
  anti_affinity  = ["datanode", "regionserver"]
  node_groups = { w = { flavor_id = "f", node_processes = ["datanode"], count = 1 } }
}`), "anti_affinity", "Plugin doesn't support the following node processes: ['regionserver']"},
		"inline group process": {hcl(`
resource "saharagen_cluster_template" "ct" {
  name           = "ct"
  plugin_name    = "fake"
  plugin_version = "0.1"
  node_groups = { w = { flavor_id = "f", node_processes = ["datanode", "oozie"], count = 1 } }
}`), `node_groups["w"].node_processes`, "Plugin doesn't support the following node processes: ['oozie']"},
		"inline group incomplete": {hcl(`
resource "saharagen_cluster_template" "ct" {
  name           = "ct"
  plugin_name    = "fake"
  plugin_version = "0.1"
  node_groups = { w = { node_processes = ["datanode"], count = 1 } }
}`), `node_groups["w"].flavor_id`, `'flavor_id' is a required property`},
		"cluster config": {hcl(`
resource "saharagen_cluster_template" "ct" {
  name           = "ct"
  plugin_name    = "fake"
  plugin_version = "0.1"
  cluster_configs = { general = { "Enable XFS" = "maybe" } }
  node_groups = { w = { flavor_id = "f", node_processes = ["datanode"], count = 1 } }
}`), "cluster_configs", `Config 'Enable XFS' of applicable target 'general' has an invalid value: "maybe" is not a boolean`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: cloud.factories(),
				Steps:                    []resource.TestStep{{Config: tc.config, PlanOnly: true, ExpectError: ctExpect(tc.attr, tc.want)}},
			})
		})
	}
}

func TestClusterTemplate_ConvertFrom(t *testing.T) {
	cloud := newTestCloud(t)
	addr := "saharagen_cluster_template.ct"
	doc := `{"description": "from a document", "node_groups": [{"name": "all", "flavor_id": "m1.small", "node_processes": ["namenode", "datanode"], "count": 1}]}`
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: cloud.factories(),
		Steps: []resource.TestStep{
			{
				Config: hcl(fmt.Sprintf(`
resource "saharagen_cluster_template" "ct" {
  name           = "converted"
  plugin_name    = "fake"
  plugin_version = "0.1"
  convert_from   = %q
}`, doc)),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("node_groups").AtMapKey("all").AtMapKey("flavor_id"), knownvalue.StringExact("m1.small")),
				},
			},
		},
	})
}

// daskVersion is a version the dask plugin supports.
func daskVersion(t *testing.T) string {
	t.Helper()
	reg, err := staticRegistry()
	if err != nil {
		t.Fatal(err)
	}
	p, err := reg.Get("dask")
	if err != nil {
		t.Fatal(err)
	}
	return p.Versions()[0]
}

// ctExpect: root attributes are shown by Terraform; node group paths are named in the detail.
func ctExpect(attr, msg string) *regexp.Regexp {
	if strings.HasPrefix(attr, "node_groups[") {
		return pathMsgRE(msg, attr)
	}
	return msgRE(attr, msg)
}
