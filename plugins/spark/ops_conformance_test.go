package spark

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/saharagen/terraform-provider-saharagen/plugins/internal/conformance"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// saharaDataNodeCount is Sahara's datanode count command; its escaped
// quotes make grep read file names, so saharagen runs datanodeCountCmd.
const saharaDataNodeCount = `sudo su -lc "hdfs dfsadmin -report" hdfs | grep \'Live datanodes\|Datanodes available:\' | grep -o \'[0-9]\+\' | head -n 1`

// sampleExtras are the parts of the sample the shared Sample type does not read.
type sampleExtras struct {
	Volatile struct {
		PrivateKey string `json:"management_private_key"`
		PublicKey  string `json:"management_public_key"`
	} `json:"volatile"`
	Checks struct {
		PrefixMatch struct {
			Report           string `json:"dfsadmin_report"`
			SaharaDecommDone bool   `json:"is_decommissioned"`
			Removed          struct {
				IP string `json:"internal_ip"`
			} `json:"removed"`
		} `json:"is_decommissioned_ip_prefix_match"`
	} `json:"checks"`
	Variant struct {
		ClusterConfigs sahara.Configs               `json:"cluster_configs"`
		NodeConfigs    map[string]sahara.Configs    `json:"node_configs"`
		ClusterInfo    map[string]map[string]string `json:"cluster_info"`
		OpenPorts      map[string][]int             `json:"open_ports_per_node_group"`
		SparkEnv       string                       `json:"spark_env_sh"`
		CleanupCalls   []conformance.Call           `json:"master_cleanup_job_calls"`
	} `json:"config_variant"`
}

// sampleResponder answers the sample's polls: the datanode count at once,
// the decommission report first with the removed datanodes in progress,
// then decommissioned.
func sampleResponder(live int, removing map[string]string) conformance.Responder {
	return func(host, cmd string, n int) sahara.Result {
		var out strings.Builder
		switch cmd {
		case datanodeCountCmd:
			fmt.Fprintf(&out, "%d\n", live)
		case sahara2.reportCmd:
			status := "Decommission in progress"
			if n > 0 {
				status = "Decommissioned"
			}
			out.WriteString("Configured Capacity: 0 (0 B)\n-------------------------------------------------\nLive datanodes (4):\n\n")
			for ip, h := range removing {
				fmt.Fprintf(&out, "Name: %s:50010 (%s)\nHostname: %s\nDecommission Status : %s\nConfigured Capacity: 0 (0 B)\n\n", ip, h, h, status)
			}
		}
		return sahara.Result{Stdout: []byte(out.String())}
	}
}

func substitute(calls []conformance.Call) []conformance.Call {
	out := conformance.ExpandWriteMany(calls)
	for i := range out {
		if out[i].Cmd == saharaDataNodeCount {
			out[i].Cmd = datanodeCountCmd
		}
	}
	return out
}

// correctedDecommission turns Sahara's decommission calls (stop-all.sh,
// the new slaves files, start-all.sh, then the HDFS retirement) into
// saharagen's: the HDFS retirement first, then stop-slave.sh on each
// removed worker, then the same slaves files; no stop-all/start-all.
func correctedDecommission(t *testing.T, calls []conformance.Call, removed []string) []conformance.Call {
	t.Helper()
	stop, start := -1, -1
	for i, c := range calls {
		switch {
		case strings.HasSuffix(c.Cmd, "/sbin/stop-all.sh"):
			stop = i
		case strings.HasSuffix(c.Cmd, "/sbin/start-all.sh"):
			start = i
		}
	}
	if stop != 0 || start <= stop {
		t.Fatalf("the sample's decommission does not start with stop-all.sh ... start-all.sh (at %d and %d)", stop, start)
	}
	home := strings.TrimSuffix(strings.TrimPrefix(calls[0].Cmd, "bash "), "/sbin/stop-all.sh")
	out := append([]conformance.Call(nil), calls[start+1:]...)
	for _, h := range removed {
		out = append(out, conformance.Call{Method: conformance.MethodExecute, Host: &h, Cmd: "bash " + home + "/sbin/stop-slave.sh"})
	}
	return append(out, calls[stop+1:start]...)
}

// commandFiles adds to rec.Files the files the recorded commands make: the
// key copied into ~/.ssh and the cron file echo writes.
func commandFiles(rec *conformance.Recorder) {
	for _, c := range rec.Calls() {
		if c.Host == nil {
			continue
		}
		h := *c.Host
		if c.Cmd == keyCmd {
			rec.Files[h+":$HOME/.ssh/id_rsa"] = rec.Files[h+":id_rsa"]
		}
		if rest, ok := strings.CutPrefix(c.Cmd, `sudo sh -c 'echo "`); ok {
			if text, ok := strings.CutSuffix(rest, `" > /etc/cron.d/spark-cleanup'`); ok {
				rec.Files[h+":/etc/cron.d/spark-cleanup"] = text + "\n"
			}
		}
	}
}

func TestConformance_SampleCluster(t *testing.T) {
	dir := conformance.Dir(t)
	s := conformance.LoadSample(t, dir, Name)
	var x sampleExtras
	conformance.ReadJSON(t, dir, Name+"/sample_cluster_ops.json", &x)
	c := s.Cluster("sample-master-0", "sample-worker-0", "sample-worker-1", "sample-worker-2", "sample-worker-3", "sample-worker-4")
	worker := c.NodeGroup("worker")
	w3, w4 := c.Instance("sample-worker-3"), c.Instance("sample-worker-4")
	worker.RemoveInstance(w3)
	worker.RemoveInstance(w4)
	c.ManagementPrivateKey, c.ManagementPublicKey = x.Volatile.PrivateKey, x.Volatile.PublicKey
	c.Extra = map[string]string{ExtraSwiftAuthURL: "http://keystone.example.org:5000/v3/", ExtraSwiftTenant: "demo-project"}
	ctx := context.Background()
	respond := sampleResponder(3, map[string]string{w4.InternalIP: "sample-worker-4.novalocal"})
	phase := func(name string, want []conformance.Call, run func(p *Plugin, r sahara.Remotes) error) *conformance.Recorder {
		t.Helper()
		return conformance.RunPhase(t, Name, name, want, respond, func(rec *conformance.Recorder) error {
			return run(New(Options{Sleep: rec.Sleep, Now: rec.Now, Parallelism: 1}), rec)
		})
	}
	calls := func(name string) []conformance.Call { return substitute(s.PhaseCalls(t, name)) }

	rec := phase("plugin.configure_cluster", calls("plugin.configure_cluster"), func(p *Plugin, r sahara.Remotes) error {
		return p.ConfigureCluster(ctx, c, r)
	})
	commandFiles(rec)
	s.CompareFiles(t, rec)
	phase("plugin.start_cluster", calls("plugin.start_cluster"), func(p *Plugin, r sahara.Remotes) error {
		return p.StartCluster(ctx, c, r)
	})
	if !reflect.DeepEqual(c.Info, s.ClusterInfoAfterStart) {
		t.Errorf("cluster info after start = %v, want %v", c.Info, s.ClusterInfoAfterStart)
	}
	phase("plugin.scale_cluster", calls("plugin.scale_cluster"), func(p *Plugin, r sahara.Remotes) error {
		worker.AddInstance(w3)
		worker.AddInstance(w4)
		worker.Count = 5
		return p.ScaleCluster(ctx, c, r, []*sahara.Instance{w3, w4})
	})
	want := correctedDecommission(t, calls("plugin.decommission_nodes"), []string{"sample-worker-4"})
	phase("plugin.decommission_nodes (corrected)", want, func(p *Plugin, r sahara.Remotes) error {
		return p.DecommissionNodes(ctx, c, r, []*sahara.Instance{w4})
	})

	p := New(Options{})
	for _, ng := range c.NodeGroups {
		if got, want := p.OpenPorts(c, ng), s.OpenPorts[ng.Name]; !reflect.DeepEqual(got, want) {
			t.Errorf("open ports of %s = %v, want %v", ng.Name, got, want)
		}
	}
}

// TestConformance_DecommissionMatchesExactAddress runs the sample's check
// of Sahara's prefix match: removing 10.0.0.1 while 10.0.0.10 serves.
// Sahara waits (until its 24 h timeout); saharagen sees it decommissioned.
func TestConformance_DecommissionMatchesExactAddress(t *testing.T) {
	var x sampleExtras
	conformance.ReadJSON(t, conformance.Dir(t), Name+"/sample_cluster_ops.json", &x)
	pm := x.Checks.PrefixMatch
	if pm.Report == "" || pm.Removed.IP != "10.0.0.1" || pm.SaharaDecommDone {
		t.Fatalf("the sample's prefix-match check is not the expected one: %+v", pm)
	}
	removed := &sahara.Instance{InstanceName: "check-worker-0", InternalIP: pm.Removed.IP}
	if !decommissioned(pm.Report, []*sahara.Instance{removed}) {
		t.Error("the removed datanode is Decommissioned, but saharagen waits as Sahara did")
	}
	// The other way round: the one still serving is not decommissioned.
	serving := &sahara.Instance{InstanceName: "check-worker-9", InternalIP: "10.0.0.10"}
	if decommissioned(pm.Report, []*sahara.Instance{serving}) {
		t.Error("10.0.0.10 is Normal, but saharagen sees it decommissioned")
	}
}

// TestConformance_ConfigVariant checks the sample's variant: non-default
// Spark ports and worker instances in spark-env.sh, the open ports and web
// UIs they move, the HDFS web UI port from a node config, and the cleanup
// job removed when an option is 0.
func TestConformance_ConfigVariant(t *testing.T) {
	dir := conformance.Dir(t)
	s := conformance.LoadSample(t, dir, Name)
	var x sampleExtras
	conformance.ReadJSON(t, dir, Name+"/sample_cluster_ops.json", &x)
	v := x.Variant
	c := s.Cluster("sample-master-0", "sample-worker-0", "sample-worker-1", "sample-worker-2")
	c.ClusterConfigs = v.ClusterConfigs
	for name, cfg := range v.NodeConfigs {
		c.NodeGroup(name).NodeConfigs = cfg
	}
	rename := func(s string) string { return strings.ReplaceAll(s, "variant-", "sample-") }
	sp, err := renderSpark(c, c.InstancesWithProcess(ProcSlave))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(sp.env), rename(v.SparkEnv); got != want {
		t.Errorf("spark-env.sh =\n%s\nwant\n%s", got, want)
	}
	if err := setInfo(c); err != nil {
		t.Fatal(err)
	}
	for sec, kv := range v.ClusterInfo {
		for k, want := range kv {
			if got := c.Info[sec][k]; got != rename(want) {
				t.Errorf("info %s/%s = %q, want %q", sec, k, got, rename(want))
			}
		}
	}
	p := New(Options{})
	for _, ng := range c.NodeGroups {
		if got, want := p.OpenPorts(c, ng), v.OpenPorts[ng.Name]; !reflect.DeepEqual(got, want) {
			t.Errorf("open ports of %s = %v, want %v", ng.Name, got, want)
		}
	}
	want := v.CleanupCalls
	for i := range want {
		h := rename(*want[i].Host)
		want[i].Host = &h
	}
	master := c.Instance("sample-master-0")
	conformance.RunPhase(t, Name, "variant cleanup job", want, nil, func(rec *conformance.Recorder) error {
		return p.pushCleanupJob(context.Background(), c, rec.Remote(master), master)
	})
}
