package sshremote

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/saharagen/terraform-provider-saharagen/internal/sshtest"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// A service bound to the instance's loopback is out of the provider's reach
// except through the instance's SSH connection (how plugins talk to a
// management server's REST API).
func TestDialContext_ReachesTheInstancesLoopback(t *testing.T) {
	f := newFixture(t)
	h := f.hosts(t, 1, sshtest.HostOptions{Name: "dial"})
	in := f.group("managers", false, 0, h...)[0]
	r := f.connect(t).Remote(in)

	mustRun(t, r, `mkdir -p /tmp/www && echo "served by $(hostname)" > /tmp/www/who &&
		(setsid python3 -m http.server 18080 --bind 127.0.0.1 --directory /tmp/www >/dev/null 2>&1 < /dev/null &) &&
		for i in $(seq 50); do python3 -c 'import socket; socket.create_connection(("127.0.0.1", 18080), 1)' 2>/dev/null && exit 0; sleep 0.1; done; exit 1`,
		sahara.ExecOptions{})
	want := "served by " + mustRun(t, r, "hostname", sahara.ExecOptions{})

	if c, err := net.DialTimeout("tcp", net.JoinHostPort(h[0].IP(), "18080"), 2*time.Second); err == nil {
		_ = c.Close()
		t.Fatal("the instance's loopback service answered from outside")
	}
	d, ok := r.(sahara.Dialer)
	if !ok {
		t.Fatalf("%T does not implement sahara.Dialer", r)
	}
	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return d.DialContext(ctx, network, "127.0.0.1:18080")
	}}}
	resp, err := client.Get("http://manager/who")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if got := strings.TrimSpace(string(body)); got != want {
		t.Fatalf("GET through the instance = %q, want %q", got, want)
	}
	if _, err := d.DialContext(ctxT(t, 10*time.Second), "tcp", "127.0.0.1:1"); err == nil || !strings.Contains(err.Error(), in.InstanceName) {
		t.Fatalf("dial of a closed port: %v", err)
	}
}
