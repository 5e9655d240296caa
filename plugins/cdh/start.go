package cdh

import (
	"context"
	_ "embed"
	"fmt"
	"strings"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// Sentry's additions to the Hive and Impala configurations (Sahara's
// resources, the same for every CDH version).
var (
	//go:embed resources/safety/hive-server2-sentry-safety.xml
	hiveServer2SentrySafetyValve string
	//go:embed resources/safety/hive-metastore-sentry-safety.xml
	hiveMetastoreSentrySafetyValve string
	//go:embed resources/safety/sentry-impala-client-safety.xml
	sentryImpalaClientSafetyValve string
)

// StartCluster implements sahara.Plugin: Sahara's start_cluster.
func (p *Plugin) StartCluster(ctx context.Context, c *sahara.Cluster, r sahara.Remotes) error {
	s, err := p.newSession(c, r)
	if err != nil {
		return err
	}
	defer s.close()
	if err := s.prepareCluster(ctx); err != nil {
		return err
	}
	if err := s.cm.getCluster(ctx, c.Name); err != nil {
		return err
	}
	if err := s.cm.waiter(ctx)(s.cm.clusterCommand(ctx, c.Name, "firstRun", nil)); err != nil {
		return err
	}
	if err := s.configureSwift(ctx, c.Instances()); err != nil {
		return err
	}
	if s.has(ProcJournalNode) {
		if err := s.enableNameNodeHA(ctx); err != nil {
			return err
		}
	}
	if s.has(ProcStandbyRM) {
		if err := s.enableResourceManagerHA(ctx); err != nil {
			return err
		}
	}
	if err := s.finishStarting(ctx); err != nil {
		return err
	}
	s.setInfo()
	return nil
}

func (s *session) prepareCluster(ctx context.Context) error {
	if oozie := s.first(ProcOozie); oozie != nil {
		if err := s.installExtJS(ctx, oozie); err != nil {
			return err
		}
	}
	if s.has(ProcHiveMetastore) {
		if err := s.createDatabase(ctx, "hive", "metastore", secretHiveDBPassword); err != nil {
			return err
		}
	}
	if s.has(ProcSentry) {
		return s.createDatabase(ctx, "sentry", "sentry", secretSentryPassword)
	}
	return nil
}

func (s *session) installExtJS(ctx context.Context, in *sahara.Instance) error {
	missing, err := s.fails(ctx, in, "ls /var/lib/oozie/ext-2.2")
	if err != nil || !missing {
		return err
	}
	u, err := sahara.Quote(sahara.AsString(generalValue(s.c, CfgExtJSLibURL)))
	if err != nil {
		return err
	}
	if err := s.root(ctx, in, "curl -L -o '/var/lib/oozie/extjs.zip' "+u); err != nil {
		return err
	}
	return s.root(ctx, in, "unzip /var/lib/oozie/extjs.zip -d /var/lib/oozie")
}

// createDatabase creates a role and its database in the manager's
// PostgreSQL (Sahara's db_helper); the script holds the password, so it
// is written as a secret file and removed after use.
func (s *session) createDatabase(ctx context.Context, role, db, secret string) error {
	pw, err := s.secret(secret)
	if err != nil {
		return err
	}
	script := fmt.Sprintf("CREATE ROLE %s LOGIN PASSWORD '%s';\nCREATE DATABASE %s OWNER %s encoding 'UTF8';\nGRANT ALL PRIVILEGES ON DATABASE %s TO %s;\nCOMMIT;\n",
		role, pw, db, role, db, role)
	rem := s.r.Remote(s.mgr)
	if err := rem.WriteFileTo(ctx, dbScript, []byte(script), sahara.FileOptions{Sensitive: true}); err != nil {
		return err
	}
	if _, err := s.exec(ctx, s.mgr, "PGPASSWORD=$(sudo head -1 /var/lib/cloudera-scm-server-db/data/generated_password.txt) psql -U cloudera-scm -h localhost -p 7432 -d scm -f "+dbScript, sahara.ExecOptions{}); err != nil {
		return err
	}
	_, err = s.exec(ctx, s.mgr, "rm "+dbScript, sahara.ExecOptions{})
	return err
}

// configureSwift downloads the Hadoop OpenStack library where it is
// missing, when Swift is enabled.
func (s *session) configureSwift(ctx context.Context, instances []*sahara.Instance) error {
	on, err := sahara.AsBool(generalValue(s.c, CfgEnableSwift))
	if err != nil || !on {
		return nil
	}
	u, err := sahara.Quote(sahara.AsString(generalValue(s.c, CfgSwiftLibURL)))
	if err != nil {
		return err
	}
	jar := hadoopLibDir + "/hadoop-openstack.jar"
	for _, in := range instances {
		missing, err := s.fails(ctx, in, "ls "+jar)
		if err != nil {
			return err
		}
		if missing {
			if _, err := s.exec(ctx, in, "sudo curl "+u+" -o "+jar, sahara.ExecOptions{}); err != nil {
				return err
			}
		}
	}
	return nil
}

// enableNameNodeHA turns the SecondaryNameNode's host into the standby
// NameNode with the JournalNodes, then gives that new NameNode its
// directories and restarts HDFS (Sahara's enable_namenode_ha).
func (s *session) enableNameNodeHA(ctx context.Context) error {
	snn := s.first(ProcSecondaryNameNode)
	var jns []apiJournalNode
	for i, jn := range s.c.InstancesWithProcess(ProcJournalNode) {
		jns = append(jns, apiJournalNode{JNEditsDir: "/dfs/jn", JNHostID: jn.FQDN(), JNName: fmt.Sprintf("JN%d", i)})
	}
	if err := s.cm.getService(ctx, s.c.Name, svcNameHDFS); err != nil {
		return err
	}
	roles, err := s.cm.roles(ctx, s.c.Name, svcNameHDFS)
	if err != nil {
		return err
	}
	active := ""
	for _, r := range roles {
		if r.Type == "NAMENODE" {
			active = r.Name
			break
		}
	}
	if active == "" {
		return fmt.Errorf("cdh plugin: Cloudera Manager lists no NameNode")
	}
	body := map[string]any{
		"activeFcName": nil, "activeNnName": active, "clearExistingJnEditsDir": true,
		"clearExistingStandbyNameDirs": true, "forceInitZNode": true, "jns": jns,
		"nameservice": nameService, "qjName": nil, "standbyFcName": nil, "standbyNameDirList": nil,
		"standbyNnHostId": snn.FQDN(), "standbyNnName": nil, "zkServiceName": nil,
	}
	if err := s.cm.waiter(ctx)(s.cm.serviceCommand(ctx, s.c.Name, svcNameHDFS, "hdfsEnableNnHa", body)); err != nil {
		return err
	}
	return s.updateRoleConfig(ctx, snn, "NAMENODE", svcNameHDFS)
}

// enableResourceManagerHA adds the standby ResourceManager
// (Sahara's enable_resourcemanager_ha).
func (s *session) enableResourceManagerHA(ctx context.Context) error {
	stdb := s.first(ProcStandbyRM)
	if err := s.cm.getService(ctx, s.c.Name, svcNameYARN); err != nil {
		return err
	}
	body := map[string]any{"newRmHostId": stdb.FQDN(), "zkServiceName": nil}
	if err := s.cm.waiter(ctx)(s.cm.serviceCommand(ctx, s.c.Name, svcNameYARN, "enableRmHa", body)); err != nil {
		return err
	}
	return s.updateRoleConfig(ctx, stdb, "RESOURCEMANAGER", svcNameYARN)
}

// updateRoleConfig sets the instance configs of the roles of that type on
// the instance (made by Cloudera Manager while enabling HA) and restarts
// the service (Sahara's update_role_config).
func (s *session) updateRoleConfig(ctx context.Context, in *sahara.Instance, role, svc string) error {
	if err := s.cm.getService(ctx, s.c.Name, svc); err != nil {
		return err
	}
	hosts, err := s.cm.hosts(ctx)
	if err != nil {
		return err
	}
	hostID := ""
	for _, h := range hosts {
		if h.Hostname == in.FQDN() {
			hostID = h.HostID
			break
		}
	}
	roles, err := s.cm.roles(ctx, s.c.Name, svc)
	if err != nil {
		return err
	}
	for _, r := range roles {
		if r.Type != role || r.HostRef.HostID != hostID {
			continue
		}
		cfg, err := s.roleConfigs(role, in, false)
		if err != nil {
			return err
		}
		if err := s.cm.updateRoleConfig(ctx, s.c.Name, svc, r.Name, cfg); err != nil {
			return err
		}
	}
	if err := s.cm.getService(ctx, s.c.Name, svc); err != nil {
		return err
	}
	return s.cm.waiter(ctx)(s.cm.serviceCommand(ctx, s.c.Name, svc, "restart", nil))
}

func (s *session) finishStarting(ctx context.Context) error {
	if s.has(ProcHiveMetastore) {
		if hs2 := s.first(ProcHiveServer2); hs2 != nil {
			dir := hiveSharedConf[:strings.LastIndex(hiveSharedConf, "/")]
			if _, err := s.exec(ctx, hs2, `sudo su - -c "hadoop fs -mkdir -p `+dir+`" hdfs`, sahara.ExecOptions{}); err != nil {
				return err
			}
			if _, err := s.exec(ctx, hs2, `sudo su - -c "hadoop fs -put /etc/hive/conf/hive-site.xml `+hiveSharedConf+`" hdfs`, sahara.ExecOptions{}); err != nil {
				return err
			}
		}
	}
	if master := s.first(ProcHBaseMaster); master != nil {
		if on, err := sahara.AsBool(generalValue(s.c, CfgHBaseCommonLib)); err == nil && on {
			if err := s.hbaseCommonLib(ctx, master); err != nil {
				return err
			}
		}
	}
	if s.has(ProcFlume) {
		if err := s.cm.getService(ctx, s.c.Name, svcNameFlume); err != nil {
			return err
		}
		return s.cm.waiter(ctx)(s.cm.serviceCommand(ctx, s.c.Name, svcNameFlume, "start", nil))
	}
	return nil
}

// hbaseCommonLib puts HBase's jars into HDFS for Oozie jobs (Sahara's
// create_hbase_common_lib).
func (s *session) hbaseCommonLib(ctx context.Context, in *sahara.Instance) error {
	if _, err := s.exec(ctx, in, `sudo su - -c "hdfs dfs -mkdir -p `+hbaseCommonLib+`" hdfs`, sahara.ExecOptions{}); err != nil {
		return err
	}
	res, err := s.exec(ctx, in, "hbase classpath", sahara.ExecOptions{})
	if err != nil {
		return err
	}
	for _, p := range strings.Split(strings.TrimSpace(string(res.Stdout)), ":") {
		if !strings.HasSuffix(p, ".jar") {
			continue
		}
		q, err := sahara.Quote(p)
		if err != nil {
			return err
		}
		// The path is quoted for the inner shell of su -c.
		if _, err := s.exec(ctx, in, `sudo su - -c `+sahara.MustQuote("hdfs dfs -put -p "+q+" "+hbaseCommonLib)+` hdfs`, sahara.ExecOptions{}); err != nil {
			return err
		}
	}
	return nil
}

// ScaleCluster implements sahara.Scaler: Sahara's scale_cluster.
func (p *Plugin) ScaleCluster(ctx context.Context, c *sahara.Cluster, r sahara.Remotes, instances []*sahara.Instance) error {
	if len(instances) == 0 {
		return nil
	}
	s, err := p.newSession(c, r)
	if err != nil {
		return err
	}
	defer s.close()
	if err := s.requirePreinstalled(ctx, instances[0]); err != nil {
		return err
	}
	if err := s.startAgents(ctx, instances); err != nil {
		return err
	}
	if err := s.awaitAgents(ctx, instances); err != nil {
		return err
	}
	if err := s.configureInstances(ctx, instances); err != nil {
		return err
	}
	for _, in := range instances {
		for _, proc := range in.NodeGroup().NodeProcesses {
			role := roleTypeOf(proc)
			svc, err := serviceOfRole(role)
			if err != nil {
				return err
			}
			if err := s.cm.getService(ctx, c.Name, svc); err != nil {
				return err
			}
			if err := s.cm.waiter(ctx)(s.cm.serviceCommand(ctx, c.Name, svc, "deployClientConfig", nameList{[]string{roleName(in, role)}})); err != nil {
				return err
			}
		}
	}
	if err := s.configureSwift(ctx, instances); err != nil {
		return err
	}
	for _, in := range instances {
		for _, x := range []struct{ proc, role, svc string }{{ProcDataNode, "DATANODE", svcNameHDFS}, {ProcNodeManager, "NODEMANAGER", svcNameYARN}} {
			if !in.NodeGroup().HasProcess(x.proc) {
				continue
			}
			if err := s.cm.getService(ctx, c.Name, x.svc); err != nil {
				return err
			}
			cmds, err := s.cm.roleCommand(ctx, c.Name, x.svc, "start", roleName(in, x.role))
			if err := s.waitAll(ctx, cmds, err); err != nil {
				return err
			}
		}
	}
	return s.refreshAndRestart(ctx)
}

func (s *session) waitAll(ctx context.Context, cmds []apiCommand, err error) error {
	if err != nil {
		return err
	}
	for _, cmd := range cmds {
		if err := s.cm.wait(ctx, cmd, nil); err != nil {
			return err
		}
	}
	return nil
}

// refreshAndRestart refreshes the DataNodes and NodeManagers and restarts
// the stale services (Sahara's end of scale and decommission).
func (s *session) refreshAndRestart(ctx context.Context) error {
	for _, x := range []struct{ role, svc string }{{"DATANODE", svcNameHDFS}, {"NODEMANAGER", svcNameYARN}} {
		if err := s.cm.getService(ctx, s.c.Name, x.svc); err != nil {
			return err
		}
		roles, err := s.cm.roles(ctx, s.c.Name, x.svc)
		if err != nil {
			return err
		}
		for _, r := range roles {
			if r.Type != x.role {
				continue
			}
			cmds, err := s.cm.roleCommand(ctx, s.c.Name, x.svc, "refresh", r.Name)
			if err := s.waitAll(ctx, cmds, err); err != nil {
				return err
			}
		}
	}
	if err := s.cm.getCluster(ctx, s.c.Name); err != nil {
		return err
	}
	body := map[string]bool{"redeployClientConfiguration": true, "restartOnlyStaleServices": true}
	return s.cm.waiter(ctx)(s.cm.clusterCommand(ctx, s.c.Name, "restart", body))
}

// DecommissionNodes implements sahara.Scaler: Sahara's decommission
// (its DataNodes, NodeManagers and gateways go, then the hosts; other
// roles on those hosts are left to Cloudera Manager, as in Sahara).
func (p *Plugin) DecommissionNodes(ctx context.Context, c *sahara.Cluster, r sahara.Remotes, instances []*sahara.Instance) error {
	s, err := p.newSession(c, r)
	if err != nil {
		return err
	}
	defer s.close()
	for _, x := range []struct{ proc, role, gateway, svc string }{
		{ProcDataNode, "DATANODE", "HDFS_GATEWAY", svcNameHDFS},
		{ProcNodeManager, "NODEMANAGER", "YARN_GATEWAY", svcNameYARN},
	} {
		var roles, gateways []string
		for _, in := range instances {
			if in.NodeGroup().HasProcess(x.proc) {
				roles = append(roles, roleName(in, x.role))
				gateways = append(gateways, roleName(in, x.gateway))
			}
		}
		if len(roles) == 0 {
			continue
		}
		if err := s.cm.getService(ctx, c.Name, x.svc); err != nil {
			return err
		}
		if err := s.cm.waiter(ctx)(s.cm.serviceCommand(ctx, c.Name, x.svc, "decommission", nameList{roles})); err != nil {
			return err
		}
		for _, name := range append(roles, gateways...) {
			if err := s.cm.deleteRole(ctx, c.Name, x.svc, name); err != nil {
				return err
			}
		}
	}
	if err := s.cm.getCluster(ctx, c.Name); err != nil {
		return err
	}
	hosts, err := s.cm.hosts(ctx)
	if err != nil {
		return err
	}
	gone := map[string]bool{}
	for _, in := range instances {
		gone[in.FQDN()] = true
	}
	for _, h := range hosts {
		if !gone[h.Hostname] {
			continue
		}
		if err := s.cm.removeHost(ctx, c.Name, h.HostID); err != nil {
			return err
		}
		if err := s.cm.deleteHost(ctx, h.HostID); err != nil {
			return err
		}
	}
	return s.refreshAndRestart(ctx)
}
