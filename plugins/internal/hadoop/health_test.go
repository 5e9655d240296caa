package hadoop

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/saharagen/terraform-provider-saharagen/plugins/internal/conformance"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// workers are demo-worker-0 (10.0.0.11) and demo-worker-1 (10.0.0.12).
func workers() (*sahara.Cluster, []*sahara.Instance) {
	c := &sahara.Cluster{ID: "c1", NodeDomain: "novalocal"}
	c.Name = "demo"
	ng := c.AddNodeGroup(sahara.NodeGroupSpec{Name: "worker", Count: 2, NodeProcesses: []string{"datanode", "nodemanager"}})
	for i := 0; i < 2; i++ {
		in := ng.NewInstance(i)
		in.InternalIP = fmt.Sprintf("10.0.0.%d", 11+i)
		ng.AddInstance(in)
	}
	c.Link()
	return c, ng.Instances
}

// answering is a remote whose commands answer with a file of testdata
// (real Hadoop 2.7 output), recording each command.
func answering(t *testing.T, file string, cmds *[]string) sahara.Remote {
	out, err := os.ReadFile("testdata/" + file)
	if err != nil {
		t.Fatal(err)
	}
	rec := conformance.NewLog(t, func(_, cmd string, _ int) sahara.Result {
		*cmds = append(*cmds, cmd)
		return sahara.Result{Stdout: out}
	})
	return rec.Remote(&sahara.Instance{InstanceName: "demo-master-0"})
}

func TestHDFSHealth_FromRealReports(t *testing.T) {
	_, dns := workers()
	var cmds []string
	h := HDFSHealth(context.Background(), answering(t, "dfsadmin-report-2.7.txt", &cmds), "hadoop", dns)
	if h.Status != sahara.HealthGreen || len(h.Instances) != 0 || !strings.Contains(h.Message, "All 2 datanodes are live") {
		t.Errorf("healthy report: %+v", h)
	}
	if len(cmds) != 1 || cmds[0] != `sudo su -lc "hdfs dfsadmin -report" hadoop` {
		t.Errorf("commands %q", cmds)
	}
	h = HDFSHealth(context.Background(), answering(t, "dfsadmin-report-2.7-degraded.txt", &cmds), "hadoop", dns)
	if h.Status != sahara.HealthYellow || len(h.Instances) != 1 || h.Instances["demo-worker-1"] == "" {
		t.Errorf("a dead datanode: %+v", h)
	}
	for _, want := range []string{"1/2 datanodes are live", "14 under-replicated blocks", "DFS use is 92.3%"} {
		if !strings.Contains(h.Message, want) {
			t.Errorf("message %q lacks %q", h.Message, want)
		}
	}
	r := ParseDFSHealth(strings.Replace(readFile(t, "dfsadmin-report-2.7-degraded.txt"), "Missing blocks: 0", "Missing blocks: 3", 1))
	if r.Missing != 3 || len(r.Live) != 1 || len(r.Dead) != 1 || r.Dead[0].Address() != "10.0.0.12" {
		t.Errorf("parsed %+v", r)
	}
}

func TestHDFSHealth_MissingBlocksAreRed(t *testing.T) {
	_, dns := workers()
	out := strings.Replace(readFile(t, "dfsadmin-report-2.7.txt"), "Missing blocks: 0", "Missing blocks: 3", 1)
	rec := conformance.NewLog(t, func(string, string, int) sahara.Result { return sahara.Result{Stdout: []byte(out)} })
	h := HDFSHealth(context.Background(), rec.Remote(&sahara.Instance{InstanceName: "nn"}), "hdfs", dns)
	if h.Status != sahara.HealthRed || !strings.Contains(h.Message, "3 missing and 0 corrupt blocks") {
		t.Errorf("%+v", h)
	}
}

func TestYARNHealth_FromRealNodeList(t *testing.T) {
	_, nms := workers()
	var cmds []string
	h := YARNHealth(context.Background(), answering(t, "yarn-node-list-2.7.txt", &cmds), "hadoop", nms)
	if h.Status != sahara.HealthYellow || len(h.Instances) != 1 || h.Instances["demo-worker-1"] == "" ||
		!strings.Contains(h.Message, "1/2 nodemanagers are running; not: demo-worker-1") {
		t.Errorf("%+v", h)
	}
}

func readFile(t *testing.T, name string) string {
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
