package dask

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// StartCluster starts the scheduler, then every worker, and waits until the
// scheduler sees all of them.
func (p *Plugin) StartCluster(ctx context.Context, c *sahara.Cluster, r sahara.Remotes) error {
	cs, err := p.clusterSettings(c)
	if err != nil {
		return err
	}
	sched, err := schedulerOf(c)
	if err != nil {
		return err
	}
	start := time.Now()
	p.logger(ctx).Info(sched.InstanceName+": starting the Dask scheduler", "address", schedulerAddress(sched, cs))
	if err := p.service(ctx, r, sched, "start", ProcScheduler); err != nil {
		return err
	}
	if _, err := p.waitForWorkers(ctx, c, cs, r, sched, nil); err != nil {
		return err
	}
	p.logger(ctx).Info("Dask scheduler is up", "address", schedulerAddress(sched, cs), "elapsed", time.Since(start).Round(time.Millisecond).String())
	workers := c.InstancesWithProcess(ProcWorker)
	if err := p.startWorkers(ctx, r, workers); err != nil {
		return err
	}
	if _, err := p.waitForWorkers(ctx, c, cs, r, sched, names(workers)); err != nil {
		return err
	}
	p.setInfo(c, cs, sched)
	p.logger(ctx).Info("Dask cluster started", "workers", len(workers), "elapsed", time.Since(start).Round(time.Millisecond).String())
	return nil
}

func (p *Plugin) startWorkers(ctx context.Context, r sahara.Remotes, workers []*sahara.Instance) error {
	p.logger(ctx).Info(fmt.Sprintf("Starting %d Dask worker(s)", len(workers)))
	return sahara.ParallelEach(ctx, parallelism, workers, func(ctx context.Context, in *sahara.Instance) error {
		return p.service(ctx, r, in, "start", ProcWorker)
	})
}

func (p *Plugin) service(ctx context.Context, r sahara.Remotes, in *sahara.Instance, action, role string) error {
	_, err := r.Remote(in).ExecuteCommand(ctx, p.serviceCmd(action, role), sahara.ExecOptions{
		Name: "dask-service " + action + " " + role, Timeout: 2 * time.Minute,
	})
	if err != nil {
		return fmt.Errorf("dask-service %s %s: %w", action, role, err)
	}
	return nil
}

func names(ins []*sahara.Instance) []string {
	out := make([]string, len(ins))
	for i, in := range ins {
		out[i] = in.InstanceName
	}
	return out
}

// waitForWorkers polls the scheduler until every named worker has joined
// (want nil: until the scheduler answers), within the startup timeout. It
// logs each change of the count and returns the scheduler's worker list.
func (p *Plugin) waitForWorkers(ctx context.Context, c *sahara.Cluster, cs clusterSettings, r sahara.Remotes, sched *sahara.Instance, want []string) ([]ctlWorker, error) {
	wctx, cancel := withTimeout(ctx, cs.startupTimeout)
	defer cancel()
	last := -1
	var lastErr error
	joined := map[string]bool{}
	for {
		reply, err := p.ctl(wctx, r, sched, cs, connectTimeout+time.Minute, "workers")
		var unreachable *errUnreachable
		switch {
		case err == nil:
			joined = map[string]bool{}
			for _, w := range reply.Workers {
				joined[w.Name] = true
			}
			n := 0
			for _, name := range want {
				if joined[name] {
					n++
				}
			}
			if n != last && want != nil {
				p.logger(ctx).Info(fmt.Sprintf("Waiting for Dask workers: %d/%d joined the scheduler", n, len(want)))
				last = n
			}
			if n == len(want) {
				return reply.Workers, nil
			}
			lastErr = nil
		case errors.As(err, &unreachable):
			lastErr = err
		case wctx.Err() != nil:
			lastErr = err
		default:
			return nil, err
		}
		select {
		case <-wctx.Done():
			return nil, p.startupTimeoutError(ctx, c, r, cs, sched, want, joined, lastErr)
		case <-time.After(p.poll):
		}
	}
}

func (p *Plugin) startupTimeoutError(ctx context.Context, c *sahara.Cluster, r sahara.Remotes, cs clusterSettings, sched *sahara.Instance, want []string, joined map[string]bool, lastErr error) error {
	if ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return ctx.Err()
	}
	limit := fmt.Sprintf("%q (%s)", CfgStartupTimeout, cs.startupTimeout)
	if lastErr != nil || want == nil {
		return fmt.Errorf("the Dask scheduler at %s did not answer within %s: %v%s", schedulerAddress(sched, cs), limit, lastErr, p.statusOf(ctx, r, sched, ProcScheduler))
	}
	var missing []string
	var detail string
	for _, name := range want {
		if !joined[name] {
			missing = append(missing, name)
			if in := c.Instance(name); in != nil && len(missing) <= 3 {
				detail += p.statusOf(ctx, r, in, ProcWorker)
			}
		}
	}
	return fmt.Errorf("%d of %d Dask workers did not join the scheduler within %s: %s%s", len(missing), len(want), limit, strings.Join(missing, ", "), detail)
}

// statusOf is the dask-service status (with the log tail) of a process, for
// error messages; bounded so a dead instance cannot hold up the report.
func (p *Plugin) statusOf(ctx context.Context, r sahara.Remotes, in *sahara.Instance, role string) string {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	res, err := r.Remote(in).ExecuteCommand(sctx, p.serviceCmd("status", role)+" 2>&1", sahara.ExecOptions{
		IgnoreExitCode: true, Name: "dask-service status " + role,
	})
	if err != nil {
		return fmt.Sprintf("\n%s: status unknown: %v", in.InstanceName, err)
	}
	return fmt.Sprintf("\n%s: %s", in.InstanceName, tailOf(res.Stdout, 1200))
}

// Info keys (section Service).
const (
	InfoScheduler         = "Scheduler"
	InfoSchedulerInternal = "Scheduler (internal)"
	InfoDashboard         = "Dashboard"
)

func (p *Plugin) setInfo(c *sahara.Cluster, cs clusterSettings, sched *sahara.Instance) {
	host := sched.ManagementIP
	if host == "" {
		host = sched.InternalIP
	}
	c.SetInfo(Service, InfoScheduler, cs.protocol()+"://"+net.JoinHostPort(host, strconv.Itoa(cs.schedulerPort)))
	c.SetInfo(Service, InfoSchedulerInternal, schedulerAddress(sched, cs))
	if sched.NodeGroup().HasProcess(ProcDashboard) {
		c.SetInfo(Service, InfoDashboard, "http://"+net.JoinHostPort(host, strconv.Itoa(cs.dashboardPort))+"/status")
	}
}
