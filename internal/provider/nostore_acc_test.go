package provider

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
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

// The quickstart as a newcomer applies it: without client_cidrs nothing
// outside the cluster reaches the Dask ports (in Neutron's rules and on the
// wire: the testbed enforces security groups) while SSH works; with the
// host's network in client_cidrs, changed in place, the host computes on
// its workers.
func TestAccCluster_QuickstartWithoutObjectStorage(t *testing.T) {
	env := accEnvNoStore(t)
	t.Setenv("TF_ACC_PROVIDER_NAMESPACE", "saharagen")
	if err := exec.Command("/usr/bin/python3", "-c", "import distributed").Run(); err != nil {
		t.Fatalf("the testbed host needs Debian's python3-distributed (make testbed-up installs it): %v", err)
	}
	name := fmt.Sprintf("accq%d", time.Now().Unix()%100000)
	addr := "saharagen_cluster.dask"
	closed := withVar(quickstartVars(env, name, 2), "client_cidrs", config.ListVariable())
	sameID := statecheck.CompareValue(compare.ValuesSame())
	var clusterID string
	resource.Test(t, resource.TestCase{
		Steps: []resource.TestStep{
			{
				ProtoV6ProviderFactories: accFactories(),
				ConfigDirectory:          config.StaticDirectory(quickstartDir),
				ConfigVariables:          closed,
				ConfigStateChecks: []statecheck.StateCheck{
					sameID.AddStateValue(addr, tfjsonpath.New("id")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("status"), knownvalue.StringExact(string(sahara.StatusActive))),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("info").AtMapKey("Dask").AtMapKey("Scheduler"),
						knownvalue.StringRegexp(regexp.MustCompile(`^tls://[0-9.]+:8786$`))),
				},
				Check: func(s *terraform.State) error {
					clusterID = s.RootModule().Resources[addr].Primary.ID
					if err := accRecordsOf(env).secretsInClear(t, clusterID); err != nil {
						return err
					}
					if err := publicRules(env, clusterID); err != nil {
						return err
					}
					return schedulerExposure(s, false)
				},
			},
			{
				ProtoV6ProviderFactories: accFactories(),
				ConfigDirectory:          config.StaticDirectory(quickstartDir),
				ConfigVariables:          quickstartVars(env, name, 2),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{sameID.AddStateValue(addr, tfjsonpath.New("id"))},
				Check: func(s *terraform.State) error {
					if err := schedulerExposure(s, true); err != nil {
						return err
					}
					// Reachable now, but only with the cluster's certificate.
					if out, err := daskClient(s, []string{"ca.pem"}, "probe"); err == nil || !strings.Contains(out, "refused") {
						return fmt.Errorf("the scheduler answered a client without the cluster's certificate (%v):\n%s", err, out)
					}
					if _, err := daskCompute(s, "probe"); err != nil {
						return fmt.Errorf("the cluster's own client certificate was refused: %w", err)
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

// schedulerExposure dials the scheduler's internal address from the testbed
// host: SSH always answers; the Dask port only when open says so.
func schedulerExposure(s *terraform.State, open bool) error {
	out, ok := s.RootModule().Outputs["scheduler_internal_address"]
	if !ok {
		return fmt.Errorf("no scheduler_internal_address output")
	}
	hostPort := strings.TrimPrefix(out.Value.(string), "tls://")
	host, _, err := net.SplitHostPort(hostPort)
	if err != nil {
		return err
	}
	dial := func(port string) error {
		c, err := net.DialTimeout("tcp", net.JoinHostPort(host, port), 3*time.Second)
		if err == nil {
			_ = c.Close()
		}
		return err
	}
	if err := dial("22"); err != nil {
		return fmt.Errorf("SSH to the scheduler %s: %w", host, err)
	}
	err = dial("8786")
	switch {
	case open && err != nil:
		return fmt.Errorf("the scheduler's port 8786 is closed to the testbed host, whose network is in client_cidrs: %w", err)
	case !open && err == nil:
		return fmt.Errorf("the scheduler's port 8786 answers the testbed host, which is outside the cluster and client_cidrs")
	}
	return nil
}

// publicRules checks the cluster's auto security groups in Neutron: the
// only rules open to everyone are SSH's.
func publicRules(env *testbed.Env, clusterID string) error {
	ctx := context.Background()
	cl, err := env.Clients(ctx, false)
	if err != nil {
		return err
	}
	pages, err := groups.List(cl.Network, groups.ListOpts{Tags: sahara.TagCluster + "=" + clusterID}).AllPages(ctx)
	if err != nil {
		return err
	}
	sgs, err := groups.ExtractGroups(pages)
	if err != nil {
		return err
	}
	if len(sgs) != 2 {
		return fmt.Errorf("cluster %s has %d auto security groups, want 2 (scheduler, worker)", clusterID, len(sgs))
	}
	for _, sg := range sgs {
		for _, r := range sg.Rules {
			public := r.RemoteIPPrefix == "0.0.0.0/0" || r.RemoteIPPrefix == "::/0" || (r.RemoteIPPrefix == "" && r.RemoteGroupID == "")
			ssh := r.Protocol == "tcp" && r.PortRangeMin == 22 && r.PortRangeMax == 22
			if r.Direction == "ingress" && public && !ssh {
				return fmt.Errorf("security group %s admits anyone: %s %s ports %d-%d", sg.Name, r.EtherType, r.Protocol, r.PortRangeMin, r.PortRangeMax)
			}
		}
	}
	return nil
}
