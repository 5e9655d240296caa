package cdh

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// General configs (target "general", cluster scope).
const (
	CfgCDHRepoURL        = "CDH5 repo list URL"
	CfgCDHRepoKeyURL     = "CDH5 repo key URL (for debian-based only)"
	CfgCMRepoURL         = "CM5 repo list URL"
	CfgCMRepoKeyURL      = "CM5 repo key URL (for debian-based only)"
	CfgEnableSwift       = "Enable Swift"
	CfgSwiftLibURL       = "Hadoop OpenStack library URL"
	CfgHBaseCommonLib    = "Enable HBase Common Lib"
	CfgExtJSLibURL       = "ExtJS library URL"
	CfgManagerTimeout    = "Timeout for Cloudera Manager starting"
	CfgAgentsTimeout     = "Await Cloudera agents timeout"
	CfgExecutorClasspath = "Executor extra classpath"
	CfgKMSRepoURL        = "KMS repo list URL"
	CfgKMSRepoKeyURL     = "KMS repo key URL (for debian-based only)"
	CfgRequireAntiAff    = "Require Anti Affinity"
)

// Service and role config names the plugin reads.
const (
	svcHDFS           = "HDFS"
	roleDataNode      = "DATANODE"
	cfgReplication    = "dfs_replication"
	cfgDuReserved     = "dfs_datanode_du_reserved"
	targetKerberos    = "Kerberos"
	cfgEnableKerberos = "Enable Kerberos Security"
	targetSpark       = "Spark"
	gibibyte          = 1 << 30
	manageCfgPrefix   = "Cloudera Manager setting"
)

// generalDescriptions are the project's descriptions of the configs
// Sahara's plugin defines itself (the Cloudera Manager settings are
// described by Cloudera Manager; only their names and defaults are kept).
var generalDescriptions = map[string]string{
	CfgCDHRepoURL:              "URL of an apt or yum list file naming a CDH 5 package repository the instances can reach. saharagen needs it (or the CM5 one) to create a cluster: see the plugin documentation.",
	CfgCDHRepoKeyURL:           "URL of the signing key of the CDH 5 apt repository (Debian-based images).",
	CfgCMRepoURL:               "URL of an apt or yum list file naming a Cloudera Manager 5 package repository the instances can reach. saharagen needs it (or the CDH5 one) to create a cluster: see the plugin documentation.",
	CfgCMRepoKeyURL:            "URL of the signing key of the Cloudera Manager 5 apt repository (Debian-based images).",
	CfgEnableSwift:             "Let Hadoop read and write Swift objects (swift:// URLs).",
	CfgSwiftLibURL:             "Where the instances download the Hadoop OpenStack (Swift) library from.",
	CfgHBaseCommonLib:          "Put the HBase libraries into HDFS for Oozie jobs.",
	CfgExtJSLibURL:             "Where the Oozie server downloads the Ext JS 2.2 library of its web console from.",
	CfgManagerTimeout:          "Seconds to wait for Cloudera Manager to answer after it starts.",
	CfgAgentsTimeout:           "Seconds to wait for the Cloudera Manager agents of all instances to register.",
	CfgExecutorClasspath:       "spark.executor.extraClassPath of spark-defaults.conf.",
	CfgKMSRepoURL:              "URL of an apt or yum list file naming the Key Trustee KMS repository.",
	CfgKMSRepoKeyURL:           "URL of the signing key of the Key Trustee KMS apt repository (Debian-based images).",
	CfgRequireAntiAff:          "Require HDFS and YARN high availability masters to be in anti_affinity.",
	"Enable Kerberos Security": "Secure the cluster with Kerberos.",
	"Existing KDC":             "Use an existing KDC instead of one on the manager instance.",
	"Server IP of KDC":         "Address of the existing KDC.",
	"Realm Name":               "Kerberos realm of the cluster.",
	"Admin principal":          "Admin principal of the existing KDC.",
	"Admin password":           "Password of the admin principal of the existing KDC.",
	"JCE libraries":            "Where the instances download the JCE unlimited strength policy files from.",
}

//go:embed resources/configs/*.tsv.gz
var configData embed.FS

var (
	configsMu    sync.Mutex
	configsCache = map[string][]sahara.Config{}
)

// allConfigs returns Sahara's configs of a version, in its order
// (resources/configs/<version>.tsv.gz, made by plugins/internal/confgen).
// The result is shared: callers copy it before changing it.
func allConfigs(version string) ([]sahara.Config, error) {
	if err := checkVersion(version); err != nil {
		return nil, err
	}
	configsMu.Lock()
	defer configsMu.Unlock()
	if cs, ok := configsCache[version]; ok {
		return cs, nil
	}
	raw, err := configData.ReadFile("resources/configs/" + version + ".tsv.gz")
	if err != nil {
		return nil, err
	}
	cs, err := parseConfigs(raw)
	if err != nil {
		return nil, fmt.Errorf("cdh plugin: configs of %s: %w", version, err)
	}
	configsCache[version] = cs
	return cs, nil
}

func parseConfigs(gz []byte) ([]sahara.Config, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, err
	}
	text, err := io.ReadAll(zr)
	if err != nil {
		return nil, err
	}
	var out []sahara.Config
	sc := bufio.NewScanner(bytes.NewReader(text))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 7 {
			return nil, fmt.Errorf("bad line %q", line)
		}
		optional, err1 := strconv.ParseBool(f[3])
		priority, err2 := strconv.Atoi(f[4])
		var name string
		var def any
		err3 := json.Unmarshal([]byte(f[5]), &name)
		err4 := json.Unmarshal([]byte(f[6]), &def)
		if n, ok := def.(float64); ok && n == float64(int(n)) {
			def = int(n)
		}
		if e := firstErr(err1, err2, err3, err4); e != nil {
			return nil, fmt.Errorf("line %q: %w", line, e)
		}
		desc, own := generalDescriptions[name]
		if !own || (f[0] != sahara.TargetGeneral && f[0] != targetKerberos && f[0] != targetSpark) {
			desc = fmt.Sprintf("%s %s of %s.", manageCfgPrefix, name, f[0])
		}
		out = append(out, sahara.Config{
			Name: name, Target: f[0], Scope: f[1], Type: sahara.ConfigType(f[2]),
			IsOptional: optional, Priority: priority, Default: def, Description: desc,
			Secret: name == "Admin password",
		})
	}
	return out, sc.Err()
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// Configs implements sahara.Plugin (get_configs).
func (p *Plugin) Configs(version string) ([]sahara.Config, error) {
	cs, err := allConfigs(version)
	if err != nil {
		return nil, err
	}
	return append([]sahara.Config(nil), cs...), nil
}

// configValue is Sahara's PluginUtils.get_config_value: the cluster's
// configs, then each node group's in order (the first that sets it), then
// the default. The where field names who set it.
func configValue(c *sahara.Cluster, target, name string) (any, sahara.Field, error) {
	if v, ok := c.ClusterConfigs.Get(target, name); ok {
		return v, sahara.Field{Attribute: "cluster_configs"}, nil
	}
	for _, ng := range c.NodeGroups {
		if v, ok := ng.NodeConfigs.Get(target, name); ok {
			return v, sahara.Field{NodeGroup: ng.Name, Attribute: "node_configs"}, nil
		}
	}
	cs, err := allConfigs(c.PluginVersion)
	if err != nil {
		return nil, sahara.Field{}, err
	}
	if cfg, ok := sahara.FindConfig(cs, target, name); ok {
		return cfg.Default, sahara.Field{}, nil
	}
	return nil, sahara.Field{}, fmt.Errorf("cdh plugin: no config %s/%s", target, name)
}

// numberConfig reads a numeric config as Sahara's transform_to_num does;
// a value that is no number is refused (Sahara compares it with a count
// and crashes).
func numberConfig(c *sahara.Cluster, target, name string) (float64, error) {
	v, field, err := configValue(c, target, name)
	if err != nil {
		return 0, err
	}
	switch x := v.(type) {
	case int:
		return float64(x), nil
	case float64:
		return x, nil
	case string:
		if f, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil {
			return f, nil
		}
	}
	return 0, sahara.InvalidData(fmt.Sprintf("%s config %q is %v: a number is needed", target, name, v)).At(field)
}

// generalValue is a general config: the cluster's value or the default
// (Sahara's ConfigHelper._get_config_value).
func generalValue(c *sahara.Cluster, name string) any {
	if v, ok := c.ClusterConfigs.Get(sahara.TargetGeneral, name); ok {
		return v
	}
	cs, err := allConfigs(c.PluginVersion)
	if err != nil {
		return nil
	}
	cfg, _ := sahara.FindConfig(cs, sahara.TargetGeneral, name)
	return cfg.Default
}
