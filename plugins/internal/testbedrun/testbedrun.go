// Package testbedrun creates a plugin's cluster through the engine on the
// OpenStack testbed (internal/testbed), for the plugins' testbed tests.
package testbedrun

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/saharagen/terraform-provider-saharagen/internal/testbed"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
	"github.com/saharagen/terraform-provider-saharagen/sahara/openstack"
	"github.com/saharagen/terraform-provider-saharagen/sahara/sshremote"
)

// Run is a created cluster and what created it.
type Run struct {
	Cluster *sahara.Cluster
	Conn    *sshremote.Connector
	Logger  *slog.Logger
	Elapsed time.Duration
}

// Create makes the cluster of spec (its Name, a prefix, gets a random
// suffix) with the plugin newPlugin returns (given the test's logger)
// through the engine on env, over real SSH, and runs Create; a failure
// fails the test. At cleanup the cluster is deleted and the testbed checked
// for leftovers. observer may be nil. The log shows on failure, or as it
// happens with -v.
func Create(ctx context.Context, t *testing.T, env *testbed.Env, newPlugin func(*slog.Logger) sahara.Plugin, spec sahara.ClusterSpec, observer sahara.Observer) *Run {
	t.Helper()
	t.Setenv("OS_CLIENT_CONFIG_FILE", env.CloudsYAML)
	var logs bytes.Buffer
	var out io.Writer = &logs
	if testing.Verbose() {
		out = os.Stderr // long waits show as they happen
	}
	logger := slog.New(slog.NewTextHandler(out, nil))
	t.Cleanup(func() {
		if t.Failed() && logs.Len() > 0 {
			t.Logf("log:\n%s", logs.String())
		}
	})
	cloud, err := openstack.New(ctx, openstack.Config{Cloud: env.Cloud}, openstack.WithLogger(logger))
	if err != nil {
		t.Fatal(err)
	}
	reg, err := sahara.NewRegistry(newPlugin(logger))
	if err != nil {
		t.Fatal(err)
	}
	conn := &sshremote.Connector{Logger: logger}
	e, err := sahara.New(sahara.Options{Infra: cloud, Remotes: conn, Plugins: reg, Logger: logger, Observer: observer})
	if err != nil {
		t.Fatal(err)
	}
	suffix := make([]byte, 3)
	_, _ = rand.Read(suffix)
	spec.Name += hex.EncodeToString(suffix)
	c, err := e.NewCluster(spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		dctx, dcancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer dcancel()
		if err := e.Delete(dctx, c); err != nil {
			t.Errorf("Delete: %v", err)
		}
		env.AssertNoLeftovers(t, c.ID)
	})
	start := time.Now()
	if err := e.Create(ctx, c); err != nil {
		t.Fatalf("Create: %v (status %s: %s)", err, c.Status, c.StatusDescription)
	}
	r := &Run{Cluster: c, Conn: conn, Logger: logger, Elapsed: time.Since(start)}
	t.Logf("cluster %s: %s in %s, %d SSH handshakes", c.Name, c.Status, r.Elapsed.Round(time.Second), conn.Handshakes())
	return r
}

// Shell connects to the cluster's instances (closed at cleanup) and returns
// a function that runs a command on one of them and returns its trimmed
// output; a failing command fails the test.
func (r *Run) Shell(ctx context.Context, t *testing.T) func(in *sahara.Instance, cmd string) string {
	t.Helper()
	pool, err := r.Conn.Connect(ctx, r.Cluster)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pool.Close() })
	return func(in *sahara.Instance, cmd string) string {
		t.Helper()
		res, err := pool.Remote(in).ExecuteCommand(ctx, cmd, sahara.ExecOptions{})
		if err != nil {
			t.Fatalf("%s: %s: %v", in.InstanceName, cmd, err)
		}
		return strings.TrimSpace(string(res.Stdout))
	}
}

// Prep runs script as root on every instance of c (making the testbed's
// image look like a plugin's image before the plugin configures it).
func Prep(ctx context.Context, c *sahara.Cluster, r sahara.Remotes, script string) error {
	return sahara.ParallelEach(ctx, 0, c.Instances(), func(ctx context.Context, in *sahara.Instance) error {
		_, err := r.Remote(in).ExecuteCommand(ctx, "sudo bash -c "+sahara.MustQuote(script), sahara.ExecOptions{Name: "image-prep"})
		return err
	})
}
