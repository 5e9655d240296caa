package dask

import (
	"context"
	"fmt"
	"strings"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// Validate is validate(cluster): the layout rules, in Sahara's style, then
// the config values.
func (p *Plugin) Validate(_ context.Context, c *sahara.Cluster) error {
	if n := c.ProcessCount(ProcScheduler); n != 1 {
		return sahara.InvalidComponentCount(ProcScheduler, 1, n, "")
	}
	if n := c.ProcessCount(ProcWorker); n < 1 {
		return sahara.InvalidComponentCount(ProcWorker, "1 or more", n, "")
	}
	if n := c.ProcessCount(ProcDashboard); n > 1 {
		return sahara.InvalidComponentCount(ProcDashboard, "0 or 1", n, "")
	}
	for _, ng := range c.NodeGroups {
		if ng.HasProcess(ProcDashboard) && !ng.HasProcess(ProcScheduler) {
			return sahara.InvalidData(fmt.Sprintf("Node group %q runs the Dask dashboard without the scheduler: the dashboard is served by the scheduler, so put both processes in the same node group", ng.Name)).
				At(sahara.Field{NodeGroup: ng.Name, Attribute: "node_processes"})
		}
	}
	if _, err := p.clusterSettings(c); err != nil {
		return sahara.AtField(err, sahara.Field{Attribute: "cluster_configs"})
	}
	for _, ng := range c.NodeGroups {
		if _, err := nodeSettingsOf(ng); err != nil {
			return err
		}
	}
	return nil
}

// ValidateScaling is validate_scaling: only worker-only node groups may be
// resized or added, and at least one worker must remain.
func (p *Plugin) ValidateScaling(_ context.Context, c *sahara.Cluster, existing, additional map[string]int) error {
	for _, ng := range c.NodeGroups {
		if _, ok := existing[ng.Name]; ok && !scalable(ng) {
			return sahara.NodeGroupCannotBeScaled(ng.Name, "Dask plugin cannot scale nodegroup with processes: "+strings.Join(ng.NodeProcesses, " "))
		}
	}
	for _, ng := range c.NodeGroups {
		if _, ok := additional[ng.Name]; ok && !scalable(ng) {
			return sahara.NodeGroupCannotBeScaled(ng.Name, "Dask plugin cannot scale nodegroup with processes: "+strings.Join(ng.NodeProcesses, " "))
		}
	}
	workers := 0
	for _, ng := range c.NodeGroups {
		if !ng.HasProcess(ProcWorker) {
			continue
		}
		n, resized := existing[ng.Name]
		if a, added := additional[ng.Name]; added {
			n, resized = a, true
		}
		if !resized {
			n = ng.Count
		}
		workers += n
	}
	if workers < 1 {
		return sahara.ClusterCannotBeScaled(c.Name, "Dask plugin cannot shrink cluster because it would have no worker left to hold the data of the retiring workers")
	}
	for _, ng := range c.NodeGroups {
		if _, ok := additional[ng.Name]; ok {
			if _, err := nodeSettingsOf(ng); err != nil {
				return err
			}
		}
	}
	return nil
}

func scalable(ng *sahara.NodeGroup) bool {
	for _, p := range ng.NodeProcesses {
		if p != ProcWorker {
			return false
		}
	}
	return true
}
