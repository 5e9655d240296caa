package vanilla

import (
	"bytes"
	"embed"
	"fmt"
	"sort"
	"strings"
	"text/template"

	"github.com/saharagen/terraform-provider-saharagen/plugins/internal/hadoop"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

//go:embed resources/*.tmpl
var tmplFS embed.FS

var templates = template.Must(template.New("").Funcs(template.FuncMap{"xml": hadoop.XMLEscape}).ParseFS(tmplFS, "resources/*.tmpl"))

func render(name string, data any) ([]byte, error) {
	var b bytes.Buffer
	if err := templates.ExecuteTemplate(&b, name, data); err != nil {
		return nil, fmt.Errorf("vanilla: rendering %s: %w", name, err)
	}
	return b.Bytes(), nil
}

// file is one file the plugin writes, in order.
type file struct {
	path string
	data []byte
	// secret: the file holds a secret config (mode 0640 from its first byte)
	secret bool
}

// hadoopDirs are an instance's HDFS and log directories on its storage.
type hadoopDirs struct {
	name, data              []string
	log, secureLog, yarnLog string
}

func dirsOf(in *sahara.Instance) (hadoopDirs, error) {
	paths := in.StoragePaths()
	var d hadoopDirs
	for _, p := range paths {
		if !plainPath(p) {
			return d, fmt.Errorf("%s: storage path %q: only absolute paths of letters, digits and \"/._-\" are supported", in.InstanceName, p)
		}
		d.name = append(d.name, p+"/hdfs/namenode")
		d.data = append(d.data, p+"/hdfs/datanode")
	}
	d.log = paths[0] + "/hadoop/logs"
	d.secureLog = paths[0] + "/hadoop/logs/secure"
	d.yarnLog = paths[0] + "/yarn/logs"
	return d, nil
}

// requiredConfigs are Sahara's computed values for one instance; they
// override the user's.
func requiredConfigs(c *sahara.Cluster, l *line, in *sahara.Instance, d hadoopDirs) (sahara.Configs, error) {
	nn := first(c, ProcNameNode)
	if nn == nil {
		return nil, fmt.Errorf("vanilla: cluster %s has no namenode instance", c.Name)
	}
	req := sahara.Configs{}
	req.Set(SvcHadoop, "fs.defaultFS", "hdfs://"+nn.Hostname()+":9000")
	req.Set(SvcHDFS, "dfs.namenode.name.dir", strings.Join(d.name, ","))
	req.Set(SvcHDFS, "dfs.datanode.data.dir", strings.Join(d.data, ","))
	req.Set(SvcHDFS, "dfs.hosts", hadoopConfDir+"/dn-include")
	req.Set(SvcHDFS, "dfs.hosts.exclude", hadoopConfDir+"/dn-exclude")
	if rm := first(c, ProcResourceManager); rm != nil {
		req.Set(SvcYARN, "yarn.nodemanager.aux-services", "mapreduce_shuffle")
		req.Set(SvcYARN, "yarn.resourcemanager.hostname", rm.Hostname())
		req.Set(SvcYARN, "yarn.resourcemanager.nodes.include-path", hadoopConfDir+"/nm-include")
		req.Set(SvcYARN, "yarn.resourcemanager.nodes.exclude-path", hadoopConfDir+"/nm-exclude")
		req.Set(SvcMapReduce, "mapreduce.framework.name", "yarn")
		if hs := first(c, ProcHistoryServer); hs != nil {
			req.Set(SvcMapReduce, "mapreduce.jobhistory.address", hs.Hostname()+":10020")
		}
		if l.hadoop3 {
			// Hadoop 3 no longer finds MapReduce's jars without these.
			for _, k := range []string{"yarn.app.mapreduce.am.env", "mapreduce.map.env", "mapreduce.reduce.env"} {
				req.Set(SvcMapReduce, k, "HADOOP_MAPRED_HOME=/opt/hadoop")
			}
		}
	}
	if !l.hadoop3 {
		swift, err := boolConfig(c, sahara.TargetGeneral, CfgEnableSwift)
		if err != nil {
			return nil, err
		}
		if swift {
			for k, v := range hadoop.SwiftConfigs(c) {
				req.Set(SvcHadoop, k, v)
			}
		}
	}
	return req, nil
}

// userConfigs splits the user's configs of a node group (cluster configs
// overlaid by node configs) into XML properties and env (heap) values, and
// returns the XML targets in Sahara's order: cluster targets, then targets
// only the node group sets. Sahara follows the order the user's JSON gave;
// Go maps have none, so each set is sorted by name.
func userConfigs(ng *sahara.NodeGroup) (xml sahara.Configs, env sahara.Configs, order []string) {
	xml, env = sahara.Configs{}, sahara.Configs{}
	seen := map[string]bool{}
	for _, set := range []sahara.Configs{ng.Cluster().ClusterConfigs, ng.NodeConfigs} {
		targets := make([]string, 0, len(set))
		for t := range set {
			targets = append(targets, t)
		}
		sort.Strings(targets)
		for _, t := range targets {
			for k, v := range set[t] {
				if v == nil {
					continue
				}
				if isEnvConfig(t, k) {
					env.Set(t, k, v)
					continue
				}
				xml.Set(t, k, v)
				if !seen[t] {
					seen[t] = true
					order = append(order, t)
				}
			}
		}
	}
	return xml, env, order
}

// siteFiles are the site files of one instance, in the order Sahara writes them.
func siteFiles(c *sahara.Cluster, l *line, in *sahara.Instance, d hadoopDirs) ([]file, error) {
	req, err := requiredConfigs(c, l, in, d)
	if err != nil {
		return nil, err
	}
	userXML, _, order := userConfigs(in.NodeGroup())
	merged := sahara.MergeConfigs(userXML, req)
	seen := setOf(order...)
	for _, t := range []string{SvcHadoop, SvcHDFS, SvcYARN, SvcMapReduce, SvcJobFlow, SvcHive} {
		if _, ok := req[t]; ok && !seen[t] {
			order = append(order, t)
			seen[t] = true
		}
	}
	var out []file
	for _, t := range order {
		path, ok := xmlFile[t]
		if !ok {
			continue // general, Spark, ZooKeeper: no site file
		}
		props := map[string]string{}
		for k, v := range merged[t] {
			props[k] = sahara.AsString(v)
		}
		data, err := hadoop.SiteXML(props)
		if err != nil {
			return nil, err
		}
		out = append(out, file{path: path, data: data, secret: holdsSecret(c, t)})
	}
	return out, nil
}

// holdsSecret tells whether the site file of target gets a secret config.
func holdsSecret(c *sahara.Cluster, target string) bool {
	for _, k := range c.SecretConfigKeys {
		if k.Target == target {
			return true
		}
	}
	return false
}

// heapSizes are the env values of a node group: plugin defaults, cluster
// values, node group values.
func heapSizes(ng *sahara.NodeGroup) (map[string]int, error) {
	_, env, _ := userConfigs(ng)
	out := map[string]int{}
	for _, e := range envConfigs {
		out[e.name] = defaultHeapMB
		if v, ok := env.Get(e.target, e.name); ok {
			n, err := sahara.AsInt(v)
			if err != nil {
				return nil, sahara.InvalidData(fmt.Sprintf("Node group %s: config %q (%s): %v", ng.Name, e.name, e.target, err)).At(sahara.ConfigField(ng, e.target, e.name))
			}
			out[e.name] = n
		}
	}
	return out, nil
}

func postConfScript(l *line, d hadoopDirs) ([]byte, error) {
	all := append(append(append([]string{}, d.name...), d.data...), d.log, d.secureLog, d.yarnLog)
	quoted, err := sahara.ShellJoin(all...)
	if err != nil {
		return nil, err
	}
	return render("post_conf.sh.tmpl", map[string]any{
		"ConfDir": hadoopConfDir, "OozieConfDir": oozieConfDir, "Dirs": quoted,
		"LogDir": d.log, "SecureLogDir": d.secureLog, "YarnLogDir": d.yarnLog, "Hadoop3": l.hadoop3,
	})
}

// first is Sahara's get_instance: the first instance running proc, or nil.
func first(c *sahara.Cluster, proc string) *sahara.Instance {
	if ins := c.InstancesWithProcess(proc); len(ins) > 0 {
		return ins[0]
	}
	return nil
}
