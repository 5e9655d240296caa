package dask

import (
	"context"
	"errors"
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
	if want := "tls://" + c.Instance("demo-scheduler-0").ManagementIP + ":8786"; sched != want {
		t.Fatalf("info scheduler %q, want %q", sched, want)
	}
	assertHealthy(t, p, c, pool)
	assertKeyPrivate(ctx, t, p, pool, c.Instance("demo-workers-0"))

	// Mutual TLS: the users' certificate is let in; no certificate, a
	// certificate of another CA or plain TCP are not.
	tlsDir := writeCredentials(t, c.UserCredentials())
	caOnly := t.TempDir()
	if err := os.WriteFile(filepath.Join(caOnly, "ca.pem"), []byte(c.UserCredentials()[CredentialCA]), 0o644); err != nil {
		t.Fatal(err)
	}
	other := standardCluster()
	other.ID, other.Name = "c2", "other"
	if err := chooseTransport(other); err != nil {
		t.Fatal(err)
	}
	otherDir := writeCredentials(t, other.UserCredentials())
	if err := os.WriteFile(filepath.Join(otherDir, "ca.pem"), []byte(c.UserCredentials()[CredentialCA]), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, code := probeScheduler(t, "--tls", tlsDir, "probe", sched); code != 0 {
		t.Fatalf("the users' certificate was refused (exit %d):\n%s", code, out)
	}
	for _, args := range [][]string{
		{"--tls", caOnly, "probe", sched},
		{"--tls", otherDir, "probe", sched},
		{"probe", strings.Replace(sched, "tls://", "tcp://", 1)},
	} {
		if out, code := probeScheduler(t, args...); code != 3 {
			t.Errorf("compute.py %s: exit %d, want 3 (refused):\n%s", strings.Join(args, " "), code, out)
		}
	}

	out := compute(t, "--tls", tlsDir, "run", sched, "3")
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
	out = compute(t, "--tls", tlsDir, "run", sched, "4")
	if !strings.Contains(out, "'"+added.InstanceName+"'") {
		t.Errorf("the added worker %s ran no task:\n%s", added.InstanceName, out)
	}

	// Scale down: the retiring worker holds the only copy of a dataset.
	victim := c.Instance("demo-workers-1")
	compute(t, "--tls", tlsDir, "scatter", sched, victim.InstanceName)
	if err := p.DecommissionNodes(ctx, c, pool, []*sahara.Instance{victim}); err != nil {
		t.Fatalf("DecommissionNodes: %v", err)
	}
	res, err := pool.Remote(victim).ExecuteCommand(ctx, p.serviceCmd("status", ProcWorker), sahara.ExecOptions{IgnoreExitCode: true})
	if err != nil || res.ExitCode != 3 {
		t.Errorf("the retired worker still runs: status %d %v\n%s", res.ExitCode, err, res.Stdout)
	}
	ng.RemoveInstance(victim)
	ng.Count--
	out = compute(t, "--tls", tlsDir, "check", sched)
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

// writeCredentials writes a cluster's TLS credentials as compute.py reads
// them (ca.pem, client.pem, client.key) into a new directory.
func writeCredentials(t *testing.T, creds map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, key := range map[string]string{"ca.pem": CredentialCA, "client.pem": CredentialClientCert, "client.key": CredentialClientKey} {
		if creds[key] == "" {
			t.Fatalf("no credential %s among %d", key, len(creds))
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(creds[key]), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// probeScheduler runs compute.py probe and returns its output and exit status.
func probeScheduler(t *testing.T, args ...string) (string, int) {
	t.Helper()
	out, err := exec.Command("/usr/bin/python3", append([]string{computePy}, args...)...).CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &ee):
		return string(out), ee.ExitCode()
	}
	t.Fatalf("compute.py: %v", err)
	return "", -1
}

// assertKeyPrivate checks the instance's TLS key is its user's alone.
func assertKeyPrivate(ctx context.Context, t *testing.T, p *Plugin, r sahara.Remotes, in *sahara.Instance) {
	t.Helper()
	res, err := r.Remote(in).ExecuteCommand(ctx, "stat -c '%a %U' "+sahara.MustQuote(p.tlsKey()), sahara.ExecOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.TrimSpace(string(res.Stdout)), "600 "+in.Username(); got != want {
		t.Errorf("%s: %s is %q, want %q", in.InstanceName, p.tlsKey(), got, want)
	}
}

func compute(t *testing.T, args ...string) string {
	t.Helper()
	t0 := time.Now()
	defer func() {
		t.Logf("compute.py %s took %s", strings.Join(args, " "), time.Since(t0).Round(time.Millisecond))
	}()
	out, err := exec.Command("/usr/bin/python3", append([]string{computePy}, args...)...).CombinedOutput()
	t.Logf("compute.py %s:\n%s", strings.Join(args, " "), out)
	if err != nil {
		t.Fatalf("compute.py %s: %v", strings.Join(args, " "), err)
	}
	return string(out)
}
