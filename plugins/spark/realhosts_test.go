package spark

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/saharagen/terraform-provider-saharagen/internal/sshtest"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
	"github.com/saharagen/terraform-provider-saharagen/sahara/sshremote"
)

// imagePrep makes a host look like Sahara's Spark image as far as the
// plugin touches it: the hadoop and hdfs users, /etc/hadoop with the CDH
// hadoop-env.sh lines the setup script edits, /opt/spark/conf, /etc/cron.d,
// two volumes at /volumes/disk1 and disk2 (tmpfs in the host's own mount
// namespace). Neither HDFS nor Spark can be installed offline, so service,
// hadoop, hdfs and Spark's sbin scripts are stubs that log each call with
// a timestamp (the command order across hosts) and answer the reports:
// the live datanode count from /tmp/stub/live, the decommission report
// from /tmp/stub/report-<n> on the n-th call (the last one after that).
const imagePrep = `set -e
id hadoop >/dev/null 2>&1 || useradd -m -s /bin/bash hadoop
id hdfs >/dev/null 2>&1 || useradd -m -g hadoop -s /bin/bash hdfs
mkdir -p /etc/hadoop/conf /opt/spark/conf /opt/spark/sbin /etc/cron.d /mnt /tmp/stub
chmod 1777 /tmp/stub; : > /tmp/stub/calls.log; chmod 666 /tmp/stub/calls.log; echo 0 > /tmp/stub/reports; chmod 666 /tmp/stub/reports
cat > /etc/hadoop/hadoop-env.sh <<'X'
export HADOOP_LOG_DIR=/var/log/hadoop-hdfs
export HADOOP_SECURE_DN_LOG_DIR=/var/log/hadoop-hdfs
export HADOOP_SECURE_LOG_DIR=/var/log/hadoop-hdfs
X
cat > /usr/local/bin/stub-log <<'X'
#!/bin/sh
echo "$(date +%s%N) $(hostname) $(id -un) $*" >> /tmp/stub/calls.log
X
cat > /usr/local/bin/stub-report <<'X'
#!/bin/sh
echo "Configured Capacity: 0 (0 B)"; echo "Live datanodes ($(cat /tmp/stub/live)):"; echo
ls /tmp/stub/report-* >/dev/null 2>&1 || exit 0
n=$(($(cat /tmp/stub/reports) + 1)); echo $n > /tmp/stub/reports
if [ -f /tmp/stub/report-$n ]; then cat /tmp/stub/report-$n; else cat $(ls /tmp/stub/report-* | sort | tail -n 1); fi
X
for cmd in hadoop hdfs; do
  printf '#!/bin/sh\nstub-log %s "$@"\nif [ "$1 $2" = "dfsadmin -report" ]; then stub-report; fi\n' $cmd > /usr/local/bin/$cmd
done
printf '#!/bin/sh\nstub-log service "$@"\n' > /usr/local/sbin/service
for s in start-all.sh stop-all.sh stop-slave.sh stop-worker.sh; do printf '#!/bin/sh\nstub-log %s\n' $s > /opt/spark/sbin/$s; done
chmod 755 /usr/local/bin/stub-log /usr/local/bin/stub-report /usr/local/bin/hadoop /usr/local/bin/hdfs /usr/local/sbin/service /opt/spark/sbin/*.sh
for d in 1 2; do mkdir -p /volumes/disk$d; mountpoint -q /volumes/disk$d || mount -t tmpfs -o size=16m vol$d /volumes/disk$d; done
`

func realCluster(workers int) *sahara.Cluster {
	c := &sahara.Cluster{ID: "c1"}
	c.Name, c.PluginName, c.PluginVersion = "demo", Name, V23
	c.ClusterConfigs = sahara.Configs{SvcSpark: {CfgWorkerMemory: "2g"}}
	master := c.AddNodeGroup(sahara.NodeGroupSpec{Name: "master", Count: 1, NodeProcesses: []string{ProcNameNode, ProcMaster},
		NodeConfigs: sahara.Configs{SvcHDFS: {CfgNameNodeHeap: "2048"}}})
	worker := c.AddNodeGroup(sahara.NodeGroupSpec{Name: "worker", Count: workers, NodeProcesses: []string{ProcDataNode, ProcSlave}, VolumesPerNode: 2})
	for _, ng := range []*sahara.NodeGroup{master, worker} {
		for i := 0; i < ng.Count; i++ {
			in := ng.NewInstance(i)
			in.InstanceID = "id-" + in.InstanceName
			in.StorageDevicesNumber = ng.VolumesPerNode
			ng.AddInstance(in)
		}
	}
	return c
}

// stubCall is one logged call of a stub: when, where, as whom, what.
type stubCall struct {
	at         string
	host, user string
	call       string
}

// stubCalls merges the stub logs of hosts in time order.
func stubCalls(t *testing.T, hosts map[string]*sshtest.Host) []stubCall {
	t.Helper()
	var out []stubCall
	for _, h := range hosts {
		for _, line := range strings.Split(strings.TrimSpace(h.Run(t, "cat /tmp/stub/calls.log")), "\n") {
			f := strings.SplitN(line, " ", 4)
			if len(f) == 4 {
				out = append(out, stubCall{f[0], f[1], f[2], f[3]})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].at < out[j].at })
	return out
}

// TestPlugin_RealHosts configures, starts, scales (3 -> 4 workers) and
// decommissions (4 -> 3) a Spark 2.3 cluster over real SSH on sshd hosts
// (internal/sshtest), and checks the files, their contents, owners and
// modes, and the order of the daemon commands across the hosts.
func TestPlugin_RealHosts(t *testing.T) { realHosts(t, V23) }

// TestPlugin_RealHostsSpark3 is TestPlugin_RealHosts for the Spark 3 line.
func TestPlugin_RealHostsSpark3(t *testing.T) { realHosts(t, V353) }

func realHosts(t *testing.T, version string) {
	if testing.Short() {
		t.Skip("real sshd hosts: not in -short runs")
	}
	l, err := lineOf(version)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	priv, pub, err := sahara.GenerateManagementKey("spark-test")
	if err != nil {
		t.Fatal(err)
	}
	c := realCluster(4)
	c.PluginVersion = version
	c.ManagementPrivateKey, c.ManagementPublicKey = priv, pub
	hosts := sshtest.New(t).ClusterHosts(t, c, pub, imagePrep)
	master := hosts["demo-master-0"]
	c.Instance("demo-master-0").StorageDevicesNumber = 0
	// demo-worker-3 joins at the scale step.
	worker := c.NodeGroup("worker")
	w3 := c.Instance("demo-worker-3")
	worker.RemoveInstance(w3)
	worker.Count = 3

	logger, logs := sshtest.TestLogger(t, false)
	conn := &sshremote.Connector{Logger: logger}
	pool, err := conn.Connect(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = pool.Close() }()
	p := New(Options{Logger: logger, Sleep: func(context.Context, time.Duration) error { return nil }})
	if err := p.Validate(ctx, c); err != nil {
		t.Fatal(err)
	}
	master.Run(t, "echo 3 > /tmp/stub/live")
	if err := p.ConfigureCluster(ctx, c, pool); err != nil {
		t.Fatalf("ConfigureCluster: %v", err)
	}
	if err := p.StartCluster(ctx, c, pool); err != nil {
		t.Fatalf("StartCluster: %v", err)
	}

	user := master.User
	home := strings.TrimSpace(master.Run(t, "getent passwd "+user+" | cut -d: -f6"))
	for _, in := range c.Instances() {
		h := hosts[in.InstanceName]
		paths, err := storagePaths(in)
		if err != nil {
			t.Fatal(err)
		}
		site, err := siteFiles(c, in, paths)
		if err != nil {
			t.Fatal(err)
		}
		sp, err := renderSpark(c, c.InstancesWithProcess(ProcSlave))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range append(site, sp.list()...) {
			if got := h.Run(t, "cat "+f.path); got != string(f.data) {
				t.Errorf("%s:%s =\n%s\nwant\n%s", in.InstanceName, f.path, got, f.data)
			}
			if own := strings.TrimSpace(h.Run(t, "stat -c %U "+f.path)); own != user {
				t.Errorf("%s:%s owned by %s, want the login user %s", in.InstanceName, f.path, own, user)
			}
		}
		if got := strings.TrimSpace(h.Run(t, "stat -c '%U %a' "+home+"/.ssh/id_rsa /tmp/sahara-hadoop-init.sh")); got != user+" 600\n"+user+" 500" {
			t.Errorf("%s: owner and mode of id_rsa and the setup script = %q", in.InstanceName, got)
		}
		if got := h.Run(t, "cat "+home+"/.ssh/id_rsa"); got != priv {
			t.Errorf("%s: ~/.ssh/id_rsa is not the management key", in.InstanceName)
		}
		env := h.Run(t, "cat /etc/hadoop/hadoop-env.sh")
		for _, line := range []string{"export HADOOP_LOG_DIR=" + paths[0] + "/log/hadoop/$USER/", "export " + l.secureLogVar + "=" + paths[0] + "/log/hadoop/hdfs"} {
			if !strings.Contains(env, line+"\n") {
				t.Errorf("%s: hadoop-env.sh lacks %q:\n%s", in.InstanceName, line, env)
			}
		}
		if heap := l.nnOpts + `="-Xmx2048m"`; strings.Contains(env, heap) != (in.NodeGroup().Name == "master") {
			t.Errorf("%s: hadoop-env.sh and %s:\n%s", in.InstanceName, heap, env)
		}
		for _, d := range append(suffixed(paths, "/dfs/nn"), suffixed(paths, "/dfs/dn")...) {
			if got := strings.TrimSpace(h.Run(t, "stat -c '%U:%G %a' "+d)); got != "hdfs:hadoop 755" {
				t.Errorf("%s: %s is %q, want hdfs:hadoop 755", in.InstanceName, d, got)
			}
		}
		if in.NodeGroup().Name == "worker" {
			if mount := strings.TrimSpace(h.Run(t, "findmnt -n -o TARGET -T /volumes/disk2/dfs/dn")); mount != "/volumes/disk2" {
				t.Errorf("%s: the second data dir is on %q, want the volume", in.InstanceName, mount)
			}
		}
	}
	if got := master.Run(t, "cat /etc/hadoop/dn.incl; echo; stat -c '%s' /etc/hadoop/dn.excl"); got != "demo-worker-0.novalocal\ndemo-worker-1.novalocal\ndemo-worker-2.novalocal\n0\n" {
		t.Errorf("dn.incl and the size of dn.excl = %q", got)
	}
	if got := master.Run(t, "cat /etc/cron.d/spark-cleanup; stat -c %a /etc/hadoop/tmp-cleanup.sh"); got != cleanupCron+"\n755\n" {
		t.Errorf("cleanup cron and script mode = %q", got)
	}
	if got := c.Info["Spark"]["Web UI"]; got != "http://"+master.IP()+":8080" {
		t.Errorf("Spark web UI in the cluster info = %q", got)
	}

	// Scale 3 -> 4 workers, then decommission demo-worker-3 again.
	worker.AddInstance(w3)
	worker.Count = 4
	pool2, err := conn.Connect(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = pool2.Close() }()
	if err := p.ScaleCluster(ctx, c, pool2, []*sahara.Instance{w3}); err != nil {
		t.Fatalf("ScaleCluster: %v", err)
	}
	if got := master.Run(t, "cat /etc/hadoop/dn.incl"); !strings.HasSuffix(got, "demo-worker-3.novalocal") {
		t.Errorf("dn.incl after the scale = %q", got)
	}
	report := func(status string) string {
		return "Live datanodes (4):\n\nName: " + w3.InternalIP + ":50010 (demo-worker-3.novalocal)\nHostname: demo-worker-3.novalocal\nDecommission Status : " + status + "\n"
	}
	master.Run(t, "cat > /tmp/stub/report-1 <<'X'\n"+report("Decommission in progress")+"X\ncat > /tmp/stub/report-2 <<'X'\n"+report("Decommissioned")+"X\n")
	if err := p.DecommissionNodes(ctx, c, pool2, []*sahara.Instance{w3}); err != nil {
		t.Fatalf("DecommissionNodes: %v", err)
	}
	for _, name := range []string{"demo-master-0", "demo-worker-0", "demo-worker-1", "demo-worker-2"} {
		if got := hosts[name].Run(t, "cat /opt/spark/conf/"+l.workersFile); got != "demo-worker-0\ndemo-worker-1\ndemo-worker-2" {
			t.Errorf("%s: slaves after the decommission = %q", name, got)
		}
	}
	if got := master.Run(t, "cat /etc/hadoop/dn.incl; echo; stat -c '%s' /etc/hadoop/dn.excl"); got != "demo-worker-0.novalocal\ndemo-worker-1.novalocal\ndemo-worker-2.novalocal\n0\n" {
		t.Errorf("dn.incl and the size of dn.excl after the decommission = %q", got)
	}

	var order []string
	for _, sc := range stubCalls(t, hosts) {
		order = append(order, sc.host+" "+sc.user+" "+sc.call)
	}
	want := []string{
		"demo-master-0 hdfs " + strings.TrimPrefix(l.formatCmd, "sudo -u hdfs "),
		"demo-master-0 root service hadoop-hdfs-namenode start",
		"demo-worker-0 root service hadoop-hdfs-datanode start",
		"demo-worker-1 root service hadoop-hdfs-datanode start",
		"demo-worker-2 root service hadoop-hdfs-datanode start",
		"demo-master-0 hdfs hdfs dfsadmin -report",
		"demo-master-0 hdfs hdfs dfs -mkdir -p /user/" + user + "/",
		"demo-master-0 hdfs hdfs dfs -chown " + user + " /user/" + user + "/",
		"demo-master-0 " + user + " start-all.sh",
		// scale
		"demo-master-0 " + user + " stop-all.sh",
		"demo-master-0 hdfs " + strings.TrimPrefix(l.refreshCmd, "sudo -u hdfs "),
		"demo-worker-3 root service hadoop-hdfs-datanode start",
		"demo-master-0 " + user + " start-all.sh",
		// decommission: HDFS first, then only the removed worker stops
		"demo-master-0 hdfs " + strings.TrimPrefix(l.refreshCmd, "sudo -u hdfs "),
		"demo-master-0 hdfs " + strings.TrimPrefix(l.reportCmd, "sudo -u hdfs "),
		"demo-master-0 hdfs " + strings.TrimPrefix(l.reportCmd, "sudo -u hdfs "),
		"demo-worker-3 " + user + " " + l.stopWorker,
	}
	// The datanodes start in parallel: compare them as a set.
	norm := func(xs []string) string {
		ys := append([]string(nil), xs...)
		sort.Strings(ys[2:5])
		return strings.Join(ys, "\n")
	}
	if len(order) != len(want) || norm(order) != norm(want) {
		t.Errorf("daemon commands across the hosts:\n%s\nwant\n%s", strings.Join(order, "\n"), strings.Join(want, "\n"))
	}
	if strings.Contains(logs.String(), "PRIVATE KEY") {
		t.Error("a private key reached the log")
	}
}
