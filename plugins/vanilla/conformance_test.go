package vanilla

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/saharagen/terraform-provider-saharagen/plugins/internal/conformance"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

func TestConformance_Validate(t *testing.T) { conformance.CheckValidate(t, New(Options{})) }

func TestConformance_ValidateScaling(t *testing.T) {
	conformance.CheckValidateScaling(t, New(Options{}))
}

func TestConformance_PluginDescription(t *testing.T) { conformance.CheckPlugin(t, New(Options{})) }

// saharaDataNodeCount is Sahara's datanode count command; its escaped
// quotes make grep read file names, so saharagen runs datanodeCountCmd
// instead. It is the one intentional difference in the sample's calls.
const saharaDataNodeCount = `sudo su -lc "hdfs dfsadmin -report" hadoop | grep \'Live datanodes\|Datanodes available:\' | grep -o \'[0-9]\+\' | head -n 1`

// sampleKeypair is the key pair recorded in the sample (Sahara's fake one).
func sampleKeypair(t *testing.T, calls []conformance.Call) string {
	t.Helper()
	kp := keypair{}
	for _, c := range calls {
		if c.Method == conformance.MethodAppend && c.Data != nil {
			switch {
			case strings.HasSuffix(c.RemoteFile, "/id_rsa"):
				kp.Private = *c.Data
			case strings.HasSuffix(c.RemoteFile, "/id_rsa.pub"):
				kp.Public = *c.Data
			}
		}
	}
	if kp.Private == "" || kp.Public == "" {
		t.Fatal("the sample's start phase has no key pair")
	}
	raw, _ := json.Marshal(kp)
	return string(raw)
}

// sampleResponder answers the sample's polls: the datanode count at once,
// the decommission reports first with the nodes running, then done.
func sampleResponder(live int, removing []string) conformance.Responder {
	return func(host, cmd string, n int) sahara.Result {
		state := func(done, running string) string {
			if n == 0 {
				return running
			}
			return done
		}
		var out strings.Builder
		switch {
		case cmd == datanodeCountCmd:
			fmt.Fprintf(&out, "%d\n", live)
		case strings.Contains(cmd, "yarn node -all -list"):
			fmt.Fprintf(&out, "Total Nodes:%d\n         Node-Id\t     Node-State\tNode-Http-Address\tNumber-of-Running-Containers\n", len(removing))
			for _, h := range removing {
				fmt.Fprintf(&out, "%s:45454\t%s\t%s:8042\t0\n", h, state("DECOMMISSIONED", "RUNNING"), h)
			}
		case strings.Contains(cmd, "hdfs dfsadmin -report"):
			out.WriteString("Configured Capacity: 0 (0 B)\n\n-------------------------------------------------\nLive datanodes (2):\n\n")
			for _, h := range removing {
				fmt.Fprintf(&out, "Name: 10.0.0.1:50010 (%s)\nHostname: %s\nDecommission Status : %s\nConfigured Capacity: 0 (0 B)\n\n", h, h, state("Decommissioned", "Decommission in progress"))
			}
		}
		return sahara.Result{Stdout: []byte(out.String())}
	}
}

func substitute(calls []conformance.Call) []conformance.Call {
	out := append([]conformance.Call(nil), calls...)
	for i := range out {
		if out[i].Cmd == saharaDataNodeCount {
			out[i].Cmd = datanodeCountCmd
		}
	}
	return out
}

func TestConformance_SampleCluster(t *testing.T) {
	dir := conformance.Dir(t)
	s := conformance.LoadSample(t, dir, Name)
	start := s.PhaseCalls(t, "plugin.start_cluster")
	base := []string{"sample-master-0", "sample-worker-0", "sample-worker-1", "sample-worker-2"}
	c := s.Cluster(append(base, "sample-worker-3")...)
	// The sample's worker-3 joins in the scale phase.
	worker := c.NodeGroup("worker")
	w3 := c.Instance("sample-worker-3")
	worker.RemoveInstance(w3)
	c.Extra = map[string]string{
		ExtraKeypair:      sampleKeypair(t, start),
		ExtraSwiftAuthURL: "http://keystone.example.org:5000/v3/",
		ExtraSwiftTenant:  "demo-project",
	}
	ctx := context.Background()
	phase := func(name string, run func(p *Plugin, rec *conformance.Recorder) error) *conformance.Recorder {
		t.Helper()
		want := substitute(s.PhaseCalls(t, name))
		return conformance.RunPhase(t, Name, name, want, sampleResponder(3, []string{"sample-worker-3.novalocal", "sample-worker-2.novalocal"}), func(rec *conformance.Recorder) error {
			return run(New(Options{Sleep: rec.Sleep, Now: rec.Now, Parallelism: 1}), rec)
		})
	}

	rec := phase("plugin.configure_cluster", func(p *Plugin, rec *conformance.Recorder) error {
		return p.ConfigureCluster(ctx, c, rec)
	})
	s.CompareFiles(t, rec)
	phase("plugin.start_cluster", func(p *Plugin, rec *conformance.Recorder) error {
		return p.StartCluster(ctx, c, rec)
	})
	if !reflect.DeepEqual(c.Info, s.ClusterInfoAfterStart) {
		t.Errorf("cluster info after start = %v, want %v", c.Info, s.ClusterInfoAfterStart)
	}
	for _, k := range s.ClusterExtraAfterStart {
		// Sahara's extra holds the key pair; saharagen keeps it with the
		// cluster's secrets, out of the shared record.
		if v := c.Extra[k]; v == "" && (k != ExtraKeypair || c.Secrets[k] == "") {
			t.Errorf("cluster extra %q missing after start", k)
		}
	}
	if c.Extra[ExtraKeypair] != "" {
		t.Errorf("the key pair stayed in Extra, which the store keeps in the clear")
	}
	phase("plugin.scale_cluster", func(p *Plugin, rec *conformance.Recorder) error {
		worker.AddInstance(w3)
		worker.Count = 4
		return p.ScaleCluster(ctx, c, rec, []*sahara.Instance{w3})
	})
	phase("plugin.decommission_nodes", func(p *Plugin, rec *conformance.Recorder) error {
		return p.DecommissionNodes(ctx, c, rec, []*sahara.Instance{w3, c.Instance("sample-worker-2")})
	})

	p := New(Options{})
	for _, ng := range c.NodeGroups {
		if got, want := p.OpenPorts(c, ng), s.OpenPorts[ng.Name]; !reflect.DeepEqual(got, want) {
			t.Errorf("open ports of %s = %v, want %v", ng.Name, got, want)
		}
	}
}
