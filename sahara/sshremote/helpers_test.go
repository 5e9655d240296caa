package sshremote

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/saharagen/terraform-provider-saharagen/internal/sshtest"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// syncBuffer is a log sink the pool's goroutines may write concurrently.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// fixture is a cluster whose instances are sshtest hosts.
type fixture struct {
	lab       *sshtest.Lab
	cluster   *sahara.Cluster
	pub       string // management public key
	log       *syncBuffer
	connector *Connector
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	priv, pub, err := sahara.GenerateManagementKey("saharagen-test")
	if err != nil {
		t.Fatal(err)
	}
	c := &sahara.Cluster{ID: "c1", ManagementPrivateKey: priv, ManagementPublicKey: pub}
	c.Name = "test"
	f := &fixture{lab: sshtest.New(t), cluster: c, pub: pub, log: &syncBuffer{}}
	f.connector = &Connector{
		Logger:         slog.New(slog.NewTextHandler(f.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		ConnectTimeout: 10 * time.Second,
		RetryBackoff:   100 * time.Millisecond,
	}
	return f
}

// group adds a node group with one instance per host, reached at the
// host's address on network index netIdx.
func (f *fixture) group(name string, gateway bool, netIdx int, hosts ...*sshtest.Host) []*sahara.Instance {
	ng := f.cluster.AddNodeGroup(sahara.NodeGroupSpec{Name: name, Count: len(hosts), IsProxyGateway: gateway})
	ng.ImageUsername = sshtest.DefaultUser
	var out []*sahara.Instance
	for i, h := range hosts {
		in := ng.NewInstance(i)
		in.ManagementIP = h.IPs[netIdx]
		in.InternalIP = h.IPs[len(h.IPs)-1]
		ng.AddInstance(in)
		out = append(out, in)
	}
	return out
}

func (f *fixture) hosts(t testing.TB, n int, o sshtest.HostOptions) []*sshtest.Host {
	t.Helper()
	o.AuthorizedKeys = append(o.AuthorizedKeys, f.pub)
	return f.lab.AddHosts(t, n, o)
}

func (f *fixture) connect(t testing.TB) *pool {
	t.Helper()
	rp, err := f.connector.Connect(context.Background(), f.cluster)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rp.Close() })
	return rp.(*pool)
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func mustRun(t *testing.T, r sahara.Remote, cmd string, opts sahara.ExecOptions) string {
	t.Helper()
	res, err := r.ExecuteCommand(ctxT(t, 60*time.Second), cmd, opts)
	if err != nil {
		t.Fatalf("%s: %v", cmd, err)
	}
	return strings.TrimSpace(string(res.Stdout))
}
