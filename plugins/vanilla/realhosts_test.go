package vanilla

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/saharagen/terraform-provider-saharagen/internal/sshtest"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
	"github.com/saharagen/terraform-provider-saharagen/sahara/sshremote"
)

// imagePrep makes a host look like Sahara's vanilla image as far as the
// plugin's configuration touches it: the hadoop user, /opt/hadoop's conf
// dir with Hadoop 2.8's env scripts (the lines the plugin edits), and two
// volumes mounted at /volumes/disk1 and /volumes/disk2 (tmpfs in the host's
// own mount namespace). Hadoop's binaries are not installed: none is
// reachable offline.
const imagePrep = `set -e
id hadoop >/dev/null 2>&1 || useradd -m -s /bin/bash hadoop
mkdir -p /opt/hadoop/etc/hadoop /opt/oozie/conf
cat > /opt/hadoop/etc/hadoop/hadoop-env.sh <<'X'
export HADOOP_NAMENODE_OPTS="-Dhadoop.security.logger=INFO,RFAS $HADOOP_NAMENODE_OPTS"
export HADOOP_DATANODE_OPTS="-Dhadoop.security.logger=ERROR,RFAS $HADOOP_DATANODE_OPTS"
export HADOOP_SECONDARYNAMENODE_OPTS="-Dhadoop.security.logger=INFO,RFAS $HADOOP_SECONDARYNAMENODE_OPTS"
#export HADOOP_LOG_DIR=${HADOOP_LOG_DIR}/$USER
export HADOOP_SECURE_DN_LOG_DIR=${HADOOP_LOG_DIR}/${HADOOP_HDFS_USER}
X
cat > /opt/hadoop/etc/hadoop/yarn-env.sh <<'X'
#export YARN_RESOURCEMANAGER_HEAPSIZE=1000
#export YARN_NODEMANAGER_HEAPSIZE=1000
if [ "$YARN_LOG_DIR" = "" ]; then
  YARN_LOG_DIR="$HADOOP_YARN_HOME/logs"
fi
X
echo 'export HADOOP_JOB_HISTORYSERVER_HEAPSIZE=1000' > /opt/hadoop/etc/hadoop/mapred-env.sh
for d in 1 2; do mkdir -p /volumes/disk$d; mountpoint -q /volumes/disk$d || mount -t tmpfs -o size=16m vol$d /volumes/disk$d; done
`

// TestPlugin_RealHosts configures a master and 3 workers with 2 volumes
// each over real SSH (sshd hosts from internal/sshtest), then runs the
// key pair, include and exclude steps of start, scale and decommission,
// and checks files, contents, owners, modes and that the HDFS data
// directories sit on the mounted volumes. Starting Hadoop's daemons is
// covered by the recording remote (conformance suite).
func TestPlugin_RealHosts(t *testing.T) {
	if testing.Short() {
		t.Skip("real sshd hosts: not in -short runs")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	priv, pub, err := sahara.GenerateManagementKey("vanilla-test")
	if err != nil {
		t.Fatal(err)
	}
	c := testCluster(V282, 3)
	c.ManagementPrivateKey, c.ManagementPublicKey = priv, pub
	hosts := sshtest.New(t).ClusterHosts(t, c, pub, imagePrep)
	master := hosts["demo-master-0"]
	// The master has no volumes: its storage is /mnt, as in Sahara.
	c.Instance("demo-master-0").StorageDevicesNumber = 0

	logger, logs := sshtest.TestLogger(t, false)
	conn := &sshremote.Connector{Logger: logger}
	pool, err := conn.Connect(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = pool.Close() }()
	p := New(Options{Logger: logger})
	if err := p.Validate(ctx, c); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := p.ConfigureCluster(ctx, c, pool); err != nil {
		t.Fatalf("ConfigureCluster: %v", err)
	}
	if err := p.provisionKeypairs(ctx, c, pool, c.Instances(), false); err != nil {
		t.Fatalf("key pair: %v", err)
	}
	if err := p.writeIncludeFiles(ctx, c, pool, nil); err != nil {
		t.Fatalf("include files: %v", err)
	}
	victim := c.Instance("demo-worker-2")
	if err := p.writeHostFiles(ctx, c, pool, "exclude", []*sahara.Instance{victim}, []*sahara.Instance{victim}); err != nil {
		t.Fatalf("exclude files: %v", err)
	}
	t.Logf("configure + key pair + include/exclude on 4 instances: %s, %d SSH handshakes", time.Since(start).Round(time.Millisecond), conn.Handshakes())
	if got := conn.Handshakes(); got != 4 {
		t.Errorf("%d SSH handshakes, want one per instance (4)", got)
	}

	for _, in := range c.Instances() {
		h := hosts[in.InstanceName]
		d, err := dirsOf(in)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range wantSiteFiles(t, c, in) {
			if got := h.Run(t, "cat "+f.path); got != string(f.data) {
				t.Errorf("%s:%s =\n%s\nwant\n%s", in.InstanceName, f.path, got, f.data)
			}
			if own := strings.TrimSpace(h.Run(t, "stat -c %U:%G "+f.path)); own != "hadoop:hadoop" {
				t.Errorf("%s:%s owned by %s, want hadoop:hadoop", in.InstanceName, f.path, own)
			}
		}
		env := h.Run(t, "cat /opt/hadoop/etc/hadoop/hadoop-env.sh /opt/hadoop/etc/hadoop/yarn-env.sh /opt/hadoop/etc/hadoop/mapred-env.sh")
		for _, line := range []string{
			`export HADOOP_NAMENODE_OPTS="-Xmx1024m"`,
			`export HADOOP_DATANODE_OPTS="-Xmx1024m"`,
			"export YARN_NODEMANAGER_HEAPSIZE=1024",
			"export HADOOP_JOB_HISTORYSERVER_HEAPSIZE=1024",
			"export HADOOP_LOG_DIR=" + d.log,
			"export HADOOP_SECURE_DN_LOG_DIR=" + d.secureLog,
			"YARN_LOG_DIR=" + d.yarnLog,
		} {
			if !strings.Contains(env, line+"\n") {
				t.Errorf("%s: env scripts lack %q:\n%s", in.InstanceName, line, env)
			}
		}
		for _, dir := range append(append([]string{}, d.name...), append(d.data, d.log, d.yarnLog)...) {
			if own := strings.TrimSpace(h.Run(t, "stat -c %U:%G "+dir)); own != "hadoop:hadoop" {
				t.Errorf("%s: %s owned by %s, want hadoop:hadoop", in.InstanceName, dir, own)
			}
		}
		if in.NodeGroup().Name == "worker" {
			for i, dir := range d.data {
				mount := strings.TrimSpace(h.Run(t, "findmnt -n -o TARGET -T "+dir))
				if want := "/volumes/disk" + itoa(i+1); mount != want {
					t.Errorf("%s: %s is on %q, want the volume mounted at %s", in.InstanceName, dir, mount, want)
				}
			}
		}
		if got := h.Run(t, "cat /opt/hadoop/etc/hadoop/dn-include"); got != "demo-worker-0.novalocal\ndemo-worker-1.novalocal\ndemo-worker-2.novalocal\n" {
			t.Errorf("%s: dn-include = %q", in.InstanceName, got)
		}
		if got := h.Run(t, "cat /opt/hadoop/etc/hadoop/nm-exclude"); got != "demo-worker-2.novalocal\n" {
			t.Errorf("%s: nm-exclude = %q", in.InstanceName, got)
		}
		if got := strings.TrimSpace(h.Run(t, "stat -c '%U:%G %a' /opt/hadoop/etc/hadoop/dn-include /home/hadoop/.ssh/id_rsa")); got != "hadoop:hadoop 644\nhadoop:root 600" && got != "hadoop:hadoop 644\nhadoop:hadoop 600" {
			t.Errorf("%s: owners and modes of dn-include and id_rsa = %q", in.InstanceName, got)
		}
	}
	if out := master.Run(t, "findmnt -n -o TARGET -T /mnt/hdfs/namenode"); strings.HasPrefix(out, "/volumes") {
		t.Errorf("master's namenode dir is on a volume (%s); it has none", out)
	}
	if strings.Contains(logs.String(), "PRIVATE KEY") {
		t.Error("a private key reached the log")
	}
}

// wantSiteFiles is what the plugin writes into an instance's site files.
func wantSiteFiles(t *testing.T, c *sahara.Cluster, in *sahara.Instance) []file {
	t.Helper()
	l, err := lineOf(c.PluginVersion)
	if err != nil {
		t.Fatal(err)
	}
	d, err := dirsOf(in)
	if err != nil {
		t.Fatal(err)
	}
	files, err := siteFiles(c, l, in, d)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// hadoop3Prep writes the lines of Hadoop 3's stock env scripts the plugin
// edits (commented, as Hadoop 3 ships them).
const hadoop3Prep = `set -e
id hadoop >/dev/null 2>&1 || useradd -m -s /bin/bash hadoop
mkdir -p /opt/hadoop/etc/hadoop /opt/oozie/conf
cat > /opt/hadoop/etc/hadoop/hadoop-env.sh <<'X'
# export HADOOP_LOG_DIR=${HADOOP_HOME}/logs
# export HADOOP_SECURE_LOG_DIR=${HADOOP_LOG_DIR}
# a) Set JMX options
# export HDFS_NAMENODE_OPTS="-Dcom.sun.management.jmxremote=true"
# export HDFS_DATANODE_OPTS="-Dhadoop.security.logger=ERROR,RFAS"
# export HDFS_SECONDARYNAMENODE_OPTS="-Dhadoop.security.logger=INFO,RFAS"
X
printf '%s\n' '#export YARN_RESOURCEMANAGER_HEAPSIZE=' '#export YARN_NODEMANAGER_HEAPSIZE=' > /opt/hadoop/etc/hadoop/yarn-env.sh
echo '#export HADOOP_JOB_HISTORYSERVER_HEAPSIZE=' > /opt/hadoop/etc/hadoop/mapred-env.sh
`

// TestPlugin_RealHostHadoop3EnvEdits configures one Hadoop 3.4.1 instance
// over real SSH and checks the heap and log settings land in Hadoop 3's
// commented env lines.
func TestPlugin_RealHostHadoop3EnvEdits(t *testing.T) {
	if testing.Short() {
		t.Skip("real sshd hosts: not in -short runs")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	priv, pub, err := sahara.GenerateManagementKey("vanilla-test")
	if err != nil {
		t.Fatal(err)
	}
	c := testCluster(V341, 3)
	c.ManagementPrivateKey, c.ManagementPublicKey = priv, pub
	c.NodeGroup("master").NodeConfigs = sahara.Configs{SvcHDFS: {"NameNode Heap Size": "3072"}}
	in := c.Instance("demo-master-0")
	in.StorageDevicesNumber = 0
	h := sshtest.New(t).InstanceHost(t, in, pub, hadoop3Prep)
	pool, err := (&sshremote.Connector{}).Connect(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = pool.Close() }()
	l, _ := lineOf(V341)
	if err := New(Options{}).configureInstance(ctx, c, pool.Remote(in), l, in); err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"export HADOOP_LOG_DIR=/mnt/hadoop/logs",
		"export HADOOP_SECURE_LOG_DIR=/mnt/hadoop/logs/secure",
		"# a) Set JMX options",
		`export HDFS_NAMENODE_OPTS="-Xmx3072m"`,
		`export HDFS_DATANODE_OPTS="-Xmx1024m"`,
		`export HDFS_SECONDARYNAMENODE_OPTS="-Xmx1024m"`,
		"export YARN_RESOURCEMANAGER_HEAPSIZE=1024",
		"export YARN_NODEMANAGER_HEAPSIZE=1024",
		"export HADOOP_JOB_HISTORYSERVER_HEAPSIZE=1024",
	}, "\n") + "\n"
	if got := h.Run(t, "cd /opt/hadoop/etc/hadoop && cat hadoop-env.sh yarn-env.sh mapred-env.sh"); got != want {
		t.Errorf("env scripts =\n%s\nwant\n%s", got, want)
	}
	if got := h.Run(t, "stat -c %U /mnt/hdfs/namenode /mnt/hadoop/logs/secure"); got != "hadoop\nhadoop\n" {
		t.Errorf("owners of the name and log dirs: %q", got)
	}
}
