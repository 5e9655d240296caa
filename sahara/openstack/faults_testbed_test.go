package openstack

import (
	"context"
	"testing"
	"time"

	"github.com/saharagen/terraform-provider-saharagen/internal/testbed"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// TestStore_TestbedSurvivesObjectWriteFaults: Swift answers record writes
// with 503 and 429, and loses the answer of one write it did; the default
// retries still store every record, and reads see the last one.
func TestStore_TestbedSurvivesObjectWriteFaults(t *testing.T) {
	env := testbed.Require(t)
	t.Setenv("OS_CLIENT_CONFIG_FILE", env.CloudsYAML)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	proxy, overrides := env.FaultProxy(t, "object-store")
	container := "saharagen-test-" + newUUID()[:8]
	s, err := NewStore(ctx, Config{Cloud: env.Cloud, EndpointOverrides: overrides}, container, WithLogger(testLogger(t)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { deleteContainer(t, s) })
	if err := proxy.Inject(
		testbed.Fault{Service: "object-store", Method: "PUT", Path: "/" + container + "$", Status: 503}, // the container
		testbed.Fault{Service: "object-store", Method: "PUT", Path: `/clusters/`, Count: 2, Status: 503},
		testbed.Fault{Service: "object-store", Method: "PUT", Path: `/clusters/`, Status: 429, RetryAfter: "1"},
		// the fifth write of a record (the second Put) is done, its answer lost
		testbed.Fault{Service: "object-store", Method: "PUT", Path: `/clusters/`, Skip: 4, Drop: true, Forward: true},
	); err != nil {
		t.Fatal(err)
	}
	id := newUUID()
	in := sahara.Cluster{ID: id, ClusterSpec: sahara.ClusterSpec{Name: "c1", PluginName: "fake"}, Status: sahara.StatusSpawning}
	if err := s.Put(ctx, sahara.KindCluster, id, in); err != nil {
		t.Fatalf("Put through 503, 503, 429: %v", err)
	}
	in.Status = sahara.StatusActive
	if err := s.Put(ctx, sahara.KindCluster, id, in); err != nil {
		t.Fatalf("Put whose first answer was lost: %v", err)
	}
	var out sahara.Cluster
	if err := s.Get(ctx, sahara.KindCluster, id, &out); err != nil || out.Status != sahara.StatusActive {
		t.Fatalf("Get: %v %s", err, out.Status)
	}
	if proxy.Injected("object-store") != 5 || proxy.Pending() != 0 {
		t.Fatalf("injected %v, %d pending", proxy.Injections(), proxy.Pending())
	}
	if err := s.Delete(ctx, sahara.KindCluster, id); err != nil {
		t.Fatal(err)
	}
	env.AssertNoLeftovers(t, id)
}
