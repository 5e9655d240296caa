package dask

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// ScaleCluster configures the new instances, starts their workers and waits
// until the scheduler sees every worker of the cluster.
func (p *Plugin) ScaleCluster(ctx context.Context, c *sahara.Cluster, r sahara.Remotes, instances []*sahara.Instance) error {
	cs, err := p.clusterSettings(c)
	if err != nil {
		return err
	}
	sched, err := schedulerOf(c)
	if err != nil {
		return err
	}
	if err := p.configure(ctx, c, r, instances); err != nil {
		return err
	}
	var added []*sahara.Instance
	for _, in := range instances {
		if in.NodeGroup().HasProcess(ProcWorker) {
			added = append(added, in)
		}
	}
	if err := p.startWorkers(ctx, r, added); err != nil {
		return err
	}
	if _, err := p.waitForWorkers(ctx, c, cs, r, sched, names(c.InstancesWithProcess(ProcWorker))); err != nil {
		return err
	}
	p.setInfo(c, cs, sched)
	return nil
}

// DecommissionNodes retires the workers of exactly these instances through
// the scheduler — their data moves to the remaining workers first — then
// stops every Dask process on them.
func (p *Plugin) DecommissionNodes(ctx context.Context, c *sahara.Cluster, r sahara.Remotes, instances []*sahara.Instance) error {
	cs, err := p.clusterSettings(c)
	if err != nil {
		return err
	}
	var retiring []string
	for _, in := range instances {
		if in.NodeGroup().HasProcess(ProcWorker) {
			retiring = append(retiring, in.InstanceName)
		}
	}
	if len(retiring) > 0 {
		sched, err := schedulerOf(c)
		if err != nil {
			return err
		}
		start := time.Now()
		p.logger(ctx).Info(fmt.Sprintf("Retiring %d Dask worker(s); their data moves to the remaining workers", len(retiring)), "workers", strings.Join(retiring, ","))
		reply, err := p.ctl(ctx, r, sched, cs, cs.retireTimeout+connectTimeout+time.Minute,
			append([]string{"retire", strconv.Itoa(int(cs.retireTimeout.Seconds()))}, retiring...)...)
		var unreachable *errUnreachable
		switch {
		case errors.As(err, &unreachable):
			return fmt.Errorf("cannot retire Dask workers %s gracefully, so they were kept: %w", strings.Join(retiring, ", "), err)
		case err != nil:
			return fmt.Errorf("retiring Dask workers %s: %w", strings.Join(retiring, ", "), err)
		case len(reply.Remaining) > 0:
			return fmt.Errorf("the Dask scheduler did not retire workers %s within %q (%s) — usually no remaining worker can take their data; they were kept",
				strings.Join(reply.Remaining, ", "), CfgRetireTimeout, cs.retireTimeout)
		}
		if len(reply.Absent) > 0 {
			p.logger(ctx).Info("Dask workers already gone from the scheduler", "workers", strings.Join(reply.Absent, ","))
		}
		p.logger(ctx).Info(fmt.Sprintf("Retired %d Dask worker(s)", len(reply.Retired)), "workers", strings.Join(reply.Retired, ","), "elapsed", time.Since(start).Round(time.Millisecond).String())
	}
	// Their data is safe now and their servers are deleted next, so a victim
	// that cannot be reached (often the reason to remove it) must not block that.
	if err := p.stopAll(ctx, r, instances); err != nil {
		p.logger(ctx).Warn("Stopping Dask on removed instances failed; their servers are deleted anyway", "error", err.Error())
	}
	return nil
}

// stopAll stops every Dask process on the instances, workers before the scheduler.
func (p *Plugin) stopAll(ctx context.Context, r sahara.Remotes, instances []*sahara.Instance) error {
	var workers, scheds []*sahara.Instance
	for _, in := range instances {
		if in.NodeGroup().HasProcess(ProcWorker) {
			workers = append(workers, in)
		}
		if in.NodeGroup().HasProcess(ProcScheduler) {
			scheds = append(scheds, in)
		}
	}
	err := sahara.ParallelEach(ctx, parallelism, workers, func(ctx context.Context, in *sahara.Instance) error {
		return p.service(ctx, r, in, "stop", ProcWorker)
	})
	return errors.Join(err, sahara.ParallelEach(ctx, parallelism, scheds, func(ctx context.Context, in *sahara.Instance) error {
		return p.service(ctx, r, in, "stop", ProcScheduler)
	}))
}

// OnTerminateCluster stops the Dask processes before the servers go. It is
// best effort: an unreachable instance must not keep a cluster from being
// deleted, so failures are logged, not returned.
func (p *Plugin) OnTerminateCluster(ctx context.Context, c *sahara.Cluster, r sahara.Remotes) error {
	tctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	p.logger(ctx).Info("Stopping Dask processes", "instances", len(c.Instances()))
	if err := p.stopAll(tctx, r, c.Instances()); err != nil {
		p.logger(ctx).Warn("Stopping Dask processes failed; deleting the cluster anyway", "error", err.Error())
	}
	return nil
}
