package sshremote

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/saharagen/terraform-provider-saharagen/internal/sshtest"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// silence takes the host's links down: its packets are dropped without a
// reset, as when a server vanishes under an open connection.
func silence(t *testing.T, h *sshtest.Host) {
	t.Helper()
	h.Run(t, `for i in $(ls /sys/class/net); do [ "$i" = lo ] || ip link set dev "$i" down; done`)
}

func TestPool_SilentHostEndsCallsAndClose(t *testing.T) {
	f := newFixture(t)
	f.connector.KeepaliveInterval = -1 // only the callers' deadlines act here
	h := f.hosts(t, 1, sshtest.HostOptions{Name: "silent"})
	in := f.group("workers", false, 0, h...)[0]
	p := f.connect(t)
	r := p.Remote(in)
	mustRun(t, r, "true", sahara.ExecOptions{})
	if _, err := r.ReadFileFrom(ctxT(t, time.Minute), "/etc/hostname", sahara.FileOptions{}); err != nil {
		t.Fatal(err)
	}
	silence(t, h[0])

	// Opening a session waits for the server's answer; the deadline ends it.
	start := time.Now()
	_, err := r.ExecuteCommand(context.Background(), "true", sahara.ExecOptions{Timeout: 2 * time.Second})
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 20*time.Second {
		t.Fatalf("command on a silent host: %v after %s", err, time.Since(start))
	}
	start = time.Now()
	_, err = r.ReadFileFrom(context.Background(), "/etc/hostname", sahara.FileOptions{Timeout: 2 * time.Second})
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 20*time.Second {
		t.Fatalf("file read on a silent host: %v after %s", err, time.Since(start))
	}

	// A call stuck without a deadline must not hold Close up.
	stuck := make(chan error, 1)
	go func() {
		_, err := r.ExecuteCommand(context.WithoutCancel(context.Background()), "true", sahara.ExecOptions{Timeout: time.Hour})
		stuck <- err
	}()
	time.Sleep(200 * time.Millisecond)
	closed := make(chan struct{})
	go func() { _ = p.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(20 * time.Second):
		t.Fatal("Close blocked by a call waiting on a silent host")
	}
	select {
	case err := <-stuck:
		if err == nil {
			t.Fatal("a command on a closed pool succeeded")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the stuck call did not end when the pool closed")
	}
}

func TestPool_KeepaliveClosesSilentConnection(t *testing.T) {
	f := newFixture(t)
	f.connector.KeepaliveInterval = 300 * time.Millisecond
	h := f.hosts(t, 1, sshtest.HostOptions{Name: "keepalive"})
	in := f.group("workers", false, 0, h...)[0]
	r := f.connect(t).Remote(in)
	mustRun(t, r, "true", sahara.ExecOptions{})
	// Idle but alive: probes are answered and the connection stays.
	time.Sleep(time.Second)
	mustRun(t, r, "true", sahara.ExecOptions{})
	if hs := f.connector.Handshakes(); hs != 1 {
		t.Fatalf("an idle live connection was redialed: %d handshakes", hs)
	}
	silence(t, h[0])

	// A command with an hour to run fails once keepalive gives up.
	start := time.Now()
	_, err := r.ExecuteCommand(context.Background(), "sleep 5", sahara.ExecOptions{Timeout: time.Hour})
	if err == nil || time.Since(start) > 20*time.Second {
		t.Fatalf("command on a silent host: %v after %s", err, time.Since(start))
	}
	if !strings.Contains(f.log.String(), "SSH connection unresponsive") {
		t.Fatalf("keepalive did not log closing the connection:\n%s", f.log.String())
	}
}
