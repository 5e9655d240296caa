package vanilla

import (
	"context"
	"fmt"
	"strings"

	"github.com/saharagen/terraform-provider-saharagen/plugins/internal/hadoop"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// scalable are the processes whose node groups may be resized.
var scalable = setOf(ProcDataNode, ProcNodeManager, ProcZooKeeper)

// Validate implements sahara.Validator: Sahara's validate_cluster_creating,
// rule by rule and in its order. Counts are the requested node counts.
func (p *Plugin) Validate(ctx context.Context, c *sahara.Cluster) error {
	if err := checkLine(c); err != nil {
		return err
	}
	count := c.ProcessCount
	if n := count(ProcNameNode); n != 1 {
		return sahara.InvalidComponentCount(ProcNameNode, 1, n, "")
	}
	for _, proc := range []string{ProcSecondaryNameNode, ProcResourceManager, ProcHistoryServer} {
		if n := count(proc); n > 1 {
			return sahara.InvalidComponentCount(proc, "0 or 1", n, "")
		}
	}
	rm, nm := count(ProcResourceManager), count(ProcNodeManager)
	if rm == 0 && nm > 0 {
		return sahara.RequiredServiceMissing(ProcResourceManager, ProcNodeManager)
	}
	oozie, dn := count(ProcOozie), count(ProcDataNode)
	if oozie > 1 {
		return sahara.InvalidComponentCount(ProcOozie, "0 or 1", oozie, "")
	}
	if oozie == 1 {
		switch {
		case dn < 1:
			return sahara.RequiredServiceMissing(ProcDataNode, ProcOozie)
		case nm < 1:
			return sahara.RequiredServiceMissing(ProcNodeManager, ProcOozie)
		case count(ProcHistoryServer) != 1:
			return sahara.RequiredServiceMissing(ProcHistoryServer, ProcOozie)
		}
	}
	if n := count(ProcSparkHistory); n > 1 {
		return sahara.InvalidComponentCount(ProcSparkHistory, "0 or 1", n, "")
	}
	rep, err := intConfig(c, SvcHDFS, CfgReplication)
	if err != nil {
		return err
	}
	if dn < rep {
		return sahara.InvalidComponentCount(ProcDataNode, rep, dn, "Number of datanodes must be not less than dfs.replication.")
	}
	// Sahara names the hive server "hive" in this message.
	if n := count(ProcHiveServer); n > 1 {
		return sahara.InvalidComponentCount("hive", "0 or 1", n, "")
	}
	if n := count(ProcZooKeeper); n > 0 && n%2 != 1 {
		return sahara.InvalidComponentCount(ProcZooKeeper, "odd", n, "Number of zookeeper nodes should be odd.")
	}
	// saharagen's own rule, after all of Sahara's: the mount prefix ends up
	// in scripts and sed expressions on the instances.
	for _, ng := range c.NodeGroups {
		if ng.VolumesPerNode > 0 && !plainPath(ng.MountPrefix()) {
			return sahara.InvalidData(fmt.Sprintf("Node group %s: volume_mount_prefix %q must be an absolute path of letters, digits and \"/._-\"", ng.Name, ng.MountPrefix())).
				At(sahara.Field{NodeGroup: ng.Name, Attribute: "volume_mount_prefix"})
		}
	}
	return nil
}

// ValidateScaling implements sahara.ScalingValidator: Sahara's
// validate_scaling (new node groups first, then resized ones, then the
// ZooKeeper quorum), with its two crashes corrected: a new group without
// ZooKeeper on a cluster with ZooKeeper, and new ZooKeeper nodes counted as
// requested rather than as 0.
func (p *Plugin) ValidateScaling(ctx context.Context, c *sahara.Cluster, existing, additional map[string]int) error {
	if err := checkLine(c); err != nil {
		return err
	}
	hasRM := len(c.InstancesWithProcess(ProcResourceManager)) > 0
	for _, ng := range c.NodeGroups {
		if _, ok := additional[ng.Name]; !ok {
			continue
		}
		if !onlyScalable(ng) {
			return cannotScale(ng)
		}
		if !hasRM && ng.HasProcess(ProcNodeManager) {
			return sahara.NodeGroupCannotBeScaled(ng.Name, "Vanilla plugin cannot scale node group with processes which have no master-processes run in cluster")
		}
	}

	dnToDelete, bad := hadoop.ResizedGroups(c, existing, scalable, ProcDataNode)
	if bad != nil {
		return cannotScale(bad)
	}
	rep, err := intConfig(c, SvcHDFS, CfgReplication)
	if err != nil {
		return err
	}
	if dnAmount := len(c.InstancesWithProcess(ProcDataNode)); dnToDelete > 0 && dnAmount-dnToDelete < rep {
		return sahara.ClusterCannotBeScaled(c.Name, "Vanilla plugin cannot shrink cluster because it would be not enough nodes for replicas (replication factor is "+itoa(rep)+")")
	}

	zk, hasZK := 0, false
	for _, ng := range c.NodeGroups {
		if !ng.HasProcess(ProcZooKeeper) {
			continue
		}
		hasZK = true
		if n, ok := additional[ng.Name]; ok {
			zk += n
		} else if n, ok := existing[ng.Name]; ok {
			zk += n
		} else {
			zk += ng.Count
		}
	}
	if hasZK && zk%2 != 1 {
		return sahara.ClusterCannotBeScaled(c.Name, "Vanilla plugin cannot scale cluster because it must keep zookeeper service in odd.")
	}
	return nil
}

// checkLine refuses a Hadoop version the plugin has no line for.
func checkLine(c *sahara.Cluster) error {
	if _, err := lineOf(c.PluginVersion); err != nil {
		return sahara.InvalidReference(err.Error()).At(sahara.Field{Attribute: "plugin_version"})
	}
	return nil
}

func cannotScale(ng *sahara.NodeGroup) error {
	return sahara.NodeGroupCannotBeScaled(ng.Name, "Vanilla plugin cannot scale nodegroup with processes: "+strings.Join(ng.NodeProcesses, " "))
}

func onlyScalable(ng *sahara.NodeGroup) bool { return hadoop.OnlyProcesses(ng, scalable) }

// MaxRetired implements sahara.RetireLimiter: a rolling replacement retires
// at most dfs.replication-1 datanodes at once, so that some copy of every
// block stays on a datanode that is not leaving while HDFS re-replicates.
func (p *Plugin) MaxRetired(c *sahara.Cluster, ng *sahara.NodeGroup) (int, string) {
	if !ng.HasProcess(ProcDataNode) {
		return 0, ""
	}
	rep, err := intConfig(c, SvcHDFS, CfgReplication)
	if err != nil {
		return 1, "it runs datanode"
	}
	return max(rep-1, 1), fmt.Sprintf("it runs datanode and dfs.replication is %d", rep)
}
