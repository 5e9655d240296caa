package provider

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/saharagen/terraform-provider-saharagen/internal/testbed"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// The quickstart a newcomer applies, and its Dask client.
var (
	quickstartDir = filepath.Join("..", "..", "examples", "quickstart")
	quickstartPy  = filepath.Join(quickstartDir, "compute.py")
)

// TestAccCluster_DaskComputesScalesAndKeepsData applies examples/quickstart
// on the testbed through the real Terraform CLI and uses the cluster from
// this machine with Debian's Dask: a computation returns the right result on
// 3 workers; scaled to 4, the new worker takes tasks; scaled to 2 naming a
// worker that holds the only copy of a dataset, the dataset is still
// there; destroyed, nothing of the cluster is left in the cloud.
func TestAccCluster_DaskComputesScalesAndKeepsData(t *testing.T) {
	testAccDaskQuickstart(t, engineDirect)
}

// The quickstart with SAHARAGEN_ENGINE=heat (its provider block sets no
// engine): compute, scale up, scale down keeping the data, destroy, as one
// Heat stack. The roll of the workers (a new flavor) is left out: the Heat
// engine refuses rolls (heat.Infra.RefuseRoll): a node group is one
// template of the stack.
func TestAccCluster_HeatDaskComputesScalesAndKeepsData(t *testing.T) {
	t.Setenv("SAHARAGEN_ENGINE", engineHeat)
	testAccDaskQuickstart(t, engineHeat)
}

func testAccDaskQuickstart(t *testing.T, engine string) {
	env := accEnv(t)
	// the quickstart names its provider saharagen/saharagen, as users do
	t.Setenv("TF_ACC_PROVIDER_NAMESPACE", "saharagen")
	if err := exec.Command("/usr/bin/python3", "-c", "import distributed").Run(); err != nil {
		t.Fatalf("the testbed host needs Debian's python3-distributed (make testbed-up installs it): %v", err)
	}
	name := fmt.Sprintf("accd%d", time.Now().Unix()%100000)
	worker := func(i int) string { return fmt.Sprintf("%s-worker-%d", name, i) }
	victim := worker(1)
	vars := func(workers int, remove ...string) config.Variables {
		return quickstartVars(env, name, workers, remove...)
	}
	addr := "saharagen_cluster.dask"
	workers := tfjsonpath.New("node_groups").AtMapKey("worker")
	sameID := statecheck.CompareValue(compare.ValuesSame())
	sameScheduler := statecheck.CompareValue(compare.ValuesSame())
	schedulerID := tfjsonpath.New("node_groups").AtMapKey("scheduler").AtMapKey("instances").AtSliceIndex(0).AtMapKey("id")
	tiny := env.Flavors["m1.tiny"]
	if tiny == "" {
		t.Fatal("the testbed has no m1.tiny flavor")
	}
	var clusterID string
	var oldServers []string

	// Factories per step: the quickstart has its own provider block.
	steps := []resource.TestStep{
		{
			ProtoV6ProviderFactories: accFactories(),
			ConfigDirectory:          config.StaticDirectory(quickstartDir),
			ConfigVariables:          vars(3),
			ConfigStateChecks: []statecheck.StateCheck{
				sameID.AddStateValue(addr, tfjsonpath.New("id")),
				sameScheduler.AddStateValue(addr, schedulerID),
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("status"), knownvalue.StringExact(string(sahara.StatusActive))),
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("engine"), knownvalue.StringExact(engine)),
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("info").AtMapKey("Dask").AtMapKey("Scheduler"),
					knownvalue.StringRegexp(regexp.MustCompile(`^tls://[0-9.]+:8786$`))),
			},
			Check: func(s *terraform.State) error {
				clusterID = s.RootModule().Resources[addr].Primary.ID
				if err := (accLayout{engine: engine}).expectStacks(env, clusterID); err != nil {
					return err
				}
				out, err := daskCompute(s, "run", "3")
				if err != nil {
					return err
				}
				return ranTasks(out, worker(0), worker(1), worker(2))
			},
		},
		{
			ProtoV6ProviderFactories: accFactories(),
			ConfigDirectory:          config.StaticDirectory(quickstartDir),
			ConfigVariables:          vars(4),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
			}},
			ConfigStateChecks: []statecheck.StateCheck{sameID.AddStateValue(addr, tfjsonpath.New("id"))},
			Check: func(s *terraform.State) error {
				out, err := daskCompute(s, "run", "4")
				if err != nil {
					return err
				}
				if err := ranTasks(out, worker(3)); err != nil {
					return fmt.Errorf("the added worker: %w", err)
				}
				// The next step retires the worker holding the only copy.
				out, err = daskCompute(s, "scatter", victim)
				if err != nil {
					return err
				}
				if !strings.Contains(out, fmt.Sprintf("held by ['%s']", victim)) {
					return fmt.Errorf("the dataset is not on %s only:\n%s", victim, out)
				}
				return nil
			},
		},
		{
			ProtoV6ProviderFactories: accFactories(),
			ConfigDirectory:          config.StaticDirectory(quickstartDir),
			ConfigVariables:          vars(2, victim),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				// the named worker first, then the engine's choice (highest index)
				plancheck.ExpectKnownValue(addr, workers.AtMapKey("instances_to_be_removed"),
					knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact(victim), knownvalue.StringExact(worker(3))})),
			}},
			ConfigStateChecks: []statecheck.StateCheck{
				sameID.AddStateValue(addr, tfjsonpath.New("id")),
				statecheck.ExpectKnownValue(addr, workers.AtMapKey("instances"), knownvalue.ListExact([]knownvalue.Check{
					knownvalue.ObjectPartial(map[string]knownvalue.Check{"name": knownvalue.StringExact(worker(0))}),
					knownvalue.ObjectPartial(map[string]knownvalue.Check{"name": knownvalue.StringExact(worker(2))}),
				})),
			},
			Check: func(s *terraform.State) error {
				out, err := daskCompute(s, "check")
				if err != nil {
					return err
				}
				if !strings.Contains(out, "(intact)") || strings.Contains(out, victim) {
					return fmt.Errorf("the data of the retired worker %s did not survive:\n%s", victim, out)
				}
				out, err = daskCompute(s, "run", "2")
				if err != nil {
					return err
				}
				if err := ranTasks(out, worker(0), worker(2)); err != nil {
					return err
				}
				// The next step replaces every worker: the dataset sits on one.
				oldServers = instanceIDs(s, addr, "worker")
				out, err = daskCompute(s, "scatter", worker(2))
				if err != nil || !strings.Contains(out, fmt.Sprintf("held by ['%s']", worker(2))) {
					return fmt.Errorf("the dataset is not on %s only (%v):\n%s", worker(2), err, out)
				}
				return nil
			},
		},
		{
			// A new worker flavor: the worker template changes, and the
			// cluster rolls its workers in the same apply.
			ProtoV6ProviderFactories: accFactories(),
			ConfigDirectory:          config.StaticDirectory(quickstartDir),
			ConfigVariables:          withVar(vars(2, victim), "worker_flavor_id", config.StringVariable(tiny)),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction("saharagen_node_group_template.worker", plancheck.ResourceActionUpdate),
				plancheck.ExpectResourceAction("saharagen_node_group_template.scheduler", plancheck.ResourceActionNoop),
				plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
			}},
			ConfigStateChecks: []statecheck.StateCheck{
				sameID.AddStateValue(addr, tfjsonpath.New("id")),
				sameScheduler.AddStateValue(addr, schedulerID),
				// one at a time: worker-1 joins, worker-0 goes, worker-0 joins again, worker-2 goes
				statecheck.ExpectKnownValue(addr, workers.AtMapKey("instances"), knownvalue.ListExact([]knownvalue.Check{
					knownvalue.ObjectPartial(map[string]knownvalue.Check{"name": knownvalue.StringExact(worker(0))}),
					knownvalue.ObjectPartial(map[string]knownvalue.Check{"name": knownvalue.StringExact(worker(1))}),
				})),
			},
			Check: func(s *terraform.State) error {
				now := instanceIDs(s, addr, "worker")
				for _, id := range now {
					if slices.Contains(oldServers, id) {
						return fmt.Errorf("a worker still runs on its old server %s", id)
					}
					if err := expectFlavor(env, id, "m1.tiny"); err != nil {
						return err
					}
				}
				out, err := daskCompute(s, "check")
				if err != nil {
					return err
				}
				if !strings.Contains(out, "(intact)") {
					return fmt.Errorf("the dataset did not survive the roll of the workers:\n%s", out)
				}
				out, err = daskCompute(s, "run", "2")
				if err != nil {
					return err
				}
				return ranTasks(out, worker(0), worker(1))
			},
		},
	}
	if engine == engineHeat {
		steps = steps[:len(steps)-1] // no roll: see TestAccCluster_HeatDaskComputesScalesAndKeepsData
	}
	resource.Test(t, resource.TestCase{
		Steps: steps,
		CheckDestroy: func(*terraform.State) error {
			env.AssertNoLeftovers(t, clusterID)
			return nil
		},
	})
}

// quickstartVars are the quickstart's variables on the testbed; the Dask
// client runs on the testbed host, on the cluster's subnet.
func quickstartVars(env *testbed.Env, name string, workers int, remove ...string) config.Variables {
	rm := make([]config.Variable, len(remove))
	for i, r := range remove {
		rm[i] = config.StringVariable(r)
	}
	return config.Variables{
		"cloud":             config.StringVariable(env.Cloud),
		"image_id":          config.StringVariable(env.Images["dask"]),
		"register_image":    config.BoolVariable(false), // the testbed tagged it; others share it
		"image_user":        config.StringVariable(env.ImageUser),
		"flavor_id":         config.StringVariable(env.FlavorID),
		"network_id":        config.StringVariable(env.NetworkID),
		"floating_ip_pool":  config.StringVariable(env.ExternalNetworkName),
		"cluster_name":      config.StringVariable(name),
		"worker_count":      config.IntegerVariable(workers),
		"workers_to_remove": config.ListVariable(rm...),
		"client_cidrs":      config.ListVariable(config.StringVariable(env.SubnetCIDR)),
	}
}

func withVar(v config.Variables, name string, value config.Variable) config.Variables {
	v[name] = value
	return v
}

// instanceIDs lists the server IDs of a node group's instances in state.
func instanceIDs(s *terraform.State, addr, group string) []string {
	attrs := s.RootModule().Resources[addr].Primary.Attributes
	var ids []string
	for i := 0; ; i++ {
		id, ok := attrs[fmt.Sprintf("node_groups.%s.instances.%d.id", group, i)]
		if !ok {
			return ids
		}
		ids = append(ids, id)
	}
}

// expectFlavor checks, in Nova, the flavor a server runs.
func expectFlavor(env *testbed.Env, serverID, flavor string) error {
	ctx := context.Background()
	cl, err := env.Clients(ctx, false)
	if err != nil {
		return err
	}
	s, err := servers.Get(ctx, cl.Compute, serverID).Extract()
	if err != nil {
		return err
	}
	if got := s.Flavor["original_name"]; got != flavor {
		return fmt.Errorf("server %s (%s) runs flavor %v, want %s", s.Name, serverID, got, flavor)
	}
	return nil
}

// daskCompute runs the quickstart's client against the cluster's scheduler
// (internal address: the testbed host is on the cluster network) with the
// cluster's TLS credentials from the quickstart's outputs.
func daskCompute(s *terraform.State, args ...string) (string, error) {
	return daskClient(s, []string{"ca.pem", "client.pem", "client.key"}, args...)
}

// daskClient runs compute.py with those of the cluster's credentials named
// in files (ca.pem, client.pem, client.key) in its --tls directory.
func daskClient(s *terraform.State, files []string, args ...string) (string, error) {
	out, ok := s.RootModule().Outputs["scheduler_internal_address"]
	if !ok {
		return "", fmt.Errorf("no scheduler_internal_address output")
	}
	sched, _ := out.Value.(string)
	dir, err := os.MkdirTemp("", "saharagen-dask-tls-")
	if err != nil {
		return "", err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	outputs := map[string]string{"ca.pem": "tls_ca_cert", "client.pem": "tls_client_cert", "client.key": "tls_client_key"}
	for _, f := range files {
		o, ok := s.RootModule().Outputs[outputs[f]]
		pemText, _ := o.Value.(string)
		if !ok || !strings.Contains(pemText, "-----BEGIN") {
			return "", fmt.Errorf("output %s holds no PEM: the cluster's credentials are missing", outputs[f])
		}
		if err := os.WriteFile(filepath.Join(dir, f), []byte(pemText), 0o600); err != nil {
			return "", err
		}
	}
	argv := append([]string{quickstartPy, "--tls", dir, args[0], sched}, args[1:]...)
	// compute.py waits on the cluster's answers: bound it like any remote call.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	b, err := exec.CommandContext(ctx, "/usr/bin/python3", argv...).CombinedOutput()
	if err != nil {
		return string(b), fmt.Errorf("compute.py %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	return string(b), nil
}

// ranTasks checks compute.py run's "tasks per worker" line names each worker.
func ranTasks(out string, workers ...string) error {
	if !strings.Contains(out, "): ok") {
		return fmt.Errorf("wrong result:\n%s", out)
	}
	for _, w := range workers {
		if !regexp.MustCompile(`'` + regexp.QuoteMeta(w) + `': [1-9]`).MatchString(out) {
			return fmt.Errorf("worker %s ran no task:\n%s", w, out)
		}
	}
	return nil
}
