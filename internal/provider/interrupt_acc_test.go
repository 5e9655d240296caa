package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/objectstorage/v1/objects"

	"github.com/saharagen/terraform-provider-saharagen/internal/testbed"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// Terraform's ordinary life: an apply is stopped at any point (Ctrl-C, or
// kill -9 of terraform and the provider), and the next apply with the same
// configuration converges: no import, no -replace, nothing duplicated, and
// nothing left after destroy. These tests run the real CLI as a separate
// process with the provider built as a binary (dev_overrides), so the kill
// reaches both processes as a user's would.

const interruptContainer = "saharagen-acc-interrupt"

// tfRun is a Terraform working directory using this tree's provider binary.
type tfRun struct {
	t       *testing.T
	dir     string
	env     []string
	tf      string
	testbed *testbed.Env
}

func newTFRun(t *testing.T, env *testbed.Env) *tfRun {
	t.Helper()
	tf := os.Getenv("TF_ACC_TERRAFORM_PATH") // as terraform-plugin-testing finds it
	if tf == "" {
		var err error
		if tf, err = exec.LookPath("terraform"); err != nil {
			t.Fatal("no Terraform CLI: set TF_ACC_TERRAFORM_PATH (make testacc does)")
		}
	}
	root, err := testbed.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "terraform-provider-saharagen"), ".")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the provider: %v\n%s", err, out)
	}
	dir := t.TempDir()
	rc := filepath.Join(dir, "dev.tfrc")
	if err := os.WriteFile(rc, fmt.Appendf(nil, `provider_installation {
  dev_overrides {
    "registry.terraform.io/saharagen/saharagen" = %q
  }
  direct {}
}
`, bin), 0o600); err != nil {
		t.Fatal(err)
	}
	environ := append(os.Environ(),
		"TF_CLI_CONFIG_FILE="+rc, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1", "TF_LOG=",
		"OS_CLIENT_CONFIG_FILE="+env.CloudsYAML, "OS_CLOUD="+env.Cloud,
		"SAHARAGEN_TEMPLATE_STORE_CONTAINER="+interruptContainer)
	return &tfRun{t: t, dir: dir, env: environ, tf: tf, testbed: env}
}

func (r *tfRun) write(config string) {
	r.t.Helper()
	if err := os.WriteFile(filepath.Join(r.dir, "main.tf"), []byte(config), 0o600); err != nil {
		r.t.Fatal(err)
	}
}

// start runs terraform in its own process group (a terminal's Ctrl-C goes to
// the whole group, and so do the signals here).
func (r *tfRun) start(args ...string) (*exec.Cmd, *bytes.Buffer) {
	r.t.Helper()
	cmd := exec.Command(r.tf, args...)
	cmd.Dir, cmd.Env = r.dir, r.env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	return cmd, &out
}

// run runs terraform to the end, bounded; it fails the test on an error.
func (r *tfRun) run(args ...string) string {
	r.t.Helper()
	cmd, out := r.start(args...)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			r.t.Fatalf("terraform %s: %v\n%s", strings.Join(args, " "), err, tail(out.String(), 4000))
		}
	case <-time.After(10 * time.Minute):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		r.t.Fatalf("terraform %s did not end in 10 minutes\n%s", strings.Join(args, " "), tail(out.String(), 4000))
	}
	return out.String()
}

// records reads the cluster records of the test's container.
func (r *tfRun) records(ctx context.Context) []sahara.Cluster {
	r.t.Helper()
	cl, err := r.testbed.Clients(ctx, false)
	if err != nil {
		r.t.Fatal(err)
	}
	pages, err := objects.List(cl.Object, interruptContainer, objects.ListOpts{Prefix: sahara.KindCluster + "/"}).AllPages(ctx)
	if err != nil {
		return nil // no container yet
	}
	names, _ := objects.ExtractNames(pages)
	var out []sahara.Cluster
	for _, n := range names {
		res := objects.Download(ctx, cl.Object, interruptContainer, n, nil)
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

// servers lists the project's servers whose names start with prefix.
func (r *tfRun) servers(ctx context.Context, prefix string) []string {
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
	var out []string
	for _, s := range all {
		if strings.HasPrefix(s.Name, prefix) {
			out = append(out, s.Name)
		}
	}
	return out
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// createOrder is the order of create's statuses.
var createOrder = []sahara.ClusterStatus{sahara.StatusValidating, sahara.StatusInfraUpdating, sahara.StatusSpawning,
	sahara.StatusWaiting, sahara.StatusPreparing, sahara.StatusConfiguring, sahara.StatusStarting, sahara.StatusActive}

func reached(status, target sahara.ClusterStatus) bool {
	for _, s := range createOrder {
		if s == target {
			return true
		}
		if s == status {
			return false
		}
	}
	return false
}

func TestAccCluster_InterruptedApplyConverges(t *testing.T) {
	env := accEnv(t)
	cases := []struct {
		name   string
		signal syscall.Signal
		at     sahara.ClusterStatus
	}{
		{"kill -9 while Spawning", syscall.SIGKILL, sahara.StatusSpawning},
		{"kill -9 while Configuring", syscall.SIGKILL, sahara.StatusConfiguring},
		{"Ctrl-C while Waiting", syscall.SIGINT, sahara.StatusWaiting},
	}
	r := newTFRun(t, env)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r.t = t
			name := fmt.Sprintf("acci%d%d", time.Now().Unix()%10000, i)
			r.write(fmt.Sprintf(`
terraform {
  required_providers {
    saharagen = { source = "saharagen/saharagen" }
  }
}

provider "saharagen" {}

resource "saharagen_cluster" "c" {
  name                       = %q
  plugin_name                = "fake"
  plugin_version             = "0.1"
  default_image_id           = %q
  neutron_management_network = %q
  node_groups = {
    master = { flavor_id = %q, node_processes = ["namenode", "resourcemanager"], count = 1 }
    worker = { flavor_id = %q, node_processes = ["datanode", "nodemanager"], count = 2 }
  }
  timeouts { create = "15m" }
}
`, name, env.Images["fake"], env.NetworkID, env.FlavorID, env.FlavorID))
			ctx := context.Background()
			cmd, out := r.start("apply", "-auto-approve", "-input=false", "-no-color")
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			var first sahara.Cluster
			deadline := time.After(8 * time.Minute)
		watch:
			for {
				select {
				case err := <-done:
					t.Fatalf("the apply ended (%v) before the cluster reached %s\n%s", err, tc.at, tail(out.String(), 3000))
				case <-deadline:
					_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
					t.Fatalf("the cluster did not reach %s in 8 minutes", tc.at)
				case <-time.After(200 * time.Millisecond):
				}
				for _, c := range r.records(ctx) {
					if c.Name == name && reached(c.Status, tc.at) {
						first = c
						break watch
					}
				}
			}
			if first.Status == sahara.StatusActive {
				t.Fatalf("the create finished before it could be stopped at %s", tc.at)
			}
			t.Logf("sending %v to terraform and the provider at status %s", tc.signal, first.Status)
			if err := syscall.Kill(-cmd.Process.Pid, tc.signal); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-done:
				t.Logf("the stopped apply ended: %v", err)
			case <-time.After(20 * time.Minute):
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				t.Fatal("terraform did not stop in 20 minutes after the signal")
			}
			// What the stopped apply left: gone or stopped, and the new apply converges.
			r.run("apply", "-auto-approve", "-input=false", "-no-color")
			recs := r.records(ctx)
			if len(recs) != 1 || recs[0].Status != sahara.StatusActive {
				t.Fatalf("records after the second apply: %d, want one Active cluster", len(recs))
			}
			if got := r.servers(ctx, name+"-"); len(got) != 3 {
				t.Errorf("servers of %s after the second apply: %v, want exactly 3", name, got)
			}
			if plan := r.run("plan", "-detailed-exitcode", "-input=false", "-no-color"); !strings.Contains(plan, "No changes") {
				t.Errorf("plan after the second apply is not empty:\n%s", tail(plan, 3000))
			}
			r.run("destroy", "-auto-approve", "-input=false", "-no-color")
			env.AssertNoLeftovers(t, first.ID)
			env.AssertNoLeftovers(t, recs[0].ID)
			if left := r.records(ctx); len(left) != 0 {
				t.Errorf("cluster records left after destroy: %d", len(left))
			}
		})
	}
}
