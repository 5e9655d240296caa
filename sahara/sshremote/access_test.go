package sshremote

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/saharagen/terraform-provider-saharagen/internal/sshtest"
	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

func TestConnect_AcceptsGeneratedManagementKey(t *testing.T) {
	priv, pub, err := sahara.GenerateManagementKey("c")
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.ParsePrivateKey([]byte(priv))
	if err != nil {
		t.Fatalf("ssh.ParsePrivateKey refuses the PKCS#8 management key: %v", err)
	}
	if got := authorizedKey(s.PublicKey()) + " c"; got != pub {
		t.Fatalf("public key %q does not match the private key's %q", pub, got)
	}
}

func TestConnect_RefusesBadInput(t *testing.T) {
	priv, _, _ := sahara.GenerateManagementKey("")
	cases := map[string]struct {
		c   *Connector
		key string
		msg string
	}{
		"no key":       {&Connector{}, "", "has no management key"},
		"garbage key":  {&Connector{}, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "management key"},
		"bastion user": {&Connector{Bastion: &BastionConfig{Host: "192.0.2.9", PrivateKey: priv}}, priv, "needs a host and a user"},
		"bastion auth": {&Connector{Bastion: &BastionConfig{Host: "192.0.2.9", User: "u"}}, priv, "needs a private key or use of the SSH agent"},
		"bastion unverifiable": {&Connector{Bastion: &BastionConfig{Host: "192.0.2.9", User: "u", PrivateKey: priv,
			KnownHostsFile: filepath.Join(t.TempDir(), "none")}}, priv, "no host key to verify it against"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			cl := &sahara.Cluster{ManagementPrivateKey: c.key}
			_, err := c.c.Connect(context.Background(), cl)
			if err == nil || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("got %v, want an error containing %q", err, c.msg)
			}
			if c.key != "" && strings.Contains(err.Error(), "BEGIN") {
				t.Fatalf("error quotes the key: %v", err)
			}
		})
	}
}

func TestWaitAccessible_PinsFirstKeyAndRefusesChangedKey(t *testing.T) {
	f := newFixture(t)
	hs := f.hosts(t, 2, sshtest.HostOptions{})
	in := f.group("workers", false, 0, hs[0])[0]
	p := f.connect(t)
	ctx := ctxT(t, time.Minute)

	key, err := p.WaitAccessible(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if key != hs[0].HostKey {
		t.Fatalf("pinned %q, want the host's key %q", key, hs[0].HostKey)
	}
	// The same name now answers with another host's key (address reused,
	// or a machine in the middle): refused at once, not retried.
	hc, cl, _ := p.client(ctx, in)
	p.drop(hc, cl)
	in.ManagementIP = hs[1].IP()
	start := f.connector.Handshakes()
	_, err = p.WaitAccessible(ctx, in)
	if !errors.Is(err, ErrHostKeyMismatch) {
		t.Fatalf("want ErrHostKeyMismatch, got %v", err)
	}
	want := "host key of " + in.InstanceName + " (" + hs[1].Addr() + ") changed: expected " +
		ssh.FingerprintSHA256(hs[0].PublicKey) + ", got " + ssh.FingerprintSHA256(hs[1].PublicKey)
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not say %q", err, want)
	}
	if n := f.connector.Handshakes() - start; n != 1 {
		t.Fatalf("a mismatch was retried: %d handshakes", n)
	}
	if _, err := p.Remote(in).ExecuteCommand(ctx, "true", sahara.ExecOptions{}); !errors.Is(err, ErrHostKeyMismatch) {
		t.Fatalf("command on a host with a changed key: %v", err)
	}
}

func TestWaitAccessible_TrustsConsoleHostKey(t *testing.T) {
	f := newFixture(t)
	hs := f.hosts(t, 2, sshtest.HostOptions{})
	ins := f.group("workers", false, 0, hs...)
	p := f.connect(t)
	ctx := ctxT(t, time.Minute)

	ins[0].HostKey = strings.Join(sahara.ParseConsoleHostKeys(hs[0].Console()), "\n")
	if key, err := p.WaitAccessible(ctx, ins[0]); err != nil || key != hs[0].HostKey {
		t.Fatalf("console key: %q, %v", key, err)
	}
	// The cloud published another key than the one the host presents.
	ins[1].HostKey = sahara.ParseConsoleHostKeys(hs[0].Console())[0]
	_, err := p.WaitAccessible(ctx, ins[1])
	if !errors.Is(err, ErrHostKeyMismatch) || !strings.Contains(err.Error(), ssh.FingerprintSHA256(hs[1].PublicKey)) {
		t.Fatalf("mismatching console key: %v", err)
	}
}

func TestWaitAccessible_RetriesUntilLateSSHD(t *testing.T) {
	f := newFixture(t)
	hs := f.hosts(t, 1, sshtest.HostOptions{SSHDDelay: 2 * time.Second})
	in := f.group("workers", false, 0, hs...)[0]
	p := f.connect(t)
	key, err := p.WaitAccessible(ctxT(t, time.Minute), in)
	if err != nil {
		t.Fatalf("%v\n%s", err, hs[0].Log())
	}
	if key != hs[0].HostKey {
		t.Fatalf("key %q", key)
	}
	log := f.log.String()
	if !strings.Contains(log, "waiting for SSH (attempt 1)") || !strings.Contains(log, "accessible over SSH after") {
		t.Fatalf("the wait is not visible in the log:\n%s", log)
	}
	// WaitAccessible's connection is the one commands use.
	before := f.connector.Handshakes()
	mustRun(t, p.Remote(in), "true", sahara.ExecOptions{})
	if f.connector.Handshakes() != before {
		t.Fatal("a command opened a second connection")
	}
}

func TestWaitAccessible_GivesUpNamingInstanceAddressAndLastFailure(t *testing.T) {
	f := newFixture(t)
	// The host does not know the cluster's key: authentication keeps failing.
	hs := f.lab.AddHosts(t, 1, sshtest.HostOptions{})
	in := f.group("workers", false, 0, hs...)[0]
	p := f.connect(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := p.WaitAccessible(ctx, in)
	if err == nil {
		t.Fatal("accessible without an authorized key")
	}
	for _, want := range []string{in.InstanceName, hs[0].Addr(), "not accessible over SSH after", "last failure", "unable to authenticate"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error does not wrap the deadline: %v", err)
	}
	if f.connector.Handshakes() < 2 {
		t.Errorf("auth failures were not retried: %d handshakes", f.connector.Handshakes())
	}
}

func TestRemote_ThroughProxyGateway(t *testing.T) {
	f := newFixture(t)
	private := f.lab.NewNetwork(t, false)
	gw := f.lab.AddHost(t, sshtest.HostOptions{Name: "gw", AuthorizedKeys: []string{f.pub}, Networks: []*sshtest.Network{f.lab.Public, private}})
	workers := f.hosts(t, 3, sshtest.HostOptions{Name: "w", Networks: []*sshtest.Network{private}})
	f.group("gateway", true, 0, gw)
	ins := f.group("workers", false, 0, workers...)
	// Workers are not reachable from here, only through the gateway.
	if c, err := net.DialTimeout("tcp", workers[0].Addr(), time.Second); err == nil {
		_ = c.Close()
		t.Fatal("worker reachable directly")
	}
	p := f.connect(t)
	ctx := ctxT(t, time.Minute)
	err := sahara.ParallelEach(ctx, 0, ins, func(ctx context.Context, in *sahara.Instance) error {
		if _, err := p.WaitAccessible(ctx, in); err != nil {
			return err
		}
		res, err := p.Remote(in).ExecuteCommand(ctx, "hostname", sahara.ExecOptions{RunAsRoot: true})
		if err == nil && !strings.HasPrefix(string(res.Stdout), "w") {
			err = errors.New("wrong host: " + string(res.Stdout))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := f.connector.Handshakes(); n != 4 {
		t.Fatalf("handshakes = %d, want 4 (gateway once + 3 workers)", n)
	}
	if !strings.Contains(f.log.String(), "via proxy gateway "+ins[0].NodeGroup().Cluster().ProxyGateway().InstanceName) {
		t.Fatalf("route not logged:\n%s", f.log.String())
	}
}

func TestRemote_ThroughBastionWithAgent(t *testing.T) {
	f := newFixture(t)
	// The bastion's key lives only in an SSH agent, as a user's would.
	_, bpriv, _ := ed25519.GenerateKey(rand.Reader)
	keyring := agent.NewKeyring()
	if err := keyring.Add(agent.AddedKey{PrivateKey: bpriv}); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { _ = agent.ServeAgent(keyring, c); _ = c.Close() }()
		}
	}()
	t.Setenv("SSH_AUTH_SOCK", sock)
	signers, _ := keyring.Signers()

	private := f.lab.NewNetwork(t, false)
	bastion := f.lab.AddBastion(t, sshtest.HostOptions{User: "jump", AuthorizedKeys: []string{authorizedKey(signers[0].PublicKey())}}, private)
	workers := f.hosts(t, 2, sshtest.HostOptions{Name: "w", Networks: []*sshtest.Network{private}})
	ins := f.group("workers", false, 0, workers...)
	f.connector.Bastion = &BastionConfig{Host: bastion.IP(), User: "jump", UseAgent: true, HostKey: bastion.HostKey}
	p := f.connect(t)
	ctx := ctxT(t, time.Minute)
	for _, in := range ins {
		if got := mustRun(t, p.Remote(in), "hostname", sahara.ExecOptions{}); !strings.HasPrefix(got, "w") {
			t.Fatalf("hostname %q", got)
		}
		if _, err := p.WaitAccessible(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.connector.Handshakes(); n != 3 {
		t.Fatalf("handshakes = %d, want 3 (bastion once + 2 instances)", n)
	}

	// A bastion presenting another key is refused.
	f2 := &Connector{Bastion: &BastionConfig{Host: bastion.IP(), User: "jump", UseAgent: true, HostKey: workers[0].HostKey}}
	rp, err := f2.Connect(ctx, f.cluster)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rp.Close() }()
	if _, err := rp.Remote(ins[0]).ExecuteCommand(ctx, "true", sahara.ExecOptions{}); !errors.Is(err, ErrHostKeyMismatch) {
		t.Fatalf("bastion with a wrong key: %v", err)
	}
}

func TestRemote_GatewayReachedThroughBastionWithKey(t *testing.T) {
	f := newFixture(t)
	bpriv, bpub, err := sahara.GenerateManagementKey("")
	if err != nil {
		t.Fatal(err)
	}
	netA, netB := f.lab.NewNetwork(t, false), f.lab.NewNetwork(t, false)
	bastion := f.lab.AddBastion(t, sshtest.HostOptions{User: "jump", AuthorizedKeys: []string{bpub}}, netA)
	gw := f.lab.AddHost(t, sshtest.HostOptions{Name: "gw", AuthorizedKeys: []string{f.pub}, Networks: []*sshtest.Network{netA, netB}})
	workers := f.hosts(t, 2, sshtest.HostOptions{Name: "w", Networks: []*sshtest.Network{netB}})
	f.group("gateway", true, 0, gw)
	ins := f.group("workers", false, 0, workers...)
	f.connector.Bastion = &BastionConfig{Host: bastion.IP(), User: "jump", PrivateKey: bpriv, HostKey: bastion.HostKey}
	p := f.connect(t)
	ctx := ctxT(t, time.Minute)
	for _, in := range ins {
		if _, err := p.WaitAccessible(ctx, in); err != nil {
			t.Fatal(err)
		}
		if got := mustRun(t, p.Remote(in), "hostname", sahara.ExecOptions{RunAsRoot: true}); !strings.HasPrefix(got, "w") {
			t.Fatalf("hostname %q", got)
		}
	}
	if n := f.connector.Handshakes(); n != 4 {
		t.Fatalf("handshakes = %d, want 4 (bastion, gateway, 2 workers)", n)
	}

	// The bastion verified through a known_hosts file instead: its own
	// key passes, another key is refused.
	for name, key := range map[string]string{"right": bastion.HostKey, "wrong": gw.HostKey} {
		kh := filepath.Join(t.TempDir(), "known_hosts")
		if err := os.WriteFile(kh, []byte(bastion.IP()+" "+key+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		c := &Connector{Bastion: &BastionConfig{Host: bastion.IP(), User: "jump", PrivateKey: bpriv, KnownHostsFile: kh}}
		rp, err := c.Connect(ctx, f.cluster)
		if err != nil {
			t.Fatal(err)
		}
		_, err = rp.Remote(ins[0]).ExecuteCommand(ctx, "true", sahara.ExecOptions{})
		_ = rp.Close()
		if (name == "right" && err != nil) || (name == "wrong" && (err == nil || !strings.Contains(err.Error(), "knownhosts: key mismatch"))) {
			t.Fatalf("known_hosts with the %s key: %v", name, err)
		}
	}
}

func TestRemote_RedialsAfterConnectionLoss(t *testing.T) {
	f := newFixture(t)
	in := f.group("workers", false, 0, f.hosts(t, 1, sshtest.HostOptions{})...)[0]
	p := f.connect(t)
	r := p.Remote(in)
	mustRun(t, r, "true", sahara.ExecOptions{})
	_, cl, err := p.client(ctxT(t, time.Minute), in)
	if err != nil {
		t.Fatal(err)
	}
	_ = cl.Close() // the network drops the connection
	if got := mustRun(t, r, "echo again", sahara.ExecOptions{}); got != "again" {
		t.Fatalf("after reconnect: %q", got)
	}
	if err := r.WriteFileTo(ctxT(t, time.Minute), "after-redial", []byte("x"), sahara.FileOptions{}); err != nil {
		t.Fatal(err)
	}
	if n := f.connector.Handshakes(); n != 2 {
		t.Fatalf("handshakes = %d, want 2", n)
	}
}

func TestPool_CloseEndsEveryConnection(t *testing.T) {
	f := newFixture(t)
	hs := f.hosts(t, 2, sshtest.HostOptions{})
	ins := f.group("workers", false, 0, hs...)
	p := f.connect(t)
	ctx := ctxT(t, time.Minute)
	for _, in := range ins {
		mustRun(t, p.Remote(in), "true", sahara.ExecOptions{})
		if err := p.Remote(in).WriteFileTo(ctx, "f", []byte("x"), sahara.FileOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Remote(ins[0]).ExecuteCommand(ctx, "true", sahara.ExecOptions{}); !errors.Is(err, errPoolClosed) {
		t.Fatalf("command after Close: %v", err)
	}
	for _, h := range hs {
		var n string
		for range 50 {
			n = strings.TrimSpace(h.Run(t, "ss -Htn state established '( sport = :22 )' | wc -l"))
			if n == "0" {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if n != "0" {
			t.Fatalf("%s still has %s SSH connections after Close", h.Name, n)
		}
	}
}
