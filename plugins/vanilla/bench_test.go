package vanilla

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// slowRemotes is a sahara.Remotes whose every call takes latency, like a
// command over an established SSH connection; it counts the calls.
type slowRemotes struct {
	latency time.Duration
	calls   atomic.Int64
	live    int
}

type slowRemote struct {
	r    *slowRemotes
	name string
}

func (s *slowRemotes) Remote(in *sahara.Instance) sahara.Remote {
	return &slowRemote{s, in.InstanceName}
}

func (m *slowRemote) wait() { m.r.calls.Add(1); time.Sleep(m.r.latency) }

func (m *slowRemote) InstanceName() string { return m.name }
func (m *slowRemote) ExecuteCommand(ctx context.Context, cmd string, o sahara.ExecOptions) (sahara.Result, error) {
	m.wait()
	if cmd == datanodeCountCmd {
		return sahara.Result{Stdout: []byte(fmt.Sprintf("%d\n", m.r.live))}, nil
	}
	return sahara.Result{}, nil
}
func (m *slowRemote) WriteFileTo(context.Context, string, []byte, sahara.FileOptions) error {
	m.wait()
	return nil
}
func (m *slowRemote) WriteFilesTo(context.Context, []sahara.File, sahara.FileOptions) error {
	m.wait()
	return nil
}
func (m *slowRemote) ReadFileFrom(context.Context, string, sahara.FileOptions) ([]byte, error) {
	m.wait()
	return nil, nil
}
func (m *slowRemote) AppendToFile(context.Context, string, []byte, sahara.FileOptions) error {
	m.wait()
	return nil
}
func (m *slowRemote) PrependToFile(context.Context, string, []byte, sahara.FileOptions) error {
	m.wait()
	return nil
}
func (m *slowRemote) ReplaceRemoteString(context.Context, string, string, string, sahara.FileOptions) error {
	m.wait()
	return nil
}
func (m *slowRemote) ReplaceRemoteLine(context.Context, string, string, string, sahara.FileOptions) error {
	m.wait()
	return nil
}
func (m *slowRemote) GetOSDistrib(context.Context) (string, error) { m.wait(); return "ubuntu", nil }

// BenchmarkCreateCluster configures and starts a master and 16 workers over
// remotes that take 1 ms a call: Parallelism 1 is Sahara's sequential
// configuration, 16 is saharagen's default. Compare ns/op of the two for
// the speed-up; remote-calls/instance is the same for both.
func BenchmarkCreateCluster(b *testing.B) {
	const workers = 16
	for _, par := range []int{1, 16} {
		b.Run(fmt.Sprintf("parallelism=%d", par), func(b *testing.B) {
			r := &slowRemotes{latency: time.Millisecond, live: workers}
			p := New(Options{Parallelism: par, Sleep: func(context.Context, time.Duration) error { return nil }})
			kp, err := generateKeypair()
			if err != nil {
				b.Fatal(err)
			}
			for i := 0; i < b.N; i++ {
				c := testCluster(V282, workers)
				c.Extra = map[string]string{ExtraKeypair: fmt.Sprintf(`{"public":%q,"private":%q}`, kp.Public, kp.Private)}
				if err := p.ConfigureCluster(context.Background(), c, r); err != nil {
					b.Fatal(err)
				}
				if err := p.StartCluster(context.Background(), c, r); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(r.calls.Load())/float64(b.N), "remote-calls/op")
			b.ReportMetric(float64(r.calls.Load())/float64(b.N)/float64(workers+1), "remote-calls/instance")
		})
	}
}
