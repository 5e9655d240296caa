package vanilla

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/saharagen/terraform-provider-saharagen/plugins/internal/conformance"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// testCluster is a master (nn, rm, hs) and n workers (dn, nm) with two
// volumes each, instances included.
func testCluster(version string, workers int) *sahara.Cluster {
	c := &sahara.Cluster{ID: "c1"}
	c.Name, c.PluginName, c.PluginVersion = "demo", Name, version
	c.ClusterConfigs = sahara.Configs{}
	specs := []sahara.NodeGroupSpec{
		{Name: "master", Count: 1, NodeProcesses: []string{ProcNameNode, ProcResourceManager, ProcHistoryServer}},
		{Name: "worker", Count: workers, NodeProcesses: []string{ProcDataNode, ProcNodeManager}, VolumesPerNode: 2},
	}
	for _, s := range specs {
		ng := c.AddNodeGroup(s)
		for i := 0; i < s.Count; i++ {
			in := ng.NewInstance(i)
			in.InstanceID = "id-" + in.InstanceName
			in.ManagementIP = "172.24.4." + itoa(10+len(c.Instances()))
			in.StorageDevicesNumber = s.VolumesPerNode
			ng.AddInstance(in)
		}
	}
	return c
}

func cmds(calls []conformance.Call) []string {
	var out []string
	for _, c := range calls {
		if c.Method == conformance.MethodExecute {
			out = append(out, *c.Host+": "+c.Cmd)
		}
	}
	return out
}

func TestValidate_IntegerConfigGivenAsString(t *testing.T) {
	p := New(Options{})
	c := testCluster(V282, 2)
	c.ClusterConfigs.Set(SvcHDFS, CfgReplication, "2")
	if err := p.Validate(context.Background(), c); err != nil {
		t.Fatalf("dfs.replication \"2\" with 2 datanodes: %v", err)
	}
	c.ClusterConfigs.Set(SvcHDFS, CfgReplication, "two")
	err := p.Validate(context.Background(), c)
	var se *sahara.SaharaError
	if !errors.As(err, &se) || se.Exception != "InvalidDataException" || !strings.Contains(se.Message, `"two" is not an integer`) {
		t.Fatalf("dfs.replication \"two\": got %v, want InvalidDataException naming the value", err)
	}
	if !errors.Is(err, sahara.ErrValidation) {
		t.Errorf("error %v is not a validation error", err)
	}
}

func TestValidate_MountPrefixMustBePlain(t *testing.T) {
	p := New(Options{})
	c := testCluster(V282, 3)
	c.NodeGroup("worker").VolumeMountPrefix = "/data/$(reboot)"
	err := p.Validate(context.Background(), c)
	if err == nil || !strings.Contains(err.Error(), "volume_mount_prefix") {
		t.Fatalf("got %v, want a volume_mount_prefix error", err)
	}
}

func TestValidateScaling_UnsupportedVersion(t *testing.T) {
	c := testCluster("1.2.1", 3)
	err := New(Options{}).ValidateScaling(context.Background(), c, map[string]int{"worker": 4}, nil)
	if err == nil || !strings.Contains(err.Error(), "3.4.1") {
		t.Fatalf("got %v, want an error listing the supported versions", err)
	}
}

func TestAcceptsConfig_HadoopPropertiesWrittenThrough(t *testing.T) {
	p := New(Options{})
	for _, tc := range []struct {
		version, target, name string
		want                  bool
	}{
		{V282, SvcHDFS, "dfs.replication", true},
		{V282, SvcYARN, "yarn.log-aggregation-enable", true},
		{V282, SvcMapReduce, "mapreduce.job.some.future.property", true},
		{V341, SvcHDFS, "dfs.namenode.redundancy.interval.seconds", true},
		{V282, SvcHDFS, "dfs.namenode.name.dir", false}, // computed by the plugin
		{V282, SvcYARN, "yarn.resourcemanager.hostname", false},
		{V282, SvcHDFS, "bad name", false},
		{V282, SvcHDFS, "x<y", false},
		{V282, "Spark", "spark.anything", false},
		{V282, sahara.TargetGeneral, CfgEnableSwift, true},
		{V341, sahara.TargetGeneral, CfgEnableSwift, false},
		{"9.9.9", SvcHDFS, "dfs.replication", false},
	} {
		if got := p.AcceptsConfig(tc.version, tc.target, tc.name); got != tc.want {
			t.Errorf("AcceptsConfig(%s, %s, %q) = %v, want %v", tc.version, tc.target, tc.name, got, tc.want)
		}
	}
}

func TestConfigureCluster_UserPropertyWrittenAndComputedWins(t *testing.T) {
	c := testCluster(V282, 3)
	c.ClusterConfigs.Set(SvcYARN, "yarn.log-aggregation-enable", "true")
	c.ClusterConfigs.Set(SvcHDFS, "dfs.hosts", "/tmp/evil") // computed values override
	c.NodeGroup("worker").NodeConfigs = sahara.Configs{SvcHDFS: {"dfs.datanode.handler.count": "<&\">"}}
	rec := conformance.NewLog(t, nil)
	if err := New(Options{}).ConfigureCluster(context.Background(), c, rec); err != nil {
		t.Fatal(err)
	}
	yarn := rec.Files["demo-worker-0:/opt/hadoop/etc/hadoop/yarn-site.xml"]
	if !strings.Contains(yarn, "<name>yarn.log-aggregation-enable</name>\n    <value>true</value>") {
		t.Errorf("yarn-site.xml lacks the user's property:\n%s", yarn)
	}
	hdfs := rec.Files["demo-worker-0:/opt/hadoop/etc/hadoop/hdfs-site.xml"]
	for _, want := range []string{
		"<value>/opt/hadoop/etc/hadoop/dn-include</value>",
		"<value>&lt;&amp;&quot;&gt;</value>",
		"<value>/volumes/disk1/hdfs/datanode,/volumes/disk2/hdfs/datanode</value>",
	} {
		if !strings.Contains(hdfs, want) {
			t.Errorf("hdfs-site.xml lacks %s:\n%s", want, hdfs)
		}
	}
	if strings.Contains(hdfs, "/tmp/evil") {
		t.Errorf("the user's dfs.hosts won over the computed one:\n%s", hdfs)
	}
	if strings.Contains(rec.Files["demo-master-0:/opt/hadoop/etc/hadoop/core-site.xml"], "fs.swift") {
		t.Error("core-site.xml has Swift lines although the cluster has no Swift auth URL")
	}
}

func TestConfigureCluster_RefusesUnprovisionedProcessesBeforeAnyCall(t *testing.T) {
	c := testCluster(V282, 3)
	c.NodeGroup("master").NodeProcesses = append(c.NodeGroup("master").NodeProcesses, ProcOozie)
	rec := conformance.NewLog(t, nil)
	err := New(Options{}).ConfigureCluster(context.Background(), c, rec)
	if err == nil || !strings.Contains(err.Error(), `"oozie"`) {
		t.Fatalf("got %v, want an error naming oozie", err)
	}
	if n := len(rec.Calls()); n != 0 {
		t.Errorf("%d remote calls made before refusing", n)
	}
}

func TestStartCluster_GeneratesSecretKeypair(t *testing.T) {
	c := testCluster(V282, 3)
	rec := conformance.NewLog(t, func(host, cmd string, n int) sahara.Result {
		if cmd == datanodeCountCmd {
			return sahara.Result{Stdout: []byte("3\n")}
		}
		return sahara.Result{}
	})
	if err := New(Options{Sleep: rec.Sleep, Now: rec.Now}).StartCluster(context.Background(), c, rec); err != nil {
		t.Fatal(err)
	}
	var kp keypair
	if c.Extra[ExtraKeypair] != "" {
		t.Errorf("the key pair is in Extra, which the store keeps in the clear")
	}
	if err := json.Unmarshal([]byte(c.Secrets[ExtraKeypair]), &kp); err != nil {
		t.Fatalf("extra %s: %v", ExtraKeypair, err)
	}
	block, _ := pem.Decode([]byte(kp.Private))
	if block == nil {
		t.Fatal("private key is not PEM")
	}
	if _, err := x509.ParsePKCS1PrivateKey(block.Bytes); err != nil {
		t.Fatalf("private key: %v", err)
	}
	if !strings.HasPrefix(kp.Public, "ssh-rsa AAAAB3NzaC1yc2E") {
		t.Errorf("public key %q is not an ssh-rsa authorized_keys line", kp.Public)
	}
	secret := 0
	for _, call := range rec.Calls() {
		if strings.HasSuffix(call.RemoteFile, "/id_rsa") {
			secret++
			if !call.Sensitive {
				t.Errorf("%s written without Sensitive", call)
			}
		}
	}
	if secret != 4 {
		t.Errorf("id_rsa written %d times, want once per instance (4)", secret)
	}
	if got := c.Info["HDFS"]["Web UI"]; got != "http://172.24.4.10:50070" {
		t.Errorf("HDFS web UI = %q", got)
	}
}

func TestStartCluster_Hadoop3Commands(t *testing.T) {
	c := testCluster(V341, 3)
	rec := conformance.NewLog(t, func(host, cmd string, n int) sahara.Result {
		return sahara.Result{Stdout: []byte("3\n")}
	})
	p := New(Options{Sleep: rec.Sleep, Now: rec.Now, Parallelism: 1})
	if err := p.ConfigureCluster(context.Background(), c, rec); err != nil {
		t.Fatal(err)
	}
	if err := p.StartCluster(context.Background(), c, rec); err != nil {
		t.Fatal(err)
	}
	all := strings.Join(cmds(rec.Calls()), "\n")
	for _, want := range []string{
		`demo-master-0: sudo su - -c "hdfs --daemon start namenode" hadoop`,
		`demo-master-0: sudo su - -c "yarn --daemon start resourcemanager" hadoop`,
		`demo-worker-2: sudo su - -c "hdfs --daemon start datanode" hadoop`,
		`demo-master-0: sudo su - -c "mapred --daemon start historyserver" hadoop`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("missing command %s in\n%s", want, all)
		}
	}
	if strings.Contains(all, "daemon.sh") {
		t.Errorf("Hadoop 3 cluster got a *-daemon.sh command:\n%s", all)
	}
	var edits []string
	for _, call := range rec.Calls() {
		if call.Method == conformance.MethodReplaceString && *call.Host == "demo-worker-0" {
			edits = append(edits, call.NewStr)
		}
	}
	if len(edits) != 6 || edits[0] != `export HDFS_NAMENODE_OPTS="-Xmx1024m"` {
		t.Errorf("env edits = %q", edits)
	}
	if m := rec.Files["demo-worker-0:/opt/hadoop/etc/hadoop/mapred-site.xml"]; !strings.Contains(m, "HADOOP_MAPRED_HOME=/opt/hadoop") {
		t.Errorf("mapred-site.xml lacks HADOOP_MAPRED_HOME:\n%s", m)
	}
	if got := c.Info["HDFS"]["Web UI"]; got != "http://172.24.4.10:9870" {
		t.Errorf("HDFS web UI = %q, want port 9870", got)
	}
	if got := p.OpenPorts(c, c.NodeGroup("worker")); len(got) != 4 || got[0] != 9866 {
		t.Errorf("worker ports = %v", got)
	}
}

func TestAwaitDataNodes_TimesOutWithSaharasMessage(t *testing.T) {
	c := testCluster(V282, 3)
	c.ClusterConfigs.Set(sahara.TargetGeneral, CfgDataNodesStartup, "10")
	rec := conformance.NewLog(t, func(host, cmd string, n int) sahara.Result {
		return sahara.Result{Stdout: []byte("2\n")} // one datanode never comes
	})
	err := New(Options{Sleep: rec.Sleep, Now: rec.Now}).awaitDataNodes(context.Background(), c, rec)
	var se *sahara.SaharaError
	if !errors.As(err, &se) || se.Code != "TIMEOUT" ||
		se.Message != "'Operation with name 'Waiting on 3 datanodes to start up'' timed out after 10 second(s) and following timeout was violated: DataNodes startup timeout" {
		t.Fatalf("got %v", err)
	}
	if polls := len(cmds(rec.Calls())); polls != 10 {
		t.Errorf("%d polls in 10 s at 1 s, want 10", polls)
	}
}

func TestDecommissionNodes_TimeoutFromClusterConfigOnly(t *testing.T) {
	c := testCluster(V282, 4)
	c.ClusterConfigs.Set(sahara.TargetGeneral, CfgNodeManagersDecomm, "20")
	// A node group value is ignored for poll timeouts, as in Sahara.
	c.NodeGroup("worker").NodeConfigs = sahara.Configs{sahara.TargetGeneral: {CfgNodeManagersDecomm: 5000}}
	victim := c.Instance("demo-worker-3")
	rec := conformance.NewLog(t, func(host, cmd string, n int) sahara.Result {
		return sahara.Result{Stdout: []byte("demo-worker-3.novalocal:45454\tDECOMMISSIONING\tx:8042\t0\n")}
	})
	err := New(Options{Sleep: rec.Sleep, Now: rec.Now}).DecommissionNodes(context.Background(), c, rec, []*sahara.Instance{victim})
	if err == nil || !strings.Contains(err.Error(), "timed out after 20 second(s)") || !strings.Contains(err.Error(), CfgNodeManagersDecomm) {
		t.Fatalf("got %v, want the NodeManagers timeout of 20 s", err)
	}
	sleeps := 0
	for _, call := range rec.Calls() {
		if call.Method == conformance.MethodSleep {
			sleeps++
		}
	}
	if sleeps != 4 {
		t.Errorf("%d sleeps of 5 s within 20 s, want 4", sleeps)
	}
}

func TestDecommissionNodes_HostMissingFromReport(t *testing.T) {
	c := testCluster(V282, 4)
	rec := conformance.NewLog(t, nil) // empty reports
	err := New(Options{Sleep: rec.Sleep, Now: rec.Now}).DecommissionNodes(context.Background(), c, rec, []*sahara.Instance{c.Instance("demo-worker-3")})
	if err == nil || !strings.Contains(err.Error(), "demo-worker-3.novalocal is not in the output") {
		t.Fatalf("got %v", err)
	}
}

// TestAsHadoop_HostileValuesStayOneWord runs the generated command lines
// through bash (sudo and su replaced by shell functions) and checks the
// file gets exactly the hostile value.
func TestAsHadoop_HostileValuesStayOneWord(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatalf("bash is needed: %v", err)
	}
	dir := t.TempDir()
	for i, v := range []string{
		"plain.novalocal",
		"a.novalocal\nb.novalocal",
		"$(touch " + dir + "/pwned)",
		"`touch " + dir + "/pwned`; \"x\" 'y' \\z",
		"",
	} {
		target := filepath.Join(dir, "out"+itoa(i))
		q, err := squote(v)
		if err != nil {
			t.Fatal(err)
		}
		cmd := asHadoop("echo " + q + " > " + sahara.MustQuote(target))
		script := `sudo() { "$@"; }; su() { bash -c "$3"; }; ` + cmd
		if out, err := exec.Command(bash, "-c", script).CombinedOutput(); err != nil {
			t.Fatalf("%q: %v: %s", cmd, err, out)
		}
		got, _ := os.ReadFile(target)
		if string(got) != v+"\n" {
			t.Errorf("%q wrote %q, want %q", cmd, got, v+"\n")
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "pwned")); err == nil {
		t.Fatal("a hostile value ran a command")
	}
	if got := asHadoop("hdfs dfsadmin -refreshNodes"); got != `sudo su - -c "hdfs dfsadmin -refreshNodes" hadoop` {
		t.Errorf("inert command changed form: %s", got)
	}
}

// The SPI lets the engine add new groups with their requested Count; the
// ZooKeeper quorum must count them once either way.
func TestValidateScaling_NewZooKeeperGroupCountedOnce(t *testing.T) {
	p := New(Options{})
	for _, tc := range []struct {
		count, add int
		ok         bool
	}{{0, 2, true}, {2, 2, true}, {1, 1, false}, {0, 1, false}} {
		c := testCluster(V282, 3)
		zk := c.AddNodeGroup(sahara.NodeGroupSpec{Name: "zk", Count: 3, NodeProcesses: []string{ProcZooKeeper}})
		for i := 0; i < 3; i++ {
			zk.AddInstance(zk.NewInstance(i))
		}
		c.AddNodeGroup(sahara.NodeGroupSpec{Name: "zk2", Count: tc.count, NodeProcesses: []string{ProcZooKeeper}})
		err := p.ValidateScaling(context.Background(), c, nil, map[string]int{"zk2": tc.add})
		if (err == nil) != tc.ok {
			t.Errorf("zk 3 + new group (count %d) adding %d: err %v, want ok=%v", tc.count, tc.add, err, tc.ok)
		}
	}
}

func TestDecommissionNodes_RefusesToDropBelowReplication(t *testing.T) {
	c := testCluster(V282, 3) // default dfs.replication 3
	rec := conformance.NewLog(t, nil)
	err := New(Options{Sleep: rec.Sleep, Now: rec.Now}).DecommissionNodes(context.Background(), c, rec, []*sahara.Instance{c.Instance("demo-worker-2")})
	var se *sahara.SaharaError
	if !errors.As(err, &se) || se.Exception != "ClusterCannotBeScaled" {
		t.Fatalf("got %v, want ClusterCannotBeScaled", err)
	}
	if n := len(rec.Calls()); n != 0 {
		t.Errorf("%d remote calls made before refusing", n)
	}
}

// A roll retires at most dfs.replication-1 datanodes at once; groups
// without a datanode have no limit.
func TestMaxRetired_FollowsReplication(t *testing.T) {
	p := New(Options{})
	for _, tc := range []struct {
		rep  string
		want int
	}{{"", 2}, {"2", 1}, {"1", 1}, {"5", 4}} {
		c := testCluster(V282, 5)
		if tc.rep != "" {
			c.ClusterConfigs = sahara.Configs{SvcHDFS: {CfgReplication: tc.rep}}
		}
		n, why := p.MaxRetired(c, c.NodeGroup("worker"))
		if n != tc.want || !strings.Contains(why, "dfs.replication") {
			t.Errorf("dfs.replication %q: %d (%s), want %d", tc.rep, n, why, tc.want)
		}
		if n, _ := p.MaxRetired(c, c.NodeGroup("master")); n != 0 {
			t.Errorf("the master group (no datanode) has a limit of %d", n)
		}
	}
}

// A secret config reaches its site file, written as a secret; a file
// without one is written as before (the conformance cases).
func TestConfigureCluster_SecretConfigInItsSiteFileOnly(t *testing.T) {
	const secret = "wJalrXUtnFEMI/K7MDENG"
	c := testCluster(V282, 1)
	c.ApplySecretConfigs(sahara.Configs{SvcHadoop: {"fs.s3a.secret.key": secret}})
	rec := conformance.NewLog(t, nil)
	if err := New(Options{}).ConfigureCluster(context.Background(), c, rec); err != nil {
		t.Fatal(err)
	}
	core := "/opt/hadoop/etc/hadoop/core-site.xml"
	if !strings.Contains(rec.Files["demo-worker-0:"+core], "<value>"+secret+"</value>") {
		t.Errorf("core-site.xml lacks the secret config:\n%s", rec.Files["demo-worker-0:"+core])
	}
	writes := 0
	for _, call := range rec.Calls() {
		if call.Method != "write_file_to" {
			continue
		}
		writes++
		holds := call.Data != nil && strings.Contains(*call.Data, secret)
		if holds != call.Sensitive || holds != (call.RemoteFile == core) {
			t.Errorf("%s %s: holds the secret %v, written as a secret %v", *call.Host, call.RemoteFile, holds, call.Sensitive)
		}
	}
	if writes < 4 {
		t.Errorf("%d files written, want the site files and more", writes)
	}
}

// CheckHealth asks the namenode and the resourcemanager, as the hadoop
// user, and names the worker whose nodemanager is lost.
func TestCheckHealth_HDFSAndYARN(t *testing.T) {
	c := testCluster(V282, 2)
	c.NodeDomain = "novalocal"
	var report, nodes strings.Builder
	report.WriteString("DFS Used%: 1.00%\nUnder replicated blocks: 0\nBlocks with corrupt replicas: 0\nMissing blocks: 0\n\n-------------------------------------------------\nLive datanodes (2):\n\n")
	nodes.WriteString("Total Nodes:2\n         Node-Id\t     Node-State\tNode-Http-Address\tNumber-of-Running-Containers\n")
	for i, in := range c.NodeGroup("worker").Instances {
		in.InternalIP = "10.0.0." + itoa(11+i)
		fmt.Fprintf(&report, "Name: %s:50010 (%s)\nHostname: %[2]s\nDecommission Status : Normal\n\n", in.InternalIP, in.FQDN())
		state := "RUNNING"
		if i == 1 {
			state = "LOST"
		}
		fmt.Fprintf(&nodes, "%s:45454\t%s\t%[1]s:8042\t0\n", in.FQDN(), state)
	}
	var cmds []string
	rec := conformance.NewLog(t, func(host, cmd string, _ int) sahara.Result {
		cmds = append(cmds, host+": "+cmd)
		if strings.Contains(cmd, "yarn node") {
			return sahara.Result{Stdout: []byte(nodes.String())}
		}
		return sahara.Result{Stdout: []byte(report.String())}
	})
	res := New(Options{}).CheckHealth(context.Background(), c, rec)
	if len(res) != 2 || res[0].Status != sahara.HealthGreen || res[1].Status != sahara.HealthYellow || res[1].Instances["demo-worker-1"] == "" {
		t.Errorf("%+v", res)
	}
	want := []string{`demo-master-0: sudo su -lc "hdfs dfsadmin -report" hadoop`, `demo-master-0: sudo su -lc "yarn node -list -all" hadoop`}
	if strings.Join(cmds, "\n") != strings.Join(want, "\n") {
		t.Errorf("commands\n%s\nwant\n%s", strings.Join(cmds, "\n"), strings.Join(want, "\n"))
	}
}
