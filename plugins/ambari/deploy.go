package ambari

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// Keys of the cluster's Secrets (never in the Store) and of the user
// credentials the plugin issues.
const (
	// CredentialAmbariPassword is the password of Ambari's admin user,
	// created per cluster at configure (Sahara keeps it in the cluster's
	// extra and shows it in its info, in clear).
	CredentialAmbariPassword = "ambari_admin_password"
	secretDefaultPassword    = "ambari_default_password"
	secretRangerDB           = "ambari_ranger_db_password"
)

// Files on the Ambari instance.
const (
	ambariProperties = "/etc/ambari-server/conf/ambari.properties"
	agentINI         = "/etc/ambari-agent/conf/ambari-agent.ini"
	swiftJar         = "/opt/hadoop-openstack.jar"
)

// repoIDs are the Ambari repository ids of each stack version.
var repoIDs = map[string][2]string{
	V23: {"HDP-2.3", "HDP-UTILS-1.1.0.20"},
	V24: {"HDP-2.4", "HDP-UTILS-1.1.0.20"},
	V25: {"HDP-2.5", "HDP-UTILS-1.1.0.21"},
	V26: {"HDP-2.6", "HDP-UTILS-1.1.0.22"},
}

// osTypes maps the os_type an Ambari agent reports to the stack's.
var osTypes = map[string]string{"centos6": "redhat6", "redhat6": "redhat6", "centos7": "redhat7", "redhat7": "redhat7", "ubuntu14": "ubuntu14"}

// Poll intervals and timeouts, Sahara's.
const (
	portTimeout         = 300 * time.Second
	registrationTimeout = 600 * time.Second
	pollInterval        = 5 * time.Second
	requestFirstWait    = 20 * time.Second
)

func sudo(ctx context.Context, r sahara.Remote, cmd string, timeout time.Duration) error {
	_, err := r.ExecuteCommand(ctx, cmd, sahara.ExecOptions{RunAsRoot: true, Timeout: timeout})
	return err
}

func ambariServer(c *sahara.Cluster) (*sahara.Instance, error) {
	ins := c.InstancesWithProcess(ProcAmbari)
	if len(ins) == 0 {
		return nil, errors.New("ambari plugin: the cluster has no Ambari instance")
	}
	return ins[0], nil
}

func generalString(c *sahara.Cluster, name, def string) string {
	if v, ok := c.ClusterConfigs.Get(sahara.TargetGeneral, name); ok {
		return sahara.AsString(v)
	}
	return def
}

func generalBool(c *sahara.Cluster, name string, def bool) bool {
	v, ok := c.ClusterConfigs.Get(sahara.TargetGeneral, name)
	if !ok {
		return def
	}
	b, err := sahara.AsBool(v)
	if err != nil {
		return def
	}
	return b
}

// secret returns the cluster secret key, creating it when missing.
func (p *Plugin) secret(c *sahara.Cluster, key string) (string, error) {
	if v := c.Secrets[key]; v != "" {
		return v, nil
	}
	v, err := p.newPassword()
	if err != nil {
		return "", fmt.Errorf("ambari plugin: generating a password: %w", err)
	}
	if c.Secrets == nil {
		c.Secrets = map[string]string{}
	}
	c.Secrets[key] = v
	return v, nil
}

// ConfigureCluster implements sahara.Plugin (configure_cluster): Ambari's
// server and agents, the admin password, the HDP repositories and the
// blueprint.
func (p *Plugin) ConfigureCluster(ctx context.Context, c *sahara.Cluster, rs sahara.Remotes) error {
	log := p.Logger(ctx)
	server, err := ambariServer(c)
	if err != nil {
		return err
	}
	if !generalBool(c, CfgUseBaseRepos, true) {
		if err := p.disableRepos(ctx, c.Instances(), rs); err != nil {
			return err
		}
	}
	log.Info("setting up the Ambari server", "instance", server.InstanceName)
	if err := p.setupServer(ctx, c, rs.Remote(server)); err != nil {
		return fmt.Errorf("%s: setting up the Ambari server: %w", server.InstanceName, err)
	}
	if err := p.setupAgents(ctx, c.Instances(), server, rs); err != nil {
		return err
	}
	ep, err := p.connect(ctx, server, rs.Remote(server))
	if err != nil {
		return err
	}
	if err := p.waitAccessible(ctx, ep); err != nil {
		return fmt.Errorf("%s: waiting for the Ambari server: %w", server.InstanceName, err)
	}
	pw, err := p.secret(c, CredentialAmbariPassword)
	if err != nil {
		return err
	}
	if err := (&client{ep: ep, user: "admin", password: "admin"}).updateUserPassword(ctx, "admin", "admin", pw); err != nil {
		return fmt.Errorf("setting the Ambari admin password: %w", err)
	}
	c.SetUserCredential(CredentialAmbariPassword, pw)
	cl := &client{ep: ep, user: "admin", password: pw}
	if err := p.waitRegistration(ctx, cl, c.Instances()); err != nil {
		return err
	}
	if err := p.setUpRepos(ctx, cl, c, server); err != nil {
		return err
	}
	if err := p.resolvePackageConflicts(ctx, c.Instances(), rs); err != nil {
		return err
	}
	if err := p.prepareRanger(ctx, c, rs, server); err != nil {
		return err
	}
	nnHA, rmHA, rsHA := generalBool(c, CfgNameNodeHA, false), generalBool(c, CfgRMHA, false), generalBool(c, CfgRegionServerHA, false)
	bp, err := blueprint(c, nnHA, rmHA, rsHA)
	if err != nil {
		return err
	}
	log.Info("creating the Ambari blueprint", "blueprint", c.Name, "host_groups", len(c.Instances()))
	if err := cl.createBlueprint(ctx, c.Name, bp); err != nil {
		return fmt.Errorf("creating the Ambari blueprint: %w", err)
	}
	return nil
}

func (p *Plugin) disableRepos(ctx context.Context, ins []*sahara.Instance, rs sahara.Remotes) error {
	return sahara.ParallelEach(ctx, p.Parallelism, ins, func(ctx context.Context, in *sahara.Instance) error {
		r := rs.Remote(in)
		distro, err := r.GetOSDistrib(ctx)
		if err != nil {
			return err
		}
		if distro == "ubuntu" {
			return sudo(ctx, r, "mv /etc/apt/sources.list /etc/apt/sources.list.tmp", 0)
		}
		id := in.InstanceID
		if len(id) > 8 {
			id = id[:8]
		}
		tmp, err := sahara.Quote("/tmp/yum.repos.d-" + id)
		if err != nil {
			return err
		}
		if err := sudo(ctx, r, "mv /etc/yum.repos.d/ "+tmp, 0); err != nil {
			return err
		}
		return sudo(ctx, r, "mkdir /etc/yum.repos.d", 0)
	})
}

// setupServer is Sahara's setup_ambari: ambari-server setup with the
// image's Java, then start.
func (p *Plugin) setupServer(ctx context.Context, c *sahara.Cluster, r sahara.Remote) error {
	timeout := generalString(c, CfgPkgInstallTime, "1800")
	if _, err := sahara.AsInt(timeout); err != nil {
		return fmt.Errorf("config %q is %q: not a number of seconds", CfgPkgInstallTime, timeout)
	}
	if err := sudo(ctx, r, "rngd -r /dev/urandom -W 4096", 0); err != nil {
		return err
	}
	if err := r.ReplaceRemoteLine(ctx, ambariProperties, "agent.package.install.task.timeout=", "agent.package.install.task.timeout="+strings.TrimSpace(timeout), sahara.FileOptions{RunAsRoot: true}); err != nil {
		return err
	}
	if err := sudo(ctx, r, "ambari-server setup -s -j `cut -f2 -d \"=\" /etc/profile.d/99-java.sh`", 1800*time.Second); err != nil {
		return err
	}
	// After setup, which would drop it.
	if err := r.AppendToFile(ctx, ambariProperties, []byte("server.startup.web.timeout=180"), sahara.FileOptions{RunAsRoot: true}); err != nil {
		return err
	}
	// The service's output goes to a file so that its daemon does not hold
	// the session open; a random name, as root writes it in /tmp.
	name, err := randomPassword()
	if err != nil {
		return err
	}
	out := "/tmp/" + name
	return sudo(ctx, r, fmt.Sprintf("service ambari-server start >%s && cat %s && rm %s", out, out, out), 0)
}

// setupAgents points every agent at the server and starts it.
func (p *Plugin) setupAgents(ctx context.Context, ins []*sahara.Instance, server *sahara.Instance, rs sahara.Remotes) error {
	return sahara.ParallelEach(ctx, p.Parallelism, ins, func(ctx context.Context, in *sahara.Instance) error {
		r := rs.Remote(in)
		if err := r.ReplaceRemoteString(ctx, agentINI, "localhost", server.FQDN(), sahara.FileOptions{RunAsRoot: true}); err != nil {
			return err
		}
		if err := sudo(ctx, r, "ambari-agent start", 0); err != nil {
			// Ubuntu starts the agent at boot: restart it to read the new server.
			p.Logger(ctx).Info(in.InstanceName+": ambari-agent start failed, restarting it", "error", err)
			if err := sudo(ctx, r, "ambari-agent restart", 0); err != nil {
				return err
			}
		}
		return updateRepository(ctx, r)
	})
}

// updateRepository refreshes the package index (Sahara's update_repository).
func updateRepository(ctx context.Context, r sahara.Remote) error {
	distro, err := r.GetOSDistrib(ctx)
	if err != nil {
		return err
	}
	cmd := "yum clean all"
	switch distro {
	case "ubuntu", "debian":
		cmd = "apt-get update"
	case "fedora":
		cmd = "dnf clean all"
	}
	return sudo(ctx, r, cmd, 0)
}

func (p *Plugin) waitAccessible(ctx context.Context, ep Endpoint) error {
	var last error
	err := p.Poll(ctx, int(portTimeout/time.Second), "Ambari server port", "Wait Ambari accessible", pollInterval, func() (bool, error) {
		last = ep.Probe(ctx)
		return last == nil, nil
	})
	if err != nil && last != nil {
		return fmt.Errorf("%w (last: %v)", err, last)
	}
	return err
}

func (p *Plugin) waitRegistration(ctx context.Context, cl *client, ins []*sahara.Instance) error {
	var missing []string
	err := p.Poll(ctx, int(registrationTimeout/time.Second), "Ambari host registration", "Wait registration of hosts", pollInterval, func() (bool, error) {
		hosts, err := cl.registeredHosts(ctx)
		if err != nil {
			return false, err
		}
		missing = missing[:0]
		for _, in := range ins {
			if !slices.Contains(hosts, in.FQDN()) {
				missing = append(missing, in.InstanceName)
			}
		}
		return len(missing) == 0, nil
	})
	if err != nil && len(missing) > 0 {
		return fmt.Errorf("%w; not registered with Ambari: %s", err, strings.Join(missing, ", "))
	}
	return err
}

func (p *Plugin) setUpRepos(ctx context.Context, cl *client, c *sahara.Cluster, server *sahara.Instance) error {
	hdp, utils := generalString(c, CfgHDPRepo, ""), generalString(c, CfgHDPUtilsRepo, "")
	if hdp == "" && utils == "" {
		return nil
	}
	agentOS, err := cl.hostOSType(ctx, server.FQDN())
	if err != nil {
		return err
	}
	osType, ok := osTypes[agentOS]
	if !ok {
		return fmt.Errorf("%s: Ambari reports os_type %q, which HDP %s has no repositories for", server.InstanceName, agentOS, c.PluginVersion)
	}
	ids := repoIDs[c.PluginVersion]
	for i, u := range []string{hdp, utils} {
		if u == "" {
			continue
		}
		if err := cl.setUpMirror(ctx, c.PluginVersion, osType, ids[i], u); err != nil {
			return fmt.Errorf("setting up repository %s: %w", ids[i], err)
		}
	}
	return nil
}

func (p *Plugin) resolvePackageConflicts(ctx context.Context, ins []*sahara.Instance, rs sahara.Remotes) error {
	for _, in := range ins {
		r := rs.Remote(in)
		distro, err := r.GetOSDistrib(ctx)
		if err != nil {
			return err
		}
		if distro == "ubuntu" {
			if _, err := r.ExecuteCommand(ctx, "apt-get remove -y libmysql-java", sahara.ExecOptions{RunAsRoot: true, IgnoreExitCode: true}); err != nil {
				return err
			}
		}
	}
	return nil
}

// prepareRanger is Sahara's _prepare_ranger: a MySQL server for Ranger on
// its instance, with a root password made for the cluster (Sahara keeps it
// in the cluster's extra, in clear; here it stays in the cluster's Secrets
// and reaches the instance in a file only root reads, removed after use).
func (p *Plugin) prepareRanger(ctx context.Context, c *sahara.Cluster, rs sahara.Remotes, server *sahara.Instance) error {
	rangers := c.InstancesWithProcess(ProcRangerAdmin)
	if len(rangers) == 0 {
		return nil
	}
	if err := sudo(ctx, rs.Remote(server), "ambari-server setup --jdbc-db=mysql --jdbc-driver=/usr/share/java/mysql-connector-java.jar", 0); err != nil {
		return err
	}
	pw, err := p.secret(c, secretRangerDB)
	if err != nil {
		return err
	}
	r := rs.Remote(rangers[0])
	if err := sudo(ctx, r, "yum install -y mysql-server", 0); err != nil {
		return err
	}
	if err := sudo(ctx, r, "service mysqld start", 0); err != nil {
		return err
	}
	sql := fmt.Sprintf("create user 'root'@'%%' identified by '%s';\nset password for 'root'@'localhost' = password('%s');", pw, pw)
	if err := r.WriteFileTo(ctx, "/tmp/init.sql", []byte(sql), sahara.FileOptions{RunAsRoot: true, Mode: 0o600, Sensitive: true}); err != nil {
		return err
	}
	if err := sudo(ctx, r, "mysql < /tmp/init.sql", 0); err != nil {
		return err
	}
	return sudo(ctx, r, "rm /tmp/init.sql", 0)
}

// StartCluster implements sahara.Plugin (start_cluster): the cluster info,
// Ambari's cluster creation from the blueprint, the Swift jar, Hive's
// configuration for Oozie.
func (p *Plugin) StartCluster(ctx context.Context, c *sahara.Cluster, rs sahara.Remotes) error {
	server, err := ambariServer(c)
	if err != nil {
		return err
	}
	setClusterInfo(c, server)
	cl, err := p.client(ctx, c, server, rs)
	if err != nil {
		return err
	}
	tmpl, err := p.clusterTemplate(c)
	if err != nil {
		return err
	}
	p.Logger(ctx).Info("creating the Ambari cluster", "hosts", len(c.Instances()))
	id, err := cl.createCluster(ctx, c.Name, tmpl)
	if err != nil {
		return fmt.Errorf("creating the Ambari cluster: %w", err)
	}
	if err := p.waitRequests(ctx, cl, c.Name, []int{id}); err != nil {
		return err
	}
	if err := p.addSwiftJar(ctx, c.Instances(), rs); err != nil {
		return err
	}
	return prepareHive(ctx, c, rs)
}

// client is the Ambari client of a configured cluster.
func (p *Plugin) client(ctx context.Context, c *sahara.Cluster, server *sahara.Instance, rs sahara.Remotes) (*client, error) {
	pw := c.Secrets[CredentialAmbariPassword]
	if pw == "" {
		return nil, errors.New("ambari plugin: the cluster's Ambari admin password is missing from its secrets")
	}
	ep, err := p.connect(ctx, server, rs.Remote(server))
	if err != nil {
		return nil, err
	}
	return &client{ep: ep, user: "admin", password: pw}, nil
}

func (p *Plugin) clusterTemplate(c *sahara.Cluster) (map[string]any, error) {
	pw, err := p.secret(c, secretDefaultPassword)
	if err != nil {
		return nil, err
	}
	var groups []map[string]any
	for _, in := range c.Instances() {
		groups = append(groups, map[string]any{"name": in.InstanceName, "hosts": []map[string]string{{"fqdn": in.FQDN()}}})
	}
	tmpl := map[string]any{"blueprint": c.Name, "default_password": pw, "host_groups": groups}
	if c.UseAutoconfig == nil || *c.UseAutoconfig {
		tmpl["config_recommendation_strategy"] = generalString(c, CfgAutoConfig, "NEVER_APPLY")
	}
	return tmpl, nil
}

// waitRequests waits for Ambari requests to complete (Sahara's
// wait_ambari_request(s)): a first wait, then a poll every 5 s. A request
// that ends in another state fails; ctx bounds the wait.
func (p *Plugin) waitRequests(ctx context.Context, cl *client, cluster string, ids []int) error {
	if len(ids) == 0 {
		return nil
	}
	if err := p.Sleep(ctx, requestFirstWait); err != nil {
		return err
	}
	pending := slices.Clone(ids)
	for {
		var next []int
		var failed []string
		for _, id := range pending {
			st, err := cl.requestStatus(ctx, cluster, id)
			if err != nil {
				return err
			}
			switch st.Requests.Status {
			case "COMPLETED":
			case "IN_PROGRESS", "PENDING", "QUEUED":
				next = append(next, id)
			default:
				failed = append(failed, fmt.Sprintf("request %d: %s - in status %s", id, st.Requests.Context, st.Requests.Status))
			}
		}
		if len(failed) > 0 {
			return &sahara.SaharaError{Exception: "HadoopProvisionError", Code: "HADOOP_PROVISION_FAILED",
				Message: "Some Ambari request(s) not in COMPLETED state: " + strings.Join(failed, "; ") + "."}
		}
		if len(next) == 0 {
			return nil
		}
		pending = next
		if err := p.Sleep(ctx, pollInterval); err != nil {
			return err
		}
	}
}

// setClusterInfo records the web UIs (Sahara's _set_cluster_info). The
// Ambari admin password is a user credential, never in the info.
func setClusterInfo(c *sahara.Cluster, server *sahara.Instance) {
	addr := func(in *sahara.Instance) string {
		if in.ManagementIP != "" {
			return in.ManagementIP
		}
		return in.FQDN()
	}
	c.SetInfo(ProcAmbari, "Web UI", "http://"+addr(server)+":8080")
	c.SetInfo(ProcAmbari, "Username", "admin")
	for _, x := range []struct{ proc, port string }{{ProcNameNode, "50070"}, {ProcResourceManager, "8088"}} {
		for i, in := range c.InstancesWithProcess(x.proc) {
			c.SetInfo(x.proc, fmt.Sprintf("Web UI %d", i+1), "http://"+addr(in)+":"+x.port)
		}
	}
	for _, x := range []struct{ proc, suffix string }{
		{ProcHistoryServer, ":19888"}, {ProcTimelineServer, ":8188"}, {ProcOozie, ":11000/oozie"}, {ProcHBaseMaster, ":16010"},
		{ProcFalconServer, ":15000"}, {ProcStormUI, ":8744"}, {ProcRangerAdmin, ":6080"}, {ProcSparkHistory, ":18080"},
	} {
		if ins := c.InstancesWithProcess(x.proc); len(ins) > 0 {
			c.SetInfo(x.proc, "Web UI", "http://"+addr(ins[0])+x.suffix)
		}
	}
}

// addSwiftJar puts the image's hadoop-openstack.jar (Keystone v3 Swift
// support) in place of HDP's (Sahara's add_hadoop_swift_jar).
func (p *Plugin) addSwiftJar(ctx context.Context, ins []*sahara.Instance, rs sahara.Remotes) error {
	for _, in := range ins {
		r := rs.Remote(in)
		res, err := r.ExecuteCommand(ctx, "test -f "+swiftJar, sahara.ExecOptions{IgnoreExitCode: true})
		if err != nil {
			return err
		}
		if res.ExitCode != 0 {
			p.Logger(ctx).Warn(in.InstanceName + ": " + swiftJar + " is missing: Swift with Keystone v3 is not enabled on this instance")
			continue
		}
		out, err := r.ExecuteCommand(ctx, "sudo hadoop version | grep 'Hadoop' | awk '{print $2}'", sahara.ExecOptions{})
		if err != nil {
			return err
		}
		version := strings.TrimSpace(string(out.Stdout))
		parts := strings.Split(version, ".")
		if len(parts) < 4 {
			return fmt.Errorf("%s: unexpected hadoop version %q", in.InstanceName, version)
		}
		target, err := sahara.Quote(fmt.Sprintf("/usr/hdp/%s/hadoop-mapreduce/hadoop-openstack-%s.jar", strings.Join(parts[3:], "."), version))
		if err != nil {
			return fmt.Errorf("%s: hadoop version %q: %w", in.InstanceName, version, err)
		}
		if _, err := r.ExecuteCommand(ctx, "sudo cp "+swiftJar+" "+target, sahara.ExecOptions{}); err != nil {
			return err
		}
	}
	return nil
}

// prepareHive copies hive-site.xml where Oozie's Hive actions read it.
func prepareHive(ctx context.Context, c *sahara.Cluster, rs sahara.Remotes) error {
	hive := c.InstancesWithProcess(ProcHiveServer)
	if len(hive) == 0 {
		return nil
	}
	r := rs.Remote(hive[0])
	for _, cmd := range []string{
		`sudo su - -c  "hadoop fs -mkdir /user/oozie/conf" hdfs`,
		`sudo su - -c  "hadoop fs -copyFromLocal /etc/hive/conf/hive-site.xml /user/oozie/conf/hive-site.xml" hdfs`,
	} {
		if _, err := r.ExecuteCommand(ctx, cmd, sahara.ExecOptions{}); err != nil {
			return err
		}
	}
	return nil
}
