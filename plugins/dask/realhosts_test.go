package dask

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/saharagen/terraform-provider-saharagen/internal/sshtest"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
	"github.com/saharagen/terraform-provider-saharagen/sahara/sshremote"
)

// computePy is the quickstart's client, run from the test process as a user
// would run it from their machine.
var computePy = filepath.Join("..", "..", "examples", "quickstart", "compute.py")

// TestPlugin_RealHosts drives the plugin over real SSH against real sshd
// hosts (network namespaces, see internal/sshtest) running Debian's Dask:
// configure and start 1 scheduler + 3 workers, compute from outside, add a
// worker that takes tasks, retire a worker holding the only copy of a
// dataset and read the dataset back, then terminate.
func TestPlugin_RealHosts(t *testing.T) {
	if testing.Short() {
		t.Skip("real sshd hosts and Dask processes: not in -short runs")
	}
	ensureDask(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	priv, pub, err := sahara.GenerateManagementKey("dask-test")
	if err != nil {
		t.Fatal(err)
	}
	c := standardCluster()
	c.ManagementPrivateKey, c.ManagementPublicKey = priv, pub
	lab := sshtest.New(t)
	addHost := func(in *sahara.Instance) { lab.InstanceHost(t, in, pub, "") }
	for _, in := range c.Instances() {
		addHost(in)
	}

	logger, logs := sshtest.TestLogger(t, true)
	conn := &sshremote.Connector{Logger: logger}
	pool, err := conn.Connect(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = pool.Close() }()
	p := New(Options{Logger: logger, PollInterval: 500 * time.Millisecond})

	if err := p.Validate(ctx, c); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := p.ConfigureCluster(ctx, c, pool); err != nil {
		t.Fatalf("ConfigureCluster: %v", err)
	}
	if err := p.StartCluster(ctx, c, pool); err != nil {
		t.Fatalf("StartCluster: %v", err)
	}
	t.Logf("configure + start of 1 scheduler + 3 workers: %s, %d SSH handshakes", time.Since(start).Round(time.Millisecond), conn.Handshakes())
	sched := c.Info[Service][InfoScheduler]
	if want := "tcp://" + c.Instance("demo-scheduler-0").ManagementIP + ":8786"; sched != want {
		t.Fatalf("info scheduler %q, want %q", sched, want)
	}
	assertHealthy(t, p, c, pool)

	out := compute(t, "run", sched, "3")
	for _, w := range []string{"demo-workers-0", "demo-workers-1", "demo-workers-2"} {
		if !strings.Contains(out, "'"+w+"'") {
			t.Errorf("worker %s ran no task:\n%s", w, out)
		}
	}

	// Scale up: a fourth worker joins and takes tasks.
	ng := c.NodeGroup("workers")
	added := ng.NewInstance(ng.FreeIndexes(1)[0])
	ng.AddInstance(added)
	ng.Count++
	addHost(added)
	if err := p.ScaleCluster(ctx, c, pool, []*sahara.Instance{added}); err != nil {
		t.Fatalf("ScaleCluster: %v", err)
	}
	out = compute(t, "run", sched, "4")
	if !strings.Contains(out, "'"+added.InstanceName+"'") {
		t.Errorf("the added worker %s ran no task:\n%s", added.InstanceName, out)
	}

	// Scale down: the retiring worker holds the only copy of a dataset.
	victim := c.Instance("demo-workers-1")
	compute(t, "scatter", sched, victim.InstanceName)
	if err := p.DecommissionNodes(ctx, c, pool, []*sahara.Instance{victim}); err != nil {
		t.Fatalf("DecommissionNodes: %v", err)
	}
	res, err := pool.Remote(victim).ExecuteCommand(ctx, p.serviceCmd("status", ProcWorker), sahara.ExecOptions{IgnoreExitCode: true})
	if err != nil || res.ExitCode != 3 {
		t.Errorf("the retired worker still runs: status %d %v\n%s", res.ExitCode, err, res.Stdout)
	}
	ng.RemoveInstance(victim)
	ng.Count--
	out = compute(t, "check", sched)
	if !strings.Contains(out, "(intact)") || strings.Contains(out, victim.InstanceName) {
		t.Errorf("the dataset did not survive the retirement of %s:\n%s", victim.InstanceName, out)
	}
	assertHealthy(t, p, c, pool)
	if !regexp.MustCompile(`Retired 1 Dask worker\(s\).*workers=demo-workers-1`).MatchString(logs.String()) {
		t.Errorf("the retirement was not logged:\n%s", logs.String())
	}

	if err := p.OnTerminateCluster(ctx, c, pool); err != nil {
		t.Fatal(err)
	}
	for _, in := range c.Instances() {
		for _, role := range roles(in) {
			res, err := pool.Remote(in).ExecuteCommand(ctx, p.serviceCmd("status", role), sahara.ExecOptions{IgnoreExitCode: true})
			if err != nil || res.ExitCode != 3 {
				t.Errorf("%s: dask %s still runs after OnTerminateCluster: %v %s", in.InstanceName, role, err, res.Stdout)
			}
		}
	}
	t.Logf("whole lifecycle: %s, %d SSH handshakes and %d sessions for %d instances", time.Since(start).Round(time.Millisecond), conn.Handshakes(), conn.Sessions(), len(c.Instances())+1)
}

// ensureDask installs Debian's python3-distributed when it is missing (the
// hosts run the machine's packages), as sshtest installs sshd.
func ensureDask(t *testing.T) {
	if exec.Command("/usr/bin/python3", "-c", "import distributed").Run() == nil {
		return
	}
	t.Log("python3-distributed missing: installing it")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	for _, args := range [][]string{{"update"}, {"install", "-y", "--no-install-recommends", "python3-distributed"}} {
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("this test runs Debian's Dask on the hosts, and `apt-get %s` failed (%v); install python3-distributed first:\n%s", strings.Join(args, " "), err, out)
		}
	}
}

func assertHealthy(t *testing.T, p *Plugin, c *sahara.Cluster, r sahara.Remotes) {
	t.Helper()
	for _, h := range p.CheckHealth(context.Background(), c, r) {
		if h.Status != sahara.HealthGreen {
			t.Errorf("health %s: %s %s", h.Name, h.Status, h.Message)
		}
	}
}

func compute(t *testing.T, args ...string) string {
	t.Helper()
	t0 := time.Now()
	defer func() { t.Logf("compute.py %s took %s", args[0], time.Since(t0).Round(time.Millisecond)) }()
	out, err := exec.Command("/usr/bin/python3", append([]string{computePy}, args...)...).CombinedOutput()
	t.Logf("compute.py %s:\n%s", strings.Join(args, " "), out)
	if err != nil {
		t.Fatalf("compute.py %s: %v", strings.Join(args, " "), err)
	}
	return string(out)
}
