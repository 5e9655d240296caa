package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/objectstorage/v1/objects"

	"github.com/saharagen/terraform-provider-saharagen/internal/testbed"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// The tests of Terraform's ordinary life (runs stopped, servers deleted by
// hand, records lost, two runs at once) run the real CLI as a separate
// process with the provider built as a binary (dev_overrides), so a signal
// reaches terraform and the provider as a user's would.

const lifeContainer = "saharagen-acc-interrupt"

// providerBinary builds the provider once per test binary.
var providerBinary = sync.OnceValues(func() (string, error) {
	root, err := testbed.RepoRoot()
	if err != nil {
		return "", err
	}
	bin, err := os.MkdirTemp("", "saharagen-provider-")
	if err != nil {
		return "", err
	}
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "terraform-provider-saharagen"), ".")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building the provider: %v\n%s", err, out)
	}
	return bin, nil
})

// cliTest starts a test of the CLI: parallel with the others (its settings
// go to its own processes), with its own working directory, destroyed at
// the end if the test failed, and a cluster name of its own.
func cliTest(t *testing.T, prefix string) (*testbed.Env, *tfRun, string) {
	t.Helper()
	t.Parallel()
	env := testbed.Require(t)
	r := newTFRun(t, env)
	r.destroyAtEnd()
	return env, r, accName(prefix)
}

// tfRun is a Terraform working directory using this tree's provider binary.
type tfRun struct {
	t       testing.TB
	dir     string
	env     []string
	tf      string
	testbed *testbed.Env
}

func newTFRun(t testing.TB, env *testbed.Env) *tfRun {
	t.Helper()
	cli, err := testCLI()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := providerBinary()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	rc := filepath.Join(dir, "dev.tfrc")
	// The configurations' source "saharagen/saharagen" is on the CLI's registry.
	if err := os.WriteFile(rc, fmt.Appendf(nil, `provider_installation {
  dev_overrides {
    "%s/saharagen/saharagen" = %q
  }
  direct {}
}
`, cli.registry, bin), 0o600); err != nil {
		t.Fatal(err)
	}
	environ := append(os.Environ(),
		"TF_CLI_CONFIG_FILE="+rc, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1", "TF_LOG=",
		"OS_CLIENT_CONFIG_FILE="+env.CloudsYAML, "OS_CLOUD="+env.Cloud,
		"SAHARAGEN_TEMPLATE_STORE_CONTAINER="+lifeContainer)
	// The provider's log where make testacc keeps the in-process tests' logs.
	if mask := os.Getenv("TF_LOG_PATH_MASK"); mask != "" {
		environ = append(environ, "TF_LOG_PROVIDER=INFO",
			"TF_LOG_PATH="+fmt.Sprintf(mask, strings.ReplaceAll(t.Name(), "/", "__")))
	}
	return &tfRun{t: t, dir: dir, env: environ, tf: cli.path, testbed: env}
}

// copyTo is a second working directory with this one's configuration and
// state: another runner, or a laptop, on the same cluster.
func (r *tfRun) copyTo(t *testing.T) *tfRun {
	t.Helper()
	c := *r
	c.t, c.dir = t, t.TempDir()
	for _, f := range []string{"main.tf", "terraform.tfstate"} {
		b, err := os.ReadFile(filepath.Join(r.dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(c.dir, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return &c
}

func (r *tfRun) write(config string) {
	r.t.Helper()
	if err := os.WriteFile(filepath.Join(r.dir, "main.tf"), []byte(config), 0o600); err != nil {
		r.t.Fatal(err)
	}
}

// tfProc is a running terraform command.
type tfProc struct {
	cmd  *exec.Cmd
	out  *bytes.Buffer
	done chan error
	err  error
}

// start runs terraform in its own process group (a terminal's Ctrl-C goes
// to the whole group, and so do the signals here).
func (r *tfRun) start(args ...string) *tfProc {
	r.t.Helper()
	cmd := exec.Command(r.tf, append(args, "-input=false", "-no-color")...)
	cmd.Dir, cmd.Env = r.dir, r.env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p := &tfProc{cmd: cmd, out: &bytes.Buffer{}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	go func() { p.done <- cmd.Wait() }()
	return p
}

// signal sends sig to terraform and the provider (the process group).
func (p *tfProc) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := syscall.Kill(-p.cmd.Process.Pid, sig); err != nil {
		t.Fatal(err)
	}
}

// wait waits for the command to end, bounded; false when it did not.
func (p *tfProc) wait(limit time.Duration) bool {
	select {
	case p.err = <-p.done:
		return true
	case <-time.After(limit):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		p.err = <-p.done
		return false
	}
}

// exec runs terraform to the end, bounded, and returns its output and exit code.
func (r *tfRun) exec(args ...string) (string, int) {
	r.t.Helper()
	p := r.start(args...)
	if !p.wait(10 * time.Minute) {
		r.t.Fatalf("terraform %s did not end in 10 minutes\n%s", strings.Join(args, " "), tail(p.out.String(), 4000))
	}
	var exit *exec.ExitError
	switch {
	case p.err == nil:
		return p.out.String(), 0
	case errors.As(p.err, &exit):
		return p.out.String(), exit.ExitCode()
	}
	r.t.Fatalf("terraform %s: %v", strings.Join(args, " "), p.err)
	return "", 0
}

// run runs terraform to the end; it fails the test on an error.
func (r *tfRun) run(args ...string) string {
	r.t.Helper()
	out, code := r.exec(args...)
	if code != 0 {
		r.t.Fatalf("terraform %s: exit %d\n%s", strings.Join(args, " "), code, tail(out, 4000))
	}
	return out
}

// apply runs terraform apply; it fails the test on an error.
func (r *tfRun) apply() string { r.t.Helper(); return r.run("apply", "-auto-approve") }

// plan runs terraform plan -detailed-exitcode: 0 no changes, 2 changes.
func (r *tfRun) plan() (string, int) {
	r.t.Helper()
	out, code := r.exec("plan", "-detailed-exitcode")
	if code == 1 {
		r.t.Fatalf("terraform plan failed\n%s", tail(out, 4000))
	}
	return out, code
}

// expectNoChanges fails the test unless the plan is empty.
func (r *tfRun) expectNoChanges() {
	r.t.Helper()
	if out, code := r.plan(); code != 0 {
		r.t.Errorf("the plan is not empty:\n%s", tail(out, 3000))
	}
}

// records reads the cluster records of the tests' container, directly.
func (r *tfRun) records(ctx context.Context) []sahara.Cluster {
	r.t.Helper()
	cl, err := r.testbed.Clients(ctx, false)
	if err != nil {
		r.t.Fatal(err)
	}
	pages, err := objects.List(cl.Object, lifeContainer, objects.ListOpts{Prefix: sahara.KindCluster + "/"}).AllPages(ctx)
	if err != nil {
		return nil // no container yet
	}
	names, _ := objects.ExtractNames(pages)
	var out []sahara.Cluster
	for _, n := range names {
		res := objects.Download(ctx, cl.Object, lifeContainer, n, nil)
		body, err := res.ExtractContent()
		if err != nil {
			continue // deleted meanwhile
		}
		var c sahara.Cluster
		if json.Unmarshal(body, &c) == nil {
			out = append(out, c)
		}
	}
	return out
}

// record is the one record of the cluster named name (nil when none); it
// fails the test when there are several.
func (r *tfRun) record(ctx context.Context, name string) *sahara.Cluster {
	r.t.Helper()
	var found []sahara.Cluster
	for _, c := range r.records(ctx) {
		if c.Name == name {
			found = append(found, c)
		}
	}
	switch len(found) {
	case 0:
		return nil
	case 1:
		return &found[0]
	}
	r.t.Fatalf("%d records of cluster %s", len(found), name)
	return nil
}

// servers maps the names of the project's servers that start with prefix to
// their IDs.
func (r *tfRun) servers(ctx context.Context, prefix string) map[string]string {
	r.t.Helper()
	cl, err := r.testbed.Clients(ctx, false)
	if err != nil {
		r.t.Fatal(err)
	}
	pages, err := servers.List(cl.Compute, servers.ListOpts{}).AllPages(ctx)
	if err != nil {
		r.t.Fatal(err)
	}
	all, err := servers.ExtractServers(pages)
	if err != nil {
		r.t.Fatal(err)
	}
	out := map[string]string{}
	for _, s := range all {
		if strings.HasPrefix(s.Name, prefix) {
			if _, dup := out[s.Name]; dup {
				r.t.Errorf("two servers named %s", s.Name)
			}
			out[s.Name] = s.ID
		}
	}
	return out
}

// stateInstances reads the instance names of a node group of
// saharagen_cluster.c from the local state file.
func (r *tfRun) stateInstances(group string) []string {
	r.t.Helper()
	b, err := os.ReadFile(filepath.Join(r.dir, "terraform.tfstate"))
	if err != nil {
		r.t.Fatal(err)
	}
	var st struct {
		Resources []struct {
			Type      string
			Instances []struct {
				Attributes struct {
					NodeGroups map[string]struct {
						Instances []struct{ Name string }
					} `json:"node_groups"`
				}
			}
		}
	}
	if err := json.Unmarshal(b, &st); err != nil {
		r.t.Fatal(err)
	}
	var names []string
	for _, res := range st.Resources {
		if res.Type != "saharagen_cluster" || len(res.Instances) == 0 {
			continue
		}
		for _, in := range res.Instances[0].Attributes.NodeGroups[group].Instances {
			names = append(names, in.Name)
		}
	}
	return names
}

// expectServers fails the test unless the cluster's servers are exactly names.
func (r *tfRun) expectServers(ctx context.Context, cluster string, names ...string) map[string]string {
	r.t.Helper()
	got := r.servers(ctx, cluster+"-")
	have := make([]string, 0, len(got))
	for n := range got {
		have = append(have, n)
	}
	sort.Strings(have)
	sort.Strings(names)
	if strings.Join(have, " ") != strings.Join(names, " ") {
		r.t.Errorf("servers of %s: %v, want exactly %v", cluster, have, names)
	}
	return got
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// fakeCluster is a configuration of one fake-plugin cluster: a master and
// a worker group of workers instances (dfs.replication 1, so one datanode
// is enough). provider holds extra lines of the provider block.
func fakeCluster(env *testbed.Env, name, workerGroup string, workers int, provider string) string {
	return fmt.Sprintf(`
terraform {
  required_providers {
    saharagen = { source = "saharagen/saharagen" }
  }
}

provider "saharagen" {
%s
}

resource "saharagen_cluster" "c" {
  name                       = %q
  plugin_name                = "fake"
  plugin_version             = "0.1"
  default_image_id           = %q
  neutron_management_network = %q
  cluster_configs            = { HDFS = { "dfs.replication" = "1" } }
  node_groups = {
    master = { flavor_id = %q, node_processes = ["namenode", "resourcemanager"], count = 1 }
    %s = { flavor_id = %q, node_processes = ["datanode", "nodemanager"], count = %d }
  }
  timeouts {
    create = "15m"
    update = "15m"
  }
}
`, provider, name, env.Images["fake"], env.NetworkID, env.FlavorID, workerGroup, env.FlavorID, workers)
}

// overridesBlock is the provider's endpoint_overrides for a fault proxy.
func overridesBlock(overrides map[string]string) string {
	var b strings.Builder
	b.WriteString("  endpoint_overrides = {\n")
	for _, s := range sortedNames(overrides) {
		fmt.Fprintf(&b, "    %q = %q\n", s, overrides[s])
	}
	b.WriteString("  }\n")
	return b.String()
}

// accName is a cluster name unique to this run of the tests.
func accName(prefix string) string {
	return fmt.Sprintf("%s%d", prefix, time.Now().UnixNano()/1e6%100000)
}

// waitHeld waits until the proxy holds an answer, or the run ends first.
func waitHeld(t *testing.T, p *tfProc, proxy *testbed.FaultProxy, what string) {
	t.Helper()
	select {
	case <-proxy.Holding():
	case p.err = <-p.done:
		t.Fatalf("the apply ended (%v) before %s\n%s", p.err, what, tail(p.out.String(), 3000))
	case <-time.After(8 * time.Minute):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		t.Fatalf("no %s in 8 minutes\n%s", what, tail(p.out.String(), 3000))
	}
}

// destroyAtEnd destroys what the test's configuration manages when the
// test ends early, so a failure leaks nothing into the next tests.
func (r *tfRun) destroyAtEnd() {
	t := r.t
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		// Without a refresh second: a cluster whose record is gone is still destroyed by its tag.
		for _, args := range [][]string{{"destroy"}, {"destroy", "-refresh=false"}} {
			cmd := exec.Command(r.tf, append(args, "-auto-approve", "-input=false", "-no-color")...)
			cmd.Dir, cmd.Env = r.dir, r.env
			out, err := cmd.CombinedOutput()
			if err == nil {
				return
			}
			t.Logf("cleanup: terraform %s: %v\n%s", strings.Join(args, " "), err, tail(string(out), 2000))
		}
	})
}
