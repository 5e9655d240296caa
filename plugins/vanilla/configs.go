package vanilla

import (
	"embed"
	"fmt"
	"strings"
	"sync"

	"github.com/saharagen/terraform-provider-saharagen/plugins/internal/hadoop"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// General configs (target "general").
const (
	CfgEnableSwift          = "Enable Swift"
	CfgEnableMySQL          = "Enable MySQL"
	CfgDataNodesStartup     = "DataNodes startup timeout"
	CfgDataNodesDecommision = "DataNodes decommissioning timeout"
	CfgNodeManagersDecomm   = "NodeManagers decommissioning timeout"
	CfgReplication          = "dfs.replication"
)

//go:embed resources/configs/*.tsv
var configData embed.FS

// hiddenConfs are computed by the plugin; users cannot set them
// (Sahara's HIDDEN_CONFS).
var hiddenConfs = setOf(
	"dfs.hosts", "dfs.hosts.exclude", "dfs.namenode.data.dir", "dfs.namenode.name.dir",
	"fs.default.name", "fs.defaultFS", "fs.swift.impl", "hadoop.proxyuser.hadoop.groups",
	"hadoop.proxyuser.hadoop.hosts", "mapreduce.framework.name", "mapreduce.jobhistory.address",
	"mapreduce.jobhistory.done.dir", "mapreduce.jobhistory.intermediate-done-dir",
	"mapreduce.jobhistory.webapp.address", "yarn.nodemanager.aux-services",
	"yarn.resourcemanager.address", "yarn.resourcemanager.admin.address",
	"yarn.resourcemanager.hostname", "yarn.resourcemanager.nodes.exclude-path",
	"yarn.resourcemanager.nodes.include-path", "yarn.resourcemanager.resource-tracker.address",
	"yarn.resourcemanager.scheduler.address", "yarn.resourcemanager.webapp.address",
)

// clusterWideConfs get scope "cluster" (Sahara's CLUSTER_WIDE_CONFS, typos included).
var clusterWideConfs = setOf(
	"dfs.blocksize", "dfs.namenode.replication.min", "dfs.permissions.enabled",
	"dfs.replication", "dfs.replication.max", "io.compression.codecs",
	"io.file.buffer.size", "mapreduce.job.counters.max",
	"mapreduce.map.output.compress.codec",
	"mapreduce.output.fileoutputformat.compress.codec",
	"mapreduce.output.fileoutputformat.compress.type",
	"mapredude.map.output.compress",
	"mapredude.output.fileoutputformat.compress",
)

// curated are the properties users tune most: priority 1, with the
// project's own descriptions (Sahara's PRIORITY_1_CONFS plus the
// cluster-wide ones).
var curated = map[string]string{
	"dfs.datanode.du.reserved":                         "Bytes per volume that HDFS leaves free for other uses.",
	"dfs.datanode.failed.volumes.tolerated":            "How many volumes of a DataNode may fail before it stops serving.",
	"dfs.datanode.handler.count":                       "Server threads of each DataNode.",
	"dfs.datanode.max.transfer.threads":                "Upper bound on threads a DataNode uses to move blocks in and out.",
	"dfs.namenode.handler.count":                       "RPC server threads of the NameNode.",
	"mapred.child.java.opts":                           "JVM options of MapReduce task processes.",
	"mapred.jobtracker.maxtasks.per.job":               "Maximum tasks of one job (Hadoop 1 name, kept for compatibility).",
	"mapreduce.jobtracker.handler.count":               "Server threads of the job tracker (Hadoop 1 name, kept for compatibility).",
	"mapreduce.map.java.opts":                          "JVM options of map tasks.",
	"mapreduce.reduce.java.opts":                       "JVM options of reduce tasks.",
	"mapreduce.task.io.sort.mb":                        "Memory in MiB for sorting map output.",
	"mapreduce.tasktracker.map.tasks.maximum":          "Map slots per task tracker (Hadoop 1 name, kept for compatibility).",
	"mapreduce.tasktracker.reduce.tasks.maximum":       "Reduce slots per task tracker (Hadoop 1 name, kept for compatibility).",
	"yarn.nodemanager.resource.cpu-vcores":             "Virtual cores a NodeManager offers to containers (-1: detect).",
	"yarn.nodemanager.resource.memory-mb":              "Memory in MiB a NodeManager offers to containers (-1: detect).",
	"yarn.scheduler.maximum-allocation-mb":             "Largest container, in MiB, the ResourceManager grants.",
	"yarn.scheduler.maximum-allocation-vcores":         "Largest container, in virtual cores, the ResourceManager grants.",
	"yarn.scheduler.minimum-allocation-mb":             "Smallest container, in MiB, the ResourceManager grants.",
	"yarn.scheduler.minimum-allocation-vcores":         "Smallest container, in virtual cores, the ResourceManager grants.",
	"dfs.blocksize":                                    "Block size of new HDFS files, in bytes.",
	"dfs.namenode.replication.min":                     "Replicas a block needs before a write completes.",
	"dfs.permissions.enabled":                          "Whether HDFS checks file permissions.",
	"dfs.replication":                                  "Replicas of each HDFS block; the cluster needs at least this many DataNodes.",
	"dfs.replication.max":                              "Largest replication factor a file may ask for.",
	"io.compression.codecs":                            "Extra compression codec classes, comma separated.",
	"io.file.buffer.size":                              "Buffer size, in bytes, of sequence file reads and writes.",
	"mapreduce.job.counters.max":                       "Maximum counters of one job.",
	"mapreduce.map.output.compress.codec":              "Codec that compresses map output.",
	"mapreduce.output.fileoutputformat.compress.codec": "Codec that compresses job output.",
	"mapreduce.output.fileoutputformat.compress.type":  "Compression of job output sequence files: NONE, RECORD or BLOCK.",
	"mapredude.map.output.compress":                    "Sahara's misspelt name for map output compression; listed as Sahara lists it.",
	"mapredude.output.fileoutputformat.compress":       "Sahara's misspelt name for job output compression; listed as Sahara lists it.",
}

// hadoop1Names are priority-1 names Hadoop 3 no longer reads.
var hadoop1Names = setOf(
	"mapred.jobtracker.maxtasks.per.job", "mapreduce.jobtracker.handler.count",
	"mapreduce.tasktracker.map.tasks.maximum", "mapreduce.tasktracker.reduce.tasks.maximum",
)

// xmlFile maps a target to the site file its properties go to.
var xmlFile = map[string]string{
	SvcHadoop:    hadoopConfDir + "/core-site.xml",
	SvcHDFS:      hadoopConfDir + "/hdfs-site.xml",
	SvcYARN:      hadoopConfDir + "/yarn-site.xml",
	SvcMapReduce: hadoopConfDir + "/mapred-site.xml",
	SvcJobFlow:   oozieConfDir + "/oozie-site.xml",
	SvcHive:      hiveConfDir + "/hive-site.xml",
}

// envConfigs are the heap sizes, in Sahara's order (ENV_CONFS).
var envConfigs = []struct{ target, name, desc string }{
	{SvcYARN, "ResourceManager Heap Size", "Heap of the ResourceManager, in MiB."},
	{SvcYARN, "NodeManager Heap Size", "Heap of each NodeManager, in MiB."},
	{SvcHDFS, "NameNode Heap Size", "Heap of the NameNode, in MiB."},
	{SvcHDFS, "SecondaryNameNode Heap Size", "Heap of the SecondaryNameNode, in MiB."},
	{SvcHDFS, "DataNode Heap Size", "Heap of each DataNode, in MiB."},
	{SvcMapReduce, "JobHistoryServer Heap Size", "Heap of the JobHistory server, in MiB."},
	{SvcJobFlow, "Oozie Heap Size", "Heap of the Oozie server, in MiB."},
}

const defaultHeapMB = 1024

func isEnvConfig(target, name string) bool {
	for _, e := range envConfigs {
		if e.target == target && e.name == name {
			return true
		}
	}
	return false
}

func generalConfigs(hadoop3 bool) []sahara.Config {
	g := func(name string, t sahara.ConfigType, def any, optional bool, desc string) sahara.Config {
		return sahara.Config{Name: name, Type: t, Default: def, Target: sahara.TargetGeneral, Scope: sahara.ScopeCluster, IsOptional: optional, Priority: 1, Description: desc}
	}
	out := []sahara.Config{}
	if !hadoop3 {
		out = append(out,
			g(CfgEnableSwift, sahara.ConfigBool, true, false, "Write the Swift file system settings into core-site.xml."),
			g(CfgEnableMySQL, sahara.ConfigBool, true, true, "Keep the Oozie and Hive metadata in the image's MySQL."))
	}
	return append(out,
		g(CfgDataNodesStartup, sahara.ConfigInt, 10800, true, "Seconds to wait for every DataNode to register at start."),
		g(CfgDataNodesDecommision, sahara.ConfigInt, 14400, true, "Seconds to wait for removed DataNodes to finish decommissioning."),
		g(CfgNodeManagersDecomm, sahara.ConfigInt, 300, true, "Seconds to wait for removed NodeManagers to finish decommissioning."))
}

func sparkConfigs(version string) []sahara.Config {
	s := func(name, def, desc string) sahara.Config {
		return sahara.Config{Name: name, Type: sahara.ConfigString, Default: def, Target: SvcSpark, Scope: sahara.ScopeCluster, IsOptional: true, Priority: 2, Description: desc}
	}
	jar := "/opt/hadoop/share/hadoop/tools/lib/hadoop-openstack-" + version + ".jar"
	return []sahara.Config{
		s("Spark home", "/opt/spark", "Where Spark is installed on the image."),
		s("Minimum cleanup seconds", "86400", "Job data younger than this is never purged."),
		s("Maximum cleanup seconds", "1209600", "Job data older than this is always purged."),
		s("Minimum cleanup megabytes", "4096", "Job data is purged only above this total size, in MiB."),
		s("Executor extra classpath", jar, "spark.executor.extraClassPath in spark-defaults.conf."),
	}
}

// zookeeperConfigs keep Sahara's quirk: type string with integer defaults.
func zookeeperConfigs() []sahara.Config {
	z := func(name string, def int, desc string) sahara.Config {
		return sahara.Config{Name: name, Type: sahara.ConfigString, Default: def, Target: SvcZooKeeper, Scope: sahara.ScopeCluster, IsOptional: true, Priority: 2, Description: desc}
	}
	return []sahara.Config{
		z("tickTime", 2000, "Length of a ZooKeeper tick, in milliseconds."),
		z("initLimit", 10, "Ticks a follower may take to connect and sync to the leader."),
		z("syncLimit", 5, "Ticks a follower may lag behind the leader."),
	}
}

var (
	configsMu    sync.Mutex
	configsCache = map[string][]sahara.Config{}
)

// allConfigs is get_configs(version), built once per version.
func allConfigs(version string) ([]sahara.Config, error) {
	l, err := lineOf(version)
	if err != nil {
		return nil, err
	}
	configsMu.Lock()
	defer configsMu.Unlock()
	if cs, ok := configsCache[version]; ok {
		return cs, nil
	}
	var cs []sahara.Config
	if l.hadoop3 {
		xml, err := xmlConfigs(V282)
		if err != nil {
			return nil, err
		}
		for _, c := range xml {
			if c.Priority == 1 && !hadoop1Names[c.Name] {
				cs = append(cs, c)
			}
		}
	} else {
		if cs, err = xmlConfigs(version); err != nil {
			return nil, err
		}
	}
	for _, e := range envConfigs {
		if l.hadoop3 && e.target == SvcJobFlow {
			continue
		}
		cs = append(cs, sahara.Config{Name: e.name, Type: sahara.ConfigInt, Default: defaultHeapMB, Target: e.target, Scope: sahara.ScopeNode, Priority: 1, Description: e.desc})
	}
	cs = append(cs, generalConfigs(l.hadoop3)...)
	if !l.hadoop3 {
		cs = append(cs, sparkConfigs(version)...)
	}
	cs = append(cs, zookeeperConfigs()...)
	configsCache[version] = cs
	return cs, nil
}

// xmlConfigs reads the embedded property list of a Sahara version and types
// it as Sahara's init_xml_configs does.
func xmlConfigs(version string) ([]sahara.Config, error) {
	raw, err := configData.ReadFile("resources/configs/" + version + ".tsv")
	if err != nil {
		return nil, fmt.Errorf("vanilla: no property list for %s: %w", version, err)
	}
	return hadoop.ReadProperties(raw, "vanilla: "+version+".tsv", hadoop.PropertyRules{
		ClusterWide: clusterWideConfs,
		Curated:     curated,
		Describe: func(c sahara.Config) string {
			return fmt.Sprintf("Hadoop property %s, written to %s when set.", c.Name, fileBase(xmlFile[c.Target]))
		},
	})
}

func fileBase(p string) string { return p[strings.LastIndexByte(p, '/')+1:] }

// IsSecretConfig implements sahara.SecretConfigMarker: the Hadoop
// properties Hadoop itself treats as sensitive, listed or not.
func (p *Plugin) IsSecretConfig(version, target, name string) bool {
	return xmlFile[target] != "" && hadoop.SensitiveProperty.MatchString(name)
}

// AcceptsConfig reports whether the plugin takes a config it does not list:
// any Hadoop property for core, HDFS, YARN or MapReduce is written through
// to its site file, except the ones the plugin computes itself.
func (p *Plugin) AcceptsConfig(version, target, name string) bool {
	cs, err := allConfigs(version)
	if err != nil {
		return false
	}
	if _, ok := sahara.FindConfig(cs, target, name); ok {
		return true
	}
	switch target {
	case SvcHadoop, SvcHDFS, SvcYARN, SvcMapReduce:
	default:
		return false
	}
	return validPropertyName(name) && !hiddenConfs[name]
}

func validPropertyName(name string) bool {
	if name == "" {
		return false
	}
	for _, r := range name {
		if r <= ' ' || r == 0x7f || strings.ContainsRune(`<>&"'`, r) {
			return false
		}
	}
	return true
}

// lookup reads config values as Sahara's get_config_value does.
var lookup = hadoop.Lookup{Plugin: Name, Configs: allConfigs}

func intConfig(c *sahara.Cluster, target, name string) (int, error) {
	return lookup.Int(c, target, name)
}

func boolConfig(c *sahara.Cluster, target, name string) (bool, error) {
	return lookup.Bool(c, target, name)
}

func clusterOption(c *sahara.Cluster, name string) (int, error) {
	return lookup.ClusterOption(c, name)
}

func setOf(xs ...string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}
