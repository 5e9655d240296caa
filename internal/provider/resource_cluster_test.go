package provider

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
	sfake "github.com/saharagen/terraform-provider-saharagen/sahara/fake"
)

// clusterConfig is a fake-plugin cluster with a master and a worker group.
func clusterConfig(masters, workers int, workerExtra, clusterExtra string) string {
	return hcl(fmt.Sprintf(`
resource "saharagen_cluster" "c" {
  name                       = "demo"
  plugin_name                = "fake"
  plugin_version             = "0.1"
  default_image_id           = %q
  neutron_management_network = %q
  %s
  node_groups = {
    master = {
      flavor_id      = %q
      node_processes = ["namenode", "resourcemanager"]
      count          = %d
    }
    worker = {
      flavor_id      = %q
      node_processes = ["datanode", "nodemanager"]
      count          = %d
      %s
    }
  }
}`, testImageID, testNetworkID, clusterExtra, testFlavorID, masters, testFlavorID, workers, workerExtra))
}

const clusterAddr = "saharagen_cluster.c"

func workerPath(attr string) tfjsonpath.Path {
	return tfjsonpath.New("node_groups").AtMapKey("worker").AtMapKey(attr)
}

func instanceNames(names ...string) knownvalue.Check {
	var checks []knownvalue.Check
	for _, n := range names {
		checks = append(checks, knownvalue.ObjectPartial(map[string]knownvalue.Check{"name": knownvalue.StringExact(n)}))
	}
	return knownvalue.ListExact(checks)
}

func stringsExact(values ...string) knownvalue.Check {
	checks := []knownvalue.Check{}
	for _, v := range values {
		checks = append(checks, knownvalue.StringExact(v))
	}
	return knownvalue.ListExact(checks)
}

func TestCluster_CreateImportScaleInPlace(t *testing.T) {
	cloud := newTestCloud(t)
	sameID := statecheck.CompareValue(compare.ValuesSame())
	var clusterID string
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: cloud.factories(),
		Steps: []resource.TestStep{
			{
				Config: clusterConfig(1, 2, "", ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(clusterAddr, plancheck.ResourceActionCreate),
					plancheck.ExpectUnknownValue(clusterAddr, workerPath("instances")),
					// Defaults the provider knows are planned, not "known after apply";
					// node configs are the plugin's to recommend at apply.
					plancheck.ExpectKnownValue(clusterAddr, workerPath("volumes_per_node"), knownvalue.Int64Exact(0)),
					plancheck.ExpectKnownValue(clusterAddr, workerPath("volume_mount_prefix"), knownvalue.StringExact(sahara.DefaultVolumeMountPrefix)),
					plancheck.ExpectKnownValue(clusterAddr, workerPath("use_autoconfig"), knownvalue.Bool(true)),
					plancheck.ExpectKnownValue(clusterAddr, workerPath("floating_ip_pool"), knownvalue.Null()),
					plancheck.ExpectUnknownValue(clusterAddr, workerPath("node_configs")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					sameID.AddStateValue(clusterAddr, tfjsonpath.New("id")),
					statecheck.ExpectKnownValue(clusterAddr, tfjsonpath.New("status"), knownvalue.StringExact(string(sahara.StatusActive))),
					statecheck.ExpectKnownValue(clusterAddr, workerPath("instances"), instanceNames("demo-worker-0", "demo-worker-1")),
					statecheck.ExpectKnownValue(clusterAddr, workerPath("instances").AtSliceIndex(0).AtMapKey("host_key"), knownvalue.StringRegexp(regexpMust(`^ssh-`))),
					statecheck.ExpectKnownValue(clusterAddr, tfjsonpath.New("management_private_key"), knownvalue.StringRegexp(regexpMust(`PRIVATE KEY`))),
					statecheck.ExpectKnownValue(clusterAddr, workerPath("volume_mount_prefix"), knownvalue.StringExact(sahara.DefaultVolumeMountPrefix)),
				},
				Check: func(s *terraform.State) error {
					clusterID = s.RootModule().Resources[clusterAddr].Primary.ID
					if n := len(cloud.infra.Servers(clusterID)); n != 3 {
						return fmt.Errorf("the cloud holds %d servers of the cluster, want 3", n)
					}
					var c sahara.Cluster
					if err := cloud.store.Get(context.Background(), sahara.KindCluster, clusterID, &c); err != nil {
						return fmt.Errorf("cluster record not stored: %w", err)
					}
					return nil
				},
			},
			{
				ResourceName: clusterAddr, ImportState: true, ImportStateVerify: true,
				ImportStateVerifyIgnore: []string{"timeouts", "management_private_key"},
			},
			{
				Config: clusterConfig(1, 3, "", ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(clusterAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(clusterAddr, workerPath("instances_to_be_removed"), stringsExact()),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					sameID.AddStateValue(clusterAddr, tfjsonpath.New("id")),
					statecheck.ExpectKnownValue(clusterAddr, workerPath("instances"), instanceNames("demo-worker-0", "demo-worker-1", "demo-worker-2")),
				},
			},
			{
				// Count down naming one instance: the plan shows it, the apply removes it.
				Config: clusterConfig(1, 2, `instances_to_remove = ["demo-worker-0"]`, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(clusterAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(clusterAddr, workerPath("instances_to_be_removed"), stringsExact("demo-worker-0")),
					// The diff of instances is exactly the victim; the rest stay as they are.
					plancheck.ExpectKnownValue(clusterAddr, workerPath("instances"), instanceNames("demo-worker-1", "demo-worker-2")),
					plancheck.ExpectKnownValue(clusterAddr, tfjsonpath.New("node_groups").AtMapKey("master").AtMapKey("instances"), instanceNames("demo-master-0")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					sameID.AddStateValue(clusterAddr, tfjsonpath.New("id")),
					statecheck.ExpectKnownValue(clusterAddr, workerPath("instances"), instanceNames("demo-worker-1", "demo-worker-2")),
				},
				Check: func(*terraform.State) error {
					if n := len(cloud.infra.Servers(clusterID)); n != 3 {
						return fmt.Errorf("the cloud holds %d servers of the cluster, want 3", n)
					}
					return nil
				},
			},
			{
				// Count down without naming: the engine's choice (highest index) is shown.
				Config: clusterConfig(1, 1, `instances_to_remove = ["demo-worker-0"]`, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue(clusterAddr, workerPath("instances_to_be_removed"), stringsExact("demo-worker-2")),
					plancheck.ExpectKnownValue(clusterAddr, workerPath("instances"), instanceNames("demo-worker-1")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(clusterAddr, workerPath("instances"), instanceNames("demo-worker-1")),
				},
			},
			{
				Config:   clusterConfig(1, 1, `instances_to_remove = ["demo-worker-0"]`, ""),
				PlanOnly: true, // an empty plan
			},
			{
				// A name that is not (and was not) an instance of the group fails the plan.
				Config:      clusterConfig(1, 0, `instances_to_remove = ["demo-worker-0", "demo-worker-9"]`, ""),
				PlanOnly:    true,
				ExpectError: pathMsgRE("Instance demo-worker-9 not found", `node_groups["worker"].instances_to_remove`),
			},
			{
				// A new node group is added in place.
				Config: withGroup(clusterConfig(1, 1, `instances_to_remove = ["demo-worker-0"]`, ""), "extra", `["datanode"]`, 2),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(clusterAddr, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					sameID.AddStateValue(clusterAddr, tfjsonpath.New("id")),
					statecheck.ExpectKnownValue(clusterAddr, tfjsonpath.New("node_groups").AtMapKey("extra").AtMapKey("instances"), instanceNames("demo-extra-0", "demo-extra-1")),
					statecheck.ExpectKnownValue(clusterAddr, workerPath("instances"), instanceNames("demo-worker-1")),
				},
			},
			{
				// A description is an in-place change of the record only.
				Config: withGroup(clusterConfig(1, 1, `instances_to_remove = ["demo-worker-0"]`, `description = "scaled"`), "extra", `["datanode"]`, 2),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(clusterAddr, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{sameID.AddStateValue(clusterAddr, tfjsonpath.New("id"))},
			},
			{
				// Any other change of a node group replaces the cluster.
				Config: strings.Replace(clusterConfig(1, 1, "", ""), `["datanode", "nodemanager"]`, `["datanode"]`, 1),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(clusterAddr, plancheck.ResourceActionDestroyBeforeCreate),
				}},
			},
		},
		CheckDestroy: func(*terraform.State) error {
			if ids := cloud.ids(t, sahara.KindCluster); len(ids) != 0 {
				return fmt.Errorf("cluster records left in the store: %v", ids)
			}
			if left := cloud.infra.Leftovers(clusterID); len(left) != 0 {
				return fmt.Errorf("cloud objects left: %v", left)
			}
			return nil
		},
	})
}

func TestCluster_PlanRejectsInvalidLayout(t *testing.T) {
	cloud := newTestCloud(t)
	cases := map[string]struct {
		config, want, attr string
	}{
		"no namenode": {strings.Replace(clusterConfig(1, 2, "", ""), `["namenode", "resourcemanager"]`, `["resourcemanager"]`, 1),
			"Hadoop cluster should contain 1 namenode component(s). Actual namenode count is 0", ""},
		"two namenodes": {clusterConfig(2, 2, "", ""),
			"Hadoop cluster should contain 1 namenode component(s). Actual namenode count is 2", `node_groups["master"].count`},
		"replication": {clusterConfig(1, 1, "", `cluster_configs = { HDFS = { "dfs.replication" = "3" } }`),
			"Hadoop cluster should contain 3 datanode component(s). Actual datanode count is 1. Number of datanodes must be not less than dfs.replication.", `node_groups["worker"].count`},
		"unknown process": {strings.Replace(clusterConfig(1, 2, "", ""), `["datanode", "nodemanager"]`, `["datanode", "tasktracker"]`, 1),
			"Plugin doesn't support the following node processes: ['tasktracker']", `node_groups["worker"].node_processes`},
		"missing count": {strings.Replace(clusterConfig(1, 2, "", ""), "count          = 2", "", 1),
			`Node group "worker" needs count`, `node_groups["worker"].count`},
		"inline without flavor": {strings.Replace(clusterConfig(1, 2, "", ""), `flavor_id      = "m1.small"
      node_processes = ["datanode", "nodemanager"]`, `node_processes = ["datanode", "nodemanager"]`, 1),
			`'flavor_id' is a required property`, `node_groups["worker"].flavor_id`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: cloud.factories(),
				Steps:                    []resource.TestStep{{Config: tc.config, PlanOnly: true, ExpectError: expectRE(tc.want, tc.attr)}},
			})
		})
	}
	if cloud.connect != 0 {
		t.Errorf("plan-time validation of inline clusters connected to the cloud %d times, want 0", cloud.connect)
	}
}

func TestCluster_PlanRejectsScaling(t *testing.T) {
	cloud := newTestCloud(t)
	repl := `cluster_configs = { HDFS = { "dfs.replication" = "2" } }`
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: cloud.factories(),
		Steps: []resource.TestStep{
			{Config: clusterConfig(1, 2, "", repl)},
			{
				Config:      clusterConfig(2, 2, "", repl),
				PlanOnly:    true,
				ExpectError: pathMsgRE("Chosen node group master cannot be scaled : Fake plugin cannot scale nodegroup with processes: namenode resourcemanager", `node_groups["master"].count`),
			},
			{
				Config:      clusterConfig(1, 1, "", repl),
				PlanOnly:    true,
				ExpectError: msgRE("", "Cluster demo cannot be scaled : Fake plugin cannot shrink cluster because it would be not enough nodes for replicas (replication factor is 2)"),
			},
		},
	})
}

func TestCluster_FailedCreateIsKeptAsErrorAndReplaced(t *testing.T) {
	cloud := newTestCloud(t)
	cloud.infra.Fail("SpawnInstances", "demo-worker-1", errors.New("No valid host was found"))
	var firstID string
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: cloud.factories(),
		Steps: []resource.TestStep{
			{
				Config:      clusterConfig(1, 2, "", ""),
				ExpectError: regexpMust(`(?s)Cluster Provisioning Error.*failed\s+in\s+step\s+"Spawn\s+instances".*No\s+valid\s+host\s+was\s+found`),
			},
			{
				PreConfig: func() {
					ids := cloud.ids(t, sahara.KindCluster)
					if len(ids) != 1 {
						t.Fatalf("cluster records after the failed create: %v, want 1", ids)
					}
					firstID = ids[0]
					var c sahara.Cluster
					if err := cloud.store.Get(context.Background(), sahara.KindCluster, firstID, &c); err != nil {
						t.Fatal(err)
					}
					if c.Status != sahara.StatusError || !strings.Contains(c.StatusDescription, "No valid host was found") {
						t.Fatalf("record: status %q, description %q; want Error with the cloud's reason", c.Status, c.StatusDescription)
					}
					cloud.infra.ClearFaults()
				},
				Config: clusterConfig(1, 2, "", ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(clusterAddr, plancheck.ResourceActionDestroyBeforeCreate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(clusterAddr, tfjsonpath.New("status"), knownvalue.StringExact(string(sahara.StatusActive))),
				},
				Check: func(*terraform.State) error {
					if left := cloud.infra.Leftovers(firstID); len(left) != 0 {
						return fmt.Errorf("objects of the failed cluster left: %v", left)
					}
					return nil
				},
			},
		},
	})
}

func expectRE(msg, attrPath string) *regexp.Regexp {
	if attrPath == "" {
		return msgRE("", msg)
	}
	return pathMsgRE(msg, attrPath)
}

// Read refreshes every instance from one list call, whatever the size.
func TestCluster_ReadCostIsIndependentOfSize(t *testing.T) {
	calls := map[int]map[string]int{}
	for _, workers := range []int{1, 6} {
		cloud := newTestCloud(t)
		var got map[string]int
		resource.UnitTest(t, resource.TestCase{
			ProtoV6ProviderFactories: cloud.factories(),
			Steps: []resource.TestStep{
				{Config: clusterConfig(1, workers, "", "")},
				{
					PreConfig: func() { cloud.infra.ResetCalls() },
					Config:    clusterConfig(1, workers, "", ""),
					PlanOnly:  true,
				},
				{
					PreConfig: func() {
						got = map[string]int{"RefreshInstances": cloud.infra.Calls("RefreshInstances"), "total": cloud.infra.TotalCalls()}
					},
					Config:   clusterConfig(1, workers, "", ""),
					PlanOnly: true,
				},
			},
		})
		calls[workers] = got
	}
	t.Logf("cloud calls of the refreshes of one plan step: 2 instances %v, 7 instances %v", calls[1], calls[6])
	if calls[1]["RefreshInstances"] == 0 {
		t.Fatalf("the refresh made no RefreshInstances call: %v", calls[1])
	}
	if calls[1]["total"] != calls[6]["total"] || calls[1]["total"] != calls[1]["RefreshInstances"] {
		t.Errorf("refresh cost depends on the cluster size or makes other calls: %v vs %v", calls[1], calls[6])
	}
}

// withGroup adds an inline node group to a clusterConfig.
func withGroup(cfg, name, processes string, count int) string {
	i := strings.LastIndex(cfg, "  }\n}")
	return cfg[:i] + fmt.Sprintf("    %s = {\n      flavor_id = %q\n      node_processes = %s\n      count = %d\n    }\n", name, testFlavorID, processes, count) + cfg[i:]
}

// A cluster made from a cluster template: node groups come from it, and the
// plan-time validation sees the merged layout (template configs included).
func TestCluster_FromTemplatesValidatesMergedLayout(t *testing.T) {
	cloud := newTestCloud(t)
	fromTemplate := templatesConfig(2, "") + `
resource "saharagen_cluster" "c" {
  name                = "fromct"
  plugin_name         = "fake"
  plugin_version      = "0.1"
  cluster_template_id = saharagen_cluster_template.ct.id
}`
	override := templatesConfig(2, "") + `
resource "saharagen_cluster" "c" {
  name                = "fromct"
  plugin_name         = "fake"
  plugin_version      = "0.1"
  cluster_template_id = saharagen_cluster_template.ct.id
  cluster_configs     = { HDFS = { "dfs.replication" = "3" } }
  node_groups = {
    master = { node_group_template_id = saharagen_node_group_template.master.id, count = 1 }
    worker = { node_group_template_id = saharagen_node_group_template.worker.id, count = 2 }
  }
}`
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: cloud.factories(),
		Steps: []resource.TestStep{
			{
				Config: fromTemplate,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(clusterAddr, workerPath("count"), knownvalue.Int64Exact(2)),
					statecheck.ExpectKnownValue(clusterAddr, workerPath("volumes_per_node"), knownvalue.Int64Exact(2)),
					statecheck.ExpectKnownValue(clusterAddr, workerPath("instances"), instanceNames("fromct-worker-0", "fromct-worker-1")),
					statecheck.ExpectKnownValue(clusterAddr, tfjsonpath.New("default_image_id"), knownvalue.StringExact(testImageID)),
				},
			},
			{Config: fromTemplate, PlanOnly: true},
			// The template's configs are not the cluster's own: import keeps them apart.
			{ResourceName: clusterAddr, ImportState: true, ImportStateVerify: true, ImportStateVerifyIgnore: []string{"timeouts", "management_private_key"}},
			{
				// The request's dfs.replication = 3 overrides the template's 1: two datanodes are too few.
				Config:      override,
				PlanOnly:    true,
				ExpectError: msgRE("", "Hadoop cluster should contain 3 datanode component(s). Actual datanode count is 2."),
			},
		},
	})
}

// Read marks servers deleted outside Terraform as MISSING and the plan
// repairs them under the same names; a cluster whose record is gone while
// its servers run is never dropped from state (a second cluster would be
// planned beside it); one whose servers are gone too is.
func TestCluster_ReadNoticesMissingServersAndDeletedCluster(t *testing.T) {
	cloud := newTestCloud(t)
	cfg := clusterConfig(1, 2, "", "")
	var saved sahara.Cluster
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: cloud.factories(),
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				PreConfig: func() {
					cloud.infra.RemoveServer("demo-worker-1")
					cloud.infra.SetServerStatus("demo-worker-0", "ERROR")
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(clusterAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue(clusterAddr, workerPath("instances")),
					plancheck.ExpectKnownValue(clusterAddr, tfjsonpath.New("node_groups").AtMapKey("master").AtMapKey("instances").AtSliceIndex(0).AtMapKey("status"),
						knownvalue.StringExact("ACTIVE")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(clusterAddr, workerPath("instances"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.ObjectPartial(map[string]knownvalue.Check{"name": knownvalue.StringExact("demo-worker-0"), "status": knownvalue.StringExact("ACTIVE")}),
						knownvalue.ObjectPartial(map[string]knownvalue.Check{"name": knownvalue.StringExact("demo-worker-1"), "status": knownvalue.StringExact("ACTIVE")}),
					})),
				},
			},
			{
				PreConfig: func() {
					ids := cloud.ids(t, sahara.KindCluster)
					if len(ids) != 1 {
						t.Fatalf("cluster records: %v", ids)
					}
					if err := cloud.store.Get(context.Background(), sahara.KindCluster, ids[0], &saved); err != nil {
						t.Fatal(err)
					}
					if err := cloud.store.Delete(context.Background(), sahara.KindCluster, ids[0]); err != nil {
						t.Fatal(err)
					}
				},
				Config:      cfg,
				ExpectError: regexpMust(`(?s)Cluster Record Missing.*3\s+of\s+its\s+servers\s+still\s+run:\s+demo-master-0,\s+demo-worker-0,\s+demo-worker-1`),
			},
			{
				// an import finds the servers by the cluster's tag alone
				ResourceName:      clusterAddr,
				ImportState:       true,
				ImportStateIdFunc: func(*terraform.State) (string, error) { return saved.ID, nil },
				ExpectError:       regexpMust(`(?s)cannot be imported:\s+its\s+record\s+is\s+not\s+in\s+the\s+record\s+store.*3\s+servers\s+carry\s+its\s+tag:\s+demo-master-0,\s+demo-worker-0,\s+demo-worker-1`),
			},
			{
				PreConfig: func() {
					for _, s := range cloud.infra.Servers(saved.ID) {
						cloud.infra.RemoveServer(s.Name)
					}
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(clusterAddr, plancheck.ResourceActionCreate),
				}},
			},
		},
	})
}

func TestCluster_ImportKeepsClusterConfigs(t *testing.T) {
	cloud := newTestCloud(t)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: cloud.factories(),
		Steps: []resource.TestStep{
			{Config: clusterConfig(1, 2, "", `cluster_configs = { HDFS = { "dfs.replication" = "2" }, general = { "Enable XFS" = "false" } }`)},
			{ResourceName: clusterAddr, ImportState: true, ImportStateVerify: true, ImportStateVerifyIgnore: []string{"timeouts", "management_private_key"}},
		},
	})
}

// layoutCase is a two-group cluster of a plugin's newest version that the
// plugin's validate refuses at plan time with msg (after attr, when set).
type layoutCase struct {
	master, worker string
	workers        int
	configs        string
	attr, want     string
}

func planRejectsLayouts(t *testing.T, plugin string, cases map[string]layoutCase) {
	t.Helper()
	cloud := newTestCloud(t)
	reg, err := staticRegistry()
	if err != nil {
		t.Fatal(err)
	}
	p, err := reg.Get(plugin)
	if err != nil {
		t.Fatal(err)
	}
	version := p.Versions()[len(p.Versions())-1]
	for name, tc := range cases {
		configs := tc.configs
		if configs == "" {
			configs = `{ HDFS = { "dfs.replication" = "1" } }`
		}
		config := hcl(fmt.Sprintf(`
resource "saharagen_cluster" "c" {
  name                       = "v"
  plugin_name                = %q
  plugin_version             = %q
  default_image_id           = %q
  neutron_management_network = %q
  cluster_configs            = %s
  node_groups = {
    master = { flavor_id = "f", node_processes = %s, count = 1 }
    worker = { flavor_id = "f", node_processes = %s, count = %d }
  }
}`, plugin, version, testImageID, testNetworkID, configs, tc.master, tc.worker, tc.workers))
		t.Run(name, func(t *testing.T) {
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: cloud.factories(),
				Steps:                    []resource.TestStep{{Config: config, PlanOnly: true, ExpectError: msgRE(tc.attr, tc.want)}},
			})
		})
	}
}

// The vanilla plugin's validate runs at plan time with its exact messages.
func TestCluster_PlanRejectsInvalidVanillaLayout(t *testing.T) {
	planRejectsLayouts(t, "vanilla", map[string]layoutCase{
		"two namenodes":   {master: `["namenode"]`, worker: `["namenode", "datanode"]`, workers: 1, want: "Hadoop cluster should contain 1 namenode component(s). Actual namenode count is 2"},
		"no resourcemgr":  {master: `["namenode"]`, worker: `["datanode", "nodemanager"]`, workers: 2, want: "Cluster is missing a service: resourcemanager, required by service: nodemanager"},
		"no datanode yet": {master: `["namenode", "resourcemanager"]`, worker: `["nodemanager"]`, workers: 2, want: "Hadoop cluster should contain 1 datanode component(s). Actual datanode count is 0"},
	})
}

// The spark plugin's validate runs at plan time with Sahara's messages, at
// the attribute; so do saharagen's own checks of the Spark values.
func TestCluster_PlanRejectsInvalidSparkLayout(t *testing.T) {
	planRejectsLayouts(t, "spark", map[string]layoutCase{
		"no spark master": {master: `["namenode"]`, worker: `["datanode", "slave"]`, workers: 2, attr: "node_groups", want: "Cluster is missing a service: Spark master"},
		"no slave":        {master: `["namenode", "master"]`, worker: `["datanode"]`, workers: 2, attr: "node_groups", want: "Hadoop cluster should contain 1 or more Spark slave component(s). Actual Spark slave count is 0"},
		"replication":     {master: `["namenode", "master"]`, worker: `["datanode", "slave"]`, workers: 2, configs: `{ HDFS = { "dfs.replication" = "3" } }`, want: "Hadoop cluster should contain 3 or more datanode component(s). Actual datanode count is 2. Number of datanode instances should not be less than dfs.replication"},
		"worker memory":   {master: `["namenode", "master"]`, worker: `["datanode", "slave"]`, workers: 2, configs: `{ HDFS = { "dfs.replication" = "1" }, Spark = { "Worker memory" = "4g; reboot" } }`, attr: "cluster_configs", want: `Spark config "Worker memory" is "4g; reboot"`},
	})
}

// A protected cluster refuses scaling and deletion at plan time until
// is_protected is set back to false, which alone is allowed in place.
func TestCluster_ProtectedRefusesScaleAndDelete(t *testing.T) {
	cloud := newTestCloud(t)
	protected := `is_protected = true`
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: cloud.factories(),
		Steps: []resource.TestStep{
			{Config: clusterConfig(1, 2, "", protected)},
			{
				Config:      clusterConfig(1, 3, "", protected),
				PlanOnly:    true,
				ExpectError: msgRE("is_protected", "could not be scaled because it's marked as protected"),
			},
			{
				Config:      hcl(""),
				PlanOnly:    true,
				ExpectError: msgRE("", "could not be deleted because it's marked as protected"),
			},
			{
				Config: clusterConfig(1, 2, "", ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(clusterAddr, plancheck.ResourceActionUpdate),
				}},
			},
		},
	})
}

// When the plan cannot validate (template IDs known only at apply), the
// create validates first and fails without creating anything.
func TestCluster_DeferredValidationFailsBeforeCreating(t *testing.T) {
	cloud := newTestCloud(t)
	cfg := templatesConfig(2, "") + `
resource "saharagen_cluster" "c" {
  name           = "deferred"
  plugin_name    = "fake"
  plugin_version = "0.1"
  default_image_id = "` + testImageID + `"
  node_groups = {
    worker = { node_group_template_id = saharagen_node_group_template.worker.id, count = 2 }
  }
}`
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: cloud.factories(),
		Steps: []resource.TestStep{{
			Config:      cfg,
			ExpectError: msgRE("", "Hadoop cluster should contain 1 namenode component(s). Actual namenode count is 0"),
		}},
		CheckDestroy: func(*terraform.State) error {
			if ids := cloud.ids(t, sahara.KindCluster); len(ids) != 0 {
				return fmt.Errorf("cluster records were written: %v", ids)
			}
			if n := cloud.infra.Changes(); n != 0 {
				return fmt.Errorf("the cloud was called %d times for more than lookups", n)
			}
			return nil
		},
	})
}

// A cluster left in Error refuses scaling at apply, but only warns at plan:
// `terraform destroy` plans normally first, and must still remove it.
func TestCluster_NotActiveWarnsAtPlanAndStillDestroys(t *testing.T) {
	cloud := newTestCloud(t)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: cloud.factories(),
		Steps: []resource.TestStep{
			{Config: clusterConfig(1, 2, "", "")},
			{
				PreConfig: func() {
					ctx := context.Background()
					for _, id := range cloud.ids(t, sahara.KindCluster) {
						var c sahara.Cluster
						if err := cloud.store.Get(ctx, sahara.KindCluster, id, &c); err != nil {
							t.Fatal(err)
						}
						c.Status = sahara.StatusError
						if err := cloud.store.Put(ctx, sahara.KindCluster, id, &c); err != nil {
							t.Fatal(err)
						}
					}
				},
				// The plan succeeds (a warning), so destroy's refresh plan would too.
				Config:             clusterConfig(1, 3, "", ""),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				Config:      clusterConfig(1, 3, "", ""),
				ExpectError: regexp.MustCompile(`Cluster cannot be scaled not in 'Active' status. Cluster status: Error`),
			},
		},
	})
}

// A node group's configs merged with its node group template's are the
// record's business; the state keeps what the configuration says, or
// Terraform reports an inconsistent result after apply.
func TestCluster_NodeConfigsMergedFromTemplateKeepConfiguration(t *testing.T) {
	cloud := newTestCloud(t)
	cfg := hcl(fmt.Sprintf(`
resource "saharagen_node_group_template" "worker" {
  name           = "worker"
  plugin_name    = "fake"
  plugin_version = "0.1"
  flavor_id      = %[3]q
  node_processes = ["datanode", "nodemanager"]
  node_configs   = { HDFS = { "NameNode Heap Size" = "512" } }
}

resource "saharagen_cluster" "c" {
  name                       = "merged"
  plugin_name                = "fake"
  plugin_version             = "0.1"
  default_image_id           = %[1]q
  neutron_management_network = %[2]q
  cluster_configs            = { HDFS = { "dfs.replication" = "1" } }
  node_groups = {
    master = {
      flavor_id      = %[3]q
      node_processes = ["namenode", "resourcemanager"]
      count          = 1
    }
    worker = {
      node_group_template_id = saharagen_node_group_template.worker.id
      count                  = 1
      node_configs           = { YARN = { "yarn.resourcemanager.scheduler" = "fair" } }
    }
  }
}`, testImageID, testNetworkID, testFlavorID))
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: cloud.factories(),
		Steps: []resource.TestStep{
			{
				Config: cfg,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(clusterAddr, workerPath("node_configs"), knownvalue.MapExact(map[string]knownvalue.Check{
						"YARN": knownvalue.MapExact(map[string]knownvalue.Check{"yarn.resourcemanager.scheduler": knownvalue.StringExact("fair")}),
					})),
				},
			},
			{Config: cfg, PlanOnly: true},
		},
	})
}

// A Spark cluster made from stored templates is validated at plan time with
// the templates merged: Sahara's message for a bad layout, saharagen's for
// a Spark value it cannot deliver, each at its attribute.
func TestCluster_SparkFromTemplatesPlanTimeValidation(t *testing.T) {
	cloud := newTestCloud(t)
	const sparkImageID = "22222222-3333-4444-5555-666666666666"
	cloud.infra = sfake.NewInfra(sahara.Image{ID: sparkImageID, Name: "spark-image", Username: "ubuntu", Tags: []string{"spark", "2.3"}})
	templates := hcl(fmt.Sprintf(`
resource "saharagen_node_group_template" "master" {
  name           = "spark-master"
  plugin_name    = "spark"
  plugin_version = "2.3"
  flavor_id      = "m1.medium"
  node_processes = ["namenode", "master"]
}

resource "saharagen_node_group_template" "worker" {
  name           = "spark-worker"
  plugin_name    = "spark"
  plugin_version = "2.3"
  flavor_id      = "m1.small"
  node_processes = ["datanode", "slave"]
}

resource "saharagen_cluster_template" "ct" {
  name             = "spark"
  plugin_name      = "spark"
  plugin_version   = "2.3"
  default_image_id = %q
  cluster_configs  = { HDFS = { "dfs.replication" = "2" } }
  node_groups = {
    master = { node_group_template_id = saharagen_node_group_template.master.id, count = 1 }
    worker = { node_group_template_id = saharagen_node_group_template.worker.id, count = 2 }
  }
}`, sparkImageID))
	cluster := func(body string) string {
		return templates + `
resource "saharagen_cluster" "c" {
  name                       = "sp"
  plugin_name                = "spark"
  plugin_version             = "2.3"
  cluster_template_id        = saharagen_cluster_template.ct.id
  neutron_management_network = "` + testNetworkID + `"
` + body + `
}`
	}
	oneWorker := cluster(`  node_groups = {
    master = { node_group_template_id = saharagen_node_group_template.master.id, count = 1 }
    worker = { node_group_template_id = saharagen_node_group_template.worker.id, count = 1 }
  }`)
	noMaster := cluster(`  node_groups = {
    worker = { node_group_template_id = saharagen_node_group_template.worker.id, count = 2 }
  }`)
	badMemory := cluster(`  cluster_configs = { HDFS = { "dfs.replication" = "2" }, Spark = { "Worker memory" = "$(reboot)" } }`)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: cloud.factories(),
		Steps: []resource.TestStep{
			{Config: templates},
			{Config: oneWorker, PlanOnly: true, ExpectError: pathMsgRE("Hadoop cluster should contain 2 or more datanode component(s). Actual datanode count is 1. Number of datanode instances should not be less than dfs.replication", `node_groups["worker"].count`)},
			{Config: noMaster, PlanOnly: true, ExpectError: msgRE(`node_groups = \{`, "Hadoop cluster should contain 1 namenode component(s). Actual namenode count is 0")},
			{Config: badMemory, PlanOnly: true, ExpectError: msgRE(`cluster_configs = \{`, `Spark config "Worker memory" is "$(reboot)": saharagen needs a size such as 1000m or 2g, or "all"`)},
			{Config: cluster(""), PlanOnly: true, ExpectNonEmptyPlan: true},
		},
	})
}
