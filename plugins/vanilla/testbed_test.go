package vanilla

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/saharagen/terraform-provider-saharagen/internal/testbed"
	"github.com/saharagen/terraform-provider-saharagen/plugins/internal/testbedrun"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// testbedVanilla is the vanilla plugin with the two things the testbed's
// image lacks: it first makes each instance look like Sahara's vanilla
// image (imagePrep without its tmpfs volumes: the engine mounts real ones),
// and its start stops before Hadoop's daemons, which cannot be installed
// offline (they are checked with the recording remote instead).
type testbedVanilla struct{ *Plugin }

func (p testbedVanilla) ConfigureCluster(ctx context.Context, c *sahara.Cluster, r sahara.Remotes) error {
	prep := imagePrep[:strings.Index(imagePrep, "for d in 1 2")]
	if err := testbedrun.Prep(ctx, c, r, prep); err != nil {
		return err
	}
	return p.Plugin.ConfigureCluster(ctx, c, r)
}

func (p testbedVanilla) StartCluster(ctx context.Context, c *sahara.Cluster, r sahara.Remotes) error {
	if err := p.provisionKeypairs(ctx, c, r, c.Instances(), false); err != nil {
		return err
	}
	if err := p.writeIncludeFiles(ctx, c, r, nil); err != nil {
		return err
	}
	l, _ := lineOf(c.PluginVersion)
	setInfo(c, l)
	return nil
}

// TestPlugin_TestbedCluster creates a vanilla cluster (master + 3 workers,
// 2 volumes each) through the engine on the testbed's OpenStack over real
// SSH, checks the files, owners and that the HDFS data directories sit on
// the attached volumes, then deletes it and checks nothing is left.
func TestPlugin_TestbedCluster(t *testing.T) {
	env := testbed.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	spec := sahara.ClusterSpec{
		Name: "vt", PluginName: Name, PluginVersion: V282,
		DefaultImageID: env.Images[Name], NeutronManagementNetwork: env.NetworkID,
		ClusterConfigs: sahara.Configs{SvcHDFS: {"dfs.replication": "3"}},
		NodeGroups: []sahara.NodeGroupSpec{
			{Name: "master", FlavorID: env.FlavorID, Count: 1, NodeProcesses: []string{ProcNameNode, ProcResourceManager, ProcHistoryServer}},
			{Name: "worker", FlavorID: env.FlavorID, Count: 3, NodeProcesses: []string{ProcDataNode, ProcNodeManager}, VolumesPerNode: 2, VolumesSize: 1},
		},
	}
	run := testbedrun.Create(ctx, t, env, func(l *slog.Logger) sahara.Plugin { return testbedVanilla{New(Options{Logger: l})} }, spec, nil)
	c := run.Cluster
	spec.Name = c.Name

	sh := run.Shell(ctx, t)
	for _, in := range c.Instances() {
		d, err := dirsOf(in)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range wantSiteFiles(t, c, in) {
			if got := sh(in, "cat "+f.path); got != strings.TrimSpace(string(f.data)) {
				t.Errorf("%s:%s =\n%s\nwant\n%s", in.InstanceName, f.path, got, f.data)
			}
			if own := sh(in, "stat -c %U:%G "+f.path); own != "hadoop:hadoop" {
				t.Errorf("%s:%s owned by %s", in.InstanceName, f.path, own)
			}
		}
		if got := sh(in, "cat /opt/hadoop/etc/hadoop/dn-include"); got != strings.Join([]string{
			c.Instance(spec.Name + "-worker-0").FQDN(), c.Instance(spec.Name + "-worker-1").FQDN(), c.Instance(spec.Name + "-worker-2").FQDN(),
		}, "\n") {
			t.Errorf("%s: dn-include = %q", in.InstanceName, got)
		}
		if in.NodeGroup().Name != "worker" {
			continue
		}
		if len(in.Volumes) != 2 || in.StorageDevicesNumber != 2 {
			t.Fatalf("%s: %d volumes, %d mounted", in.InstanceName, len(in.Volumes), in.StorageDevicesNumber)
		}
		for i, dir := range d.data {
			mount := sh(in, "findmnt -n -o TARGET -T "+dir)
			if want := "/volumes/disk" + itoa(i+1); mount != want {
				t.Errorf("%s: %s is on %q, want the volume at %s", in.InstanceName, dir, mount, want)
			}
			if own := sh(in, "stat -c %U:%G "+dir); own != "hadoop:hadoop" {
				t.Errorf("%s: %s owned by %s", in.InstanceName, dir, own)
			}
		}
	}
	if got := c.Info["HDFS"]["NameNode"]; got != "hdfs://"+spec.Name+"-master-0:9000" {
		t.Errorf("info HDFS NameNode = %q", got)
	}
}
