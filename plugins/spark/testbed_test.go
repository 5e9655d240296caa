package spark

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/saharagen/terraform-provider-saharagen/internal/testbed"
	"github.com/saharagen/terraform-provider-saharagen/plugins/internal/hadoop"
	"github.com/saharagen/terraform-provider-saharagen/plugins/internal/testbedrun"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// testbedSpark is the spark plugin with what the testbed lacks: the
// testbed has no Spark image (its images are tagged for fake, vanilla and
// dask, and nothing can be installed offline), so the cluster boots the
// vanilla image, and ConfigureCluster first makes each instance look like
// Sahara's Spark image with imagePrep's stubs (without its tmpfs volumes:
// the engine mounts real ones). Everything else is the plugin itself.
type testbedSpark struct{ *Plugin }

func (p testbedSpark) RequiredImageTags(string) []string { return []string{"vanilla"} }

func (p testbedSpark) ConfigureCluster(ctx context.Context, c *sahara.Cluster, r sahara.Remotes) error {
	prep := imagePrep[:strings.Index(imagePrep, "for d in 1 2")] + fmt.Sprintf("echo %d > /tmp/stub/live\n", len(c.InstancesWithProcess(ProcDataNode)))
	if err := testbedrun.Prep(ctx, c, r, prep); err != nil {
		return err
	}
	return p.Plugin.ConfigureCluster(ctx, c, r)
}

// TestPlugin_TestbedCluster creates a Spark 2.3 cluster (master + 2
// workers with a volume each) through the engine on the testbed's
// OpenStack over real SSH, to Active, and checks the recorded steps and
// statuses, the daemon commands the stubs logged in order, the files and
// the cluster info; then deletes it and checks nothing is left.
func TestPlugin_TestbedCluster(t *testing.T) {
	env := testbed.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	var mu sync.Mutex
	var statuses []sahara.ClusterStatus
	steps := map[string]string{}
	observe := func(ev sahara.Event) {
		mu.Lock()
		defer mu.Unlock()
		switch ev.Kind {
		case sahara.EventStatus:
			statuses = append(statuses, ev.Status)
		case sahara.EventStep:
			steps[ev.Step.Type] = ev.Step.Name
		}
	}
	spec := sahara.ClusterSpec{
		Name: "st", PluginName: Name, PluginVersion: V23,
		DefaultImageID: env.Images["vanilla"], NeutronManagementNetwork: env.NetworkID,
		ClusterConfigs: sahara.Configs{SvcHDFS: {CfgReplication: "2"}, SvcSpark: {CfgWorkerMemory: "1g"}},
		NodeGroups: []sahara.NodeGroupSpec{
			{Name: "master", FlavorID: env.FlavorID, Count: 1, NodeProcesses: []string{ProcNameNode, ProcMaster}},
			{Name: "worker", FlavorID: env.FlavorID, Count: 2, NodeProcesses: []string{ProcDataNode, ProcSlave}, VolumesPerNode: 1, VolumesSize: 1},
		},
	}
	run := testbedrun.Create(ctx, t, env, func(l *slog.Logger) sahara.Plugin { return testbedSpark{New(Options{Logger: l})} }, spec, observe)
	c := run.Cluster
	spec.Name = c.Name
	if c.Status != sahara.StatusActive {
		t.Fatalf("status %s, want Active", c.Status)
	}
	mu.Lock()
	seq := fmt.Sprint(statuses)
	for _, typ := range []string{sahara.StepTypeConfigure, sahara.StepTypeStart} {
		if steps[typ] == "" {
			t.Errorf("no %q step recorded (steps: %v)", typ, steps)
		}
	}
	mu.Unlock()
	if !strings.Contains(seq, "Configuring Starting Active") {
		t.Errorf("statuses %s, want Configuring, Starting, Active at the end", seq)
	}

	sh := run.Shell(ctx, t)
	calls := func(in *sahara.Instance) string {
		var out []string
		for _, line := range strings.Split(sh(in, "cat /tmp/stub/calls.log"), "\n") {
			if f := strings.SplitN(line, " ", 4); len(f) == 4 {
				out = append(out, f[2]+" "+f[3])
			}
		}
		return strings.Join(out, "\n")
	}
	master := c.Instance(spec.Name + "-master-0")
	user := master.Username()
	if got, want := calls(master), strings.Join([]string{
		"hdfs hadoop namenode -format",
		"root service hadoop-hdfs-namenode start",
		"hdfs hdfs dfsadmin -report",
		"hdfs hdfs dfs -mkdir -p /user/" + user + "/",
		"hdfs hdfs dfs -chown " + user + " /user/" + user + "/",
		user + " start-all.sh",
	}, "\n"); got != want {
		t.Errorf("master's daemon commands:\n%s\nwant\n%s", got, want)
	}
	sp, err := renderSpark(c, c.InstancesWithProcess(ProcSlave))
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range c.InstancesWithProcess(ProcSlave) {
		if got := calls(in); got != "root service hadoop-hdfs-datanode start" {
			t.Errorf("%s: daemon commands %q", in.InstanceName, got)
		}
		if got := sh(in, "findmnt -n -o TARGET -T /volumes/disk1/dfs/dn"); got != "/volumes/disk1" {
			t.Errorf("%s: the data dir is on %q, want the volume", in.InstanceName, got)
		}
	}
	for _, in := range c.Instances() {
		for _, f := range sp.list() {
			if got := sh(in, "cat "+f.path); got != strings.TrimSpace(string(f.data)) {
				t.Errorf("%s:%s =\n%s\nwant\n%s", in.InstanceName, f.path, got, f.data)
			}
		}
	}
	if got := c.Info["Spark"]["Web UI"]; got != "http://"+hadoop.WebAddress(master)+":8080" {
		t.Errorf("info Spark Web UI = %q", got)
	}
}
