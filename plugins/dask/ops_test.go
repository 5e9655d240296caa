package dask

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

func workersJSON(names ...string) []byte {
	var ws []ctlWorker
	for i, n := range names {
		ws = append(ws, ctlWorker{Name: n, Address: fmt.Sprintf("tcp://10.0.0.%d:9000", 11+i)})
	}
	b, _ := json.Marshal(map[string]any{"workers": ws})
	return b
}

func ok(stdout []byte) (sahara.Result, error) { return sahara.Result{Stdout: stdout}, nil }

const versionOut = versionMarker + "2022.12.1+ds.1\n"

// TestConfigure_QuotesHostileValues runs the commands and sources the config
// files the plugin renders in a real /bin/sh: every hostile value must come
// out exactly as it went in, and nothing in it may run.
func TestConfigure_QuotesHostileValues(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	argLog := filepath.Join(dir, "args")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tool := range []string{"mkdir", "chown"} {
		script := fmt.Sprintf("#!/bin/sh\nprintf '%%s\\n' %s \"$@\" >> %q\n", tool, argLog)
		if err := os.WriteFile(filepath.Join(bin, tool), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	pwned := filepath.Join(dir, "pwned")
	hostile := "w'1 $(touch " + pwned + ") `touch " + pwned + "` \"x\"\n;"
	python := "/opt/py thon/$(touch " + pwned + ")/python3"

	c := newCluster(cfg(CfgPythonPath, python),
		ngDef{name: "scheduler", procs: []string{ProcScheduler}, count: 1},
		ngDef{name: "workers", procs: []string{ProcWorker}, count: 1, cfg: cfg(CfgWorkerMemory, "2GiB", CfgWorkerThreads, 3)})
	wng := c.NodeGroup("workers")
	wng.ImageUsername = "ub'untu;touch " + pwned
	worker := wng.Instances[0]
	worker.InternalIP = "10.0.0.11"
	worker.InstanceName = hostile

	rec := &recorder{t: t, handler: func(inst, cmd string, opts sahara.ExecOptions) (sahara.Result, error) {
		if opts.Name != "dask prepare" || !opts.RunAsRoot {
			t.Errorf("%s: unexpected command %q (%+v)", inst, cmd, opts)
			return sahara.Result{}, errors.New("unexpected")
		}
		sh := exec.Command("/bin/sh", "-c", cmd)
		sh.Env = []string{"PATH=" + bin}
		out, _ := sh.CombinedOutput()
		return ok(append(out, versionOut...))
	}}
	p := New(Options{})
	if err := p.ConfigureCluster(context.Background(), c, rec); err != nil {
		t.Fatalf("ConfigureCluster: %v", err)
	}
	if _, err := os.Stat(pwned); err == nil {
		t.Fatal("a hostile value ran as a command")
	}
	args, _ := os.ReadFile(argLog)
	wantChown := "chown\n--\n" + wng.ImageUsername + "\n/var/log/dask\n/var/lib/dask\n/mnt/dask\n"
	if !strings.Contains(string(args), wantChown) {
		t.Errorf("chown got the arguments\n%s\nwant\n%s", args, wantChown)
	}

	var conf []byte
	for _, cl := range rec.snapshot() {
		if cl.Op == "write" && cl.Instance == hostile {
			for _, f := range cl.Files {
				if f.Path == "/etc/dask/worker.conf" {
					conf = f.Data
					if cl.FileOpts.Mode != 0o644 || !cl.FileOpts.RunAsRoot {
						t.Errorf("worker.conf written with %+v", cl.FileOpts)
					}
				}
				if f.Path == tlsDir+"/node.key" && (cl.FileOpts.Mode != 0o600 || cl.FileOpts.Owner != wng.ImageUsername || !cl.FileOpts.Sensitive) {
					t.Errorf("node.key written with %+v, want mode 0600, owner %q, sensitive", cl.FileOpts, wng.ImageUsername)
				}
				if f.Path == scriptPath && !bytes.Equal(f.Data, serviceScript) {
					t.Error("dask-service differs from the embedded script")
				}
			}
		}
	}
	if conf == nil {
		t.Fatal("no worker.conf written on the worker")
	}
	confFile := filepath.Join(dir, "worker.conf")
	if err := os.WriteFile(confFile, conf, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("/bin/sh", "-c", `. "$1"; printf '%s\0' "$DASK_NAME" "$DASK_PYTHON" "$DASK_SCHEDULER" "$DASK_MEMORY_LIMIT" "$DASK_NTHREADS" "$DASK_LOCAL_DIR"`, "sh", confFile).Output()
	if err != nil {
		t.Fatalf("sourcing worker.conf: %v\n%s", err, conf)
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	want := []string{hostile, python, "tls://10.0.0.10:8786", "2GiB", "3", "/mnt/dask"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("worker.conf values\n got %q\nwant %q", got, want)
	}
	if _, err := os.Stat(pwned); err == nil {
		t.Fatal("sourcing worker.conf ran a hostile value")
	}
}

func TestConfigure_RejectsImageWithoutMatchingDask(t *testing.T) {
	for _, tc := range []struct{ probe, want string }{
		{"ModuleNotFoundError: No module named 'distributed'\n", "cannot import the distributed package"},
		{versionMarker + "2023.1.0\n", "the image has Dask distributed 2023.1.0 but the cluster is plugin version 2022.12.1"},
	} {
		rec := &recorder{t: t, handler: func(string, string, sahara.ExecOptions) (sahara.Result, error) { return ok([]byte(tc.probe)) }}
		err := New(Options{}).ConfigureCluster(context.Background(), standardCluster(), rec)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ConfigureCluster = %v, want %q", err, tc.want)
		}
		for _, cl := range rec.snapshot() {
			if cl.Op == "write" {
				t.Errorf("%s: wrote files on an image without the right Dask", cl.Instance)
			}
		}
	}
}

// fakeDask answers like a healthy cluster whose workers join after start.
type fakeDask struct {
	t       *testing.T
	started atomic.Int32 // workers started
	polls   atomic.Int32
	workers []string
}

func (f *fakeDask) handle(inst, cmd string, opts sahara.ExecOptions) (sahara.Result, error) {
	switch opts.Name {
	case "dask-service start scheduler":
		return ok(nil)
	case "dask-service start worker":
		f.started.Add(1)
		return ok(nil)
	case "dask_ctl workers":
		if !bytes.Equal(opts.Stdin, ctlScript) {
			f.t.Error("dask_ctl ran without the embedded script on stdin")
		}
		if f.polls.Add(1) == 1 {
			return sahara.Result{ExitCode: ctlUnreachable, Stdout: []byte(`{"error": "scheduler not up"}`)}, nil
		}
		n := int(f.started.Load())
		if n > 0 {
			n-- // the last one joins a poll later
			f.started.Add(1)
		}
		if n > len(f.workers) {
			n = len(f.workers)
		}
		return ok(workersJSON(f.workers[:n]...))
	}
	f.t.Errorf("%s: unexpected command %q", inst, cmd)
	return sahara.Result{}, errors.New("unexpected")
}

func TestStartCluster_SchedulerThenWorkersThenWait(t *testing.T) {
	c := standardCluster()
	f := &fakeDask{t: t, workers: names(c.InstancesWithProcess(ProcWorker))}
	rec := &recorder{t: t, handler: f.handle}
	var logs bytes.Buffer
	p := New(Options{PollInterval: time.Millisecond, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err := p.StartCluster(context.Background(), c, rec); err != nil {
		t.Fatalf("StartCluster: %v", err)
	}
	calls := rec.snapshot()
	if calls[0].Opts.Name != "dask-service start scheduler" || calls[0].Instance != "demo-scheduler-0" {
		t.Fatalf("first call %+v, want the scheduler start", calls[0])
	}
	if calls[0].Cmd != "sh /opt/saharagen/dask/dask-service start /etc/dask/scheduler.conf" {
		t.Errorf("scheduler start command %q", calls[0].Cmd)
	}
	firstWorker := -1
	for i, cl := range calls {
		if cl.Opts.Name == "dask-service start worker" && firstWorker < 0 {
			firstWorker = i
		}
		if cl.Opts.Name == "dask_ctl workers" && cl.Instance != "demo-scheduler-0" {
			t.Errorf("dask_ctl ran on %s, not on the scheduler", cl.Instance)
		}
	}
	if firstWorker < 0 || calls[firstWorker-1].Opts.Name != "dask_ctl workers" {
		t.Errorf("workers started before the scheduler answered: %+v", calls)
	}
	if last := calls[len(calls)-1]; last.Opts.Name != "dask_ctl workers" {
		t.Errorf("StartCluster did not end by confirming the workers: %+v", last)
	}
	if got := c.Info[Service][InfoScheduler]; got != "tcp://172.24.4.10:8786" {
		t.Errorf("info scheduler %q", got)
	}
	if got := c.Info[Service][InfoSchedulerInternal]; got != "tcp://10.0.0.10:8786" {
		t.Errorf("info internal scheduler %q", got)
	}
	if _, ok := c.Info[Service][InfoDashboard]; ok {
		t.Error("dashboard URL without a dashboard process")
	}
	for _, want := range []string{"Starting 3 Dask worker(s)", "Waiting for Dask workers: 2/3 joined the scheduler", "Waiting for Dask workers: 3/3 joined the scheduler"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
}

func TestStartCluster_TimeoutNamesMissingWorkers(t *testing.T) {
	c := standardCluster()
	c.ClusterConfigs = cfg(CfgStartupTimeout, 1)
	rec := &recorder{t: t, handler: func(inst, cmd string, opts sahara.ExecOptions) (sahara.Result, error) {
		switch opts.Name {
		case "dask-service start scheduler", "dask-service start worker":
			return ok(nil)
		case "dask_ctl workers":
			return ok(workersJSON("demo-workers-0", "demo-workers-2"))
		case "dask-service status worker":
			return sahara.Result{ExitCode: 3, Stdout: []byte("dask worker not running\nOSError: [Errno 98] Address already in use")}, nil
		}
		t.Errorf("unexpected %q", cmd)
		return sahara.Result{}, errors.New("unexpected")
	}}
	err := New(Options{PollInterval: 50 * time.Millisecond}).StartCluster(context.Background(), c, rec)
	if err == nil {
		t.Fatal("StartCluster succeeded with a worker missing")
	}
	for _, want := range []string{"1 of 3 Dask workers did not join the scheduler within \"Workers startup timeout\" (1s): demo-workers-1", "Address already in use"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestDecommissionNodes_RetiresExactlyTheVictims(t *testing.T) {
	c := standardCluster()
	victim := c.Instance("demo-workers-1")
	rec := &recorder{t: t, handler: func(inst, cmd string, opts sahara.ExecOptions) (sahara.Result, error) {
		switch opts.Name {
		case "dask_ctl retire":
			return ok([]byte(`{"retired": ["demo-workers-1"], "absent": [], "remaining": []}`))
		case "dask-service stop worker":
			return ok(nil)
		}
		t.Errorf("%s: unexpected %q", inst, cmd)
		return sahara.Result{}, errors.New("unexpected")
	}}
	if err := New(Options{}).DecommissionNodes(context.Background(), c, rec, []*sahara.Instance{victim}); err != nil {
		t.Fatalf("DecommissionNodes: %v", err)
	}
	calls := rec.snapshot()
	if len(calls) != 2 {
		t.Fatalf("calls %+v", calls)
	}
	want := "/usr/bin/python3 - retire tcp://10.0.0.10:8786 10 600 demo-workers-1"
	if calls[0].Instance != "demo-scheduler-0" || calls[0].Cmd != want || calls[0].Opts.Timeout < 600*time.Second {
		t.Errorf("retire call %+v, want %q on the scheduler", calls[0], want)
	}
	if calls[1].Instance != "demo-workers-1" || calls[1].Opts.Name != "dask-service stop worker" {
		t.Errorf("stop call %+v", calls[1])
	}
}

func TestDecommissionNodes_KeepsWorkersThatCouldNotRetire(t *testing.T) {
	for _, tc := range []struct {
		reply sahara.Result
		want  string
	}{
		{sahara.Result{ExitCode: ctlRemaining, Stdout: []byte(`{"retired": [], "absent": [], "remaining": ["demo-workers-1"]}`)},
			`the Dask scheduler did not retire workers demo-workers-1 within "Workers retirement timeout" (10m0s)`},
		{sahara.Result{ExitCode: ctlUnreachable, Stdout: []byte(`{"error": "scheduler tcp://10.0.0.10:8786 unreachable: timed out"}`)},
			"cannot retire Dask workers demo-workers-1 gracefully, so they were kept"},
	} {
		c := standardCluster()
		rec := &recorder{t: t, handler: func(inst, cmd string, opts sahara.ExecOptions) (sahara.Result, error) {
			if opts.Name == "dask_ctl retire" {
				return tc.reply, nil
			}
			t.Errorf("%s: %q ran although retirement failed", inst, cmd)
			return sahara.Result{}, errors.New("unexpected")
		}}
		err := New(Options{}).DecommissionNodes(context.Background(), c, rec, []*sahara.Instance{c.Instance("demo-workers-1")})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("DecommissionNodes = %v, want %q", err, tc.want)
		}
	}
}

func TestCheckHealth_Colours(t *testing.T) {
	for _, tc := range []struct {
		name        string
		reply       sahara.Result
		sched, work sahara.HealthStatus
	}{
		{"all there", sahara.Result{Stdout: workersJSON("demo-workers-0", "demo-workers-1", "demo-workers-2")}, sahara.HealthGreen, sahara.HealthGreen},
		{"one missing", sahara.Result{Stdout: workersJSON("demo-workers-0", "demo-workers-2")}, sahara.HealthGreen, sahara.HealthYellow},
		{"none", sahara.Result{Stdout: workersJSON()}, sahara.HealthGreen, sahara.HealthRed},
		{"scheduler down", sahara.Result{ExitCode: ctlUnreachable, Stdout: []byte(`{"error": "unreachable"}`)}, sahara.HealthRed, sahara.HealthRed},
	} {
		rec := &recorder{t: t, handler: func(string, string, sahara.ExecOptions) (sahara.Result, error) { return tc.reply, nil }}
		res := New(Options{}).CheckHealth(context.Background(), standardCluster(), rec)
		if len(res) != 2 || res[0].Status != tc.sched || res[1].Status != tc.work {
			t.Errorf("%s: %+v", tc.name, res)
		}
		if tc.work == sahara.HealthYellow && !strings.Contains(res[1].Message, "missing: demo-workers-1") {
			t.Errorf("%s: message %q does not name the missing worker", tc.name, res[1].Message)
		}
	}
}

func TestOnTerminateCluster_BestEffort(t *testing.T) {
	c := standardCluster()
	rec := &recorder{t: t, handler: func(inst, cmd string, opts sahara.ExecOptions) (sahara.Result, error) {
		if inst == "demo-workers-2" {
			return sahara.Result{}, errors.New("connection refused")
		}
		return ok(nil)
	}}
	var logs bytes.Buffer
	p := New(Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err := p.OnTerminateCluster(context.Background(), c, rec); err != nil {
		t.Fatalf("OnTerminateCluster = %v; an unreachable instance must not block deletion", err)
	}
	stops := map[string]string{}
	for _, cl := range rec.snapshot() {
		stops[cl.Instance] = cl.Opts.Name
	}
	if len(stops) != 4 || stops["demo-scheduler-0"] != "dask-service stop scheduler" || stops["demo-workers-0"] != "dask-service stop worker" {
		t.Errorf("stops %v", stops)
	}
	if !strings.Contains(logs.String(), "connection refused") {
		t.Errorf("the failure was not logged: %s", logs.String())
	}
}

func TestPlugin_LogsToTheOperationLogger(t *testing.T) {
	var own, op bytes.Buffer
	p := New(Options{Logger: slog.New(slog.NewTextHandler(&own, nil))})
	rec := &recorder{t: t, handler: func(string, string, sahara.ExecOptions) (sahara.Result, error) { return ok(nil) }}
	ctx := sahara.WithLogger(context.Background(), slog.New(slog.NewTextHandler(&op, nil)))
	if err := p.OnTerminateCluster(ctx, standardCluster(), rec); err != nil {
		t.Fatal(err)
	}
	if own.Len() != 0 || !strings.Contains(op.String(), "Stopping Dask processes") {
		t.Errorf("plugin logger %q, operation logger %q", own.String(), op.String())
	}
}

func TestDecommissionNodes_UnreachableVictimDoesNotBlockRemoval(t *testing.T) {
	c := standardCluster()
	rec := &recorder{t: t, handler: func(inst, cmd string, opts sahara.ExecOptions) (sahara.Result, error) {
		switch {
		case opts.Name == "dask_ctl retire":
			return ok([]byte(`{"retired": [], "absent": ["demo-workers-1"], "remaining": []}`))
		case inst == "demo-workers-1":
			return sahara.Result{}, errors.New("dial tcp 10.0.0.12:22: connect: no route to host")
		}
		t.Errorf("%s: unexpected %q", inst, cmd)
		return sahara.Result{}, errors.New("unexpected")
	}}
	var logs bytes.Buffer
	p := New(Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err := p.DecommissionNodes(context.Background(), c, rec, []*sahara.Instance{c.Instance("demo-workers-1")}); err != nil {
		t.Fatalf("DecommissionNodes = %v; a dead worker must still be removable", err)
	}
	if !strings.Contains(logs.String(), "no route to host") {
		t.Errorf("the failed stop was not logged:\n%s", logs.String())
	}
}

func TestConfigure_DashboardNeedsBokeh(t *testing.T) {
	c := newCluster(nil,
		ngDef{name: "master", procs: []string{ProcScheduler, ProcDashboard}, count: 1},
		ngDef{name: "workers", procs: []string{ProcWorker}, count: 1})
	rec := &recorder{t: t, handler: func(_, cmd string, _ sahara.ExecOptions) (sahara.Result, error) {
		out := versionOut
		if strings.Contains(cmd, "import bokeh") {
			out += "ModuleNotFoundError: No module named 'bokeh'\n"
		}
		return ok([]byte(out))
	}}
	err := New(Options{}).ConfigureCluster(context.Background(), c, rec)
	if err == nil || !strings.Contains(err.Error(), `node group "master" runs the dashboard, which needs the bokeh package`) {
		t.Fatalf("ConfigureCluster = %v", err)
	}
}
