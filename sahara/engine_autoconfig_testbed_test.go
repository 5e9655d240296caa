package sahara_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/saharagen/terraform-provider-saharagen/internal/testbed"
	"github.com/saharagen/terraform-provider-saharagen/plugins/vanilla"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
	"github.com/saharagen/terraform-provider-saharagen/sahara/openstack"
	"github.com/saharagen/terraform-provider-saharagen/sahara/sshremote"
)

var errStopAfterValidating = errors.New("stop after validating")

// quotaStop is the testbed cloud with a quota check that always fails, so a
// create ends in Validating before anything is created.
type quotaStop struct{ *openstack.Cloud }

func (quotaStop) CheckQuotas(context.Context, *sahara.Cluster, sahara.QuotaRequest) error {
	return errStopAfterValidating
}

// TestEngineCreate_TestbedVanillaAutoconfig runs vanilla's recommend_configs
// through the engine with the testbed's real flavor (m1.small: 1 vCPU,
// 512 MB) read from Nova; the create stops in Validating and leaves nothing.
func TestEngineCreate_TestbedVanillaAutoconfig(t *testing.T) {
	env := testbed.Require(t)
	t.Setenv("OS_CLIENT_CONFIG_FILE", env.CloudsYAML)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	logs := &lockedBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	cloud, err := openstack.New(ctx, openstack.Config{Cloud: env.Cloud}, openstack.WithLogger(logger))
	if err != nil {
		t.Fatal(err)
	}
	reg, _ := sahara.NewRegistry(vanilla.New(vanilla.Options{}))
	e, err := sahara.New(sahara.Options{Infra: quotaStop{cloud}, Remotes: &sshremote.Connector{Logger: logger}, Plugins: reg, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.NewCluster(sahara.ClusterSpec{
		Name: "autoconf", PluginName: vanilla.Name, PluginVersion: vanilla.V282, DefaultImageID: env.Images[vanilla.Name],
		NeutronManagementNetwork: env.NetworkID,
		NodeGroups: []sahara.NodeGroupSpec{
			{Name: "master", FlavorID: env.FlavorID, Count: 1, NodeProcesses: []string{vanilla.ProcNameNode, vanilla.ProcResourceManager, vanilla.ProcHistoryServer}},
			{Name: "worker", FlavorID: env.FlavorID, Count: 1, NodeProcesses: []string{vanilla.ProcDataNode, vanilla.ProcNodeManager}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Create(ctx, c); !errors.Is(err, errStopAfterValidating) {
		t.Fatalf("Create: %v\n%s", err, logs)
	}
	env.AssertNoLeftovers(t, c.ID)
	// 512 MB: 8 containers of max((512-1024)/8, 256) = 256 MB.
	for _, ng := range c.NodeGroups {
		if v, _ := ng.NodeConfigs.Get(vanilla.SvcYARN, "yarn.nodemanager.resource.memory-mb"); v != 2048 {
			t.Errorf("%s memory-mb = %v, want 2048 from m1.small", ng.Name, v)
		}
	}
	if v, _ := c.ClusterConfigs.Get(vanilla.SvcHDFS, vanilla.CfgReplication); v != 1 {
		t.Errorf("dfs.replication = %v, want 1 (one datanode)", v)
	}
	if !strings.Contains(logs.String(), "Recommending configs from 1 flavors") {
		t.Errorf("no INFO line for the recommendation:\n%s", logs)
	}
}
