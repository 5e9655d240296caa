package provider

import (
	"fmt"
	"os/exec"
	"regexp"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/saharagen/terraform-provider-saharagen/internal/testbed"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// A cloud without object storage: the testbed's second project, whose
// tokens' catalog has no object-store endpoint. The provider block stays
// empty (record_store "auto"), and the records go to the user's Keystone
// credentials.

func accEnvNoStore(t *testing.T) *testbed.Env { return accEnvOn(t, testbed.RequireNoStore(t)) }

// The fake lifecycle (templates, create, import, scale up and down, an
// empty plan, destroy) with every record in Keystone.
func TestAccCluster_FakeLifecycleWithoutObjectStorage(t *testing.T) {
	env := accEnvNoStore(t)
	testAccClusterLifecycle(t, env, fakeLayout(env, "accn"))
}

// The quickstart as a newcomer applies it, computing on its workers.
func TestAccCluster_QuickstartWithoutObjectStorage(t *testing.T) {
	env := accEnvNoStore(t)
	t.Setenv("TF_ACC_PROVIDER_NAMESPACE", "saharagen")
	if err := exec.Command("/usr/bin/python3", "-c", "import distributed").Run(); err != nil {
		t.Fatalf("the testbed host needs Debian's python3-distributed (make testbed-up installs it): %v", err)
	}
	name := fmt.Sprintf("accq%d", time.Now().Unix()%100000)
	addr := "saharagen_cluster.dask"
	var clusterID string
	resource.Test(t, resource.TestCase{
		Steps: []resource.TestStep{
			{
				ProtoV6ProviderFactories: accFactories(),
				ConfigDirectory:          config.StaticDirectory(quickstartDir),
				ConfigVariables:          quickstartVars(env, name, 2),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("status"), knownvalue.StringExact(string(sahara.StatusActive))),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("info").AtMapKey("Dask").AtMapKey("Scheduler"),
						knownvalue.StringRegexp(regexp.MustCompile(`^tcp://[0-9.]+:8786$`))),
				},
				Check: func(s *terraform.State) error {
					clusterID = s.RootModule().Resources[addr].Primary.ID
					if err := accRecordsOf(env).secretsInClear(t, clusterID); err != nil {
						return err
					}
					out, err := daskCompute(s, "run", "2")
					if err != nil {
						return err
					}
					return ranTasks(out, name+"-worker-0", name+"-worker-1")
				},
			},
			{
				ProtoV6ProviderFactories: accFactories(),
				ConfigDirectory:          config.StaticDirectory(quickstartDir),
				ConfigVariables:          quickstartVars(env, name, 2),
				PlanOnly:                 true,
			},
		},
		CheckDestroy: func(*terraform.State) error {
			env.AssertNoLeftovers(t, clusterID)
			return nil
		},
	})
	accRecordsOf(env).assertEmpty(t)
}
