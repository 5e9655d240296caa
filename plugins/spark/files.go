package spark

import (
	"bytes"
	_ "embed"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"text/template"

	"github.com/saharagen/terraform-provider-saharagen/plugins/internal/hadoop"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// Paths on the instances (the layout of Sahara's Spark images: CDH's HDFS
// packages, Spark under "Spark home").
const (
	hadoopConfDir = "/etc/hadoop/conf"
	dnIncl        = "/etc/hadoop/dn.incl"
	dnExcl        = "/etc/hadoop/dn.excl"
	cleanupScript = "/etc/hadoop/tmp-cleanup.sh"
	initScript    = "/tmp/sahara-hadoop-init.sh"
)

var (
	//go:embed resources/tmp-cleanup.sh.tmpl
	cleanupTmplText string
	//go:embed resources/spark-cleanup.cron
	cleanupCron string

	cleanupTmpl = template.Must(template.New("tmp-cleanup.sh").Parse(cleanupTmplText))
)

// file is one file the plugin writes.
type file struct {
	path string
	data []byte
}

func toFiles(fs []file) []sahara.File {
	out := make([]sahara.File, len(fs))
	for i, f := range fs {
		out[i] = sahara.File{Path: f.path, Data: f.data}
	}
	return out
}

// sparkFiles are spark-env.sh, slaves and spark-defaults.conf, the same on
// every instance (Sahara's sp_master, sp_slaves, sp_defaults).
type sparkFiles struct {
	home, workersFile     string
	env, slaves, defaults []byte
}

func (s sparkFiles) list() []file {
	return []file{
		{s.home + "/conf/spark-env.sh", s.env},
		{s.slavesPath(), s.slaves},
		{s.home + "/conf/spark-defaults.conf", s.defaults},
	}
}

// slavesPath is conf/slaves (conf/workers from Spark 3).
func (s sparkFiles) slavesPath() string { return s.home + "/conf/" + s.workersFile }

var hostnameRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$`)

// hostnames are the instances' host names, refused unless plain DNS names
// (they go into spark-env.sh, which bash sources, and into host lists).
func hostnames(ins []*sahara.Instance, fqdn bool) ([]string, error) {
	out := make([]string, len(ins))
	for i, in := range ins {
		out[i] = in.Hostname()
		if fqdn {
			out[i] = in.FQDN()
		}
		if !hostnameRE.MatchString(out[i]) {
			return nil, fmt.Errorf("spark: instance %s: host name %q is not a plain DNS name", in.InstanceName, out[i])
		}
	}
	return out, nil
}

// renderSpark is Sahara's _extract_configs_to_extra for the Spark files,
// with slaves the slave instances listed.
func renderSpark(c *sahara.Cluster, slaves []*sahara.Instance) (sparkFiles, error) {
	var s sparkFiles
	l, err := lineOf(c.PluginVersion)
	if err != nil {
		return s, err
	}
	s.workersFile = l.workersFile
	if s.home, err = stringConfig(c, SvcSpark, CfgSparkHome); err != nil {
		return s, err
	}
	master := first(c, ProcMaster)
	if master == nil {
		return s, fmt.Errorf("spark: cluster %s has no master instance", c.Name)
	}
	mh, err := hostnames([]*sahara.Instance{master}, false)
	if err != nil {
		return s, err
	}
	env := []string{l.masterEnv + "=" + mh[0], "HADOOP_CONF_DIR=" + hadoopConfDir}
	// Sahara writes an option when it is set (truthy) and differs from its
	// default string: a JSON number equal to the default differs (7077 is
	// not "7077" in Python) and is written.
	for _, o := range []struct{ name, env string }{
		{CfgMasterPort, "SPARK_MASTER_PORT"}, {CfgMasterWebUIPort, "SPARK_MASTER_WEBUI_PORT"},
		{CfgWorkerCores, "SPARK_WORKER_CORES"}, {CfgWorkerMemory, "SPARK_WORKER_MEMORY"},
		{CfgWorkerPort, "SPARK_WORKER_PORT"}, {CfgWorkerWebUIPort, "SPARK_WORKER_WEBUI_PORT"},
		{CfgWorkerInstances, "SPARK_WORKER_INSTANCES"},
	} {
		v, ok := rawConfig(c, SvcSpark, o.name)
		if !ok || !truthy(v) {
			continue
		}
		if str, isStr := v.(string); isStr && str == defaultOf(o.name, "") {
			continue
		}
		env = append(env, o.env+"="+hadoop.PyStr(v))
	}
	s.env = []byte(strings.Join(env, "\n"))
	names, err := hostnames(slaves, false)
	if err != nil {
		return s, err
	}
	s.slaves = []byte(strings.Join(names, "\n"))
	cp, err := stringConfig(c, SvcSpark, CfgExecutorClasspath)
	if err != nil {
		return s, err
	}
	s.defaults = []byte("\n")
	if cp != "" {
		s.defaults = []byte("spark.executor.extraClassPath " + cp)
	}
	return s, nil
}

// rawConfig is the value of a config as the user gave it, found as
// Sahara's get_config_value_or_default finds it (the first node group
// whose configuration sets it); ok false when nobody set it.
func rawConfig(c *sahara.Cluster, target, name string) (any, bool) {
	for _, ng := range c.NodeGroups {
		if v, ok := ng.Configuration().Get(target, name); ok {
			return v, true
		}
	}
	return nil, false
}

// truthy is Python's truth of a JSON value.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case string:
		return x != ""
	case bool:
		return x
	case float64:
		return x != 0
	case int:
		return x != 0
	}
	return true
}

// defaultOf is the default of a Spark option (otherwise when unknown).
func defaultOf(name, otherwise string) string {
	for _, o := range sparkOptions {
		if o.name == name {
			return o.def
		}
	}
	return otherwise
}

// storagePaths are an instance's storage paths, refused unless plain.
func storagePaths(in *sahara.Instance) ([]string, error) {
	paths := in.StoragePaths()
	for _, p := range paths {
		if !plainPathRE.MatchString(p) {
			return nil, fmt.Errorf("%s: storage path %q: only absolute paths of letters, digits and \"/._-\" are supported", in.InstanceName, p)
		}
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("%s: no storage path", in.InstanceName)
	}
	return paths, nil
}

func suffixed(paths []string, suffix string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = p + suffix
	}
	return out
}

// siteFiles are core-site.xml and hdfs-site.xml of an instance (Sahara's
// generate_xml_configs): the computed values, overridden by the user's HDFS
// configs, then the Swift settings the user did not set.
func siteFiles(c *sahara.Cluster, in *sahara.Instance, paths []string) ([]file, error) {
	nn := first(c, ProcNameNode)
	if nn == nil {
		return nil, fmt.Errorf("spark: cluster %s has no namenode instance", c.Name)
	}
	cfg := map[string]string{
		"fs.defaultFS":          "hdfs://" + nn.Hostname() + ":8020",
		"dfs.namenode.name.dir": strings.Join(suffixed(paths, "/dfs/nn"), ","),
		"dfs.datanode.data.dir": strings.Join(suffixed(paths, "/dfs/dn"), ","),
		"dfs.hosts":             dnIncl,
		"dfs.hosts.exclude":     dnExcl,
	}
	l, err := lineOf(c.PluginVersion)
	if err != nil {
		return nil, err
	}
	cs, err := allConfigs(c.PluginVersion)
	if err != nil {
		return nil, err
	}
	conf := in.NodeGroup().Configuration()
	for name, v := range conf[SvcHDFS] {
		if _, known := sahara.FindConfig(cs, SvcHDFS, name); known && v != nil && !isEnvConfig(name) {
			cfg[name] = hadoop.PyStr(v)
		}
	}
	swift := !l.spark3 // Hadoop 3.3.5 removed the Swift file system
	if v, ok := conf.Get(sahara.TargetGeneral, CfgEnableSwift); ok && swift {
		if swift, err = sahara.AsBool(v); err != nil {
			return nil, sahara.InvalidData(fmt.Sprintf("Node group %s: config %q: %v", in.NodeGroup().Name, CfgEnableSwift, err)).At(sahara.ConfigField(in.NodeGroup(), sahara.TargetGeneral, CfgEnableSwift))
		}
	}
	if swift {
		for k, v := range hadoop.SwiftConfigs(c) {
			if _, set := cfg[k]; !set {
				cfg[k] = v
			}
		}
	}
	core, hdfs := map[string]string{}, map[string]string{}
	for k, v := range cfg {
		if siteFileOf(k) == "hdfs-site.xml" {
			hdfs[k] = v
		} else {
			core[k] = v
		}
	}
	coreXML, err := hadoop.SiteXML(core)
	if err != nil {
		return nil, err
	}
	hdfsXML, err := hadoop.SiteXML(hdfs)
	if err != nil {
		return nil, err
	}
	return []file{{hadoopConfDir + "/core-site.xml", coreXML}, {hadoopConfDir + "/hdfs-site.xml", hdfsXML}}, nil
}

func isEnvConfig(name string) bool { return name == CfgNameNodeHeap || name == CfgDataNodeHeap }

// setupScript is Sahara's generate_hadoop_setup_script: the heap sizes the
// user set (in a fixed order: NameNode, DataNode), the log directories on
// the first storage path, ownership of the storage paths.
func setupScript(l *line, ng *sahara.NodeGroup, paths []string) ([]byte, error) {
	lines := []string{"#!/bin/bash -x", "echo -n > /tmp/hadoop-env.sh"}
	conf := ng.Configuration()
	for _, h := range []struct{ name, env string }{{CfgNameNodeHeap, l.nnOpts}, {CfgDataNodeHeap, l.dnOpts}} {
		v, ok := conf.Get(SvcHDFS, h.name)
		if !ok || v == nil {
			continue
		}
		n, err := sahara.AsInt(v)
		if err != nil {
			return nil, sahara.InvalidData(fmt.Sprintf("Node group %s: config %q (%s): %v", ng.Name, h.name, SvcHDFS, err)).At(sahara.ConfigField(ng, SvcHDFS, h.name))
		}
		lines = append(lines, fmt.Sprintf(`echo "%s=\"-Xmx%dm\"" >> /tmp/hadoop-env.sh`, h.env, n))
	}
	lines = append(lines,
		"cat /etc/hadoop/hadoop-env.sh >> /tmp/hadoop-env.sh",
		"cp /tmp/hadoop-env.sh /etc/hadoop/hadoop-env.sh",
		`sed -i "s,export HADOOP_LOG_DIR=.*,export HADOOP_LOG_DIR=`+paths[0]+`/log/hadoop/\$USER/," /etc/hadoop/hadoop-env.sh`,
		`sed -i "s,export `+l.secureLogVar+`=.*,export `+l.secureLogVar+`=`+paths[0]+`/log/hadoop/hdfs," /etc/hadoop/hadoop-env.sh`)
	for _, p := range paths {
		lines = append(lines, "chown -R hadoop:hadoop "+p, "chmod -f -R 755 "+p+" ||echo 'Permissions unchanged'")
	}
	return []byte(strings.Join(lines, "\n")), nil
}

// cleanupJob is Sahara's generate_job_cleanup_config: the script and cron
// line when all three cleanup options are positive integers (ok false:
// the job is removed instead).
func cleanupJob(c *sahara.Cluster) (script []byte, ok bool, err error) {
	vals := map[string]int{}
	for _, name := range []string{CfgMinCleanupMB, CfgMinCleanupSeconds, CfgMaxCleanupSeconds} {
		s, err := stringConfig(c, SvcSpark, name)
		if err != nil {
			return nil, false, err
		}
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			return nil, false, nil
		}
		vals[name] = n
	}
	var b bytes.Buffer
	err = cleanupTmpl.Execute(&b, map[string]int{"MinMB": vals[CfgMinCleanupMB], "MinSeconds": vals[CfgMinCleanupSeconds], "MaxSeconds": vals[CfgMaxCleanupSeconds]})
	return b.Bytes(), err == nil, err
}

// first is Sahara's get_instance: the first instance running proc, or nil.
func first(c *sahara.Cluster, proc string) *sahara.Instance {
	if ins := c.InstancesWithProcess(proc); len(ins) > 0 {
		return ins[0]
	}
	return nil
}
