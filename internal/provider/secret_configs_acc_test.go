package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/saharagen/terraform-provider-saharagen/internal/testbed"
	"github.com/saharagen/terraform-provider-saharagen/plugins/fake"
)

// A secret config through the real CLI (Terraform 1.11+: write-only): the
// plan, the state and every record hold no trace of it, the instance's
// config file has it (mode 0600), and a secret given where it would be
// stored is refused at plan, before anything exists.
func TestAccCluster_SecretConfigsNeverStored(t *testing.T) {
	env := accEnv(t)
	name := fmt.Sprintf("accs%d", time.Now().Unix()%100000)
	secret := fmt.Sprintf("kdc-%d-Zq8vN3pL", time.Now().UnixNano())
	cfg := func(attrs string) string {
		return `
# Ephemeral: Terraform keeps the variable out of the plan file too.
variable "kdc_password" {
  type      = string
  ephemeral = true
}
` + inlineFakeCluster(env, name, attrs, fmt.Sprintf(`
    master = { flavor_id = %q, node_processes = ["namenode", "resourcemanager"], count = 1 }
    worker = { flavor_id = %[1]q, node_processes = ["datanode", "nodemanager"], count = 1 }`, env.FlavorName))
	}
	secretAttr := `secret_configs = { Kerberos = { "KDC admin password" = var.kdc_password } }
  secret_configs_version = "1"`
	vars := config.Variables{"kdc_password": config.StringVariable(secret)}
	addr := "saharagen_cluster.c"
	var clusterID string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: accFactories(),
		Steps: []resource.TestStep{
			{
				Config:          cfg(`cluster_configs = { Kerberos = { "KDC admin password" = "not-the-secret" } }`),
				ConfigVariables: vars,
				PlanOnly:        true,
				ExpectError:     regexp.MustCompile(`(?s)Config 'KDC admin password' of applicable target 'Kerberos' is a\s+secret`),
			},
			{
				Config:          cfg(secretAttr),
				ConfigVariables: vars,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionCreate),
					noTraceInPlan{secret},
				}},
				Check: func(s *terraform.State) error {
					rs := s.RootModule().Resources[addr]
					clusterID = rs.Primary.ID
					for k, v := range rs.Primary.Attributes {
						if strings.Contains(v, secret) {
							return fmt.Errorf("the state holds the secret in %s", k)
						}
					}
					if v := rs.Primary.Attributes["secret_configs.%"]; v != "" && v != "0" {
						return fmt.Errorf("the state has secret_configs (%s entries): a write-only attribute must be null", v)
					}
					if err := noTraceInRecords(env, secret); err != nil {
						return err
					}
					if err := lastOperationIsCreate(rs.Primary.Attributes); err != nil {
						return err
					}
					return instanceFileHas(rs.Primary.Attributes["node_groups.worker.instances.0.id"], fake.ConfFile, "Kerberos/KDC admin password="+secret)
				},
			},
			{
				// Terraform cannot see a write-only value change; the version says it.
				Config:             cfg(strings.Replace(secretAttr, `"1"`, `"2"`, 1)),
				ConfigVariables:    vars,
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
		},
		CheckDestroy: func(*terraform.State) error {
			env.AssertNoLeftovers(t, clusterID)
			return nil
		},
	})
}

// noTraceInPlan fails when the plan (as JSON, sensitive values included)
// holds the value.
type noTraceInPlan struct{ value string }

func (c noTraceInPlan) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	b, err := json.Marshal(req.Plan)
	if err != nil {
		resp.Error = err
		return
	}
	if i := strings.Index(string(b), c.value); i >= 0 {
		resp.Error = fmt.Errorf("the plan holds the secret value: …%s…", b[max(0, i-200):i])
	}
}

// noTraceInRecords reads every record of the store.
func noTraceInRecords(env *testbed.Env, value string) error {
	all, err := accRecordsOf(env).all(context.Background())
	if err != nil {
		return err
	}
	for n, body := range all {
		if strings.Contains(body, value) {
			return fmt.Errorf("record %s holds the secret value", n)
		}
	}
	if len(all) == 0 {
		return fmt.Errorf("the store holds no record: nothing was checked")
	}
	return nil
}

// instanceFileHas reads a file the plugin wrote in the image user's home
// of a testbed instance (the upper layer of its overlay) and checks it has
// the line and is its owner's alone.
func instanceFileHas(serverID, name, line string) error {
	matches, _ := filepath.Glob(filepath.Join(testbed.InstancesDir, serverID, "upper", "home", "*", name))
	if len(matches) != 1 {
		return fmt.Errorf("server %s: %d files %s in a home directory, want 1", serverID, len(matches), name)
	}
	fi, err := os.Stat(matches[0])
	if err != nil {
		return err
	}
	if fi.Mode().Perm() != 0o600 {
		return fmt.Errorf("%s has mode %v, want 0600: it holds a secret", matches[0], fi.Mode().Perm())
	}
	b, err := os.ReadFile(matches[0])
	if err != nil {
		return err
	}
	if !strings.Contains(string(b), line+"\n") {
		return fmt.Errorf("%s lacks the secret config line", matches[0])
	}
	return nil
}

// lastOperationIsCreate checks last_operation after a create: Validating
// first, Active last, every step finished.
func lastOperationIsCreate(a map[string]string) error {
	n := a["last_operation.statuses.#"]
	if a["last_operation.statuses.0.status"] != "Validating" || a["last_operation.statuses."+decr(n)+".status"] != "Active" {
		return fmt.Errorf("last_operation.statuses: %s entries, first %s, last %s", n,
			a["last_operation.statuses.0.status"], a["last_operation.statuses."+decr(n)+".status"])
	}
	steps := a["last_operation.steps.#"]
	if steps == "" || steps == "0" {
		return fmt.Errorf("last_operation has no steps")
	}
	for i := 0; a[fmt.Sprintf("last_operation.steps.%d.name", i)] != ""; i++ {
		if r := a[fmt.Sprintf("last_operation.steps.%d.result", i)]; r != "succeeded" {
			return fmt.Errorf("step %s: %s", a[fmt.Sprintf("last_operation.steps.%d.name", i)], r)
		}
	}
	return nil
}

func decr(n string) string {
	var i int
	_, _ = fmt.Sscan(n, &i)
	return fmt.Sprint(i - 1)
}

// inlineFakeCluster is a fake-plugin cluster "c" with inline node groups
// (groups: the lines inside node_groups) and extra attributes.
func inlineFakeCluster(env *testbed.Env, name, attrs, groups string) string {
	return fmt.Sprintf(`
provider "saharagen" {}

resource "saharagen_cluster" "c" {
  name                       = %q
  plugin_name                = "fake"
  plugin_version             = "0.1"
  default_image_id           = %q
  neutron_management_network = %q
  %s
  node_groups = {%s
  }
}
`, name, env.ImageNames["fake"], env.NetworkName, attrs, groups)
}
