package sahara_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	pfake "github.com/saharagen/terraform-provider-saharagen/plugins/fake"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
	"github.com/saharagen/terraform-provider-saharagen/sahara/fake"
)

// bootLatency is how long every fake server takes to boot; servers boot
// concurrently, as in a cloud, so a well-parallelised create of N instances
// costs about one boot plus the remote work.
const bootLatency = 50 * time.Millisecond

// BenchmarkProvision creates clusters of N instances (one master, N-1
// workers with a volume each) with the fake plugin and reports the
// Infrastructure calls, remote calls and SSH connections per create.
// Compare the ns/op of N=100 with N=1 for the scaling ratio.
func BenchmarkProvision(b *testing.B) { benchmarkProvision(b, 0) }

// BenchmarkProvisionRemoteLatency adds 1 ms to every remote call: the
// engine's remote work then costs calls/Parallelism round trips, which is
// what the parallel bound trades against load on the instances.
func BenchmarkProvisionRemoteLatency(b *testing.B) { benchmarkProvision(b, time.Millisecond) }

func benchmarkProvision(b *testing.B, remoteLatency time.Duration) {
	for _, n := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			var infraCalls, serverCreates, remoteCalls, handshakes int
			for i := 0; i < b.N; i++ {
				infra := fake.NewInfra(sahara.Image{ID: imageID, Username: "ubuntu", Tags: []string{"fake", "0.1"}})
				infra.BootLatency = bootLatency
				conn := fake.NewConnector()
				conn.CallLatency = remoteLatency
				reg, _ := sahara.NewRegistry(pfake.New())
				eng, err := sahara.New(sahara.Options{Infra: infra, Remotes: conn, Plugins: reg})
				if err != nil {
					b.Fatal(err)
				}
				c, err := eng.NewCluster(sahara.ClusterSpec{
					Name: "bench", PluginName: "fake", PluginVersion: "0.1", DefaultImageID: imageID,
					NodeGroups: []sahara.NodeGroupSpec{
						{Name: "master", FlavorID: "m1", Count: 1, NodeProcesses: []string{"namenode", "resourcemanager", "datanode", "nodemanager"}},
						{Name: "worker", FlavorID: "m1", Count: n - 1, NodeProcesses: []string{"datanode", "nodemanager"}, VolumesPerNode: 1, VolumesSize: 10},
					},
				})
				if err != nil {
					b.Fatal(err)
				}
				if err := eng.Create(context.Background(), c); err != nil {
					b.Fatal(err)
				}
				if got := len(c.Instances()); got != n || c.Status != sahara.StatusActive {
					b.Fatalf("%d instances, status %s", got, c.Status)
				}
				infraCalls += infra.TotalCalls() - infra.Calls("CreateServer")
				serverCreates += infra.Calls("CreateServer")
				remoteCalls += conn.TotalCalls()
				handshakes += conn.Handshakes()
			}
			per := func(v int) float64 { return float64(v) / float64(b.N) }
			b.ReportMetric(per(infraCalls), "infra-calls/op")
			b.ReportMetric(per(serverCreates), "server-creates/op")
			b.ReportMetric(per(remoteCalls), "remote-calls/op")
			b.ReportMetric(per(handshakes), "ssh-handshakes/op")
		})
	}
}
