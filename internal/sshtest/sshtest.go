// Package sshtest makes real sshd hosts for tests: each host is a network
// namespace on a private bridge, with its own mount, PID, UTS and IPC
// namespaces, a copy-on-write overlay of the machine's root (writes stay
// private to the host), its own sshd with a host key generated here, and a
// login user with passwordless sudo. The recipe is
// shared/reference/testbed/instances (host-add.sh, instance-init.sh).
//
// Subnets are 10.211.X.0/24, exist only on bridges the lab creates and are
// routed nowhere; hosts have no default route. Everything is removed by
// t.Cleanup; processes are stopped by PID. It needs root, ip(8), unshare(1)
// and sshd; New installs openssh-server when sshd is missing and fails the
// test with the reason when anything else is.
//
//	lab := sshtest.New(t)
//	h := lab.AddHost(t, sshtest.HostOptions{AuthorizedKeys: []string{pub}})
//	// ssh cloud-user@h.IP() verifying h.HostKey
package sshtest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	_ "embed"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

//go:embed init.sh
var initScript []byte

// DefaultUser is the login user of hosts (Sahara images use "cloud-user" too).
const DefaultUser = "cloud-user"

const (
	runDir  = "/run/sshtest"
	lockDir = "/run/lock"
)

var labSeq atomic.Int32

// Lab is a set of hosts on bridges created for one test.
type Lab struct {
	// Public is reachable from the test process (the bridge has .1).
	Public *Network

	id    string // pid (6 hex) + lab number (2 hex): fixed width for name parsing
	state string // tmpfs holding every host's overlay upper dir and logs

	mu    sync.Mutex
	nets  []*Network
	hosts []*Host
}

// Network is one bridge and its /24.
type Network struct {
	Bridge string
	// Prefix is the first three octets, "10.211.X".
	Prefix string
	// HostReachable: the test process has an address on it (.1).
	HostReachable bool

	index int
	next  int
	lock  *os.File
}

// CIDR is the network's subnet.
func (n *Network) CIDR() string { return n.Prefix + ".0/24" }

// HostOptions describe one host.
type HostOptions struct {
	// Name is the hostname (default "host<N>").
	Name string
	// User is the login user (default DefaultUser); created inside the host.
	User string
	// AuthorizedKeys are the authorized_keys lines of the login user.
	AuthorizedKeys []string
	// Networks the host has an interface on, eth0 first (default Public).
	Networks []*Network
	// SSHDDelay starts sshd that long after the host is up; AddHost then
	// returns without waiting for it.
	SSHDDelay time.Duration
}

// Host is one running host.
type Host struct {
	Name string
	User string
	// IPs has one address per network, in HostOptions.Networks order.
	IPs []string
	// HostKey is sshd's public key in authorized_keys format ("ssh-ed25519 AAAA…").
	HostKey   string
	PublicKey ssh.PublicKey

	ns   string
	dir  string
	cmd  *exec.Cmd
	done chan struct{}
}

// IP is the host's first address.
func (h *Host) IP() string { return h.IPs[0] }

// Addr is the host's first address with port 22.
func (h *Host) Addr() string { return h.IPs[0] + ":22" }

// Console is what cloud-init would print to the server's console log.
func (h *Host) Console() string {
	return "sshtest-init: booting " + h.Name + "\n" +
		"-----BEGIN SSH HOST KEY KEYS-----\n" +
		h.HostKey + " root@" + h.Name + "\n" +
		"-----END SSH HOST KEY KEYS-----\n"
}

// Log returns the host's init and sshd output, for failure messages.
func (h *Host) Log() string {
	b, _ := os.ReadFile(filepath.Join(h.dir, "console.log"))
	return string(b)
}

// New checks the prerequisites, removes what crashed earlier runs left
// behind, and creates the lab's tmpfs and its public network.
func New(t testing.TB) *Lab {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("sshtest: real sshd hosts need root (network namespaces, mounts, sshd); run the test as root")
	}
	for _, tool := range []string{"ip", "unshare", "nsenter", "mount", "umount"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("sshtest: %s not found: %v", tool, err)
		}
	}
	ensureSSHD(t)
	reapStale()
	lab := &Lab{id: fmt.Sprintf("%06x%02x", os.Getpid(), labSeq.Add(1)&0xff)}
	lab.state = filepath.Join(runDir, lab.id)
	if err := os.MkdirAll(lab.state, 0o700); err != nil {
		t.Fatalf("sshtest: %v", err)
	}
	// The overlay upper dir may not live on the root filesystem (lowerdir=/).
	if err := run("mount", "-t", "tmpfs", "-o", "mode=700,size=2g", "sshtest", lab.state); err != nil {
		t.Fatalf("sshtest: mounting the lab tmpfs: %v", err)
	}
	t.Cleanup(lab.close)
	lab.Public = lab.NewNetwork(t, true)
	return lab
}

func ensureSSHD(t testing.TB) {
	if _, err := os.Stat("/usr/sbin/sshd"); err == nil {
		return
	}
	t.Log("sshtest: sshd missing, installing openssh-server")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for _, args := range [][]string{{"update"}, {"install", "-y", "--no-install-recommends", "openssh-server"}} {
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("sshtest: sshd is missing and `apt-get %s` failed (%v); install openssh-server first:\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// NewNetwork creates a bridge on a free 10.211.X.0/24. A network that is not
// hostReachable has no address in the test's namespace, so its hosts can be
// reached only through a host that is on both (a bastion or gateway).
func (l *Lab) NewNetwork(t testing.TB, hostReachable bool) *Network {
	t.Helper()
	l.mu.Lock()
	n := &Network{index: len(l.nets), HostReachable: hostReachable, next: 10}
	l.nets = append(l.nets, n)
	l.mu.Unlock()
	n.Bridge = fmt.Sprintf("sgb%s%x", l.id, n.index)
	if len(n.Bridge) > 15 {
		t.Fatalf("sshtest: too many networks")
	}
	prefix, lock, err := reserveSubnet()
	if err != nil {
		t.Fatalf("sshtest: %v", err)
	}
	n.Prefix, n.lock = prefix, lock
	steps := [][]string{{"link", "add", n.Bridge, "type", "bridge"}}
	if hostReachable {
		steps = append(steps, []string{"addr", "add", prefix + ".1/24", "dev", n.Bridge})
	} else {
		// Without it the machine's default route would carry a stray dial
		// to this subnet off the machine.
		steps = append(steps, []string{"route", "add", "unreachable", n.CIDR()})
	}
	steps = append(steps, []string{"link", "set", n.Bridge, "up"})
	for _, s := range steps {
		if err := run("ip", s...); err != nil {
			t.Fatalf("sshtest: network %s: %v", n.Bridge, err)
		}
	}
	return n
}

// reserveSubnet takes an flock on a 10.211.X lock file (released when the
// process dies) and checks that nothing on the machine uses the subnet.
func reserveSubnet() (string, *os.File, error) {
	start, _ := rand.Int(rand.Reader, big.NewInt(240))
	for i := 0; i < 240; i++ {
		x := 10 + (int(start.Int64())+i)%240
		prefix := fmt.Sprintf("10.211.%d", x)
		f, err := os.OpenFile(filepath.Join(lockDir, "sshtest-"+prefix+".lock"), os.O_CREATE|os.O_RDWR, 0o600)
		if err != nil {
			return "", nil, err
		}
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
			_ = f.Close()
			continue
		}
		// We hold the lock, so an unreachable route for it is a dead lab's.
		_ = run("ip", "route", "del", "unreachable", prefix+".0/24")
		out, _ := exec.Command("ip", "-4", "route", "show", "table", "all").Output()
		if bytes.Contains(out, []byte(prefix+".")) {
			_ = f.Close()
			continue
		}
		return prefix, f, nil
	}
	return "", nil, errors.New("no free 10.211.X.0/24 subnet")
}

// AddHost starts a host and, unless SSHDDelay is set, waits until its sshd
// accepts TCP connections.
func (l *Lab) AddHost(t testing.TB, o HostOptions) *Host {
	t.Helper()
	h, err := l.start(o)
	if h != nil {
		t.Cleanup(func() { l.stop(h) })
	}
	if err == nil && o.SSHDDelay == 0 {
		err = h.waitSSHD(60 * time.Second)
	}
	if err != nil {
		log := ""
		if h != nil {
			log = h.Log()
		}
		t.Fatalf("sshtest: host %q: %v\n%s", o.Name, err, log)
	}
	return h
}

// AddHosts starts n hosts with the same options (names "<Name><i>") in
// parallel and waits for all of them.
func (l *Lab) AddHosts(t testing.TB, n int, o HostOptions) []*Host {
	t.Helper()
	base := o.Name
	if base == "" {
		base = "host"
	}
	hosts := make([]*Host, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			oi := o
			oi.Name = fmt.Sprintf("%s%d", base, i+1)
			hosts[i], errs[i] = l.start(oi)
			if errs[i] == nil && o.SSHDDelay == 0 {
				errs[i] = hosts[i].waitSSHD(90 * time.Second)
			}
		}()
	}
	wg.Wait()
	for _, h := range hosts {
		if h != nil {
			t.Cleanup(func() { l.stop(h) })
		}
	}
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("sshtest: %v", err)
	}
	return hosts
}

// AddBastion starts a jump host on Public and on every network of nets, so
// hosts on private networks can be reached through it.
func (l *Lab) AddBastion(t testing.TB, o HostOptions, nets ...*Network) *Host {
	t.Helper()
	if o.Name == "" {
		o.Name = "bastion"
	}
	o.Networks = append([]*Network{l.Public}, nets...)
	return l.AddHost(t, o)
}

func (l *Lab) start(o HostOptions) (*Host, error) {
	l.mu.Lock()
	idx := len(l.hosts)
	h := &Host{Name: o.Name, User: o.User, done: make(chan struct{})}
	l.hosts = append(l.hosts, h)
	nets := o.Networks
	if len(nets) == 0 {
		nets = []*Network{l.Public}
	}
	for _, n := range nets {
		if n.next > 250 {
			l.mu.Unlock()
			return nil, fmt.Errorf("network %s is full", n.CIDR())
		}
		h.IPs = append(h.IPs, fmt.Sprintf("%s.%d", n.Prefix, n.next))
		n.next++
	}
	l.mu.Unlock()
	if h.Name == "" {
		h.Name = fmt.Sprintf("host%d", idx+1)
	}
	if h.User == "" {
		h.User = DefaultUser
	}
	h.ns = fmt.Sprintf("sgt-%s-%d", l.id, idx)
	h.dir = filepath.Join(l.state, strconv.Itoa(idx))
	if err := h.prepare(o.AuthorizedKeys); err != nil {
		return h, err
	}
	if err := run("ip", "netns", "add", h.ns); err != nil {
		return h, err
	}
	for i, n := range nets {
		veth := fmt.Sprintf("s%s%02x%x", l.id, idx&0xff, i)
		eth := fmt.Sprintf("eth%d", i)
		for _, s := range [][]string{
			{"link", "add", veth, "type", "veth", "peer", "name", eth, "netns", h.ns},
			{"link", "set", veth, "master", n.Bridge, "up"},
			{"-n", h.ns, "addr", "add", h.IPs[i] + "/24", "dev", eth},
			{"-n", h.ns, "link", "set", eth, "up"},
		} {
			if err := run("ip", s...); err != nil {
				return h, err
			}
		}
	}
	if err := run("ip", "-n", h.ns, "link", "set", "lo", "up"); err != nil {
		return h, err
	}
	logf, err := os.Create(filepath.Join(h.dir, "console.log"))
	if err != nil {
		return h, err
	}
	defer func() { _ = logf.Close() }()
	delay := strconv.FormatFloat(o.SSHDDelay.Seconds(), 'f', 3, 64)
	if o.SSHDDelay == 0 {
		delay = "0"
	}
	h.cmd = exec.Command("ip", "netns", "exec", h.ns,
		"unshare", "--mount", "--uts", "--ipc", "--pid", "--fork", "--kill-child",
		"/bin/bash", filepath.Join(h.dir, "init.sh"), h.Name, h.dir, h.User, delay)
	h.cmd.Stdout, h.cmd.Stderr = logf, logf
	h.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := h.cmd.Start(); err != nil {
		return h, err
	}
	go func() { _ = h.cmd.Wait(); close(h.done) }()
	return h, nil
}

// prepare writes the host's key, authorized_keys and init script and the
// overlay dirs, with /root, /home and /work opaque so none of the machine's
// dotfiles or secrets show inside.
func (h *Host) prepare(authorized []string) error {
	for _, d := range []string{"upper", "work", "merged"} {
		if err := os.MkdirAll(filepath.Join(h.dir, d), 0o755); err != nil {
			return err
		}
	}
	for _, d := range []string{"root", "home", "work"} {
		p := filepath.Join(h.dir, "upper", d)
		if err := os.MkdirAll(p, 0o755); err != nil {
			return err
		}
		if err := syscall.Setxattr(p, "trusted.overlay.opaque", []byte("y"), 0); err != nil {
			return fmt.Errorf("marking %s opaque: %w", p, err)
		}
	}
	_ = os.Chmod(filepath.Join(h.dir, "upper", "root"), 0o700)
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	block, err := ssh.MarshalPrivateKey(priv, "root@"+h.Name)
	if err != nil {
		return err
	}
	h.PublicKey, err = ssh.NewPublicKey(pub)
	if err != nil {
		return err
	}
	h.HostKey = strings.TrimSpace(string(ssh.MarshalAuthorizedKey(h.PublicKey)))
	files := map[string][]byte{
		"host_key":        pem.EncodeToMemory(block),
		"host_key.pub":    []byte(h.HostKey + " root@" + h.Name + "\n"),
		"authorized_keys": []byte(strings.Join(authorized, "\n") + "\n"),
		"init.sh":         initScript,
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(h.dir, name), data, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// waitSSHD polls, from inside the host's network namespace, until sshd
// accepts a TCP connection on the host's first address.
func (h *Host) waitSSHD(limit time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	probe := fmt.Sprintf("until (exec 3<>/dev/tcp/%s/22) 2>/dev/null; do sleep 0.05; done", h.IP())
	out, err := exec.CommandContext(ctx, "ip", "netns", "exec", h.ns, "/bin/bash", "-c", probe).CombinedOutput()
	if err != nil {
		return fmt.Errorf("sshd of %s did not come up within %s: %v %s", h.Name, limit, err, out)
	}
	return nil
}

// Run runs a shell command as root inside the host (its namespaces and
// overlay root) without SSH, so tests can check what a remote did.
func (h *Host) Run(t testing.TB, cmd string) string {
	t.Helper()
	out, err := h.Exec(cmd)
	if err != nil {
		t.Fatalf("sshtest: %s: %q: %v\n%s", h.Name, cmd, err, out)
	}
	return out
}

// Exec is Run returning the error (stdout and stderr combined).
func (h *Host) Exec(cmd string) (string, error) {
	pid, err := h.initPID()
	if err != nil {
		return "", err
	}
	c := exec.Command("nsenter", "-t", strconv.Itoa(pid), "-m", "-u", "-i", "-n", "-p", "-r", "-w", "/bin/bash", "-c", cmd)
	c.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"}
	out, err := c.CombinedOutput()
	return string(out), err
}

// initPID is the host's PID 1 (init.sh, then sshd) as the machine sees it:
// the child unshare forked.
func (h *Host) initPID() (int, error) {
	if h.cmd == nil || h.cmd.Process == nil {
		return 0, errors.New("host not started")
	}
	p := h.cmd.Process.Pid
	for range 100 {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", p, p))
		if err == nil {
			if f := strings.Fields(string(b)); len(f) > 0 {
				return strconv.Atoi(f[0])
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return 0, fmt.Errorf("host %s has no init process", h.Name)
}

// Stop kills every process of the host and removes its namespace.
func (l *Lab) Stop(h *Host) { l.stop(h) }

func (l *Lab) stop(h *Host) {
	if h.ns == "" {
		return
	}
	killNetns(h.ns)
	if h.cmd != nil && h.cmd.Process != nil {
		_ = h.cmd.Process.Kill()
		select {
		case <-h.done:
		case <-time.After(10 * time.Second):
		}
	}
	_ = run("ip", "netns", "del", h.ns)
	_ = os.RemoveAll(h.dir)
	h.ns = ""
}

func (l *Lab) close() {
	l.mu.Lock()
	hosts, nets := l.hosts, l.nets
	l.mu.Unlock()
	for _, h := range hosts {
		l.stop(h)
	}
	for _, n := range nets {
		_ = run("ip", "link", "del", n.Bridge)
		if !n.HostReachable {
			_ = run("ip", "route", "del", "unreachable", n.CIDR())
		}
		if n.lock != nil {
			_ = n.lock.Close()
		}
	}
	_ = run("umount", "-l", l.state)
	_ = os.Remove(l.state)
}

// killNetns SIGKILLs every process in the namespace (all started by the
// lab: the host's unshare, its init/sshd and whatever ran over SSH) and waits
// until none is left.
func killNetns(ns string) {
	for range 100 {
		out, _ := exec.Command("ip", "netns", "pids", ns).Output()
		pids := strings.Fields(string(out))
		if len(pids) == 0 {
			return
		}
		for _, p := range pids {
			if pid, err := strconv.Atoi(p); err == nil && pid > 1 {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// reapStale removes the namespaces, bridges and tmpfs mounts of labs whose
// test process is gone (a crashed or killed run).
func reapStale() {
	dead := func(pidHex string) bool {
		pid, err := strconv.ParseInt(pidHex, 16, 64)
		if err != nil || pid <= 0 {
			return false
		}
		return syscall.Kill(int(pid), 0) == syscall.ESRCH
	}
	out, _ := exec.Command("ip", "netns", "list").Output()
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || !strings.HasPrefix(f[0], "sgt-") || len(f[0]) < 10 {
			continue
		}
		if dead(f[0][4:10]) {
			killNetns(f[0])
			_ = run("ip", "netns", "del", f[0])
		}
	}
	out, _ = exec.Command("ip", "-o", "link", "show", "type", "bridge").Output()
	sc = bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		name := strings.TrimSuffix(f[1], ":")
		if strings.HasPrefix(name, "sgb") && len(name) >= 9 && dead(name[3:9]) {
			_ = run("ip", "link", "del", name)
		}
	}
	entries, _ := os.ReadDir(runDir)
	for _, e := range entries {
		if len(e.Name()) >= 6 && dead(e.Name()[:6]) {
			p := filepath.Join(runDir, e.Name())
			_ = run("umount", "-l", p)
			_ = os.RemoveAll(p)
		}
	}
}

func run(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}
