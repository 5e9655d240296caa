package ambari

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/saharagen/terraform-provider-saharagen/plugins/internal/hadoop"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// components are the Ambari components of each process (Sahara's PROC_MAP).
var components = map[string][]string{
	ProcAmbari:            {"METRICS_COLLECTOR"},
	ProcTimelineServer:    {"APP_TIMELINE_SERVER"},
	ProcDataNode:          {"DATANODE"},
	ProcDRPCServer:        {"DRPC_SERVER"},
	ProcFalconServer:      {"FALCON_SERVER"},
	ProcHBaseMaster:       {"HBASE_MASTER"},
	ProcHBaseRegionServer: {"HBASE_REGIONSERVER"},
	ProcHistoryServer:     {"HISTORYSERVER"},
	ProcHiveMetastore:     {"HIVE_METASTORE"},
	ProcHiveServer:        {"HIVE_SERVER", "MYSQL_SERVER", "WEBHCAT_SERVER"},
	ProcKafkaBroker:       {"KAFKA_BROKER"},
	ProcKnoxGateway:       {"KNOX_GATEWAY"},
	ProcNameNode:          {"NAMENODE"},
	ProcNimbus:            {"NIMBUS"},
	ProcNodeManager:       {"NODEMANAGER"},
	ProcOozie:             {"OOZIE_SERVER", "PIG"},
	ProcRangerAdmin:       {"RANGER_ADMIN"},
	ProcRangerUsersync:    {"RANGER_USERSYNC"},
	ProcResourceManager:   {"RESOURCEMANAGER"},
	ProcSecondaryNameNode: {"SECONDARY_NAMENODE"},
	ProcSlider:            {"SLIDER"},
	ProcSparkHistory:      {"SPARK_JOBHISTORYSERVER"},
	ProcSqoop:             {"SQOOP"},
	ProcStormUI:           {"STORM_UI_SERVER"},
	ProcSupervisor:        {"SUPERVISOR"},
	ProcZooKeeper:         {"ZOOKEEPER_SERVER"},
	ProcJournalNode:       {"JOURNALNODE"},
}

// clientComponents are the client components each process brings to every
// host (Sahara's CLIENT_MAP).
var clientComponents = map[string][]string{
	ProcTimelineServer:    {"MAPREDUCE2_CLIENT", "YARN_CLIENT"},
	ProcDataNode:          {"HDFS_CLIENT"},
	ProcFalconServer:      {"FALCON_CLIENT"},
	ProcFlume:             {"FLUME_HANDLER"},
	ProcHBaseMaster:       {"HBASE_CLIENT"},
	ProcHBaseRegionServer: {"HBASE_CLIENT"},
	ProcHistoryServer:     {"MAPREDUCE2_CLIENT", "YARN_CLIENT"},
	ProcHiveMetastore:     {"HIVE_CLIENT"},
	ProcHiveServer:        {"HIVE_CLIENT"},
	ProcNameNode:          {"HDFS_CLIENT"},
	ProcNodeManager:       {"MAPREDUCE2_CLIENT", "YARN_CLIENT"},
	ProcOozie:             {"OOZIE_CLIENT", "TEZ_CLIENT"},
	ProcResourceManager:   {"MAPREDUCE2_CLIENT", "YARN_CLIENT"},
	ProcSecondaryNameNode: {"HDFS_CLIENT"},
	ProcSparkHistory:      {"SPARK_CLIENT"},
	ProcZooKeeper:         {"ZOOKEEPER_CLIENT"},
}

// everywhere are the components on every host (Sahara's ALL_LIST).
var everywhere = []string{"METRICS_MONITOR"}

// groupComponents are a node group's own components.
func groupComponents(ng *sahara.NodeGroup) []string {
	var out []string
	for _, proc := range ng.NodeProcesses {
		out = append(out, components[proc]...)
	}
	return out
}

// clients are the cluster's client components, sorted (Sahara goes through
// a set, so its order is arbitrary), then METRICS_MONITOR.
func clients(c *sahara.Cluster) []string {
	seen := map[string]bool{}
	var out []string
	for _, ng := range c.NodeGroups {
		for _, proc := range ng.NodeProcesses {
			for _, cl := range clientComponents[proc] {
				if !seen[cl] {
					seen[cl] = true
					out = append(out, cl)
				}
			}
		}
	}
	sort.Strings(out)
	return append(out, everywhere...)
}

// configSet is an ordered list of Ambari config types with their
// properties; it renders as Ambari's [{type: {property: value}}, …].
type configSet struct {
	types []string
	props map[string]map[string]any
}

func (s *configSet) section(typ string) map[string]any {
	if s.props == nil {
		s.props = map[string]map[string]any{}
	}
	if s.props[typ] == nil {
		s.types = append(s.types, typ)
		s.props[typ] = map[string]any{}
	}
	return s.props[typ]
}

func (s *configSet) render() []map[string]map[string]any {
	out := make([]map[string]map[string]any, 0, len(s.types))
	for _, t := range s.types {
		out = append(out, map[string]map[string]any{t: s.props[t]})
	}
	return out
}

// primarySite is where a service's property goes when the stack does not
// list it (AcceptsConfig).
var primarySite = map[string]string{
	SvcHDFS: "hdfs-site", SvcYARN: "yarn-site", SvcHive: "hive-site", SvcHBase: "hbase-site",
	SvcOozie: "oozie-site", SvcStorm: "storm-site", SvcSpark: "spark-defaults", SvcKafka: "kafka-broker",
	SvcZooKeeper: "zoo.cfg",
}

// userConfigs maps user configs (target → name → value) to Ambari config
// types, targets and names sorted; general and Kerberos configs are
// Sahara's, not Ambari's. A property the stack does not list goes to its
// service's primary site file (Sahara: to a config type "null", which
// Ambari refuses).
func userConfigs(s *stack, set *configSet, cs sahara.Configs) {
	targets := make([]string, 0, len(cs))
	for t := range cs {
		targets = append(targets, t)
	}
	sort.Strings(targets)
	for _, target := range targets {
		if target == sahara.TargetGeneral || target == SvcKerberos {
			continue
		}
		names := make([]string, 0, len(cs[target]))
		for n := range cs[target] {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, name := range names {
			v := cs[target][name]
			if v == nil {
				continue
			}
			typ := s.configType(target, name)
			if typ == "" {
				typ = primarySite[target]
			}
			if typ == "" {
				continue
			}
			set.section(typ)[name] = v
		}
	}
}

func paths(dirs []string, suffix string) string {
	out := make([]string, len(dirs))
	for i, d := range dirs {
		out[i] = d + suffix
	}
	return strings.Join(out, ",")
}

// instanceConfigs are an instance's Ambari configs: its node group's
// configs, then its storage directories (Sahara's get_instance_params).
func instanceConfigs(s *stack, in *sahara.Instance) *configSet {
	set := &configSet{}
	userConfigs(s, set, in.NodeGroup().NodeConfigs)
	dirs := in.StoragePaths()
	hdfs := set.section("hdfs-site")
	hdfs["dfs.datanode.data.dir"] = paths(dirs, "/hdfs/data")
	hdfs["dfs.journalnode.edits.dir"] = paths(dirs, "/hdfs/journalnode")
	hdfs["dfs.namenode.checkpoint.dir"] = paths(dirs, "/hdfs/namesecondary")
	hdfs["dfs.namenode.name.dir"] = paths(dirs, "/hdfs/namenode")
	yarn := set.section("yarn-site")
	yarn["yarn.nodemanager.local-dirs"] = paths(dirs, "/yarn/local")
	yarn["yarn.nodemanager.log-dirs"] = paths(dirs, "/yarn/log")
	yarn["yarn.timeline-service.leveldb-timeline-store.path"] = paths(dirs, "/yarn/timeline")
	set.section("oozie-site")["oozie.service.AuthorizationService.security.enabled"] = "false"
	return set
}

// clusterConfigs are the cluster-wide Ambari configs: the user's, the
// Swift settings, the Ranger database password.
func clusterConfigs(s *stack, c *sahara.Cluster) *configSet {
	set := &configSet{}
	userConfigs(s, set, c.ClusterConfigs)
	core := set.section("core-site")
	for k, v := range hadoop.SwiftConfigs(c) {
		core[k] = v
	}
	if len(c.InstancesWithProcess(ProcRangerAdmin)) > 0 {
		set.section("admin-properties")["db_root_password"] = c.Secrets[secretRangerDB]
	}
	return set
}

// blueprint is Ambari's blueprint of the cluster: one host group per
// instance, named after it.
func blueprint(c *sahara.Cluster, nnHA, rmHA, rsHA bool) (map[string]any, error) {
	s, err := stackOf(c.PluginVersion)
	if err != nil {
		return nil, err
	}
	cl := clients(c)
	var groups []map[string]any
	for _, ng := range c.NodeGroups {
		comps := append(groupComponents(ng), cl...)
		for _, in := range ng.Instances {
			list := make([]map[string]string, 0, len(comps)+1)
			for _, name := range comps {
				list = append(list, map[string]string{"name": name})
			}
			if nnHA && slices.Contains(comps, "NAMENODE") {
				list = append(list, map[string]string{"name": "ZKFC"})
			}
			groups = append(groups, map[string]any{"name": in.InstanceName, "configurations": instanceConfigs(s, in).render(), "components": list})
		}
	}
	conf := clusterConfigs(s, c)
	if nnHA || rmHA || rsHA {
		haCommon(c, conf, nnHA)
	}
	if nnHA {
		namenodeHA(c, conf)
	}
	if rmHA {
		resourceManagerHA(c, conf, nnHA)
	}
	if rsHA {
		regionServerHA(c, conf)
	}
	return map[string]any{
		"Blueprints":     map[string]string{"stack_name": "HDP", "stack_version": c.PluginVersion},
		"host_groups":    groups,
		"configurations": conf.render(),
	}, nil
}

func fqdns(ins []*sahara.Instance, suffix, sep string) string {
	out := make([]string, len(ins))
	for i, in := range ins {
		out[i] = in.FQDN() + suffix
	}
	return strings.Join(out, sep)
}

func names(ins []*sahara.Instance) string {
	out := make([]string, len(ins))
	for i, in := range ins {
		out[i] = in.InstanceName
	}
	return strings.Join(out, ",")
}

// haCommon is Sahara's update_bp_ha_common.
func haCommon(c *sahara.Cluster, conf *configSet, nnHA bool) {
	if nnHA {
		conf.section("core-site")["fs.defaultFS"] = "hdfs://hdfs-ha"
	}
	conf.section("zoo.cfg")["tickTime"] = "10000"
}

// namenodeHA is Sahara's update_bp_for_namenode_ha (ZKFC is added with the
// host groups).
func namenodeHA(c *sahara.Cluster, conf *configSet) {
	conf.section("core-site")["ha.zookeeper.quorum"] = fqdns(c.InstancesWithProcess(ProcZooKeeper), ":2181", ",")
	p := conf.section("hdfs-site")
	p["dfs.client.failover.proxy.provider.hdfs-ha"] = "org.apache.hadoop.hdfs.server.namenode.ha.ConfiguredFailoverProxyProvider"
	p["dfs.ha.automatic-failover.enabled"] = "true"
	p["dfs.ha.fencing.methods"] = "shell(/bin/true)"
	p["dfs.nameservices"] = "hdfs-ha"
	p["dfs.namenode.shared.edits.dir"] = "qjournal://" + fqdns(c.InstancesWithProcess(ProcJournalNode), ":8485", ";") + "/hdfs-ha"
	nns := c.InstancesWithProcess(ProcNameNode)
	p["dfs.ha.namenodes.hdfs-ha"] = names(nns)
	p["dfs.namenode.http-address"] = nns[0].FQDN() + ":50070"
	p["dfs.namenode.https-address"] = nns[0].FQDN() + ":50470"
	for _, in := range nns {
		p["dfs.namenode.http-address.hdfs-ha."+in.InstanceName] = in.FQDN() + ":50070"
		p["dfs.namenode.https-address.hdfs-ha."+in.InstanceName] = in.FQDN() + ":50470"
		p["dfs.namenode.rpc-address.hdfs-ha."+in.InstanceName] = in.FQDN() + ":8020"
	}
}

// resourceManagerHA is Sahara's update_bp_for_resourcemanager_ha, but with
// NameNode HA it leaves fs.defaultFS at the HA name service (Sahara
// overwrites it with the first NameNode's address).
func resourceManagerHA(c *sahara.Cluster, conf *configSet, nnHA bool) {
	p := conf.section("yarn-site")
	rms := c.InstancesWithProcess(ProcResourceManager)
	zks := fqdns(c.InstancesWithProcess(ProcZooKeeper), ":2181", ",")
	first := rms[0].FQDN()
	p["hadoop.registry.rm.enabled"] = "false"
	p["yarn.resourcemanager.zk-address"] = zks
	if hs := c.InstancesWithProcess(ProcHistoryServer); len(hs) > 0 {
		p["yarn.log.server.url"] = hs[0].FQDN() + ":19888/jobhistory/logs/"
	}
	p["yarn.resourcemanager.address"] = first + ":8050"
	p["yarn.resourcemanager.admin.address"] = first + ":8141"
	p["yarn.resourcemanager.cluster-id"] = c.Name
	p["yarn.resourcemanager.ha.automatic-failover.zk-base-path"] = "/yarn-leader-election"
	p["yarn.resourcemanager.ha.enabled"] = "true"
	p["yarn.resourcemanager.ha.rm-ids"] = names(rms)
	for _, in := range rms {
		p["yarn.resourcemanager.hostname."+in.InstanceName] = in.FQDN()
		p["yarn.resourcemanager.webapp.address."+in.InstanceName] = in.FQDN() + ":8088"
		p["yarn.resourcemanager.webapp.https.address."+in.InstanceName] = in.FQDN() + ":8090"
	}
	p["yarn.resourcemanager.hostname"] = first
	p["yarn.resourcemanager.recovery.enabled"] = "true"
	p["yarn.resourcemanager.resource-tracker.address"] = first + ":8025"
	p["yarn.resourcemanager.scheduler.address"] = first + ":8030"
	p["yarn.resourcemanager.store.class"] = "org.apache.hadoop.yarn.server.resourcemanager.recovery.ZKRMStateStore"
	p["yarn.resourcemanager.webapp.address"] = first + ":8088"
	p["yarn.resourcemanager.webapp.https.address"] = first + ":8090"
	if ts := c.InstancesWithProcess(ProcTimelineServer); len(ts) > 0 {
		p["yarn.timeline-service.address"] = ts[0].FQDN() + ":10200"
		p["yarn.timeline-service.webapp.address"] = ts[0].FQDN() + ":8188"
		p["yarn.timeline-service.webapp.https.address"] = ts[0].FQDN() + ":8190"
	}
	p["hadoop.registry.zk.quorum"] = zks
	if !nnHA {
		conf.section("core-site")["fs.defaultFS"] = fmt.Sprintf("hdfs://%s:8020", c.InstancesWithProcess(ProcNameNode)[0].FQDN())
	}
}

// regionServerHA is Sahara's update_bp_for_hbase_ha.
func regionServerHA(c *sahara.Cluster, conf *configSet) {
	p := conf.section("hbase-site")
	for k, v := range map[string]string{
		"hbase.regionserver.global.memstore.lowerLimit": "0.38",
		"hbase.regionserver.global.memstore.upperLimit": "0.4",
		"hbase.regionserver.handler.count":              "60",
		"hbase.regionserver.info.port":                  "16030",
		"hbase.regionserver.storefile.refresh.period":   "20",
		"hbase.rootdir":                       "hdfs://hdfs-ha/apps/hbase/data",
		"hbase.security.authentication":       "simple",
		"hbase.security.authorization":        "false",
		"hbase.superuser":                     "hbase",
		"hbase.tmp.dir":                       "/hadoop/hbase",
		"hbase.zookeeper.property.clientPort": "2181",
		"hbase.zookeeper.useMulti":            "true",
		"hfile.block.cache.size":              "0.40",
		"zookeeper.session.timeout":           "30000",
		"zookeeper.znode.parent":              "/hbase-unsecure",
	} {
		p[k] = v
	}
	p["hbase.zookeeper.quorum"] = fqdns(c.InstancesWithProcess(ProcZooKeeper), "", ",")
}

// configGroups are the Ambari config groups of a scaled instance: per
// service, the instance's configs of that service's config types (Sahara's
// get_config_group); services without any are left out.
func configGroups(s *stack, c *sahara.Cluster, in *sahara.Instance) []map[string]any {
	params := instanceConfigs(s, in)
	byService := map[string][]string{}
	var services []string
	for _, m := range cfgTypeServices {
		if byService[m.svc] == nil {
			services = append(services, m.svc)
		}
		byService[m.svc] = append(byService[m.svc], m.typ)
	}
	var out []map[string]any
	for _, svc := range services {
		var desired []map[string]any
		for _, typ := range byService[svc] {
			if props := params.props[typ]; len(props) > 0 {
				desired = append(desired, map[string]any{"type": typ, "properties": props, "tag": in.InstanceName})
			}
		}
		if len(desired) == 0 {
			continue
		}
		out = append(out, map[string]any{"ConfigGroup": map[string]any{
			"cluster_name":    c.Name,
			"group_name":      c.Name + ":" + in.InstanceName,
			"tag":             svc,
			"description":     "Config group for scaled node " + in.InstanceName,
			"hosts":           []map[string]string{{"host_name": in.FQDN()}},
			"desired_configs": desired,
		}})
	}
	return out
}
