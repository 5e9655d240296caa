package vanilla

import (
	"context"
	"fmt"
	"time"

	"github.com/saharagen/terraform-provider-saharagen/plugins/internal/hadoop"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// datanodeCountCmd prints the number of live datanodes (Sahara's command
// corrected: hadoop.DataNodeCountCmd).
var datanodeCountCmd = hadoop.DataNodeCountCmd(hadoopUser)

// StartCluster implements sahara.Plugin (start_cluster, Sahara's order):
// key pair, namenode format and start, secondary namenode, resource
// manager, datanodes and nodemanagers, wait for the datanodes, history
// server, ZooKeeper, then the cluster info.
func (p *Plugin) StartCluster(ctx context.Context, c *sahara.Cluster, r sahara.Remotes) error {
	l, err := lineOf(c.PluginVersion)
	if err != nil {
		return err
	}
	if err := checkProvisionable(c); err != nil {
		return err
	}
	if err := p.provisionKeypairs(ctx, c, r, c.Instances(), false); err != nil {
		return err
	}
	nn := first(c, ProcNameNode)
	if nn == nil {
		return fmt.Errorf("vanilla: cluster %s has no namenode instance", c.Name)
	}
	p.Logger(ctx).Info("Starting process(es): NameNode", "cluster", c.Name, "instance", nn.InstanceName)
	if err := run(ctx, r.Remote(nn), asHadoop("hdfs namenode -format"), l.startNameNode); err != nil {
		return err
	}
	if snn := first(c, ProcSecondaryNameNode); snn != nil {
		p.Logger(ctx).Info("Starting process(es): SecondaryNameNodes", "cluster", c.Name, "instance", snn.InstanceName)
		if err := run(ctx, r.Remote(snn), l.startSecondary); err != nil {
			return err
		}
	}
	if rm := first(c, ProcResourceManager); rm != nil {
		p.Logger(ctx).Info("Starting process(es): ResourceManager", "cluster", c.Name, "instance", rm.InstanceName)
		if err := run(ctx, r.Remote(rm), l.startRM); err != nil {
			return err
		}
	}
	if err := p.startDataNodesNodeManagers(ctx, c, r, l, c.Instances()); err != nil {
		return err
	}
	if err := p.awaitDataNodes(ctx, c, r); err != nil {
		return err
	}
	if hs := first(c, ProcHistoryServer); hs != nil {
		p.Logger(ctx).Info("Starting process(es): HistoryServer", "cluster", c.Name, "instance", hs.InstanceName)
		if err := run(ctx, r.Remote(hs), l.startHS); err != nil {
			return err
		}
	}
	if err := p.zooKeeperServers(ctx, c, r, nil, "start"); err != nil {
		return err
	}
	setInfo(c, l)
	return nil
}

func run(ctx context.Context, rem sahara.Remote, cmds ...string) error {
	for _, cmd := range cmds {
		if _, err := rem.ExecuteCommand(ctx, cmd, sahara.ExecOptions{}); err != nil {
			return err
		}
	}
	return nil
}

// startDataNodesNodeManagers is Sahara's start_dn_nm_processes.
func (p *Plugin) startDataNodesNodeManagers(ctx context.Context, c *sahara.Cluster, r sahara.Remotes, l *line, instances []*sahara.Instance) error {
	var workers []*sahara.Instance
	for _, in := range instances {
		if ng := in.NodeGroup(); ng.HasProcess(ProcDataNode) || ng.HasProcess(ProcNodeManager) {
			workers = append(workers, in)
		}
	}
	if len(workers) == 0 {
		return nil
	}
	p.Logger(ctx).Info(fmt.Sprintf("Starting process(es): DataNodes, NodeManagers on %d instances", len(workers)), "cluster", c.Name)
	return sahara.ParallelEach(ctx, p.Parallelism, workers, func(ctx context.Context, in *sahara.Instance) error {
		var cmds []string
		if in.NodeGroup().HasProcess(ProcDataNode) {
			cmds = append(cmds, l.startDataNode)
		}
		if in.NodeGroup().HasProcess(ProcNodeManager) {
			cmds = append(cmds, l.startNM)
		}
		return run(ctx, r.Remote(in), cmds...)
	})
}

// awaitDataNodes waits until the namenode reports every datanode live,
// within "DataNodes startup timeout", polling every second.
func (p *Plugin) awaitDataNodes(ctx context.Context, c *sahara.Cluster, r sahara.Remotes) error {
	timeout, err := clusterOption(c, CfgDataNodesStartup)
	if err != nil {
		return err
	}
	want := len(c.InstancesWithProcess(ProcDataNode))
	return p.AwaitDataNodes(ctx, c, r.Remote(first(c, ProcNameNode)), datanodeCountCmd, want, timeout, CfgDataNodesStartup, fmt.Sprintf("Waiting on %d datanodes to start up", want))
}

// poll is plugin_option_poll with the timeout of a cluster-level option.
func (p *Plugin) poll(ctx context.Context, c *sahara.Cluster, option, op string, interval time.Duration, check func() (bool, error)) error {
	timeout, err := clusterOption(c, option)
	if err != nil {
		return err
	}
	return p.Poll(ctx, timeout, option, op, interval, check)
}

// setInfo replaces the cluster info with the web UIs of the services present.
func setInfo(c *sahara.Cluster, l *line) {
	c.Info = nil
	addr := hadoop.WebAddress
	if rm := first(c, ProcResourceManager); rm != nil {
		c.SetInfo("YARN", "Web UI", "http://"+addr(rm)+":8088")
		c.SetInfo("YARN", "ResourceManager", "http://"+addr(rm)+":8032")
	}
	if nn := first(c, ProcNameNode); nn != nil {
		c.SetInfo("HDFS", "Web UI", fmt.Sprintf("http://%s:%d", addr(nn), l.nnWebPort))
		c.SetInfo("HDFS", "NameNode", "hdfs://"+nn.Hostname()+":9000")
	}
	if hs := first(c, ProcHistoryServer); hs != nil {
		c.SetInfo("MapReduce JobHistory Server", "Web UI", "http://"+addr(hs)+":19888")
	}
}
