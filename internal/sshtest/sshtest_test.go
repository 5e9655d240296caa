package sshtest

import (
	"crypto/ed25519"
	"crypto/rand"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

func newClientKey(t *testing.T) (ssh.Signer, string) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(s.PublicKey())))
}

func dial(t *testing.T, h *Host, signer ssh.Signer, via *ssh.Client, addr string) *ssh.Client {
	t.Helper()
	cfg := &ssh.ClientConfig{
		User:            h.User,
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: ssh.FixedHostKey(h.PublicKey),
		Timeout:         10 * time.Second,
	}
	if via == nil {
		c, err := ssh.Dial("tcp", addr, cfg)
		if err != nil {
			t.Fatalf("dial %s: %v\n%s", addr, err, h.Log())
		}
		return c
	}
	conn, err := via.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial %s through jump host: %v", addr, err)
	}
	cc, chans, reqs, err := ssh.NewClientConn(conn, addr, cfg)
	if err != nil {
		t.Fatalf("handshake %s through jump host: %v", addr, err)
	}
	return ssh.NewClient(cc, chans, reqs)
}

func output(t *testing.T, c *ssh.Client, cmd string) string {
	t.Helper()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	out, err := s.CombinedOutput(cmd)
	if err != nil {
		t.Fatalf("%q: %v: %s", cmd, err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestLab_HostIsolatedWithSudo(t *testing.T) {
	signer, pub := newClientKey(t)
	lab := New(t)
	h := lab.AddHost(t, HostOptions{Name: "alpha", AuthorizedKeys: []string{pub}})
	c := dial(t, h, signer, nil, h.Addr())
	defer func() { _ = c.Close() }()

	if got := output(t, c, "whoami; hostname"); got != DefaultUser+"\nalpha" {
		t.Fatalf("whoami; hostname = %q", got)
	}
	if got := output(t, c, "sudo -n id -u"); got != "0" {
		t.Fatalf("sudo id -u = %q", got)
	}
	// A file written inside the host stays inside it.
	marker := "/etc/sshtest-private-" + h.IPs[0]
	output(t, c, "echo x | sudo -n tee "+marker)
	if _, err := os.Stat(marker); !os.IsNotExist(err) {
		t.Fatalf("%s leaked to the machine (stat: %v)", marker, err)
	}
	if got := strings.TrimSpace(h.Run(t, "cat "+marker)); got != "x" {
		t.Fatalf("Run sees %q", got)
	}
	// No default route: the host reaches only its own subnets.
	if got := output(t, c, "ip route show default | wc -l"); got != "0" {
		t.Fatalf("host has a default route")
	}
}

func TestLab_PrivateNetworkOnlyThroughBastion(t *testing.T) {
	signer, pub := newClientKey(t)
	lab := New(t)
	private := lab.NewNetwork(t, false)
	bastion := lab.AddBastion(t, HostOptions{User: "jump", AuthorizedKeys: []string{pub}}, private)
	inner := lab.AddHost(t, HostOptions{Name: "inner", AuthorizedKeys: []string{pub}, Networks: []*Network{private}})

	if c, err := net.DialTimeout("tcp", inner.Addr(), 500*time.Millisecond); err == nil {
		_ = c.Close()
		t.Fatalf("%s is reachable from the test's namespace", inner.Addr())
	}
	jc := dial(t, bastion, signer, nil, bastion.Addr())
	defer func() { _ = jc.Close() }()
	ic := dial(t, inner, signer, jc, inner.Addr())
	defer func() { _ = ic.Close() }()
	if got := output(t, ic, "hostname"); got != "inner" {
		t.Fatalf("hostname through bastion = %q", got)
	}
}

func TestLab_LateSSHD(t *testing.T) {
	_, pub := newClientKey(t)
	lab := New(t)
	h := lab.AddHost(t, HostOptions{AuthorizedKeys: []string{pub}, SSHDDelay: 2 * time.Second})
	if c, err := net.DialTimeout("tcp", h.Addr(), 200*time.Millisecond); err == nil {
		_ = c.Close()
		t.Fatal("sshd accepted before its delay")
	}
	if err := h.waitSSHD(30 * time.Second); err != nil {
		t.Fatal(err)
	}
}
