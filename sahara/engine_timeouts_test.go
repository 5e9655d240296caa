package sahara_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	pfake "github.com/saharagen/terraform-provider-saharagen/plugins/fake"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
	"github.com/saharagen/terraform-provider-saharagen/sahara/fake"
	"github.com/saharagen/terraform-provider-saharagen/sahara/sshremote"
)

// An instance that never accepts SSH (nothing listens on its port) fails
// the create after the accessible timeout, not at the operation's deadline,
// and the error names the instance, its address, the login user and the
// last failure.
func TestEngineCreate_UnreachableInstanceFailsWithinTheAccessibleTimeout(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close() // a closed port: every connect is refused, which is retried

	infra := fake.NewInfra(sahara.Image{ID: imageID, Name: "fake", Username: "ubuntu", Tags: []string{"fake", "0.1"}})
	infra.Addresses = map[string]string{"demo-master-0": "127.0.0.1", "demo-worker-0": "127.0.0.1"}
	reg, err := sahara.NewRegistry(pfake.New())
	if err != nil {
		t.Fatal(err)
	}
	eng, err := sahara.New(sahara.Options{Infra: infra, Plugins: reg, AccessibleTimeout: 2 * time.Second,
		Remotes: &sshremote.Connector{Port: port, ConnectTimeout: time.Second, RetryBackoff: 100 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	spec := demoSpec(1)
	spec.NodeGroups[1].VolumesPerNode = 0
	c, err := eng.NewCluster(spec)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	err = eng.Create(ctx, c)
	took := time.Since(start)
	if err == nil {
		t.Fatal("create succeeded with no sshd")
	}
	if took > 20*time.Second || errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
		t.Fatalf("create ended after %s (operation deadline 1 min, accessible timeout 2 s): %v", took, err)
	}
	for _, want := range []string{"demo-master-0", "127.0.0.1", `user "ubuntu"`, "connection refused", "accessible timeout, 2s", "port 22"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
	if c.Status != sahara.StatusError || len(infra.Leftovers(c.ID)) != 0 {
		t.Errorf("status %s, leftovers %v: want Error after a rollback that removed everything", c.Status, infra.Leftovers(c.ID))
	}
}

// Servers that do not boot within the cluster's "Heat Wait Condition
// timeout" fail the create then, with the config named, and roll back.
func TestEngineCreate_BootBoundByHeatWaitConditionTimeout(t *testing.T) {
	h := newHarness(t, 0)
	h.infra.BootLatency = time.Minute
	spec := demoSpec(1)
	spec.ClusterConfigs = sahara.Configs{"general": {"Heat Wait Condition timeout": "1"}}
	c, err := h.eng.NewCluster(spec)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = h.eng.Create(context.Background(), c)
	if took := time.Since(start); took > 20*time.Second {
		t.Fatalf("create took %s with a 1 s boot bound and 1 min boots", took)
	}
	if err == nil || !strings.Contains(err.Error(), `did not boot within the cluster's "Heat Wait Condition timeout" (1s)`) {
		t.Fatalf("err = %v", err)
	}
	if c.Status != sahara.StatusError || len(h.infra.Leftovers(c.ID)) != 0 {
		t.Errorf("status %s, leftovers %v", c.Status, h.infra.Leftovers(c.ID))
	}
}
