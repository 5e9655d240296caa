package provider

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

func ngtConfig(name, flavor, processes, extra string) string {
	return hcl(fmt.Sprintf(`
resource "saharagen_node_group_template" "worker" {
  name           = %q
  plugin_name    = "fake"
  plugin_version = "0.1"
  flavor_id      = %q
  node_processes = %s
  %s
}`, name, flavor, processes, extra))
}

func TestNodeGroupTemplate_LifecycleInPlaceAndImport(t *testing.T) {
	cloud := newTestCloud(t)
	addr := "saharagen_node_group_template.worker"
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: cloud.factories(),
		Steps: []resource.TestStep{
			{
				Config: ngtConfig("worker", "m1.small", `["datanode", "nodemanager"]`, `node_configs = { HDFS = { "dfs.replication" = "2" } }`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("id"), knownvalue.NotNull()),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("volume_mount_prefix"), knownvalue.StringExact(sahara.DefaultVolumeMountPrefix)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("use_autoconfig"), knownvalue.Bool(true)),
				},
				Check: func(*terraform.State) error {
					if ids := cloud.ids(t, sahara.KindNodeGroupTemplate); len(ids) != 1 {
						return fmt.Errorf("store holds %d node group templates, want 1", len(ids))
					}
					return nil
				},
			},
			{
				Config: ngtConfig("worker", "m1.large", `["datanode", "nodemanager"]`, `node_configs = { HDFS = { "dfs.replication" = "2" } }`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("flavor_id"), knownvalue.StringExact("m1.large")),
				},
				Check: func(s *terraform.State) error {
					var got sahara.NodeGroupTemplate
					id := s.RootModule().Resources[addr].Primary.ID
					if err := cloud.store.Get(context.Background(), sahara.KindNodeGroupTemplate, id, &got); err != nil {
						return err
					}
					if got.FlavorID != "m1.large" {
						return fmt.Errorf("stored flavor %q, want m1.large", got.FlavorID)
					}
					return nil
				},
			},
			{ResourceName: addr, ImportState: true, ImportStateVerify: true},
		},
		CheckDestroy: func(*terraform.State) error {
			if ids := cloud.ids(t, sahara.KindNodeGroupTemplate); len(ids) != 0 {
				return fmt.Errorf("node group templates left in the store: %v", ids)
			}
			return nil
		},
	})
}

func TestNodeGroupTemplate_PlanRejectsUnknownProcess(t *testing.T) {
	cloud := newTestCloud(t)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: cloud.factories(),
		Steps: []resource.TestStep{{
			Config:      ngtConfig("worker", "m1.small", `["datanode", "tasktracker", "jobtracker"]`, ""),
			PlanOnly:    true,
			ExpectError: msgRE("node_processes", "Plugin doesn't support the following node processes: ['jobtracker', 'tasktracker']"),
		}},
	})
	if cloud.connect != 0 {
		t.Errorf("plan-time validation connected to the cloud %d times, want 0", cloud.connect)
	}
}

func TestNodeGroupTemplate_PlanRejectsConfigs(t *testing.T) {
	cloud := newTestCloud(t)
	cases := map[string]struct{ configs, want string }{
		"unknown target": {`{ MapReduce = { "x" = "1" } }`, `Plugin doesn't contain applicable target 'MapReduce'`},
		"unknown name":   {`{ HDFS = { "dfs.blocksize" = "1" } }`, `Plugin's applicable target 'HDFS' doesn't contain config with name 'dfs.blocksize'`},
		"wrong type":     {`{ HDFS = { "dfs.replication" = "two" } }`, `Config 'dfs.replication' of applicable target 'HDFS' has an invalid value: "two" is not an integer`},
		"enum value":     {`{ YARN = { "yarn.resourcemanager.scheduler" = "lottery" } }`, `"lottery" is not one of fifo, capacity, fair`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: cloud.factories(),
				Steps: []resource.TestStep{{
					Config:      ngtConfig("worker", "m1.small", `["datanode"]`, "node_configs = "+tc.configs),
					PlanOnly:    true,
					ExpectError: msgRE("node_configs", tc.want),
				}},
			})
		})
	}
}

func TestNodeGroupTemplate_SchemaValidation(t *testing.T) {
	cloud := newTestCloud(t)
	cases := map[string]struct{ config, want string }{
		"bad name": {ngtConfig("worker_1", "m1", `["datanode"]`, ""), `name.*must be 1 to 50 characters`},
		"unknown plugin": {`resource "saharagen_node_group_template" "x" {
  name = "x"
  plugin_name = "hdp"
  plugin_version = "1"
  flavor_id = "f"
  node_processes = ["datanode"]
}`, `plugin_name.*value must be one of`},
		"no processes":     {ngtConfig("w", "m1", `[]`, ""), `node_processes.*at least 1`},
		"mount prefix":     {ngtConfig("w", "m1", `["datanode"]`, `volume_mount_prefix = "volumes"`), `volume_mount_prefix.*absolute path`},
		"volumes no size":  {ngtConfig("w", "m1", `["datanode"]`, `volumes_per_node = 2`), `You must specify a volumes_size parameter`},
		"negative volumes": {ngtConfig("w", "m1", `["datanode"]`, `volumes_per_node = -1`), `volumes_per_node.*at least 0`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: cloud.factories(),
				Steps:                    []resource.TestStep{{Config: tc.config, PlanOnly: true, ExpectError: regexp.MustCompile(`(?s)` + tc.want)}},
			})
		})
	}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: cloud.factories(),
		Steps: []resource.TestStep{{
			Config: hcl(`resource "saharagen_node_group_template" "x" {
  name = "x"
  plugin_name = "fake"
  plugin_version = "9.9"
  flavor_id = "f"
  node_processes = ["datanode"]
}`),
			PlanOnly:    true,
			ExpectError: msgRE("plugin_version", "Requested plugin 'fake' doesn't support version '9.9'"),
		}},
	})
}

func TestNodeGroupTemplate_ReadNoticesDeletion(t *testing.T) {
	cloud := newTestCloud(t)
	cfg := ngtConfig("worker", "m1.small", `["datanode"]`, "")
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: cloud.factories(),
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				PreConfig: func() {
					for _, id := range cloud.ids(t, sahara.KindNodeGroupTemplate) {
						if err := cloud.store.Delete(context.Background(), sahara.KindNodeGroupTemplate, id); err != nil {
							t.Fatal(err)
						}
					}
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("saharagen_node_group_template.worker", plancheck.ResourceActionCreate),
				}},
			},
		},
	})
}
