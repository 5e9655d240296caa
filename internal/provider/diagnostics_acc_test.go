package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/saharagen/terraform-provider-saharagen/internal/testbed"
	"github.com/saharagen/terraform-provider-saharagen/plugins/fake"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// A node group added by a scale fails its configure step (the fake
// plugin's fault hook): the error shows the failed command's output and the
// tail of the plugin's log from that instance; after the rollback deleted
// the instance, the record and last_operation.failure still have them.
func TestAccCluster_FailureDiagnostics(t *testing.T) {
	env := accEnv(t)
	name := fmt.Sprintf("accf%d", time.Now().Unix()%100000)
	bad := name + "-bad-0"
	cfg := func(extra string) string {
		return inlineFakeCluster(env, name, "", fmt.Sprintf(`
    master = { flavor_id = %q, node_processes = ["namenode", "resourcemanager", "datanode"], count = 1 }
    %s`, env.FlavorName, extra))
	}
	badGroup := fmt.Sprintf(`bad = { flavor_id = %q, node_processes = ["nodemanager"], count = 1, node_configs = { general = { "Fail configure" = "true" } } }`, env.FlavorName)
	addr := "saharagen_cluster.c"
	var clusterID string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: accFactories(),
		Steps: []resource.TestStep{
			{
				Config: cfg(""),
				Check: func(s *terraform.State) error {
					clusterID = s.RootModule().Resources[addr].Primary.ID
					return nil
				},
			},
			{
				Config: cfg(badGroup),
				ExpectError: regexp.MustCompile(`(?s)` + regexp.QuoteMeta(bad) + `: command "fake configure" exited with status 3.*` +
					`pretend disk check: 0 of 1 disks usable.*last lines of ` + regexp.QuoteMeta(fake.LogFile) + `.*the pretend disk check failed`),
			},
			{
				RefreshState: true,
				// The configuration still asks for the group the failed scale did not add.
				ExpectNonEmptyPlan: true,
				Check: func(s *terraform.State) error {
					if err := serverGone(env, bad); err != nil {
						return err
					}
					var d sahara.Diagnostics
					if err := json.Unmarshal([]byte(s.RootModule().Resources[addr].Primary.Attributes["last_operation.failure"]), &d); err != nil {
						return fmt.Errorf("last_operation.failure: %w", err)
					}
					if len(d.Instances) != 1 || d.Instances[0].Instance != bad || !strings.Contains(d.Instances[0].Logs[fake.LogFile], "fake configure of "+bad) {
						return fmt.Errorf("last_operation.failure: %+v", d)
					}
					return recordHasDiagnostics(env, clusterID, bad)
				},
			},
		},
		CheckDestroy: func(*terraform.State) error {
			env.AssertNoLeftovers(t, clusterID)
			return nil
		},
	})
}

// serverGone checks Nova has no server of that name.
func serverGone(env *testbed.Env, name string) error {
	ctx := context.Background()
	cl, err := env.Clients(ctx, false)
	if err != nil {
		return err
	}
	pages, err := servers.List(cl.Compute, servers.ListOpts{Name: "^" + regexp.QuoteMeta(name) + "$"}).AllPages(ctx)
	if err != nil {
		return err
	}
	list, err := servers.ExtractServers(pages)
	if err != nil {
		return err
	}
	if len(list) > 0 {
		return fmt.Errorf("server %s is still there: the rollback should have deleted it", name)
	}
	return nil
}

// recordHasDiagnostics reads the cluster's record in the store.
func recordHasDiagnostics(env *testbed.Env, clusterID, instance string) error {
	all, err := accRecordsOf(env).all(context.Background())
	if err != nil {
		return err
	}
	for n, body := range all {
		if strings.HasPrefix(n, "clusters/"+clusterID) {
			if !strings.Contains(body, `"failure_diagnostics"`) || !strings.Contains(body, instance) || !strings.Contains(body, "pretend disk check") {
				return fmt.Errorf("the record of %s lacks the failure diagnostics", clusterID)
			}
			return nil
		}
	}
	return fmt.Errorf("no record of cluster %s", clusterID)
}

// A Heat stack that fails (the testbed fails the spawn of a server whose
// name holds "fault-spawn"): the create's diagnostic carries Heat's reason
// for the failed server, and the tainted cluster is destroyed with its
// stack. The cluster sets engine = "heat" itself (the provider's is direct).
func TestAccCluster_HeatStackFailureReason(t *testing.T) {
	env := accEnv(t)
	name := fmt.Sprintf("acchf%d", time.Now().Unix()%100000)
	var clusterID string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: accFactories(),
		Steps: []resource.TestStep{
			{
				Config: inlineFakeCluster(env, name, `engine = "heat"`, fmt.Sprintf(`
    master = { flavor_id = %q, node_processes = ["namenode", "resourcemanager", "datanode", "nodemanager"], count = 1 }
    fault-spawn = { flavor_id = %q, node_processes = ["datanode"], count = 1 }`, env.FlavorName, env.FlavorName)),
				ExpectError: regexp.MustCompile(`(?s)Cluster Provisioning Error.*CREATE_FAILED.*spawn_error`),
			},
			{
				RefreshState: true,
				Check: func(s *terraform.State) error {
					clusterID = s.RootModule().Resources["saharagen_cluster.c"].Primary.ID
					desc := s.RootModule().Resources["saharagen_cluster.c"].Primary.Attributes["status_description"]
					if !strings.Contains(desc, "spawn_error") {
						return fmt.Errorf("status_description lacks Heat's reason: %q", desc)
					}
					return nil
				},
				ExpectNonEmptyPlan: true, // tainted: the next apply replaces it
			},
		},
		CheckDestroy: func(*terraform.State) error {
			env.AssertNoLeftovers(t, clusterID)
			return nil
		},
	})
}
