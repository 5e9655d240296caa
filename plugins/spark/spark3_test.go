package spark

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/saharagen/terraform-provider-saharagen/plugins/internal/conformance"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// spark3Responder answers the datanode count with want and the
// decommission report with the removed datanode decommissioned.
func spark3Responder(want string, removed *sahara.Instance) conformance.Responder {
	return func(host, cmd string, n int) sahara.Result {
		switch cmd {
		case datanodeCountCmd:
			return sahara.Result{Stdout: []byte(want + "\n")}
		case spark3.reportCmd:
			return sahara.Result{Stdout: []byte("Live datanodes (3):\n\nName: " + removed.InternalIP + ":9866 (x)\nDecommission Status : Decommissioned\n")}
		}
		return sahara.Result{}
	}
}

func TestSpark3_ConfigsAreHadoop3s(t *testing.T) {
	cs, err := New(Options{}).Configs(V353)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []struct{ target, name string }{{SvcHDFS, "dfs.blocksize"}, {SvcHDFS, "dfs.namenode.http-address"}, {SvcSpark, CfgWorkerMemory}, {sahara.TargetGeneral, CfgDecommissionTimeout}} {
		if _, ok := sahara.FindConfig(cs, want.target, want.name); !ok {
			t.Errorf("Spark 3 configs lack %s/%s", want.target, want.name)
		}
	}
	for _, gone := range []struct{ target, name string }{{SvcHDFS, "dfs.block.size"}, {sahara.TargetGeneral, CfgEnableSwift}} {
		if _, ok := sahara.FindConfig(cs, gone.target, gone.name); ok {
			t.Errorf("Spark 3 configs list %s/%s", gone.target, gone.name)
		}
	}
	if cp, _ := sahara.FindConfig(cs, SvcSpark, CfgExecutorClasspath); cp.Default != "" {
		t.Errorf("executor classpath default %q, want none (no hadoop-openstack.jar in Hadoop 3)", cp.Default)
	}
}

// TestSpark3_ProvisionsWithSpark3AndHadoop3Names runs configure, start,
// scale and decommission of a 3.5.3 cluster over the recording remote and
// checks what differs from Sahara's versions.
func TestSpark3_ProvisionsWithSpark3AndHadoop3Names(t *testing.T) {
	ctx := context.Background()
	c := realCluster(4)
	c.PluginVersion = V353
	c.ManagementPrivateKey, c.ManagementPublicKey = "PRIVATE", "PUBLIC"
	c.Extra = map[string]string{ExtraSwiftAuthURL: "http://keystone:5000/v3/"}
	for i, in := range c.Instances() {
		in.InternalIP = "10.0.0." + strconv.Itoa(10+i)
	}
	worker := c.NodeGroup("worker")
	w3 := c.Instance("demo-worker-3")
	worker.RemoveInstance(w3)
	worker.Count = 3
	p := New(Options{Sleep: func(context.Context, time.Duration) error { return nil }, Parallelism: 1})
	if err := p.Validate(ctx, c); err != nil {
		t.Fatal(err)
	}
	rec := conformance.NewLog(t, spark3Responder("3", w3))
	if err := p.ConfigureCluster(ctx, c, rec); err != nil {
		t.Fatal(err)
	}
	if err := p.StartCluster(ctx, c, rec); err != nil {
		t.Fatal(err)
	}
	worker.AddInstance(w3)
	worker.Count = 4
	if err := p.ScaleCluster(ctx, c, rec, []*sahara.Instance{w3}); err != nil {
		t.Fatal(err)
	}
	if err := p.DecommissionNodes(ctx, c, rec, []*sahara.Instance{w3}); err != nil {
		t.Fatal(err)
	}
	files := rec.Files
	if got := files["demo-worker-0:/opt/spark/conf/spark-env.sh"]; !strings.HasPrefix(got, "SPARK_MASTER_HOST=demo-master-0\n") {
		t.Errorf("spark-env.sh = %q, want SPARK_MASTER_HOST first", got)
	}
	if got := files["demo-master-0:/opt/spark/conf/workers"]; got != "demo-worker-0\ndemo-worker-1\ndemo-worker-2" {
		t.Errorf("conf/workers after the decommission = %q", got)
	}
	for k := range files {
		if strings.HasSuffix(k, "/conf/slaves") {
			t.Errorf("Spark 3 got a conf/slaves file: %s", k)
		}
	}
	if got := files["demo-worker-0:/opt/spark/conf/spark-defaults.conf"]; got != "\n" {
		t.Errorf("spark-defaults.conf = %q, want no classpath", got)
	}
	if core := files["demo-worker-0:/etc/hadoop/conf/core-site.xml"]; strings.Contains(core, "swift") || !strings.Contains(core, "hdfs://demo-master-0:8020") {
		t.Errorf("core-site.xml =\n%s", core)
	}
	script := files["demo-master-0:/tmp/sahara-hadoop-init.sh"]
	for _, want := range []string{`echo "HDFS_NAMENODE_OPTS=\"-Xmx2048m\"" >> /tmp/hadoop-env.sh`, "export HADOOP_SECURE_LOG_DIR=/mnt/log/hadoop/hdfs,"} {
		if !strings.Contains(script, want) {
			t.Errorf("setup script lacks %q:\n%s", want, script)
		}
	}
	var cmds []string
	for _, call := range rec.Calls() {
		if call.Method == conformance.MethodExecute && (strings.Contains(call.Cmd, "-u hdfs hdfs") || strings.Contains(call.Cmd, "sbin/")) {
			cmds = append(cmds, *call.Host+": "+call.Cmd)
		}
	}
	want := []string{
		"demo-master-0: sudo -u hdfs hdfs namenode -format -nonInteractive",
		"demo-master-0: sudo -u hdfs hdfs dfs -mkdir -p /user/$USER/",
		"demo-master-0: sudo -u hdfs hdfs dfs -chown $USER /user/$USER/",
		"demo-master-0: bash /opt/spark/sbin/start-all.sh",
		"demo-master-0: bash /opt/spark/sbin/stop-all.sh",
		"demo-master-0: sudo -u hdfs hdfs dfsadmin -refreshNodes",
		"demo-master-0: bash /opt/spark/sbin/start-all.sh",
		"demo-master-0: sudo -u hdfs hdfs dfsadmin -refreshNodes",
		"demo-master-0: sudo -u hdfs hdfs dfsadmin -report",
		"demo-worker-3: bash /opt/spark/sbin/stop-worker.sh",
	}
	if !slices.Equal(cmds, want) {
		t.Errorf("HDFS and Spark commands:\n%s\nwant\n%s", strings.Join(cmds, "\n"), strings.Join(want, "\n"))
	}
	if got := c.Info["HDFS"]["Web UI"]; !strings.HasSuffix(got, ":9870") {
		t.Errorf("HDFS web UI %q, want port 9870", got)
	}
	if got := p.OpenPorts(c, worker); !slices.Equal(got, []int{9866, 9864, 9865, 9867, 8081}) {
		t.Errorf("worker ports %v", got)
	}
}
