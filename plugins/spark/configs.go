package spark

import (
	_ "embed"
	"fmt"
	"strings"
	"sync"

	"github.com/saharagen/terraform-provider-saharagen/plugins/internal/hadoop"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// Spark configs (target "Spark", cluster scope, strings as in Sahara).
const (
	CfgExecutorClasspath = "Executor extra classpath"
	CfgMasterPort        = "Master port"
	CfgWorkerPort        = "Worker port"
	CfgMasterWebUIPort   = "Master webui port"
	CfgWorkerWebUIPort   = "Worker webui port"
	CfgWorkerCores       = "Worker cores"
	CfgWorkerMemory      = "Worker memory"
	CfgWorkerInstances   = "Worker instances"
	CfgSparkHome         = "Spark home"
	CfgMinCleanupSeconds = "Minimum cleanup seconds"
	CfgMaxCleanupSeconds = "Maximum cleanup seconds"
	CfgMinCleanupMB      = "Minimum cleanup megabytes"
)

// General and HDFS configs the plugin reads.
const (
	CfgDecommissionTimeout = "Decommissioning Timeout"
	CfgEnableSwift         = "Enable Swift"
	CfgDataNodesStartup    = "DataNodes startup timeout"
	CfgReplication         = "dfs.replication"
	CfgNameNodeHeap        = "Name Node Heap Size"
	CfgDataNodeHeap        = "Data Node Heap Size"
)

//go:embed resources/configs/2.3.tsv
var configData []byte

// clusterWideConfs get scope "cluster" (Sahara's CLUSTER_WIDE_CONFS).
var clusterWideConfs = map[string]bool{
	"dfs.block.size": true, "dfs.permissions": true, "dfs.replication": true,
	"dfs.replication.min": true, "dfs.replication.max": true, "io.file.buffer.size": true,
}

// curated are Sahara's PRIORITY_1_CONFS (its cluster-wide ones included),
// with the project's own descriptions.
var curated = map[string]string{
	"dfs.datanode.du.reserved":              "Bytes per volume that HDFS leaves free for other uses.",
	"dfs.datanode.failed.volumes.tolerated": "How many volumes of a DataNode may fail before it stops serving.",
	"dfs.datanode.max.xcievers":             "Upper bound on threads a DataNode uses to move blocks in and out.",
	"dfs.datanode.handler.count":            "Server threads of each DataNode.",
	"dfs.namenode.handler.count":            "RPC server threads of the NameNode.",
	"dfs.block.size":                        "Block size of new HDFS files, in bytes.",
	"dfs.permissions":                       "Whether HDFS checks file permissions.",
	"dfs.replication":                       "Replicas of each HDFS block; the cluster needs at least this many DataNodes.",
	"dfs.replication.min":                   "Replicas a block needs before a write completes.",
	"dfs.replication.max":                   "Largest replication factor a file may ask for.",
	"io.file.buffer.size":                   "Buffer size, in bytes, of sequence file reads and writes.",
}

// sparkOptions are Sahara's SPARK_CONFS, in its order: name, default,
// priority, the project's description.
var sparkOptions = []struct {
	name, def string
	priority  int
	desc      string
}{
	{CfgExecutorClasspath, "/usr/lib/hadoop-mapreduce/hadoop-openstack.jar", 2, "spark.executor.extraClassPath in spark-defaults.conf: absolute paths separated by \":\"."},
	{CfgMasterPort, "7077", 2, "Port of the Spark master."},
	{CfgWorkerPort, "random", 2, "Port of the Spark workers (\"random\": any free port)."},
	{CfgMasterWebUIPort, "8080", 1, "Port of the Spark master's web UI."},
	{CfgWorkerWebUIPort, "8081", 1, "Port of the Spark workers' web UI."},
	{CfgWorkerCores, "all", 2, "Cores each worker offers to applications (\"all\": every core)."},
	{CfgWorkerMemory, "all", 1, "Memory each worker offers to applications, such as 1000m or 2g (\"all\": total memory minus 1 GiB)."},
	{CfgWorkerInstances, "1", 2, "Worker processes on each slave."},
	{CfgSparkHome, "/opt/spark", 2, "Where Spark is installed on the image."},
	{CfgMinCleanupSeconds, "86400", 2, "Job data younger than this is never purged, in seconds (0 or less: no cleanup job)."},
	{CfgMaxCleanupSeconds, "1209600", 2, "Job data older than this is always purged, in seconds (0 or less: no cleanup job)."},
	{CfgMinCleanupMB, "4096", 2, "Job data is purged only above this total size, in MiB (0 or less: no cleanup job)."},
}

var (
	configsOnce sync.Once
	configsList []sahara.Config
	configsErr  error
)

// allConfigs is get_configs(version): Sahara's list, or the Spark 3 line's.
func allConfigs(version string) ([]sahara.Config, error) {
	l, err := lineOf(version)
	if err != nil {
		return nil, err
	}
	if l.spark3 {
		return spark3Configs, nil
	}
	return saharaConfigs()
}

// saharaConfigs is Sahara's PLUGIN_CONFIGS: the core and HDFS properties
// (core-default.xml, hdfs-default.xml and the Swift defaults, hidden ones
// removed), the two heap sizes, the Spark options, then the general ones.
func saharaConfigs() ([]sahara.Config, error) {
	configsOnce.Do(func() {
		cs, err := xmlConfigs()
		if err != nil {
			configsErr = err
			return
		}
		cs = append(append(cs, heapConfigs()...), sparkConfigs(false)...)
		configsList = append(cs,
			generalConfig(CfgDecommissionTimeout, sahara.ConfigInt, 86400, true, decommissionTimeoutDesc),
			generalConfig(CfgEnableSwift, sahara.ConfigBool, true, false, "Write the Swift file system settings into core-site.xml."),
			generalConfig(CfgDataNodesStartup, sahara.ConfigInt, 10800, true, startupTimeoutDesc))
	})
	return configsList, configsErr
}

const (
	decommissionTimeoutDesc = "Seconds to wait for removed DataNodes to finish decommissioning."
	startupTimeoutDesc      = "Seconds to wait for every DataNode to register at start."
)

func heapConfigs() []sahara.Config {
	var cs []sahara.Config
	for _, h := range []struct{ name, desc string }{
		{CfgNameNodeHeap, "Heap of the NameNode, in MiB."},
		{CfgDataNodeHeap, "Heap of each DataNode, in MiB."},
	} {
		cs = append(cs, sahara.Config{Name: h.name, Type: sahara.ConfigInt, Default: 1024, Target: SvcHDFS, Scope: sahara.ScopeNode, Priority: 1, Description: h.desc})
	}
	return cs
}

// sparkConfigs are the Spark options; the Spark 3 line has no executor
// classpath by default.
func sparkConfigs(spark3 bool) []sahara.Config {
	var cs []sahara.Config
	for _, o := range sparkOptions {
		def := o.def
		if spark3 && o.name == CfgExecutorClasspath {
			def = ""
		}
		cs = append(cs, sahara.Config{Name: o.name, Type: sahara.ConfigString, Default: def, Target: SvcSpark, Scope: sahara.ScopeCluster, IsOptional: true, Priority: o.priority, Description: o.desc})
	}
	return cs
}

func generalConfig(name string, t sahara.ConfigType, def any, optional bool, desc string) sahara.Config {
	return sahara.Config{Name: name, Type: t, Default: def, Target: sahara.TargetGeneral, Scope: sahara.ScopeCluster, IsOptional: optional, Priority: 1, Description: desc}
}

// xmlConfigs reads the embedded property list and types it as Sahara's
// _initialise_configs does.
func xmlConfigs() ([]sahara.Config, error) {
	return hadoop.ReadProperties(configData, "spark: configs", hadoop.PropertyRules{
		ClusterWide: clusterWideConfs,
		Curated:     curated,
		Describe: func(c sahara.Config) string {
			return fmt.Sprintf("Hadoop property %s, written to %s when set.", c.Name, siteFileOf(c.Name))
		},
	})
}

// siteFileOf is the site file a property goes to: hdfs-default.xml's
// properties (all "dfs.*") to hdfs-site.xml, core-default.xml's and the
// Swift ones to core-site.xml.
func siteFileOf(name string) string {
	if strings.HasPrefix(name, "dfs.") {
		return "hdfs-site.xml"
	}
	return "core-site.xml"
}

// lookup reads config values as Sahara's get_config_value_or_default does.
var lookup = hadoop.Lookup{Plugin: Name, Configs: allConfigs}

func intConfig(c *sahara.Cluster, target, name string) (int, error) {
	return lookup.Int(c, target, name)
}

func stringConfig(c *sahara.Cluster, target, name string) (string, error) {
	return lookup.String(c, target, name)
}

// portConfig is a Spark port option as a number (get_open_ports' int()).
func portConfig(c *sahara.Cluster, name string) (int, error) {
	s, err := stringConfig(c, SvcSpark, name)
	if err != nil {
		return 0, err
	}
	return sahara.AsInt(s)
}
