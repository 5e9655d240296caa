package spark

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/saharagen/terraform-provider-saharagen/plugins/internal/hadoop"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

const decommissionPoll = 3 * time.Second

var _ sahara.Scaler = (*Plugin)(nil)

// ScaleCluster implements sahara.Scaler (scale_cluster, Sahara's order):
// stop Spark, configure the new instances and refresh the others' Spark
// files and include files, refreshNodes, start the new datanodes, start
// Spark again.
func (p *Plugin) ScaleCluster(ctx context.Context, c *sahara.Cluster, r sahara.Remotes, instances []*sahara.Instance) error {
	l, err := lineOf(c.PluginVersion)
	if err != nil {
		return err
	}
	home, err := stringConfig(c, SvcSpark, CfgSparkHome)
	if err != nil {
		return err
	}
	master, nn := first(c, ProcMaster), first(c, ProcNameNode)
	if master == nil || nn == nil {
		return fmt.Errorf("spark: cluster %s has no master or no namenode instance", c.Name)
	}
	p.Logger(ctx).Info(fmt.Sprintf("Scaling: adding %d instances", len(instances)), "cluster", c.Name)
	if err := run(ctx, r.Remote(master), sparkCmd(home, "stop-all.sh")); err != nil {
		return err
	}
	if err := p.pushConfigs(ctx, c, r, instances); err != nil {
		return err
	}
	if err := run(ctx, r.Remote(nn), l.refreshCmd); err != nil {
		return err
	}
	if err := p.startDataNodes(ctx, c, r, withProcess(instances, ProcDataNode)); err != nil {
		return err
	}
	return run(ctx, r.Remote(master), sparkCmd(home, "start-all.sh"))
}

// DecommissionNodes implements sahara.Scaler (decommission_nodes). Unlike
// Sahara, the HDFS data is retired first (exclude file, refreshNodes, the
// wait until HDFS reports the removed datanodes decommissioned, matched by
// exact address, then the include files without them); then only the
// removed Spark workers are stopped and the survivors get the new slaves
// file. Sahara stopped and restarted the whole Spark cluster (killing
// running jobs) before touching HDFS.
func (p *Plugin) DecommissionNodes(ctx context.Context, c *sahara.Cluster, r sahara.Remotes, instances []*sahara.Instance) error {
	l, err := lineOf(c.PluginVersion)
	if err != nil {
		return err
	}
	dns, sls := withProcess(instances, ProcDataNode), withProcess(instances, ProcSlave)
	// validate_scaling refuses this already; checked again because the
	// blocks of the last replicas would be lost.
	if err := checkShrink(c, len(dns)); err != nil {
		return err
	}
	p.Logger(ctx).Info(fmt.Sprintf("Decommissioning %d instances (%d datanodes, %d slaves)", len(instances), len(dns), len(sls)), "cluster", c.Name)
	if len(dns) > 0 {
		if err := p.decommissionDataNodes(ctx, c, r, l, dns); err != nil {
			return err
		}
	}
	if len(sls) > 0 {
		return p.decommissionSlaves(ctx, c, r, l, sls)
	}
	return nil
}

// decommissionDataNodes is Sahara's decommission_dn with the exact
// address match.
func (p *Plugin) decommissionDataNodes(ctx context.Context, c *sahara.Cluster, r sahara.Remotes, l *line, dns []*sahara.Instance) error {
	nn := first(c, ProcNameNode)
	if nn == nil {
		return fmt.Errorf("spark: cluster %s has no namenode instance", c.Name)
	}
	removed, err := hostnames(dns, true)
	if err != nil {
		return err
	}
	survivors, err := hostnames(without(c.InstancesWithProcess(ProcDataNode), dns), true)
	if err != nil {
		return err
	}
	timeout, err := lookup.ClusterOption(c, CfgDecommissionTimeout)
	if err != nil {
		return err
	}
	rem := r.Remote(nn)
	if err := rem.WriteFileTo(ctx, dnExcl, []byte(strings.Join(removed, "\n")), sahara.FileOptions{}); err != nil {
		return err
	}
	if err := run(ctx, rem, l.refreshCmd); err != nil {
		return err
	}
	if err := p.Sleep(ctx, decommissionPoll); err != nil {
		return err
	}
	p.Logger(ctx).Info(fmt.Sprintf("Decommission DataNodes: waiting for %d", len(dns)), "cluster", c.Name)
	err = p.Poll(ctx, timeout, CfgDecommissionTimeout, "Decommission DataNodes", decommissionPoll, func() (bool, error) {
		res, err := rem.ExecuteCommand(ctx, l.reportCmd, sahara.ExecOptions{})
		if err != nil {
			return false, err
		}
		return decommissioned(string(res.Stdout), dns), nil
	})
	if err != nil {
		return err
	}
	return rem.WriteFilesTo(ctx, []sahara.File{
		{Path: dnIncl, Data: []byte(strings.Join(survivors, "\n"))},
		{Path: dnExcl, Data: []byte{}},
	}, sahara.FileOptions{})
}

// decommissioned is Sahara's _is_decommissioned with the address matched
// exactly: every reported datanode at the internal address of a removed
// instance is "Decommissioned" (Sahara matched the Name by prefix, so
// removing 10.0.0.1 waited on 10.0.0.10 too).
func decommissioned(report string, removed []*sahara.Instance) bool {
	nodes := hadoop.ParseDFSReport(report)
	for _, in := range removed {
		for _, d := range nodes {
			if d.Address() == in.InternalIP && d.Status != "Decommissioned" {
				return false
			}
		}
	}
	return true
}

// decommissionSlaves stops the Spark workers of the removed instances
// (their executors end; running applications keep their other executors)
// and writes the slaves file without them to the master and every
// surviving slave. Sahara ran stop-all.sh and start-all.sh around it.
func (p *Plugin) decommissionSlaves(ctx context.Context, c *sahara.Cluster, r sahara.Remotes, l *line, sls []*sahara.Instance) error {
	home, err := stringConfig(c, SvcSpark, CfgSparkHome)
	if err != nil {
		return err
	}
	master := first(c, ProcMaster)
	if master == nil {
		return fmt.Errorf("spark: cluster %s has no master instance", c.Name)
	}
	survivors := without(c.InstancesWithProcess(ProcSlave), sls)
	names, err := hostnames(survivors, false)
	if err != nil {
		return err
	}
	p.Logger(ctx).Info(fmt.Sprintf("Decommission Slaves: stopping %d workers", len(sls)), "cluster", c.Name)
	if err := sahara.ParallelEach(ctx, p.Parallelism, sls, func(ctx context.Context, in *sahara.Instance) error {
		return run(ctx, r.Remote(in), sparkCmd(home, l.stopWorker))
	}); err != nil {
		return err
	}
	files := []sahara.File{{Path: home + "/conf/" + l.workersFile, Data: []byte(strings.Join(names, "\n"))}}
	return sahara.ParallelEach(ctx, p.Parallelism, append([]*sahara.Instance{master}, survivors...), func(ctx context.Context, in *sahara.Instance) error {
		return r.Remote(in).WriteFilesTo(ctx, files, sahara.FileOptions{})
	})
}

func withProcess(ins []*sahara.Instance, proc string) []*sahara.Instance {
	return hadoop.WithProcess(ins, proc)
}

func without(all, drop []*sahara.Instance) []*sahara.Instance {
	var out []*sahara.Instance
	for _, in := range all {
		if !slices.Contains(drop, in) {
			out = append(out, in)
		}
	}
	return out
}
