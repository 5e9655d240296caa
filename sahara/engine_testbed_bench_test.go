package sahara_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/saharagen/terraform-provider-saharagen/internal/testbed"
	pfake "github.com/saharagen/terraform-provider-saharagen/plugins/fake"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
	"github.com/saharagen/terraform-provider-saharagen/sahara/openstack"
	"github.com/saharagen/terraform-provider-saharagen/sahara/sshremote"
)

// countingTransport counts the HTTP requests the adapter sends.
type countingTransport struct {
	n  atomic.Int64
	rt http.RoundTripper
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.rt.RoundTrip(r)
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkEngine_TestbedCreate10 is the team's performance bar on the
// testbed: a 10-instance cluster (1 master + 9 workers) with the fake plugin,
// which writes, appends, replaces and reads back a file on every instance,
// from nothing to Active. It reports the time of each status, the CPU the
// engine used, OpenStack requests and SSH handshakes; the real Sahara took
// ~5 min (Preparing alone ~2 min) on a testbed of this kind.
//
//	SAHARAGEN_TESTBED=1 go test ./sahara -run '^$' -bench TestbedCreate10 -benchtime 1x
func BenchmarkEngine_TestbedCreate10(b *testing.B) {
	env := testbed.Require(b)
	b.Setenv("OS_CLIENT_CONFIG_FILE", env.CloudsYAML)
	for i := 0; i < b.N; i++ {
		benchTestbedCreate(b, env, 10)
	}
}

func benchTestbedCreate(b *testing.B, env *testbed.Env, n int) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	ct := &countingTransport{rt: http.DefaultTransport}
	cloud, err := openstack.New(ctx, openstack.Config{Cloud: env.Cloud}, openstack.WithLogger(logger), openstack.WithTransport(ct))
	if err != nil {
		b.Fatal(err)
	}
	reg, _ := sahara.NewRegistry(pfake.New())
	conn := &sshremote.Connector{Logger: logger}
	var mu sync.Mutex
	var marks []struct {
		status sahara.ClusterStatus
		at     time.Time
	}
	e, err := sahara.New(sahara.Options{Infra: cloud, Remotes: conn, Plugins: reg, Logger: logger, Observer: func(ev sahara.Event) {
		if ev.Kind == sahara.EventStatus {
			mu.Lock()
			marks = append(marks, struct {
				status sahara.ClusterStatus
				at     time.Time
			}{ev.Status, time.Now()})
			mu.Unlock()
		}
	}})
	if err != nil {
		b.Fatal(err)
	}
	c, err := e.NewCluster(testbedFakeSpec(env, "bench", n-1))
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		dctx, dcancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer dcancel()
		if err := e.Delete(dctx, c); err != nil {
			b.Errorf("Delete: %v", err)
		}
		env.AssertNoLeftovers(b, c.ID)
	}()

	cpu0, start := cpuTime(), time.Now()
	b.ResetTimer()
	err = e.Create(ctx, c)
	b.StopTimer()
	wall, cpu := time.Since(start), cpuTime()-cpu0
	if err != nil {
		b.Fatalf("Create: %v (status %s: %s)", err, c.Status, c.StatusDescription)
	}
	prev := start
	for _, m := range marks {
		b.Logf("%-14s reached at %6.1fs (+%.1fs)", m.status, m.at.Sub(start).Seconds(), m.at.Sub(prev).Seconds())
		prev = m.at
	}
	for _, m := range marks {
		if m.status == sahara.StatusPreparing {
			// Waiting ends when the slowest server answers SSH.
			b.Logf("slowest server reachable at %.1fs; engine work after it %.1fs", m.at.Sub(start).Seconds(), time.Since(m.at).Seconds()-time.Since(start.Add(wall)).Seconds())
		}
	}
	b.Logf("%d instances Active in %.1fs; engine CPU %.1fs (%.0f%% of one core); %d OpenStack requests; %d SSH handshakes",
		n, wall.Seconds(), cpu.Seconds(), 100*cpu.Seconds()/wall.Seconds(), ct.n.Load(), conn.Handshakes())
	b.ReportMetric(wall.Seconds(), "s-to-active")
	b.ReportMetric(cpu.Seconds(), "cpu-s")
	b.ReportMetric(float64(ct.n.Load()), "api-requests")
	b.ReportMetric(float64(conn.Handshakes()), "ssh-handshakes")
}

// testbedFakeSpec is a fake-plugin cluster on the testbed: one master and
// workers workers, named prefix plus a random suffix.
func testbedFakeSpec(env *testbed.Env, prefix string, workers int) sahara.ClusterSpec {
	suffix := make([]byte, 3)
	_, _ = rand.Read(suffix)
	return sahara.ClusterSpec{
		Name: prefix + hex.EncodeToString(suffix), PluginName: "fake", PluginVersion: pfake.Version,
		DefaultImageID: env.Images["fake"], NeutronManagementNetwork: env.NetworkID,
		NodeGroups: []sahara.NodeGroupSpec{
			{Name: "master", FlavorID: env.FlavorID, Count: 1, NodeProcesses: []string{pfake.NameNode, pfake.ResourceManager}},
			{Name: "worker", FlavorID: env.FlavorID, Count: workers, NodeProcesses: []string{pfake.DataNode, pfake.NodeManager}},
		},
	}
}
