package provider

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/saharagen/terraform-provider-saharagen/internal/testbed"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// Acceptance tests: the real provider (OpenStack adapter, SSH remote) on the
// testbed, driven by the real Terraform CLI. TF_ACC=1 and SAHARAGEN_TESTBED=1
// (`make testacc`); they fail when the testbed is enabled but unreachable.

func accFactories() map[string]func() (tfprotov6.ProviderServer, error) {
	return map[string]func() (tfprotov6.ProviderServer, error){
		"saharagen": providerserver.NewProtocol6WithError(New("acc")()),
	}
}

// accEnv points the provider at the testbed through the environment only
// (OS_CLIENT_CONFIG_FILE + OS_CLOUD), so the provider block stays empty.
const accStoreContainer = "saharagen-acc"

func accEnv(t *testing.T) *testbed.Env { return accEnvOn(t, testbed.Require(t)) }

func accEnvOn(t *testing.T, env *testbed.Env) *testbed.Env {
	t.Setenv("OS_CLIENT_CONFIG_FILE", env.CloudsYAML)
	t.Setenv("OS_CLOUD", env.Cloud)
	t.Setenv("SAHARAGEN_TEMPLATE_STORE_CONTAINER", accStoreContainer)
	return env
}

type accLayout struct {
	// engine is the provider's engine ("": unset, the default direct).
	engine                                        string
	plugin, version, image, network, flavor, name string
	master, worker                                []string
	configs                                       string
}

func (l accLayout) config(workers int, workerExtra string) string {
	provider := `provider "saharagen" {}`
	if l.engine != "" {
		provider = fmt.Sprintf("provider \"saharagen\" {\n  engine = %q\n}", l.engine)
	}
	return provider + fmt.Sprintf(`

resource "saharagen_node_group_template" "master" {
  name           = "%[6]s-master"
  plugin_name    = %[1]q
  plugin_version = %[2]q
  flavor_id      = %[5]q
  node_processes = %[7]s
}

resource "saharagen_node_group_template" "worker" {
  name           = "%[6]s-worker"
  plugin_name    = %[1]q
  plugin_version = %[2]q
  flavor_id      = %[5]q
  node_processes = %[8]s
}

resource "saharagen_cluster_template" "ct" {
  name                       = %[6]q
  plugin_name                = %[1]q
  plugin_version             = %[2]q
  default_image_id           = %[3]q
  neutron_management_network = %[4]q
  %[9]s
  node_groups = {
    master = { node_group_template_id = saharagen_node_group_template.master.id, count = 1 }
    worker = { node_group_template_id = saharagen_node_group_template.worker.id, count = 1 }
  }
}

resource "saharagen_cluster" "c" {
  name                = %[6]q
  plugin_name         = %[1]q
  plugin_version      = %[2]q
  cluster_template_id = saharagen_cluster_template.ct.id
  node_groups = {
    master = {
      node_group_template_id = saharagen_node_group_template.master.id
      count                  = 1
    }
    worker = {
      node_group_template_id = saharagen_node_group_template.worker.id
      count                  = %[10]d
      %[11]s
    }
  }
  timeouts {
    create = "10m"
    update = "10m"
    delete = "10m"
  }
}
`, l.plugin, l.version, l.image, l.network, l.flavor, l.name, hclList(l.master), hclList(l.worker), l.configs, workers, workerExtra)
}

func hclList(l []string) string {
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = fmt.Sprintf("%q", s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// testAccClusterLifecycle: templates → cluster → import → count up (in
// place, same id) → count down naming one instance → empty plan → destroy,
// then nothing of it is left in the cloud.
func testAccClusterLifecycle(t *testing.T, env *testbed.Env, l accLayout) {
	addr := "saharagen_cluster.c"
	sameID := statecheck.CompareValue(compare.ValuesSame())
	var clusterID string
	victim := l.name + "-worker-0"
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: accFactories(),
		Steps: []resource.TestStep{
			{
				Config: l.config(1, ""),
				ConfigStateChecks: []statecheck.StateCheck{
					sameID.AddStateValue(addr, tfjsonpath.New("id")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("engine"), knownvalue.StringExact(l.engineName())),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("status"), knownvalue.StringExact(string(sahara.StatusActive))),
					statecheck.ExpectKnownValue(addr, workerPath("instances").AtSliceIndex(0).AtMapKey("host_key"), knownvalue.StringRegexp(regexpMust(`^(ssh|ecdsa)-`))),
				},
				Check: func(s *terraform.State) error {
					clusterID = s.RootModule().Resources[addr].Primary.ID
					if err := l.expectStacks(env, clusterID); err != nil {
						return err
					}
					return accRecordsOf(env).secretsInClear(t, clusterID)
				},
			},
			// An import reads the shared record, which holds no secret: not the key.
			{ResourceName: addr, ImportState: true, ImportStateVerify: true, ImportStateVerifyIgnore: []string{"timeouts", "management_private_key"}},
			{
				Config: l.config(2, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					sameID.AddStateValue(addr, tfjsonpath.New("id")),
					statecheck.ExpectKnownValue(addr, workerPath("instances"), instanceNames(l.name+"-worker-0", l.name+"-worker-1")),
				},
			},
			{
				Config: l.config(1, fmt.Sprintf("instances_to_remove = [%q]", victim)),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(addr, workerPath("instances_to_be_removed"), stringsExact(victim)),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					sameID.AddStateValue(addr, tfjsonpath.New("id")),
					statecheck.ExpectKnownValue(addr, workerPath("instances"), instanceNames(l.name+"-worker-1")),
				},
			},
			{Config: l.config(1, fmt.Sprintf("instances_to_remove = [%q]", victim)), PlanOnly: true},
		},
		CheckDestroy: func(*terraform.State) error {
			env.AssertNoLeftovers(t, clusterID)
			return nil
		},
	})
	accRecordsOf(env).assertEmpty(t)
}

// The fake lifecycle names its flavor, image and network by name, as users
// write them; Nova, Glance and Neutron resolve them.
func TestAccCluster_FakePluginLifecycle(t *testing.T) {
	env := accEnv(t)
	testAccClusterLifecycle(t, env, fakeLayout(env, "accf"))
}

// The same lifecycle with engine = "heat" in the provider block: the
// cluster is one stack, scaled by stack updates, deleted with it.
func TestAccCluster_HeatFakePluginLifecycle(t *testing.T) {
	env := accEnv(t)
	l := fakeLayout(env, "acch")
	l.engine = engineHeat
	testAccClusterLifecycle(t, env, l)
}

func (l accLayout) engineName() string {
	if l.engine == "" {
		return engineDirect
	}
	return l.engine
}

// expectStacks checks the cluster has one Heat stack with the heat engine
// and none with the direct engine.
func (l accLayout) expectStacks(env *testbed.Env, clusterID string) error {
	want := 0
	if l.engineName() == engineHeat {
		want = 1
	}
	return expectStacks(env, clusterID, want)
}

func expectStacks(env *testbed.Env, clusterID string, want int) error {
	c, err := env.Leftovers(context.Background(), clusterID)
	if err != nil {
		return err
	}
	if c["stacks"] != want {
		return fmt.Errorf("cluster %s has %d Heat stacks, want %d (%v)", clusterID, c["stacks"], want, c)
	}
	return nil
}

// fakeLayout is a fake-plugin cluster named prefix and a number.
func fakeLayout(env *testbed.Env, prefix string) accLayout {
	return accLayout{
		plugin: "fake", version: "0.1", image: env.ImageNames["fake"], network: env.NetworkName, flavor: env.FlavorName,
		name:   fmt.Sprintf("%s%d", prefix, time.Now().Unix()%100000),
		master: []string{"namenode", "resourcemanager"}, worker: []string{"datanode", "nodemanager"},
	}
}

// The testbed's image has no Hadoop (it cannot be installed offline), so a
// vanilla cluster is not provisioned here; this checks the vanilla plugin
// through Terraform where it needs no Hadoop: templates stored on the cloud,
// then plan-time validation of a cluster made from them (template configs
// merged: dfs.replication = 1 lets one datanode pass).
func TestAccCluster_VanillaPlanTimeValidation(t *testing.T) {
	env := accEnv(t)
	reg, err := staticRegistry()
	if err != nil {
		t.Fatal(err)
	}
	p, err := reg.Get("vanilla")
	if err != nil {
		t.Fatal(err)
	}
	versions := p.Versions()
	l := accLayout{
		plugin: "vanilla", version: versions[len(versions)-1], image: env.Images["vanilla"], network: env.NetworkID, flavor: env.FlavorID,
		name:    fmt.Sprintf("accv%d", time.Now().Unix()%100000),
		master:  []string{"namenode", "resourcemanager", "historyserver"},
		worker:  []string{"datanode", "nodemanager"},
		configs: `cluster_configs = { HDFS = { "dfs.replication" = "1" } }`,
	}
	full := l.config(1, "")
	templates := full[:strings.Index(full, `resource "saharagen_cluster" "c"`)]
	noMaster := strings.Replace(full, `master = {
      node_group_template_id = saharagen_node_group_template.master.id
      count                  = 1
    }`, "", 1)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: accFactories(),
		Steps: []resource.TestStep{
			{Config: templates},
			{Config: noMaster, PlanOnly: true,
				ExpectError: msgRE("", "Hadoop cluster should contain 1 namenode component(s). Actual namenode count is 0")},
			// A flavor Nova lacks, asked for by name, fails the plan on the attribute.
			{Config: strings.Replace(full, "flavor_id      = "+strconv.Quote(env.FlavorID), `flavor_id      = "m1.huge"`, 1), PlanOnly: true,
				ExpectError: msgRE(`with saharagen_node_group_template.master,.*flavor_id`, "Requested flavor 'm1.huge' not found")},
			{Config: strings.Replace(full, strconv.Quote(env.NetworkID), `"no-such-net"`, 1), PlanOnly: true,
				ExpectError: msgRE(`with saharagen_cluster_template.ct,.*neutron_management_network`, "Network no-such-net not found")},
			{Config: full, PlanOnly: true, ExpectNonEmptyPlan: true},
		},
		CheckDestroy: func(*terraform.State) error {
			accRecordsOf(env).assertEmpty(t)
			return nil
		},
	})
}

func TestAccImage_RegisterOnGlance(t *testing.T) {
	env := accEnv(t)
	addr := "saharagen_image.img"
	ctx := context.Background()
	name := fmt.Sprintf("saharagen-acc-img-%d", time.Now().UnixNano()%1000000)
	img, cl := queuedImage(t, env, name)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: accFactories(),
		Steps: []resource.TestStep{
			{
				Config: fmt.Sprintf(`
provider "saharagen" {}
resource "saharagen_image" "img" {
  image_id    = %q
  username    = %q
  description = "registered by the acceptance test"
  tags        = ["fake", "0.1", "acc"]
}`, img.ID, env.ImageUser),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("name"), knownvalue.StringExact(name)),
				},
				Check: func(*terraform.State) error {
					got, err := images.Get(ctx, cl.Image, img.ID).Extract()
					if err != nil {
						return err
					}
					if got.Properties["_sahara_username"] != env.ImageUser || got.Properties["_sahara_tag_acc"] != "True" {
						return fmt.Errorf("image properties after register: %v", got.Properties)
					}
					return nil
				},
			},
			{ResourceName: addr, ImportState: true, ImportStateVerify: true, ImportStateId: img.ID},
		},
		CheckDestroy: func(*terraform.State) error {
			got, err := images.Get(ctx, cl.Image, img.ID).Extract()
			if err != nil {
				return err
			}
			for k := range got.Properties {
				if strings.HasPrefix(k, "_sahara_") {
					return fmt.Errorf("destroy left property %s on image %s", k, img.ID)
				}
			}
			return nil
		},
	})
}

// queuedImage creates a queued (empty) Glance image of the test project's
// own, deleted at cleanup: registering edits an image, which must not touch
// the testbed's shared images, and Glance lets only the owner edit it. A
// plan never boots it.
func queuedImage(t *testing.T, env *testbed.Env, name string) (*images.Image, *testbed.Clients) {
	t.Helper()
	ctx := context.Background()
	cl, err := env.Clients(ctx, false)
	if err != nil {
		t.Fatalf("testbed clients: %v", err)
	}
	img, err := images.Create(ctx, cl.Image, images.CreateOpts{Name: name, ContainerFormat: "bare", DiskFormat: "raw"}).Extract()
	if err != nil {
		t.Fatalf("creating image: %v", err)
	}
	t.Cleanup(func() {
		if err := images.Delete(context.Background(), cl.Image, img.ID).ExtractErr(); err != nil {
			t.Errorf("deleting image %s: %v", img.ID, err)
		}
	})
	return img, cl
}
