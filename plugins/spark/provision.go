package spark

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/saharagen/terraform-provider-saharagen/plugins/internal/hadoop"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// Commands of Sahara's plugin, byte for byte.
const (
	keyCmd        = "sudo cp $HOME/id_rsa $HOME/.ssh/; sudo chown $USER $HOME/.ssh/id_rsa; sudo chmod 600 $HOME/.ssh/id_rsa"
	startNNCmd    = "sudo service hadoop-hdfs-namenode start"
	startDNCmd    = "sudo service hadoop-hdfs-datanode start"
	userDirCmd    = "sudo -u hdfs hdfs dfs -mkdir -p /user/$USER/"
	userChownCmd  = "sudo -u hdfs hdfs dfs -chown $USER /user/$USER/"
	chownConfCmd  = "sudo chown -R $USER:$USER /etc/hadoop"
	initChmodCmd  = "sudo chmod 0500 " + initScript
	initRunCmd    = "sudo " + initScript + " >> /tmp/sahara-hadoop-init.log 2>&1"
	cleanChmodCmd = "chmod 755 " + cleanupScript
	// Sahara's "/etc/crond.d" typo is kept: the command lines stay Sahara's.
	cleanRmScriptCmd = "sudo rm -f " + cleanupScript
	cleanRmCronCmd   = "sudo rm -f /etc/crond.d/spark-cleanup"
)

// datanodeCountCmd prints the number of live datanodes (Sahara's command
// corrected: hadoop.DataNodeCountCmd).
var datanodeCountCmd = hadoop.DataNodeCountCmd("hdfs")

func run(ctx context.Context, rem sahara.Remote, cmds ...string) error {
	for _, cmd := range cmds {
		if _, err := rem.ExecuteCommand(ctx, cmd, sahara.ExecOptions{}); err != nil {
			return err
		}
	}
	return nil
}

// sparkCmd is "bash <Spark home>/sbin/<script>", the home quoted when it
// needs to be (Validate allows only plain paths).
func sparkCmd(home, script string) string {
	return "bash " + sahara.MustQuote(home+"/sbin/"+script)
}

// ConfigureCluster implements sahara.Plugin (configure_cluster): every
// instance gets the new-node configuration.
func (p *Plugin) ConfigureCluster(ctx context.Context, c *sahara.Cluster, r sahara.Remotes) error {
	if err := checkVersion(c.PluginVersion); err != nil {
		return err
	}
	return p.pushConfigs(ctx, c, r, c.Instances())
}

// pushConfigs is Sahara's _push_configs_to_nodes: the instances in added
// get the whole configuration, the others their Spark files, the cleanup
// job (master) and the include files (namenode).
func (p *Plugin) pushConfigs(ctx context.Context, c *sahara.Cluster, r sahara.Remotes, added []*sahara.Instance) error {
	if len(added) > 0 && (c.ManagementPrivateKey == "" || c.ManagementPublicKey == "") {
		return fmt.Errorf("spark: cluster %s has no management key pair for the instances' id_rsa and authorized_keys", c.Name)
	}
	sp, err := renderSpark(c, c.InstancesWithProcess(ProcSlave))
	if err != nil {
		return err
	}
	all := c.Instances()
	p.Logger(ctx).Info("Push configs to nodes", "cluster", c.Name, "instances", len(all), "new", len(added))
	return sahara.ParallelEach(ctx, p.Parallelism, all, func(ctx context.Context, in *sahara.Instance) error {
		if slices.Contains(added, in) {
			return p.pushNew(ctx, c, r.Remote(in), in, sp)
		}
		return p.pushExisting(ctx, c, r.Remote(in), in, sp)
	})
}

// pushNew is Sahara's _push_configs_to_new_node.
func (p *Plugin) pushNew(ctx context.Context, c *sahara.Cluster, rem sahara.Remote, in *sahara.Instance, sp sparkFiles) error {
	paths, err := storagePaths(in)
	if err != nil {
		return err
	}
	site, err := siteFiles(c, in, paths)
	if err != nil {
		return err
	}
	l, err := lineOf(c.PluginVersion)
	if err != nil {
		return err
	}
	script, err := setupScript(l, in.NodeGroup(), paths)
	if err != nil {
		return err
	}
	nn, dn := strings.Join(suffixed(paths, "/dfs/nn"), " "), strings.Join(suffixed(paths, "/dfs/dn"), " ")
	dirs := fmt.Sprintf("sudo mkdir -p %s %s &&sudo chown -R hdfs:hadoop %s %s &&sudo chmod 755 %s %s", nn, dn, nn, dn, nn, dn)
	if err := run(ctx, rem, chownConfCmd, "sudo chown -R $USER:$USER "+sahara.MustQuote(sp.home)); err != nil {
		return err
	}
	// A secret config (the Swift password) is never logged; the files keep
	// Sahara's mode, since the HDFS daemons' user reads them.
	if err := rem.WriteFilesTo(ctx, toFiles(site), sahara.FileOptions{Sensitive: len(c.SecretConfigKeys) > 0}); err != nil {
		return err
	}
	if err := rem.WriteFilesTo(ctx, toFiles(sp.list()), sahara.FileOptions{}); err != nil {
		return err
	}
	init := []sahara.File{
		{Path: initScript, Data: script},
		{Path: "id_rsa", Data: []byte(c.ManagementPrivateKey)},
		{Path: "authorized_keys", Data: []byte(c.ManagementPublicKey)},
	}
	if err := rem.WriteFilesTo(ctx, init, sahara.FileOptions{Sensitive: true}); err != nil {
		return err
	}
	if err := run(ctx, rem, initChmodCmd, initRunCmd, dirs, keyCmd); err != nil {
		return err
	}
	if err := p.pushNameNodeFiles(ctx, c, rem, in); err != nil {
		return err
	}
	return p.pushCleanupJob(ctx, c, rem, in)
}

// pushExisting is Sahara's _push_configs_to_existing_node (data locality
// is off, as in Sahara's default configuration).
func (p *Plugin) pushExisting(ctx context.Context, c *sahara.Cluster, rem sahara.Remote, in *sahara.Instance, sp sparkFiles) error {
	ng := in.NodeGroup()
	if ng.HasProcess(ProcMaster) || ng.HasProcess(ProcSlave) {
		if err := rem.WriteFilesTo(ctx, toFiles(sp.list()), sahara.FileOptions{}); err != nil {
			return err
		}
		if err := p.pushCleanupJob(ctx, c, rem, in); err != nil {
			return err
		}
	}
	return p.pushNameNodeFiles(ctx, c, rem, in)
}

// pushNameNodeFiles writes the datanode include file and an empty exclude
// file on the namenode.
func (p *Plugin) pushNameNodeFiles(ctx context.Context, c *sahara.Cluster, rem sahara.Remote, in *sahara.Instance) error {
	if !in.NodeGroup().HasProcess(ProcNameNode) {
		return nil
	}
	fqdns, err := hostnames(c.InstancesWithProcess(ProcDataNode), true)
	if err != nil {
		return err
	}
	if err := rem.WriteFileTo(ctx, dnIncl, []byte(strings.Join(fqdns, "\n")), sahara.FileOptions{}); err != nil {
		return err
	}
	return rem.WriteFileTo(ctx, dnExcl, []byte{}, sahara.FileOptions{})
}

// pushCleanupJob installs (or removes) the master's hourly job cleanup.
func (p *Plugin) pushCleanupJob(ctx context.Context, c *sahara.Cluster, rem sahara.Remote, in *sahara.Instance) error {
	if !in.NodeGroup().HasProcess(ProcMaster) {
		return nil
	}
	script, ok, err := cleanupJob(c)
	if err != nil {
		return err
	}
	if !ok {
		return run(ctx, rem, cleanRmScriptCmd, cleanRmCronCmd)
	}
	if err := rem.WriteFileTo(ctx, cleanupScript, script, sahara.FileOptions{}); err != nil {
		return err
	}
	return run(ctx, rem, cleanChmodCmd, `sudo sh -c 'echo "`+cleanupCron+`" > /etc/cron.d/spark-cleanup'`)
}

// StartCluster implements sahara.Plugin (start_cluster, Sahara's order):
// namenode format and start, datanodes, the wait for them, the HDFS home
// of the login user, the Spark master and workers (start-all.sh), then the
// web UIs in the cluster info.
func (p *Plugin) StartCluster(ctx context.Context, c *sahara.Cluster, r sahara.Remotes) error {
	l, err := lineOf(c.PluginVersion)
	if err != nil {
		return err
	}
	nn := first(c, ProcNameNode)
	if nn == nil {
		return fmt.Errorf("spark: cluster %s has no namenode instance", c.Name)
	}
	p.Logger(ctx).Info("Start the following process(es): NameNode", "cluster", c.Name, "instance", nn.InstanceName)
	if err := run(ctx, r.Remote(nn), l.formatCmd, startNNCmd); err != nil {
		return err
	}
	if err := p.startDataNodes(ctx, c, r, c.InstancesWithProcess(ProcDataNode)); err != nil {
		return err
	}
	if err := p.awaitDataNodes(ctx, c, r.Remote(nn)); err != nil {
		return err
	}
	if err := run(ctx, r.Remote(nn), userDirCmd, userChownCmd); err != nil {
		return err
	}
	home, err := stringConfig(c, SvcSpark, CfgSparkHome)
	if err != nil {
		return err
	}
	if sm := first(c, ProcMaster); sm != nil {
		p.Logger(ctx).Info("Start the following process(es): SparkMasterNode", "cluster", c.Name, "instance", sm.InstanceName)
		if err := run(ctx, r.Remote(sm), sparkCmd(home, "start-all.sh")); err != nil {
			return err
		}
	}
	return setInfo(c)
}

func (p *Plugin) startDataNodes(ctx context.Context, c *sahara.Cluster, r sahara.Remotes, dns []*sahara.Instance) error {
	p.Logger(ctx).Info(fmt.Sprintf("Start the following process(es): DataNodes on %d instances", len(dns)), "cluster", c.Name)
	return sahara.ParallelEach(ctx, p.Parallelism, dns, func(ctx context.Context, in *sahara.Instance) error {
		return run(ctx, r.Remote(in), startDNCmd)
	})
}

// awaitDataNodes waits until the namenode reports every datanode live,
// within "DataNodes startup timeout", polling every second.
func (p *Plugin) awaitDataNodes(ctx context.Context, c *sahara.Cluster, nn sahara.Remote) error {
	timeout, err := lookup.ClusterOption(c, CfgDataNodesStartup)
	if err != nil {
		return err
	}
	want := len(c.InstancesWithProcess(ProcDataNode))
	return p.AwaitDataNodes(ctx, c, nn, datanodeCountCmd, want, timeout, CfgDataNodesStartup, fmt.Sprintf("Waiting on %d DataNodes to start up", want))
}

// setInfo replaces the cluster info with Sahara's: the HDFS web UI (port
// of dfs.http.address) and NameNode URI, the Spark master's web UI.
func setInfo(c *sahara.Cluster) error {
	c.Info = nil
	addr := hadoop.WebAddress
	if nn := first(c, ProcNameNode); nn != nil {
		l, err := lineOf(c.PluginVersion)
		if err != nil {
			return err
		}
		a, err := stringConfig(c, SvcHDFS, l.httpAddress)
		if err != nil {
			return err
		}
		c.SetInfo("HDFS", "Web UI", "http://"+addr(nn)+":"+a[strings.LastIndexByte(a, ':')+1:])
		c.SetInfo("HDFS", "NameNode", "hdfs://"+nn.Hostname()+":8020")
	}
	if sm := first(c, ProcMaster); sm != nil {
		port, err := stringConfig(c, SvcSpark, CfgMasterWebUIPort)
		if err != nil {
			return err
		}
		c.SetInfo("Spark", "Web UI", "http://"+addr(sm)+":"+port)
	}
	return nil
}
