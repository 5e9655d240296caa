package dask

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// OpenPorts lists the ports of the node group's processes.
func (p *Plugin) OpenPorts(c *sahara.Cluster, ng *sahara.NodeGroup) []int {
	cs, err := p.clusterSettings(c)
	if err != nil {
		return nil
	}
	var out []int
	if ng.HasProcess(ProcScheduler) {
		out = append(out, cs.schedulerPort)
	}
	if ng.HasProcess(ProcDashboard) {
		out = append(out, cs.dashboardPort)
	}
	if ng.HasProcess(ProcWorker) {
		out = append(out, cs.workerPorts.ports()...)
		out = append(out, cs.nannyPorts.ports()...)
	}
	sort.Ints(out)
	return out
}

// Health check names.
const (
	HealthScheduler = "Dask scheduler"
	HealthWorkers   = "Dask workers"
)

// CheckHealth checks that the scheduler answers and that every worker of
// the cluster is connected to it.
func (p *Plugin) CheckHealth(ctx context.Context, c *sahara.Cluster, r sahara.Remotes) []sahara.HealthResult {
	red := func(name, msg string) sahara.HealthResult {
		return sahara.HealthResult{Name: name, Status: sahara.HealthRed, Message: msg}
	}
	cs, err := p.clusterSettings(c)
	if err != nil {
		return []sahara.HealthResult{red(HealthScheduler, err.Error())}
	}
	sched, err := schedulerOf(c)
	if err != nil {
		return []sahara.HealthResult{red(HealthScheduler, err.Error())}
	}
	reply, err := p.ctl(ctx, r, sched, cs, connectTimeout+time.Minute, "workers")
	if err != nil {
		return []sahara.HealthResult{
			red(HealthScheduler, fmt.Sprintf("Scheduler %s does not answer: %v", schedulerAddress(sched, cs), err)),
			red(HealthWorkers, "Unknown: the scheduler does not answer"),
		}
	}
	out := []sahara.HealthResult{{Name: HealthScheduler, Status: sahara.HealthGreen,
		Message: fmt.Sprintf("Scheduler %s answers with %d worker(s)", schedulerAddress(sched, cs), len(reply.Workers))}}
	joined := map[string]bool{}
	for _, w := range reply.Workers {
		joined[w.Name] = true
	}
	want := names(c.InstancesWithProcess(ProcWorker))
	var missing []string
	for _, n := range want {
		if !joined[n] {
			missing = append(missing, n)
		}
	}
	var res sahara.HealthResult
	switch {
	case len(missing) == 0:
		res = sahara.HealthResult{Name: HealthWorkers, Status: sahara.HealthGreen, Message: fmt.Sprintf("All %d workers are connected", len(want))}
	case len(missing) == len(want):
		res = red(HealthWorkers, fmt.Sprintf("No worker is connected (0/%d)", len(want)))
	default:
		res = sahara.HealthResult{Name: HealthWorkers, Status: sahara.HealthYellow,
			Message: fmt.Sprintf("%d/%d workers are connected; missing: %s", len(want)-len(missing), len(want), strings.Join(missing, ", "))}
	}
	for _, n := range missing {
		res.Note(n, "its Dask worker is not connected to the scheduler ("+LogPath(ProcWorker)+" on the instance says why)")
	}
	return append(out, res)
}

// LogFiles implements sahara.LogNamer: the logs of the instance's Dask processes.
func (p *Plugin) LogFiles(_ *sahara.Cluster, in *sahara.Instance) []string {
	var out []string
	for _, role := range roles(in) {
		out = append(out, p.logFile(role))
	}
	return out
}
