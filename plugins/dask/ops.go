package dask

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// parallelism bounds concurrent work over instances.
const parallelism = 16

// versionMarker and bokehMarker prefix the probe lines of the prepare command.
const (
	versionMarker = "saharagen-dask-version "
	bokehMarker   = "saharagen-dask-bokeh "
)

func schedulerOf(c *sahara.Cluster) (*sahara.Instance, error) {
	ins := c.InstancesWithProcess(ProcScheduler)
	if len(ins) != 1 {
		return nil, sahara.InvalidComponentCount(ProcScheduler, 1, len(ins), "")
	}
	return ins[0], nil
}

// ConfigureCluster writes the supervisor script and each process's config
// file on every instance, after checking the image's Dask version.
func (p *Plugin) ConfigureCluster(ctx context.Context, c *sahara.Cluster, r sahara.Remotes) error {
	return p.configure(ctx, c, r, c.Instances())
}

func (p *Plugin) configure(ctx context.Context, c *sahara.Cluster, r sahara.Remotes, instances []*sahara.Instance) error {
	cs, err := p.clusterSettings(c)
	if err != nil {
		return err
	}
	sched, err := schedulerOf(c)
	if err != nil {
		return err
	}
	p.logger(ctx).Info("Configuring Dask", "instances", len(instances), "scheduler", schedulerAddress(sched, cs))
	return sahara.ParallelEach(ctx, parallelism, instances, func(ctx context.Context, in *sahara.Instance) error {
		return p.configureInstance(ctx, c, cs, sched, r.Remote(in), in)
	})
}

func (p *Plugin) configureInstance(ctx context.Context, c *sahara.Cluster, cs clusterSettings, sched *sahara.Instance, rem sahara.Remote, in *sahara.Instance) error {
	ng := in.NodeGroup()
	ns, err := nodeSettingsOf(ng)
	if err != nil {
		return err
	}
	if err := p.prepare(ctx, c, cs, rem, in); err != nil {
		return err
	}
	if err := rem.WriteFileTo(ctx, p.script(), serviceScript, sahara.FileOptions{RunAsRoot: true, Mode: 0o755}); err != nil {
		return fmt.Errorf("writing %s: %w", p.script(), err)
	}
	var files []sahara.File
	for _, role := range roles(in) {
		var data []byte
		if role == ProcScheduler {
			data, err = p.schedulerConf(in, cs)
		} else {
			data, err = p.workerConf(in, sched, cs, ns)
		}
		if err != nil {
			return err
		}
		files = append(files, sahara.File{Path: p.conf(role), Data: data})
	}
	if len(files) > 0 {
		if err := rem.WriteFilesTo(ctx, files, sahara.FileOptions{RunAsRoot: true, Mode: 0o644}); err != nil {
			return fmt.Errorf("writing Dask config files: %w", err)
		}
	}
	p.logger(ctx).Info(in.InstanceName+": configured Dask", "processes", strings.Join(roles(in), ","))
	return nil
}

// prepare makes the directories (logs and pid files owned by the image user,
// who runs the processes) and checks that the image has the cluster's Dask.
func (p *Plugin) prepare(ctx context.Context, c *sahara.Cluster, cs clusterSettings, rem sahara.Remote, in *sahara.Instance) error {
	dirs := []string{p.root + confDir, p.root + path.Dir(scriptPath), p.root + logDir, p.root + runDir}
	owned := []string{p.root + logDir, p.root + runDir}
	if in.NodeGroup().HasProcess(ProcWorker) {
		dirs = append(dirs, p.localDir(in))
		owned = append(owned, p.localDir(in))
	}
	mkdir, err := sahara.ShellJoin(append([]string{"mkdir", "-p", "--"}, dirs...)...)
	if err != nil {
		return err
	}
	cmd := mkdir
	if user := in.Username(); user != "" {
		chown, err := sahara.ShellJoin(append([]string{"chown", "--", user}, owned...)...)
		if err != nil {
			return err
		}
		cmd += " && " + chown
	}
	py := sahara.MustQuote(cs.python)
	cmd += " && { " + py + " -c " + sahara.MustQuote(`import distributed; print("`+versionMarker+`" + distributed.__version__)`) + " 2>&1 || true; }"
	wantBokeh := in.NodeGroup().HasProcess(ProcDashboard)
	if wantBokeh {
		cmd += " && { " + py + " -c " + sahara.MustQuote(`import bokeh; print("`+bokehMarker+`" + bokeh.__version__)`) + " 2>&1 || true; }"
	}
	res, err := rem.ExecuteCommand(ctx, cmd, sahara.ExecOptions{RunAsRoot: true, Name: "dask prepare"})
	if err != nil {
		return fmt.Errorf("preparing Dask directories: %w", err)
	}
	out := string(res.Stdout)
	got := markerValue(out, versionMarker)
	if got == "" {
		return fmt.Errorf("the image has no Dask: %s cannot import the distributed package (install Debian's python3-distributed on the image, or set %q): %s",
			cs.python, CfgPythonPath, tailOf(res.Stdout, 300))
	}
	if upstream, _, _ := strings.Cut(got, "+"); upstream != c.PluginVersion {
		return fmt.Errorf("the image has Dask distributed %s but the cluster is plugin version %s: use an image whose tags match its installed python3-distributed", got, c.PluginVersion)
	}
	if wantBokeh && markerValue(out, bokehMarker) == "" {
		return fmt.Errorf("node group %q runs the dashboard, which needs the bokeh package, but %s cannot import it: install bokeh on the image or remove %q from the node group",
			in.NodeGroup().Name, cs.python, ProcDashboard)
	}
	return nil
}

func markerValue(out, marker string) string {
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), marker); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

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
	c.SetInfo(Service, InfoScheduler, "tcp://"+net.JoinHostPort(host, strconv.Itoa(cs.schedulerPort)))
	c.SetInfo(Service, InfoSchedulerInternal, schedulerAddress(sched, cs))
	if sched.NodeGroup().HasProcess(ProcDashboard) {
		c.SetInfo(Service, InfoDashboard, "http://"+net.JoinHostPort(host, strconv.Itoa(cs.dashboardPort))+"/status")
	}
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
	switch {
	case len(missing) == 0:
		out = append(out, sahara.HealthResult{Name: HealthWorkers, Status: sahara.HealthGreen, Message: fmt.Sprintf("All %d workers are connected", len(want))})
	case len(missing) == len(want):
		out = append(out, red(HealthWorkers, fmt.Sprintf("No worker is connected (0/%d)", len(want))))
	default:
		out = append(out, sahara.HealthResult{Name: HealthWorkers, Status: sahara.HealthYellow,
			Message: fmt.Sprintf("%d/%d workers are connected; missing: %s", len(want)-len(missing), len(want), strings.Join(missing, ", "))})
	}
	return out
}
