package vanilla

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/saharagen/terraform-provider-saharagen/plugins/internal/hadoop"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

const decommissionPoll = 5 * time.Second

// ScaleCluster implements sahara.Scaler (scale_cluster): key pair and
// configuration of the new instances, include files on every instance,
// refreshNodes, then the new datanodes and nodemanagers, then ZooKeeper.
func (p *Plugin) ScaleCluster(ctx context.Context, c *sahara.Cluster, r sahara.Remotes, instances []*sahara.Instance) error {
	l, err := lineOf(c.PluginVersion)
	if err != nil {
		return err
	}
	if err := checkProvisionable(c); err != nil {
		return err
	}
	p.Logger(ctx).Info(fmt.Sprintf("Scaling: adding %d instances", len(instances)), "cluster", c.Name)
	if err := p.provisionKeypairs(ctx, c, r, instances, true); err != nil {
		return err
	}
	if err := p.configureInstances(ctx, c, r, l, instances); err != nil {
		return err
	}
	if err := p.writeIncludeFiles(ctx, c, r, nil); err != nil {
		return err
	}
	if err := p.refreshNodes(ctx, c, r, true); err != nil {
		return err
	}
	if err := p.startDataNodesNodeManagers(ctx, c, r, l, instances); err != nil {
		return err
	}
	if err := p.configureZooKeeper(ctx, c, r, nil); err != nil {
		return err
	}
	return p.zooKeeperServers(ctx, c, r, nil, "restart")
}

// DecommissionNodes implements sahara.Scaler (decommission_nodes): exclude
// the instances, refreshNodes, wait until YARN and HDFS report them
// decommissioned, then rewrite the include files without them.
func (p *Plugin) DecommissionNodes(ctx context.Context, c *sahara.Cluster, r sahara.Remotes, instances []*sahara.Instance) error {
	if _, err := lineOf(c.PluginVersion); err != nil {
		return err
	}
	dns, nms := withProcess(instances, ProcDataNode), withProcess(instances, ProcNodeManager)
	// validate_scaling refuses this already; checked again because the
	// blocks of the last replicas would be lost.
	rep, err := intConfig(c, SvcHDFS, CfgReplication)
	if err != nil {
		return err
	}
	if left := len(c.InstancesWithProcess(ProcDataNode)) - len(dns); len(dns) > 0 && left < rep {
		return sahara.ClusterCannotBeScaled(c.Name, "Vanilla plugin cannot shrink cluster because it would be not enough nodes for replicas (replication factor is "+itoa(rep)+")")
	}
	p.Logger(ctx).Info(fmt.Sprintf("Decommissioning %d instances (%d datanodes, %d nodemanagers)", len(instances), len(dns), len(nms)), "cluster", c.Name)
	if err := p.writeHostFiles(ctx, c, r, "exclude", dns, nms); err != nil {
		return err
	}
	if err := p.refreshNodes(ctx, c, r, true); err != nil {
		return err
	}
	// Sahara polls the resource manager even when there is none (and
	// crashes); without one there is no nodemanager to wait for.
	if rm := first(c, ProcResourceManager); rm != nil {
		if err := p.awaitDecommission(ctx, c, r.Remote(rm), nms, "NodeManagers", CfgNodeManagersDecomm, "yarn node -all -list", nodeManagerStates); err != nil {
			return err
		}
	}
	if err := p.awaitDecommission(ctx, c, r.Remote(first(c, ProcNameNode)), dns, "DataNodes", CfgDataNodesDecommision, "hdfs dfsadmin -report", dataNodeStates); err != nil {
		return err
	}
	if err := p.writeIncludeFiles(ctx, c, r, instances); err != nil {
		return err
	}
	if err := p.clearExcludeFiles(ctx, c, r); err != nil {
		return err
	}
	if err := p.refreshNodes(ctx, c, r, false); err != nil {
		return err
	}
	if err := p.configureZooKeeper(ctx, c, r, instances); err != nil {
		return err
	}
	return p.zooKeeperServers(ctx, c, r, instances, "restart")
}

// removed returns a predicate true for the given instances.
func removed(instances []*sahara.Instance) func(*sahara.Instance) bool {
	set := map[*sahara.Instance]bool{}
	for _, in := range instances {
		set[in] = true
	}
	return func(in *sahara.Instance) bool { return set[in] }
}

func withProcess(ins []*sahara.Instance, proc string) []*sahara.Instance {
	return hadoop.WithProcess(ins, proc)
}

func fqdns(instances []*sahara.Instance) string {
	names := make([]string, len(instances))
	for i, in := range instances {
		names[i] = in.FQDN()
	}
	return strings.Join(names, "\n")
}

// writeIncludeFiles writes dn-include and nm-include on every instance:
// the cluster's datanodes and nodemanagers except the removed ones.
func (p *Plugin) writeIncludeFiles(ctx context.Context, c *sahara.Cluster, r sahara.Remotes, removedInstances []*sahara.Instance) error {
	gone := removed(removedInstances)
	keep := func(proc string) []*sahara.Instance {
		var out []*sahara.Instance
		for _, in := range c.InstancesWithProcess(proc) {
			if !gone(in) {
				out = append(out, in)
			}
		}
		return out
	}
	return p.writeHostFiles(ctx, c, r, "include", keep(ProcDataNode), keep(ProcNodeManager))
}

// writeHostFiles writes dn-<kind> and nm-<kind> on every instance of the
// cluster, one FQDN a line, as the hadoop user.
func (p *Plugin) writeHostFiles(ctx context.Context, c *sahara.Cluster, r sahara.Remotes, kind string, dns, nms []*sahara.Instance) error {
	dn, err := squote(fqdns(dns))
	if err != nil {
		return err
	}
	nm, err := squote(fqdns(nms))
	if err != nil {
		return err
	}
	cmds := []string{
		asHadoop("echo " + dn + " > " + hadoopConfDir + "/dn-" + kind),
		asHadoop("echo " + nm + " > " + hadoopConfDir + "/nm-" + kind),
	}
	all := c.Instances()
	p.Logger(ctx).Info(fmt.Sprintf("Updating %s files on %d instances", kind, len(all)), "cluster", c.Name)
	return sahara.ParallelEach(ctx, p.Parallelism, all, func(ctx context.Context, in *sahara.Instance) error {
		return run(ctx, r.Remote(in), cmds...)
	})
}

func (p *Plugin) clearExcludeFiles(ctx context.Context, c *sahara.Cluster, r sahara.Remotes) error {
	return sahara.ParallelEach(ctx, p.Parallelism, c.Instances(), func(ctx context.Context, in *sahara.Instance) error {
		return run(ctx, r.Remote(in), asHadoop("echo > "+hadoopConfDir+"/dn-exclude"), asHadoop("echo > "+hadoopConfDir+"/nm-exclude"))
	})
}

// refreshNodes makes the namenode (and, when yarn is set, the resource
// manager) re-read the include and exclude files.
func (p *Plugin) refreshNodes(ctx context.Context, c *sahara.Cluster, r sahara.Remotes, yarn bool) error {
	if err := run(ctx, r.Remote(first(c, ProcNameNode)), asHadoop("hdfs dfsadmin -refreshNodes")); err != nil {
		return err
	}
	if rm := first(c, ProcResourceManager); yarn && rm != nil {
		return run(ctx, r.Remote(rm), asHadoop("yarn rmadmin -refreshNodes"))
	}
	return nil
}

var (
	nodeManagerRE = regexp.MustCompile(`(?m)^(\S+):\d+\s+(\w+)`)
)

// nodeManagerStates parses `yarn node -all -list`: host → state, lower case.
func nodeManagerStates(out string) map[string]string {
	m := map[string]string{}
	for _, g := range nodeManagerRE.FindAllStringSubmatch(out, -1) {
		m[g[1]] = strings.ToLower(g[2])
	}
	return m
}

// dataNodeStates parses `hdfs dfsadmin -report` (hadoop.ParseDFSReport):
// host → decommission status, lower case.
func dataNodeStates(out string) map[string]string {
	m := map[string]string{}
	for _, d := range hadoop.ParseDFSReport(out) {
		if d.Hostname != "" {
			m[d.Hostname] = strings.ToLower(d.Status)
		}
	}
	return m
}

// awaitDecommission polls a report every 5 s until each instance's FQDN is
// "decommissioned", within the cluster-level timeout option.
func (p *Plugin) awaitDecommission(ctx context.Context, c *sahara.Cluster, rem sahara.Remote, instances []*sahara.Instance, what, option, report string, parse func(string) map[string]string) error {
	p.Logger(ctx).Info(fmt.Sprintf("Decommission %s: waiting for %d", what, len(instances)), "cluster", c.Name)
	return p.poll(ctx, c, option, "Wait for decommissioning", decommissionPoll, func() (bool, error) {
		res, err := rem.ExecuteCommand(ctx, asHadoop(report), sahara.ExecOptions{})
		if err != nil {
			return false, err
		}
		states := parse(string(res.Stdout))
		done := 0
		for _, in := range instances {
			st, ok := states[in.FQDN()]
			if !ok {
				// Sahara fails here too (KeyError), without saying why.
				return false, fmt.Errorf("decommissioning %s: %s is not in the output of %q", what, in.FQDN(), report)
			}
			if st == "decommissioned" {
				done++
			}
		}
		p.Logger(ctx).Info(fmt.Sprintf("Decommission %s: %d/%d decommissioned", what, done, len(instances)), "cluster", c.Name)
		return done == len(instances), nil
	})
}
