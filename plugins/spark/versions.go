package spark

import (
	"fmt"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// V353 is saharagen's Spark 3 line (see the package documentation).
const V353 = "3.5.3"

// line holds what differs between Sahara's Spark versions (CDH 5 HDFS,
// Spark 1.6-2.3) and the Spark 3 line (Hadoop 3 HDFS packaged like
// Apache Bigtop's, Spark 3.5).
type line struct {
	spark3 bool
	// workersFile is Spark's host list in conf/; stopWorker stops the
	// workers of one host; masterEnv names the master in spark-env.sh.
	workersFile, stopWorker, masterEnv string
	// HDFS commands run as the hdfs user.
	formatCmd, refreshCmd, reportCmd string
	// heap and log variables of hadoop-env.sh.
	nnOpts, dnOpts, secureLogVar string
	// ports per HDFS process (get_open_ports).
	nnPorts, dnPorts []int
	// httpAddress is the config whose port is the HDFS web UI's.
	httpAddress string
}

var sahara2 = &line{
	workersFile: "slaves", stopWorker: "stop-slave.sh", masterEnv: "SPARK_MASTER_IP",
	formatCmd:    "sudo -u hdfs hadoop namenode -format",
	refreshCmd:   "sudo -u hdfs hadoop dfsadmin -refreshNodes",
	reportCmd:    "sudo -u hdfs hadoop dfsadmin -report",
	nnOpts:       "HADOOP_NAMENODE_OPTS",
	dnOpts:       "HADOOP_DATANODE_OPTS",
	secureLogVar: "HADOOP_SECURE_DN_LOG_DIR",
	nnPorts:      []int{8020, 50070, 50470},
	dnPorts:      []int{50010, 1004, 50075, 1006, 50020},
	httpAddress:  "dfs.http.address",
}

// Spark 3.1 renamed conf/slaves to conf/workers and stop-slave.sh to
// stop-worker.sh, and reads SPARK_MASTER_HOST (SPARK_MASTER_IP is gone);
// Hadoop 3 moved the HDFS commands to `hdfs`, the heap variables to
// HDFS_*_OPTS, the secure log directory to HADOOP_SECURE_LOG_DIR, and the
// web UI and datanode ports out of the ephemeral range.
var spark3 = &line{
	spark3:      true,
	workersFile: "workers", stopWorker: "stop-worker.sh", masterEnv: "SPARK_MASTER_HOST",
	formatCmd:    "sudo -u hdfs hdfs namenode -format -nonInteractive",
	refreshCmd:   "sudo -u hdfs hdfs dfsadmin -refreshNodes",
	reportCmd:    "sudo -u hdfs hdfs dfsadmin -report",
	nnOpts:       "HDFS_NAMENODE_OPTS",
	dnOpts:       "HDFS_DATANODE_OPTS",
	secureLogVar: "HADOOP_SECURE_LOG_DIR",
	nnPorts:      []int{8020, 9870, 9871},
	dnPorts:      []int{9866, 9864, 9865, 9867},
	httpAddress:  "dfs.namenode.http-address",
}

var lines = map[string]*line{V160: sahara2, V210: sahara2, V22: sahara2, V23: sahara2, V353: spark3}

func lineOf(version string) (*line, error) {
	l, ok := lines[version]
	if !ok {
		return nil, fmt.Errorf("spark plugin: unsupported Spark version %q (supported: %s, %s, %s, %s, %s)", version, V160, V210, V22, V23, V353)
	}
	return l, nil
}

func checkVersion(version string) error {
	_, err := lineOf(version)
	return err
}

// spark3Configs are the Spark 3 line's configs: the HDFS properties users
// tune most under their Hadoop 3 names and defaults (Sahara's priority-1
// list, renamed where Hadoop renamed them: dfs.block.size is dfs.blocksize,
// dfs.permissions is dfs.permissions.enabled, dfs.replication.min is
// dfs.namenode.replication.min, dfs.datanode.max.xcievers is
// dfs.datanode.max.transfer.threads; dfs.http.address is
// dfs.namenode.http-address), the heap sizes, the Spark options (no
// executor classpath by default: Hadoop 3.3.5 removed the Swift file
// system, hadoop-openstack.jar) and the timeouts; no "Enable Swift".
var spark3Configs = func() []sahara.Config {
	h := func(name string, t sahara.ConfigType, def any, scope, desc string) sahara.Config {
		return sahara.Config{Name: name, Type: t, Default: def, Target: SvcHDFS, Scope: scope, IsOptional: true, Priority: 1, Description: desc}
	}
	cs := []sahara.Config{
		h("io.file.buffer.size", sahara.ConfigInt, 4096, sahara.ScopeCluster, curated["io.file.buffer.size"]),
		h("dfs.replication", sahara.ConfigInt, 3, sahara.ScopeCluster, curated["dfs.replication"]),
		h("dfs.replication.max", sahara.ConfigInt, 512, sahara.ScopeCluster, curated["dfs.replication.max"]),
		h("dfs.namenode.replication.min", sahara.ConfigInt, 1, sahara.ScopeCluster, curated["dfs.replication.min"]),
		h("dfs.blocksize", sahara.ConfigInt, 134217728, sahara.ScopeCluster, curated["dfs.block.size"]),
		h("dfs.permissions.enabled", sahara.ConfigBool, true, sahara.ScopeCluster, curated["dfs.permissions"]),
		h("dfs.datanode.du.reserved", sahara.ConfigInt, 0, sahara.ScopeNode, curated["dfs.datanode.du.reserved"]),
		h("dfs.datanode.failed.volumes.tolerated", sahara.ConfigInt, 0, sahara.ScopeNode, curated["dfs.datanode.failed.volumes.tolerated"]),
		h("dfs.datanode.max.transfer.threads", sahara.ConfigInt, 4096, sahara.ScopeNode, curated["dfs.datanode.max.xcievers"]),
		h("dfs.datanode.handler.count", sahara.ConfigInt, 10, sahara.ScopeNode, curated["dfs.datanode.handler.count"]),
		h("dfs.namenode.handler.count", sahara.ConfigInt, 10, sahara.ScopeNode, curated["dfs.namenode.handler.count"]),
		h("dfs.namenode.http-address", sahara.ConfigString, "0.0.0.0:9870", sahara.ScopeNode, "Address and port of the NameNode's web UI."),
	}
	cs = append(append(cs, heapConfigs()...), sparkConfigs(true)...)
	return append(cs,
		generalConfig(CfgDecommissionTimeout, sahara.ConfigInt, 86400, true, decommissionTimeoutDesc),
		generalConfig(CfgDataNodesStartup, sahara.ConfigInt, 10800, true, startupTimeoutDesc))
}()
