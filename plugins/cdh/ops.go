package cdh

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/saharagen/terraform-provider-saharagen/plugins/internal/hadoop"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// Cloudera Manager's service names in the cluster (Sahara's).
const (
	svcNameHDFS      = "hdfs01"
	svcNameYARN      = "yarn01"
	svcNameOozie     = "oozie01"
	svcNameHive      = "hive01"
	svcNameHue       = "hue01"
	svcNameSpark     = "spark_on_yarn01"
	svcNameZooKeeper = "zookeeper01"
	svcNameHBase     = "hbase01"
	svcNameFlume     = "flume01"
	svcNameSolr      = "solr01"
	svcNameSqoop     = "sqoop01"
	svcNameIndexer   = "ks_indexer01"
	svcNameImpala    = "impala01"
	svcNameSentry    = "sentry01"
	svcNameKMS       = "kms01"
	svcNameKafka     = "kafka01"
	nameService      = "nameservice01"
)

// Secrets of the cluster (Cluster.Secrets), generated per cluster.
const (
	secretCMPassword     = "cdh_cm_password"
	secretHiveDBPassword = "cdh_hive_db_password"
	secretSentryPassword = "cdh_sentry_db_password"
	// CredentialCMAdmin is the user credential with Cloudera Manager's
	// admin password (user "admin").
	CredentialCMAdmin = "cloudera_manager_admin_password"
)

const (
	cmUser          = "admin"
	cmDefaultPasswd = "admin"
	cmPort          = 7180
	hadoopLibDir    = "/usr/lib/hadoop-mapreduce"
	agentConfig     = "/etc/cloudera-scm-agent/config.ini"
	pgHBA           = "/var/lib/cloudera-scm-server-db/data/pg_hba.conf"
	dbScript        = "script_to_exec.sql"
	hbaseCommonLib  = "/user/sahara-hbase-lib"
	hiveSharedConf  = "/user/hdfs/conf/hive-site.xml"
)

// roleShortcuts abbreviate role types in role names (Sahara's get_role_name).
var roleShortcuts = map[string]string{
	"AGENT": "A", "ALERTPUBLISHER": "AP", "CATALOGSERVER": "ICS", "DATANODE": "DN",
	"EVENTSERVER": "ES", "HBASE_INDEXER": "LHBI", "HIVEMETASTORE": "HVM", "HIVESERVER2": "HVS",
	"HOSTMONITOR": "HM", "IMPALAD": "ID", "JOBHISTORY": "JS", "JOURNALNODE": "JN",
	"KAFKA_BROKER": "KB", "KMS": "KMS", "MASTER": "M", "NAMENODE": "NN", "NODEMANAGER": "NM",
	"OOZIE_SERVER": "OS", "REGIONSERVER": "RS", "RESOURCEMANAGER": "RM", "SECONDARYNAMENODE": "SNN",
	"SENTRY_SERVER": "SNT", "SERVER": "S", "SERVICEMONITOR": "SM", "SOLR_SERVER": "SLR",
	"SPARK_YARN_HISTORY_SERVER": "SHS", "SQOOP_SERVER": "S2S", "STATESTORE": "ISS", "WEBHCAT": "WHC",
	"HDFS_GATEWAY": "HG", "YARN_GATEWAY": "YG",
}

func roleName(in *sahara.Instance, role string) string {
	short, ok := roleShortcuts[role]
	if !ok {
		short = role
	}
	return short + "_" + strings.ReplaceAll(in.Hostname(), "-", "_")
}

// roleOf is Sahara's convert_role_showname: the role type of a process.
var roleOf = map[string]string{
	ProcManager: "MANAGER", ProcNameNode: "NAMENODE", ProcDataNode: "DATANODE", ProcJournalNode: "JOURNALNODE",
	ProcSecondaryNameNode: "SECONDARYNAMENODE", ProcResourceManager: "RESOURCEMANAGER", ProcStandbyRM: "RESOURCEMANAGER",
	ProcNodeManager: "NODEMANAGER", ProcJobHistory: "JOBHISTORY", ProcOozie: "OOZIE_SERVER", ProcHiveServer2: "HIVESERVER2",
	ProcHiveMetastore: "HIVEMETASTORE", ProcWebHCat: "WEBHCAT", ProcHue: "HUE_SERVER", ProcSparkHistory: "SPARK_YARN_HISTORY_SERVER",
	ProcZooKeeper: "SERVER", ProcHBaseMaster: "MASTER", ProcRegionServer: "REGIONSERVER", ProcFlume: "AGENT",
	ProcImpalaCatalog: "CATALOGSERVER", ProcImpalaStateStore: "STATESTORE", ProcImpalad: "IMPALAD",
	ProcIndexer: "HBASE_INDEXER", ProcSentry: "SENTRY_SERVER", ProcSolr: "SOLR_SERVER", ProcSqoop: "SQOOP_SERVER",
	ProcKMS: "KMS", ProcKafka: "KAFKA_BROKER",
}

func roleTypeOf(proc string) string {
	if r, ok := roleOf[proc]; ok {
		return r
	}
	return proc
}

// serviceOfRole is Sahara's get_service_by_role.
func serviceOfRole(role string) (string, error) {
	switch role {
	case "NAMENODE", "DATANODE", "SECONDARYNAMENODE", "HDFS_GATEWAY", "JOURNALNODE":
		return svcNameHDFS, nil
	case "RESOURCEMANAGER", "NODEMANAGER", "JOBHISTORY", "YARN_GATEWAY", "YARN_STANDBYRM":
		return svcNameYARN, nil
	case "OOZIE_SERVER":
		return svcNameOozie, nil
	case "HIVESERVER2", "HIVEMETASTORE", "WEBHCAT":
		return svcNameHive, nil
	case "HUE_SERVER":
		return svcNameHue, nil
	case "SPARK_YARN_HISTORY_SERVER":
		return svcNameSpark, nil
	case "SERVER":
		return svcNameZooKeeper, nil
	case "MASTER", "REGIONSERVER":
		return svcNameHBase, nil
	case "AGENT":
		return svcNameFlume, nil
	case "SENTRY_SERVER":
		return svcNameSentry, nil
	case "SQOOP_SERVER":
		return svcNameSqoop, nil
	case "SOLR_SERVER":
		return svcNameSolr, nil
	case "HBASE_INDEXER":
		return svcNameIndexer, nil
	case "CATALOGSERVER", "STATESTORE", "IMPALAD", "LLAMA":
		return svcNameImpala, nil
	case "KMS":
		return svcNameKMS, nil
	case "KAFKA_BROKER":
		return svcNameKafka, nil
	}
	return "", fmt.Errorf("cdh plugin: process %s is not supported", role)
}

// session is one operation's conversation with Cloudera Manager.
type session struct {
	p   *Plugin
	c   *sahara.Cluster
	r   sahara.Remotes
	cm  *cmClient
	mgr *sahara.Instance
	// closeIdle closes the forwarded connections kept for reuse.
	closeIdle func()
}

// close releases the session's connections at the end of an operation.
func (s *session) close() {
	if s.closeIdle != nil {
		s.closeIdle()
	}
}

func (p *Plugin) sleep(ctx context.Context, d time.Duration) error { return p.opts.Sleep(ctx, d) }

// newSession finds the manager and builds the API client: through the
// manager instance's remote (an SSH-forwarded connection to its loopback)
// unless Options name a client and URL.
func (p *Plugin) newSession(c *sahara.Cluster, r sahara.Remotes) (*session, error) {
	mgrs := c.InstancesWithProcess(ProcManager)
	if len(mgrs) != 1 {
		return nil, fmt.Errorf("cdh plugin: the cluster has %d Cloudera Manager instances, want 1", len(mgrs))
	}
	s := &session{p: p, c: c, r: r, mgr: mgrs[0]}
	pw, err := s.secret(secretCMPassword)
	if err != nil {
		return nil, err
	}
	cm := &cmClient{user: cmUser, password: pw, sleep: p.sleep}
	if p.opts.HTTPClient != nil {
		cm.http, cm.base = p.opts.HTTPClient, strings.TrimSuffix(p.opts.ManagerURL, "/")+fmt.Sprintf("/api/v%d", apiVersion)
	} else {
		d, ok := r.Remote(s.mgr).(sahara.Dialer)
		if !ok {
			return nil, errors.New("cdh plugin: the manager's remote cannot open connections (sahara.Dialer)")
		}
		tr := &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return d.DialContext(ctx, "tcp", fmt.Sprintf("127.0.0.1:%d", cmPort))
			},
		}
		s.closeIdle = tr.CloseIdleConnections
		cm.http = &http.Client{Timeout: 5 * time.Minute, Transport: tr}
		cm.base = fmt.Sprintf("http://127.0.0.1:%d/api/v%d", cmPort, apiVersion)
	}
	s.cm = cm
	return s, nil
}

// secret returns the cluster's secret, generating it on first use.
func (s *session) secret(name string) (string, error) {
	if v := s.c.Secrets[name]; v != "" {
		return v, nil
	}
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	if s.c.Secrets == nil {
		s.c.Secrets = map[string]string{}
	}
	s.c.Secrets[name] = hex.EncodeToString(b)
	if name == secretCMPassword {
		s.c.SetUserCredential(CredentialCMAdmin, s.c.Secrets[name])
	}
	return s.c.Secrets[name], nil
}

func (s *session) exec(ctx context.Context, in *sahara.Instance, cmd string, o sahara.ExecOptions) (sahara.Result, error) {
	return s.r.Remote(in).ExecuteCommand(ctx, cmd, o)
}

func (s *session) root(ctx context.Context, in *sahara.Instance, cmd string) error {
	_, err := s.exec(ctx, in, cmd, sahara.ExecOptions{RunAsRoot: true})
	return err
}

// fails runs a probe and reports whether it exited non-zero.
func (s *session) fails(ctx context.Context, in *sahara.Instance, cmd string) (bool, error) {
	res, err := s.exec(ctx, in, cmd, sahara.ExecOptions{IgnoreExitCode: true})
	return res.ExitCode != 0, err
}

func (s *session) has(proc string) bool { return len(s.c.InstancesWithProcess(proc)) > 0 }

func (s *session) first(proc string) *sahara.Instance {
	if ins := s.c.InstancesWithProcess(proc); len(ins) > 0 {
		return ins[0]
	}
	return nil
}

// ConfigureCluster implements sahara.Plugin: Sahara's configure_cluster.
func (p *Plugin) ConfigureCluster(ctx context.Context, c *sahara.Cluster, r sahara.Remotes) error {
	s, err := p.newSession(c, r)
	if err != nil {
		return err
	}
	defer s.close()
	instances := c.Instances()
	if err := s.requirePreinstalled(ctx, s.mgr); err != nil {
		return err
	}
	if err := s.startAgents(ctx, instances); err != nil {
		return err
	}
	if err := s.startManager(ctx); err != nil {
		return err
	}
	if err := s.setAdminPassword(ctx); err != nil {
		return err
	}
	if err := s.awaitAgents(ctx, instances); err != nil {
		return err
	}
	if err := s.createMgmtService(ctx); err != nil {
		return err
	}
	if err := s.createServices(ctx); err != nil {
		return err
	}
	if err := s.configureServices(ctx); err != nil {
		return err
	}
	if err := s.configureInstances(ctx, instances); err != nil {
		return err
	}
	if err := s.cm.getCluster(ctx, c.Name); err != nil {
		return err
	}
	err = s.cm.waiter(ctx)(s.cm.clusterCommand(ctx, c.Name, "deployClientConfig", nil))
	s.setInfo()
	return err
}

// requirePreinstalled checks that the image carries Cloudera Manager.
// Sahara would install the packages from Cloudera's public repositories,
// which closed in 2021; saharagen needs images with them installed (see
// the package documentation).
func (s *session) requirePreinstalled(ctx context.Context, in *sahara.Instance) error {
	missing, err := s.fails(ctx, in, "ls /etc/init.d/cloudera-scm-server")
	if err != nil {
		return err
	}
	if missing {
		return fmt.Errorf("cdh plugin: %s has no Cloudera Manager (/etc/init.d/cloudera-scm-server): use an image with Cloudera Manager and CDH %s installed", in.InstanceName, s.c.PluginVersion)
	}
	return nil
}

func (s *session) startAgents(ctx context.Context, instances []*sahara.Instance) error {
	host, err := sahara.Quote(s.mgr.Hostname())
	if err != nil {
		return err
	}
	for _, in := range instances {
		rem := s.r.Remote(in)
		if err := rem.ReplaceRemoteString(ctx, agentConfig, "server_host=.*", "server_host="+host, sahara.FileOptions{RunAsRoot: true}); err != nil {
			return err
		}
		if err := s.root(ctx, in, "service cloudera-scm-agent start"); err != nil {
			return err
		}
	}
	return nil
}

func (s *session) startManager(ctx context.Context) error {
	if err := s.root(ctx, s.mgr, "service cloudera-scm-server-db start"); err != nil {
		return err
	}
	if err := s.r.Remote(s.mgr).AppendToFile(ctx, pgHBA, []byte("host metastore hive 0.0.0.0/0 md5"), sahara.FileOptions{RunAsRoot: true}); err != nil {
		return err
	}
	if err := s.root(ctx, s.mgr, "service cloudera-scm-server-db restart"); err != nil {
		return err
	}
	return s.root(ctx, s.mgr, "service cloudera-scm-server start")
}

// timeout reads a general timeout config in seconds.
func (s *session) timeout(name string) time.Duration {
	n, err := sahara.AsInt(generalValue(s.c, name))
	if err != nil || n <= 0 {
		n = 300
	}
	return time.Duration(n) * time.Second
}

// setAdminPassword waits for the API (Timeout for Cloudera Manager
// starting) and replaces the default admin password by the cluster's.
// A second run finds the password already set.
func (s *session) setAdminPassword(ctx context.Context) error {
	dflt := *s.cm
	dflt.password = cmDefaultPasswd
	deadline := time.Now().Add(s.timeout(CfgManagerTimeout))
	for {
		u, err := dflt.getUser(ctx, cmUser)
		var ce *cmError
		switch {
		case err == nil:
			u.Password = s.cm.password
			return dflt.updateUser(ctx, u)
		case errors.As(err, &ce) && ce.Status == http.StatusUnauthorized:
			_, err = s.cm.getUser(ctx, cmUser)
			return err
		case time.Now().After(deadline):
			return fmt.Errorf("cdh plugin: Cloudera Manager did not start: %w", err)
		}
		if err := s.p.sleep(ctx, 2*time.Second); err != nil {
			return err
		}
	}
}

func (s *session) awaitAgents(ctx context.Context, instances []*sahara.Instance) error {
	deadline := time.Now().Add(s.timeout(CfgAgentsTimeout))
	for {
		hosts, err := s.cm.hosts(ctx)
		if err != nil {
			return err
		}
		known := map[string]bool{}
		for _, h := range hosts {
			known[h.Hostname] = true
		}
		var missing []string
		for _, in := range instances {
			if !known[in.FQDN()] {
				missing = append(missing, in.InstanceName)
			}
		}
		if len(missing) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cdh plugin: the Cloudera agents of %s did not register with Cloudera Manager", strings.Join(missing, ", "))
		}
		if err := s.p.sleep(ctx, 5*time.Second); err != nil {
			return err
		}
	}
}

func (s *session) createMgmtService(ctx context.Context) error {
	var roles []apiMgmtRole
	for _, typ := range []string{"SERVICEMONITOR", "HOSTMONITOR", "EVENTSERVER", "ALERTPUBLISHER"} {
		roles = append(roles, apiMgmtRole{HostRef: apiHostRef{s.mgr.FQDN()}, Name: roleName(s.mgr, typ), Type: typ})
	}
	if err := s.cm.createMgmtService(ctx, roles); err != nil {
		return err
	}
	_, err := s.cm.hostsStartRoles(ctx, s.mgr.FQDN())
	return err
}

// service is a Cloudera Manager service the cluster runs: its name, type
// and whether the layout has it.
type service struct {
	name, typ string
	present   func(*session) bool
}

func with(proc string) func(*session) bool { return func(s *session) bool { return s.has(proc) } }

var clusterServices = []service{
	{svcNameZooKeeper, "ZOOKEEPER", with(ProcZooKeeper)},
	{svcNameHDFS, "HDFS", func(*session) bool { return true }},
	{svcNameYARN, "YARN", func(*session) bool { return true }},
	{svcNameOozie, "OOZIE", func(*session) bool { return true }},
	{svcNameHive, "HIVE", with(ProcHiveMetastore)},
	{svcNameHue, "HUE", with(ProcHue)},
	{svcNameSpark, "SPARK_ON_YARN", with(ProcSparkHistory)},
	{svcNameHBase, "HBASE", with(ProcHBaseMaster)},
	{svcNameFlume, "FLUME", with(ProcFlume)},
	{svcNameSentry, "SENTRY", with(ProcSentry)},
	{svcNameSolr, "SOLR", with(ProcSolr)},
	{svcNameSqoop, "SQOOP", with(ProcSqoop)},
	{svcNameIndexer, "KS_INDEXER", with(ProcIndexer)},
	{svcNameImpala, "IMPALA", with(ProcImpalaCatalog)},
	{svcNameKMS, "KMS", with(ProcKMS)},
	{svcNameKafka, "KAFKA", with(ProcKafka)},
}

func (s *session) createServices(ctx context.Context) error {
	if err := s.cm.createCluster(ctx, s.c.Name, s.c.PluginVersion); err != nil {
		return err
	}
	for _, svc := range clusterServices {
		if svc.present(s) {
			if err := s.cm.createService(ctx, s.c.Name, svc.name, svc.typ); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *session) configureServices(ctx context.Context) error {
	if err := s.cm.getCluster(ctx, s.c.Name); err != nil {
		return err
	}
	for _, svc := range clusterServices {
		if !svc.present(s) {
			continue
		}
		cfg, err := s.clusterConfigs(svc.typ)
		if err != nil {
			return err
		}
		if err := s.cm.getServiceOnly(ctx, s.c.Name, svc.name); err != nil {
			return err
		}
		if err := s.cm.updateServiceConfig(ctx, s.c.Name, svc.name, cfg); err != nil {
			return err
		}
	}
	return nil
}

// ifThen is the service name when the cluster runs proc, else "".
func (s *session) ifThen(proc, name string) string {
	if s.has(proc) {
		return name
	}
	return ""
}

// clusterConfigs is the cluster part of Sahara's _get_configs for a
// service type or role: the plugin's links between services, then the
// user's cluster configs of that target (sorted by name).
func (s *session) clusterConfigs(target string) (orderedConfigs, error) {
	var o orderedConfigs
	zk := s.ifThen(ProcZooKeeper, svcNameZooKeeper)
	bool01 := func(proc string) string {
		if s.has(proc) {
			return "true"
		}
		return "false"
	}
	switch target {
	case "HDFS":
		o.set("zookeeper_service", zk)
		o.set("dfs_block_local_path_access_user", s.ifThen(ProcImpalaCatalog, "impala"))
		o.set("kms_service", s.ifThen(ProcKMS, svcNameKMS))
		o.set("core_site_safety_valve", s.coreSiteSafetyValve())
	case "HIVE":
		o.set("mapreduce_yarn_service", svcNameYARN)
		o.set("sentry_service", s.ifThen(ProcSentry, svcNameSentry))
		o.set("zookeeper_service", zk)
		pw, err := s.secret(secretHiveDBPassword)
		if err != nil {
			return nil, err
		}
		o.set("hive_metastore_database_type", "postgresql")
		o.set("hive_metastore_database_host", s.mgr.InternalIP)
		o.set("hive_metastore_database_port", "7432")
		o.set("hive_metastore_database_password", pw)
	case "OOZIE":
		o.set("mapreduce_yarn_service", svcNameYARN)
		o.set("hive_service", s.ifThen(ProcHiveMetastore, svcNameHive))
		o.set("zookeeper_service", zk)
	case "YARN":
		o.set("hdfs_service", svcNameHDFS)
		o.set("zookeeper_service", zk)
	case "HUE":
		o.set("hive_service", svcNameHive)
		o.set("oozie_service", svcNameOozie)
		o.set("sentry_service", s.ifThen(ProcSentry, svcNameSentry))
		o.set("solr_service", s.ifThen(ProcSolr, svcNameSolr))
		o.set("zookeeper_service", zk)
		o.set("hbase_service", s.ifThen(ProcHBaseMaster, svcNameHBase))
		o.set("impala_service", s.ifThen(ProcImpalaCatalog, svcNameImpala))
		o.set("sqoop_service", s.ifThen(ProcSqoop, svcNameSqoop))
		if nn := s.first(ProcNameNode); nn != nil {
			o.set("hue_webhdfs", roleName(nn, "NAMENODE"))
		}
	case "SPARK_ON_YARN":
		o.set("yarn_service", svcNameYARN)
	case "HBASE":
		o.set("hdfs_service", svcNameHDFS)
		o.set("zookeeper_service", svcNameZooKeeper)
		o.set("hbase_enable_indexing", bool01(ProcIndexer))
		o.set("hbase_enable_replication", bool01(ProcIndexer))
	case "FLUME":
		o.set("hdfs_service", svcNameHDFS)
		o.set("solr_service", s.ifThen(ProcSolr, svcNameSolr))
		o.set("hbase_service", s.ifThen(ProcHBaseMaster, svcNameHBase))
	case "SENTRY":
		o.set("hdfs_service", svcNameHDFS)
		o.set("sentry_server_config_safety_valve", s.ifThen(ProcImpalaCatalog, sentryImpalaClientSafetyValve))
		pw, err := s.secret(secretSentryPassword)
		if err != nil {
			return nil, err
		}
		o.set("sentry_server_database_type", "postgresql")
		o.set("sentry_server_database_host", s.mgr.InternalIP)
		o.set("sentry_server_database_port", "7432")
		o.set("sentry_server_database_password", pw)
	case "SOLR":
		o.set("hdfs_service", svcNameHDFS)
		o.set("zookeeper_service", svcNameZooKeeper)
	case "SQOOP":
		o.set("mapreduce_yarn_service", svcNameYARN)
	case "KS_INDEXER":
		o.set("hbase_service", svcNameHBase)
		o.set("solr_service", svcNameSolr)
	case "IMPALA":
		o.set("hdfs_service", svcNameHDFS)
		o.set("hbase_service", s.ifThen(ProcHBaseMaster, svcNameHBase))
		o.set("hive_service", svcNameHive)
		o.set("sentry_service", s.ifThen(ProcSentry, svcNameSentry))
		o.set("zookeeper_service", zk)
	case "KAFKA":
		o.set("zookeeper_service", svcNameZooKeeper)
	}
	user := s.c.ClusterConfigs[target]
	for _, k := range slices.Sorted(mapKeys(user)) {
		o.set(k, user[k])
	}
	return o, nil
}

func mapKeys(m map[string]any) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// coreSiteSafetyValve is the Swift part of core-site.xml, when Swift is
// enabled and the engine told the plugin where Keystone is.
func (s *session) coreSiteSafetyValve() string {
	on, err := sahara.AsBool(generalValue(s.c, CfgEnableSwift))
	if err != nil || !on {
		return ""
	}
	confs := hadoop.SwiftConfigs(s.c)
	keys := make([]string, 0, len(confs))
	for k := range confs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "<property>\n  <name>%s</name>\n  <value>%s</value>\n</property>\n", html.EscapeString(k), html.EscapeString(confs[k]))
	}
	return b.String()
}

// nodeConfigTargets maps the node config targets users write to role
// types (Sahara's convert_process_configs).
var nodeConfigTargets = map[string]string{
	"CLOUDERA": "MANAGER", "OOZIE": "OOZIE_SERVER", "HIVESERVER": "HIVESERVER2", "HUE": "HUE_SERVER",
	"SPARK_ON_YARN": "SPARK_YARN_HISTORY_SERVER", "ZOOKEEPER": "SERVER", "FLUME": "AGENT",
	"KS_INDEXER": "HBASE_INDEXER", "SENTRY": "SENTRY_SERVER", "SOLR": "SOLR_SERVER",
	"SQOOP": "SQOOP_SERVER", "KAFKA": "KAFKA_BROKER",
}

// computedRoleConfigs are the instance defaults the plugin derives from
// the instance (storage paths): they override the user's. Sahara lets
// every default override the user (a user's dfs_datanode_handler_count is
// lost); saharagen lets the user's value win for the others.
var computedRoleConfigs = map[string]bool{
	"dfs_name_dir_list": true, "fs_checkpoint_dir_list": true, "dfs_data_dir_list": true, "yarn_nodemanager_local_dirs": true,
}

// roleConfigs is Sahara's _get_configs for a role of an instance: the
// cluster part (when withCluster), the node group's configs of that role,
// then the instance defaults.
func (s *session) roleConfigs(role string, in *sahara.Instance, withCluster bool) (orderedConfigs, error) {
	var o orderedConfigs
	if withCluster {
		var err error
		if o, err = s.clusterConfigs(role); err != nil {
			return nil, err
		}
	}
	ng := in.NodeGroup()
	user := map[string]any{}
	for target, m := range ng.NodeConfigs {
		if nodeConfigTargets[target] == role || (target == role && nodeConfigTargets[target] == "") {
			for k, v := range m {
				user[k] = v
			}
		}
	}
	for _, k := range slices.Sorted(mapKeys(user)) {
		o.set(k, user[k])
	}
	dirs := func(suffix string) string {
		paths := in.StoragePaths()
		out := make([]string, len(paths))
		for i, p := range paths {
			out[i] = p + suffix
		}
		return strings.Join(out, ",")
	}
	sentry := s.has(ProcSentry)
	var defaults orderedConfigs
	switch role {
	case "NAMENODE":
		defaults.set("dfs_name_dir_list", dirs("/fs/nn"))
	case "SECONDARYNAMENODE":
		defaults.set("fs_checkpoint_dir_list", dirs("/fs/snn"))
	case "DATANODE":
		defaults.set("dfs_data_dir_list", dirs("/fs/dn"))
		defaults.set("dfs_datanode_data_dir_perm", 755)
		defaults.set("dfs_datanode_handler_count", 30)
	case "NODEMANAGER":
		defaults.set("yarn_nodemanager_local_dirs", dirs("/yarn/local"))
		defaults.set("container_executor_allowed_system_users", "nobody,impala,hive,llama,hdfs,yarn,mapred,spark,oozie")
		defaults.set("container_executor_banned_users", "bin")
	case "SERVER":
		defaults.set("maxSessionTimeout", 60000)
	case "HIVESERVER2":
		defaults.set("hiveserver2_enable_impersonation", map[bool]string{true: "false", false: "true"}[sentry])
		defaults.set("hive_hs2_config_safety_valve", map[bool]string{true: hiveServer2SentrySafetyValve}[sentry])
	case "HIVEMETASTORE":
		defaults.set("hive_metastore_config_safety_valve", map[bool]string{true: hiveMetastoreSentrySafetyValve}[sentry])
		if s.c.PluginVersion != V570 && s.c.PluginVersion != V590 {
			// CDH 5.11 and 5.13 turn on the metastore's DB notifications.
			if _, set := user["hive_enable_db_notification"]; !set {
				defaults.set("hive_enable_db_notification", "true")
			}
		}
	}
	for _, d := range defaults {
		if _, set := user[d.Name]; set && !computedRoleConfigs[d.Name] {
			continue
		}
		o.set(d.Name, d.Value)
	}
	return o, nil
}

// rolesOf is Sahara's get_roles_list: the instance's processes plus the
// HDFS and YARN gateways where they belong (Sahara's order comes from a
// set; saharagen's is the node group's, then the gateways).
func rolesOf(procs []string) []string {
	out := slices.Clone(procs)
	if slices.Contains(procs, ProcNodeManager) {
		out = append(out, "YARN_GATEWAY")
	}
	for _, p := range []string{ProcNameNode, ProcDataNode, ProcSecondaryNameNode} {
		if slices.Contains(procs, p) {
			out = append(out, "HDFS_GATEWAY")
			break
		}
	}
	return out
}

func (s *session) configureInstances(ctx context.Context, instances []*sahara.Instance) error {
	for _, in := range instances {
		for _, proc := range rolesOf(in.NodeGroup().NodeProcesses) {
			if proc == ProcManager || proc == ProcJournalNode || proc == ProcStandbyRM {
				continue
			}
			if err := s.addRole(ctx, in, roleTypeOf(proc)); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *session) addRole(ctx context.Context, in *sahara.Instance, role string) error {
	svc, err := serviceOfRole(role)
	if err != nil {
		return err
	}
	typ := role
	if role == "HDFS_GATEWAY" || role == "YARN_GATEWAY" {
		typ = "GATEWAY"
	}
	cfg, err := s.roleConfigs(role, in, true)
	if err != nil {
		return err
	}
	if err := s.cm.getService(ctx, s.c.Name, svc); err != nil {
		return err
	}
	name := roleName(in, role)
	if err := s.cm.createRole(ctx, s.c.Name, svc, apiRole{HostRef: apiHostRef{in.FQDN()}, Name: name, Type: typ}); err != nil {
		return err
	}
	return s.cm.updateRoleConfig(ctx, s.c.Name, svc, name, cfg)
}

// setInfo is the cluster info users see: Cloudera Manager's console and
// Hue. The admin password is a user credential, never in the info.
func (s *session) setInfo() {
	s.c.SetInfo("Cloudera Manager", "Web UI", fmt.Sprintf("http://%s:%d", s.mgr.ManagementIP, cmPort))
	s.c.SetInfo("Cloudera Manager", "Username", cmUser)
	s.c.SetInfo("Cloudera Manager", "Password", "(the cluster's user credential "+CredentialCMAdmin+")")
	if hue := s.first(ProcHue); hue != nil {
		s.c.SetInfo("Hue Dashboard", "Web UI", fmt.Sprintf("http://%s:8888", hue.ManagementIP))
	}
}
