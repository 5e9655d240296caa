package sahara_test

import (
	"context"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/saharagen/terraform-provider-saharagen/internal/testbed"
	pfake "github.com/saharagen/terraform-provider-saharagen/plugins/fake"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
	"github.com/saharagen/terraform-provider-saharagen/sahara/openstack"
	"github.com/saharagen/terraform-provider-saharagen/sahara/sshremote"
)

// TestEngine_TestbedSurvivesTransientFaults creates a two-instance cluster
// with the fake plugin while a fault proxy in front of Nova and Neutron
// answers bursts of 503, 429, 502 and a 401 during Spawning, and delete
// while DELETEs get 503 and 504: the adapter's default retries (and
// gophercloud's re-authentication) absorb them, the cluster reaches Active
// without rollback, no server or port is made twice, and nothing is left.
func TestEngine_TestbedSurvivesTransientFaults(t *testing.T) {
	env := testbed.Require(t)
	t.Setenv("OS_CLIENT_CONFIG_FILE", env.CloudsYAML)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	logs := &lockedBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	proxy, overrides := env.FaultProxy(t, "compute", "network")
	t.Cleanup(func() {
		t.Logf("injected %d faults in %d proxied requests: %v", proxy.Injected(""), proxy.Requests(""), proxy.Injections())
		if t.Failed() {
			t.Logf("log:\n%s", logs.String())
		}
	})
	// MaxRetries unset: the default applies.
	cloud, err := openstack.New(ctx, openstack.Config{Cloud: env.Cloud, EndpointOverrides: overrides},
		openstack.WithLogger(logger), openstack.WithPollInterval(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	spawning := []testbed.Fault{
		{Service: "compute", Method: "POST", Path: `/servers$`, Count: 2, Status: 503},
		{Service: "compute", Method: "POST", Path: `/servers$`, Status: 429, RetryAfter: "1"},
		{Service: "compute", Method: "GET", Path: `/servers/`, Status: 401},
		{Service: "network", Method: "POST", Path: `/ports$`, Status: 503},
		{Service: "network", Method: "POST", Path: `/ports$`, Status: 429, RetryAfter: "1"},
		{Service: "network", Method: "GET", Count: 2, Status: 502},
	}
	var mu sync.Mutex
	var statuses []sahara.ClusterStatus
	var armErr error
	reg, _ := sahara.NewRegistry(pfake.New())
	e, err := sahara.New(sahara.Options{Infra: cloud, Remotes: &sshremote.Connector{Logger: logger}, Plugins: reg, Logger: logger,
		Observer: func(ev sahara.Event) {
			if ev.Kind != sahara.EventStatus {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			statuses = append(statuses, ev.Status)
			if ev.Status == sahara.StatusSpawning {
				armErr = proxy.Inject(spawning...)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.NewCluster(testbedFakeSpec(env, "tf", 1))
	if err != nil {
		t.Fatal(err)
	}
	deleted := false
	t.Cleanup(func() {
		if deleted {
			return
		}
		dctx, dcancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer dcancel()
		if err := e.Delete(dctx, c); err != nil {
			t.Errorf("cleanup Delete: %v", err)
		}
		env.AssertNoLeftovers(t, c.ID)
	})

	start := time.Now()
	if err := e.Create(ctx, c); err != nil {
		t.Fatalf("Create: %v (status %s: %s)", err, c.Status, c.StatusDescription)
	}
	t.Logf("create: %s in %s", c.Status, time.Since(start).Round(time.Second))
	mu.Lock()
	got, aerr := statuses, armErr
	statuses = nil
	mu.Unlock()
	if aerr != nil {
		t.Fatal(aerr)
	}
	if !reflect.DeepEqual(got, createStatuses) {
		t.Errorf("create statuses %v, want %v (no rollback)", got, createStatuses)
	}
	if proxy.Injected("compute") == 0 || proxy.Injected("network") == 0 {
		t.Fatalf("faults injected: compute %d, network %d; the test proved nothing", proxy.Injected("compute"), proxy.Injected("network"))
	}
	if n := strings.Count(logs.String(), `msg="Retrying OpenStack request"`); n == 0 {
		t.Errorf("no retry was logged")
	}
	left, err := env.Leftovers(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(c.Instances()); left["servers"] != n || left["ports"] != n {
		t.Errorf("the cloud holds %s for %d instances: a refused create was made twice", left, n)
	}

	before := proxy.Injected("")
	if err := proxy.Inject(
		testbed.Fault{Service: "compute", Method: "DELETE", Path: `/servers/`, Status: 503, RetryAfter: "1"},
		testbed.Fault{Service: "network", Method: "DELETE", Status: 504},
	); err != nil {
		t.Fatal(err)
	}
	if err := e.Delete(ctx, c); err != nil {
		t.Fatalf("Delete: %v (status %s)", err, c.Status)
	}
	deleted = true
	if proxy.Injected("") == before {
		t.Errorf("no fault injected during delete")
	}
	env.AssertNoLeftovers(t, c.ID)
}
