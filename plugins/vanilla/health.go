package vanilla

import (
	"context"

	"github.com/saharagen/terraform-provider-saharagen/plugins/internal/hadoop"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

var _ sahara.HealthChecker = (*Plugin)(nil)

// CheckHealth implements sahara.HealthChecker, as Sahara's vanilla health
// checks do: HDFS (every datanode live, no missing, corrupt or
// under-replicated blocks, DFS use) and YARN (every nodemanager running).
func (p *Plugin) CheckHealth(ctx context.Context, c *sahara.Cluster, r sahara.Remotes) []sahara.HealthResult {
	var out []sahara.HealthResult
	if nn := first(c, ProcNameNode); nn != nil {
		out = append(out, hadoop.HDFSHealth(ctx, r.Remote(nn), hadoopUser, c.InstancesWithProcess(ProcDataNode)))
	}
	if rm := first(c, ProcResourceManager); rm != nil {
		if nms := c.InstancesWithProcess(ProcNodeManager); len(nms) > 0 {
			out = append(out, hadoop.YARNHealth(ctx, r.Remote(rm), hadoopUser, nms))
		}
	}
	return out
}

// LogFiles implements sahara.LogNamer: the Hadoop daemons' logs of the
// instance, in HADOOP_LOG_DIR (YARN's too), named after the daemon and the
// host name (the short or the full one, as the image sets it).
func (p *Plugin) LogFiles(_ *sahara.Cluster, in *sahara.Instance) []string {
	d, err := dirsOf(in)
	if err != nil {
		return nil
	}
	var out []string
	for _, proc := range in.NodeGroup().NodeProcesses {
		prefix := "hadoop"
		switch proc {
		case ProcNameNode, ProcDataNode, ProcSecondaryNameNode:
		case ProcResourceManager, ProcNodeManager:
			prefix = "yarn"
		default:
			continue
		}
		for _, host := range []string{in.Hostname(), in.FQDN()} {
			out = append(out, d.log+"/"+prefix+"-"+hadoopUser+"-"+proc+"-"+host+".log")
		}
	}
	return out
}
