package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/saharagen/terraform-provider-saharagen/internal/testbed"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
	"github.com/saharagen/terraform-provider-saharagen/sahara/sshremote"
)

// healthTF adds the cluster health data source to the quickstart, as its
// example does.
const healthTF = `
data "saharagen_cluster_health" "h" {
  cluster_id             = saharagen_cluster.dask.id
  management_private_key = saharagen_cluster.dask.management_private_key
}
`

// healthByIDTF reads the health of a cluster given by ID: Terraform reads
// it while planning even when the cluster itself has changes (a data source
// that depends on a changing resource is read only at apply).
const healthByIDTF = `
variable "health_cluster_id" { type = string }
variable "health_key" {
  type      = string
  sensitive = true
}
data "saharagen_cluster_health" "h" {
  cluster_id             = var.health_cluster_id
  management_private_key = var.health_key
}
`

// The quickstart's cluster seen through saharagen_cluster_health: GREEN
// when healthy; a Dask worker stopped on its instance makes it YELLOW with
// that worker named; a server deleted by hand makes it RED (on refresh),
// the next plan is the repair, and after it the cluster is GREEN again.
func TestAccClusterHealth_Dask(t *testing.T) {
	env := accEnv(t)
	t.Setenv("TF_ACC_PROVIDER_NAMESPACE", "saharagen")
	dir := t.TempDir()
	tfs, _ := filepath.Glob(filepath.Join(quickstartDir, "*.tf"))
	for _, f := range tfs {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "health.tf"), []byte(healthTF), 0o644); err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("acch%d", time.Now().Unix()%100000)
	vars := quickstartVars(env, name, 2)
	addr, health := "saharagen_cluster.dask", "data.saharagen_cluster_health.h"
	stopped, gone := name+"-worker-1", name+"-worker-0"
	var cluster *sahara.Cluster // what the steps need to reach the instances
	var clusterID string
	// byID makes the data source read the cluster by ID from here on.
	byID := func() error {
		vals, err := json.Marshal(map[string]string{"health_cluster_id": cluster.ID, "health_key": cluster.ManagementPrivateKey})
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "health.auto.tfvars.json"), vals, 0o600); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, "health.tf"), []byte(healthByIDTF), 0o644)
	}
	resource.Test(t, resource.TestCase{
		Steps: []resource.TestStep{
			{
				ProtoV6ProviderFactories: accFactories(),
				ConfigDirectory:          config.StaticDirectory(dir),
				ConfigVariables:          vars,
				Check: func(s *terraform.State) error {
					clusterID = s.RootModule().Resources[addr].Primary.ID
					cluster = reachable(s.RootModule().Resources[addr].Primary.Attributes, env.ImageUser)
					return expectHealth(s, health, "GREEN", "", "", "")
				},
			},
			{
				PreConfig: func() {
					if err := instanceCommand(cluster, stopped, "sh /opt/saharagen/dask/dask-service stop /etc/dask/worker.conf"); err != nil {
						t.Fatal(err)
					}
				},
				ProtoV6ProviderFactories: accFactories(),
				ConfigDirectory:          config.StaticDirectory(dir),
				ConfigVariables:          vars,
				Check: func(s *terraform.State) error {
					return expectHealth(s, health, "YELLOW", "Dask workers", "YELLOW", stopped)
				},
			},
			{
				PreConfig: func() {
					if err := instanceCommand(cluster, stopped, "sh /opt/saharagen/dask/dask-service start /etc/dask/worker.conf"); err != nil {
						t.Fatal(err)
					}
					if err := deleteServer(env, cluster.Instance(gone).InstanceID); err != nil {
						t.Fatal(err)
					}
					if err := byID(); err != nil {
						t.Fatal(err)
					}
				},
				ProtoV6ProviderFactories: accFactories(),
				ConfigDirectory:          config.StaticDirectory(dir),
				ConfigVariables:          vars,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate), // the repair
					healthInPlan{health, sahara.HealthServers, "RED", gone},
				}},
			},
			{
				// Read again after the repair: GREEN.
				ProtoV6ProviderFactories: accFactories(),
				ConfigDirectory:          config.StaticDirectory(dir),
				ConfigVariables:          vars,
				Check: func(s *terraform.State) error {
					return expectHealth(s, health, "GREEN", "", "", "")
				},
			},
		},
		CheckDestroy: func(*terraform.State) error {
			env.AssertNoLeftovers(t, clusterID)
			return nil
		},
	})
}

// reachable builds, from the cluster's state, what sshremote needs to reach
// its instances (management key, addresses, pinned host keys).
func reachable(attrs map[string]string, user string) *sahara.Cluster {
	c := &sahara.Cluster{ID: attrs["id"], ManagementPrivateKey: attrs["management_private_key"]}
	c.Name = attrs["name"]
	for _, group := range []string{"scheduler", "worker"} {
		ng := c.AddNodeGroup(sahara.NodeGroupSpec{Name: group})
		ng.ImageUsername = user
		for i := 0; ; i++ {
			p := fmt.Sprintf("node_groups.%s.instances.%d.", group, i)
			if attrs[p+"name"] == "" {
				break
			}
			in := ng.NewInstance(i)
			in.InstanceName, in.InstanceID = attrs[p+"name"], attrs[p+"id"]
			in.InternalIP, in.ManagementIP, in.HostKey = attrs[p+"internal_ip"], attrs[p+"management_ip"], attrs[p+"host_key"]
			ng.AddInstance(in)
		}
	}
	c.Link()
	return c
}

// instanceCommand runs a command on one instance as its image user.
func instanceCommand(c *sahara.Cluster, instance, cmd string) error {
	in := c.Instance(instance)
	if in == nil {
		return fmt.Errorf("no instance %s in state", instance)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pool, err := (&sshremote.Connector{}).Connect(ctx, c)
	if err != nil {
		return err
	}
	defer func() { _ = pool.Close() }()
	_, err = pool.Remote(in).ExecuteCommand(ctx, cmd, sahara.ExecOptions{Name: "test"})
	return err
}

// deleteServer deletes a server behind the provider's back and waits until
// Nova no longer has it.
func deleteServer(env *testbed.Env, id string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cl, err := env.Clients(ctx, false)
	if err != nil {
		return err
	}
	if err := servers.Delete(ctx, cl.Compute, id).ExtractErr(); err != nil {
		return err
	}
	for ctx.Err() == nil {
		if _, err := servers.Get(ctx, cl.Compute, id).Extract(); err != nil {
			return nil // gone (404)
		}
		time.Sleep(500 * time.Millisecond)
	}
	return fmt.Errorf("server %s still there after 2 min", id)
}

// expectHealth checks the data source's status and, when check is set,
// that check's status and that it names instance.
func expectHealth(s *terraform.State, addr, status, check, checkStatus, instance string) error {
	rs, ok := s.RootModule().Resources[addr]
	if !ok {
		return fmt.Errorf("no %s in state", addr)
	}
	a := rs.Primary.Attributes
	var all []string
	for i := 0; a[fmt.Sprintf("checks.%d.name", i)] != ""; i++ {
		all = append(all, a[fmt.Sprintf("checks.%d.name", i)]+"="+a[fmt.Sprintf("checks.%d.status", i)])
	}
	if a["status"] != status {
		return fmt.Errorf("%s status %s, want %s (checks %v)", addr, a["status"], status, all)
	}
	if len(all) < 4 {
		return fmt.Errorf("%s has checks %v, want the engine's two and the plugin's two", addr, all)
	}
	if check == "" {
		return nil
	}
	for i := range all {
		p := fmt.Sprintf("checks.%d.", i)
		if a[p+"name"] != check {
			continue
		}
		if a[p+"status"] != checkStatus || a[p+"instances."+instance] == "" || !strings.Contains(a[p+"description"], instance) {
			return fmt.Errorf("check %s: %s %q, instances %s; want %s naming %s", check, a[p+"status"], a[p+"description"], a[p+"instances.%"], checkStatus, instance)
		}
		return nil
	}
	return fmt.Errorf("no check %s among %v", check, all)
}

// healthInPlan checks the data source as the plan read it.
type healthInPlan struct{ addr, check, status, instance string }

func (h healthInPlan) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	if req.Plan.PriorState == nil || req.Plan.PriorState.Values == nil {
		resp.Error = fmt.Errorf("the plan has no prior state")
		return
	}
	for _, r := range req.Plan.PriorState.Values.RootModule.Resources {
		if r.Address != h.addr {
			continue
		}
		b, _ := json.Marshal(r.AttributeValues["checks"])
		var checks []struct {
			Name, Status, Description string
			Instances                 map[string]string
		}
		if err := json.Unmarshal(b, &checks); err != nil {
			resp.Error = err
			return
		}
		for _, c := range checks {
			if c.Name == h.check {
				if c.Status != h.status || c.Instances[h.instance] == "" {
					resp.Error = fmt.Errorf("the plan read %s %s %q (%v), want %s naming %s", c.Name, c.Status, c.Description, c.Instances, h.status, h.instance)
				}
				return
			}
		}
		resp.Error = fmt.Errorf("the plan read no check %s: %s", h.check, b)
		return
	}
	resp.Error = fmt.Errorf("the plan did not read %s", h.addr)
}
