package testbed_test

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/keypairs"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/attributestags"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/rules"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"

	"github.com/saharagen/terraform-provider-saharagen/internal/testbed"
)

// The listener each instance runs on port 8786 (the Dask scheduler's): it
// greets every connection with "sg-ok" so that a probe knows it reached it.
const listenerPy = `import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.listen(64)
while True:
    c, _ = s.accept()
    try:
        c.sendall(b"sg-ok\n")
    except OSError:
        pass
    c.close()
`

// probePy connects to host:port within a timeout and expects the greeting.
const probePy = `import socket, sys
host, port, t = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
c = socket.create_connection((host, port), timeout=t)
c.settimeout(t)
sys.exit(0 if c.recv(16).startswith(b"sg-ok") else 3)
`

const sgPort = 8786

// probe: a TCP connection from this host to addr gets the listener's greeting.
func probe(addr string, timeout time.Duration) error {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return err
	}
	defer func() { _ = c.Close() }()
	_ = c.SetReadDeadline(time.Now().Add(timeout))
	b := make([]byte, 6)
	if _, err := io.ReadFull(c, b); err != nil {
		return err
	}
	if string(b) != "sg-ok\n" {
		return fmt.Errorf("%s answered %q", addr, b)
	}
	return nil
}

// probeFrom: the same from inside an instance's network namespace.
func probeFrom(ns, ip string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout+5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ip", "netns", "exec", ns, "/usr/bin/python3", "-S", "-c", probePy,
		ip, fmt.Sprint(sgPort), fmt.Sprint(timeout.Seconds())).CombinedOutput()
	if err != nil {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		return fmt.Errorf("%s -> %s:%d: %v: %s", ns, ip, sgPort, err, lines[len(lines)-1])
	}
	return nil
}

// startListener runs the listener in the namespace ns; it is stopped by PID
// when the test ends (or dies with the instance).
func startListener(t *testing.T, ns string) {
	t.Helper()
	cmd := exec.Command("ip", "netns", "exec", ns, "/usr/bin/python3", "-S", "-c", listenerPy, fmt.Sprint(sgPort))
	if err := cmd.Start(); err != nil {
		t.Fatalf("listener in %s: %v", ns, err)
	}
	// ip netns exec execs the command: this PID is the listener's
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	// loopback is always admitted: ready once it answers there
	if _, err := waitUntil(context.Background(), 10*time.Second, func() bool {
		return probeFrom(ns, "127.0.0.1", time.Second) == nil
	}); err != nil {
		t.Fatalf("listener in %s never answered on 127.0.0.1:%d", ns, sgPort)
	}
}

// waitUntil polls cond every 100 ms; it returns how long cond took to hold.
func waitUntil(ctx context.Context, limit time.Duration, cond func() bool) (time.Duration, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	for {
		if cond() {
			return time.Since(start), nil
		}
		select {
		case <-ctx.Done():
			return time.Since(start), fmt.Errorf("not within %s", limit)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// ping sends one ICMP echo request from this host and waits for its reply.
func ping(ip string, timeout time.Duration) error {
	c, err := net.ListenPacket("ip4:icmp", "0.0.0.0")
	if err != nil {
		return err
	}
	defer func() { _ = c.Close() }()
	var idb [2]byte
	_, _ = rand.Read(idb[:])
	msg := []byte{8, 0, 0, 0, idb[0], idb[1], 0, 1, 's', 'g', 't', 'b'}
	var sum uint32
	for i := 0; i < len(msg); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(msg[i:]))
	}
	sum = (sum >> 16) + (sum & 0xffff)
	sum += sum >> 16
	binary.BigEndian.PutUint16(msg[2:], ^uint16(sum))
	_ = c.SetDeadline(time.Now().Add(timeout))
	if _, err := c.WriteTo(msg, &net.IPAddr{IP: net.ParseIP(ip)}); err != nil {
		return err
	}
	buf := make([]byte, 1500)
	for {
		n, from, err := c.ReadFrom(buf) // the IPv4 header is stripped
		if err != nil {
			return fmt.Errorf("ping %s: %w", ip, err)
		}
		if from.String() == ip && n >= 8 && buf[0] == 0 && buf[4] == idb[0] && buf[5] == idb[1] {
			return nil
		}
	}
}

// hostSource is the address this host's packets to ip carry.
func hostSource(t *testing.T, ip string) string {
	out, err := exec.Command("ip", "route", "get", ip).Output()
	if err != nil {
		t.Fatalf("ip route get %s: %v", ip, err)
	}
	f := strings.Fields(string(out))
	for i := range f[:len(f)-1] {
		if f[i] == "src" {
			return f[i+1]
		}
	}
	t.Fatalf("no source address in %q", out)
	return ""
}

// rulesIn is the namespace's ruleset (iptables-save or ip6tables-save).
func rulesIn(ns, save string) string {
	out, err := exec.Command("ip", "netns", "exec", ns, save).CombinedOutput()
	if err != nil {
		return fmt.Sprintf("%s in %s: %v: %s", save, ns, err, out)
	}
	return string(out)
}

// secGroup creates a security group of the fixture's cluster (tagged, so
// Leftovers counts it) with the given ingress rules.
func (f *fixture) secGroup(ctx context.Context, name string, in ...rules.CreateOpts) *groups.SecGroup {
	f.t.Helper()
	c := f.c.Network
	sg, err := groups.Create(ctx, c, groups.CreateOpts{Name: "saharagen-" + f.cid + "-" + name, Description: "testbed security group test"}).Extract()
	must(f.t, "security group "+name, err)
	f.t.Cleanup(func() { deleteSecGroup(f.t, c, sg.ID) })
	_, err = attributestags.ReplaceAll(ctx, c, "security-groups", sg.ID, attributestags.ReplaceAllOpts{Tags: []string{testbed.ClusterTag + "=" + f.cid}}).Extract()
	must(f.t, "tag security group", err)
	for _, r := range in {
		r.SecGroupID = sg.ID
		_, err := rules.Create(ctx, c, r).Extract()
		must(f.t, "rule of "+name, err)
	}
	return sg
}

// deleteSecGroup retries while Neutron still has ports in the group (the
// servers' deletion frees them a moment later).
func deleteSecGroup(t *testing.T, c *gophercloud.ServiceClient, id string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for {
		err := groups.Delete(ctx, c, id).ExtractErr()
		if err == nil || gophercloud.ResponseCodeIs(err, 404) {
			return
		}
		if ctx.Err() != nil {
			t.Errorf("delete security group %s: %v", id, err)
			return
		}
		time.Sleep(time.Second)
	}
}

func ingress(proto rules.RuleProtocol, port int, prefix, group string) rules.CreateOpts {
	return rules.CreateOpts{Direction: rules.DirIngress, EtherType: rules.EtherType4, Protocol: proto,
		PortRangeMin: port, PortRangeMax: port, RemoteIPPrefix: prefix, RemoteGroupID: group}
}

// TestSecurityGroups: the testbed enforces Neutron security groups on its
// instances. A and B are in a group "dask" that admits TCP 8786 only from
// its own members (remote group) and in a group "ssh" (TCP 22 from
// anywhere); C is in the project's default group only (whose SSH and ICMP
// rules the bootstrap adds, as a project's user would). Each runs a
// listener on 8786. Then: SSH from this host reaches all three; 8786 does
// not (the host is no member), nor from C; A and B reach each other's 8786;
// the host pings C but not A. A rule admitting the host's address opens
// 8786 to the host within seconds, and its deletion closes it again; C
// joining "dask" (its port updated, as cluster scaling does) reaches A's
// 8786, and leaving it no longer does. Latencies are logged.
func TestSecurityGroups(t *testing.T) {
	f := newFixture(t)
	env, c := f.env, f.c
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()

	// "dask" admits 8786 from its own members: the rule names the group's ID
	dask := f.secGroup(ctx, "dask")
	self := ingress(rules.ProtocolTCP, sgPort, "", dask.ID)
	self.SecGroupID = dask.ID
	_, err := rules.Create(ctx, c.Network, self).Extract()
	must(t, "dask rule (remote group: itself)", err)
	ssh := f.secGroup(ctx, "ssh", ingress(rules.ProtocolTCP, 22, "0.0.0.0/0", ""))
	gl, err := groups.List(c.Network, groups.ListOpts{Name: "default", ProjectID: env.ProjectID}).AllPages(ctx)
	must(t, "default group", err)
	defs, _ := groups.ExtractGroups(gl)
	if len(defs) != 1 {
		t.Fatalf("%d default groups in the project", len(defs))
	}
	defaultID := defs[0].ID

	names := []string{"a", "b", "c"}
	sgs := [][]string{{dask.ID, ssh.ID}, {dask.ID, ssh.ID}, {"default"}}
	srv := make([]*servers.Server, 3)
	for i, n := range names {
		s, err := f.boot(ctx, "sg-"+f.cid+"-"+n, "", nil, sgs[i]...)
		must(t, "boot "+n, err)
		srv[i] = s
	}
	ip := make([]string, 3)
	ns := make([]string, 3)
	for i, s := range srv {
		s, err := f.waitActive(ctx, s.ID)
		must(t, "active", err)
		srv[i], ip[i], ns[i] = s, fixedIP(s), testbed.Namespace(s.ID)
	}
	dump := func() {
		for i := range ns {
			t.Logf("ruleset of %s (%s):\n%s", names[i], ip[i], rulesIn(ns[i], "iptables-save"))
		}
	}
	// SSH: by the "ssh" group for A and B, by the default group for C
	for i, s := range srv {
		cl, err := f.sshTo(ctx, s.ID, ip[i])
		if err != nil {
			dump()
			t.Fatalf("ssh %s: %v", names[i], err)
		}
		_ = cl.Close()
	}
	for i := range ns {
		startListener(t, ns[i])
	}
	A, B, C := 0, 1, 2
	addr := func(i int) string { return net.JoinHostPort(ip[i], fmt.Sprint(sgPort)) }
	blocked := func(what string, err error) {
		t.Helper()
		if err == nil {
			dump()
			t.Fatalf("%s: reached, want blocked", what)
		}
	}
	open := func(what string, err error) {
		t.Helper()
		if err != nil {
			dump()
			t.Fatalf("%s: %v, want reached", what, err)
		}
	}

	for _, i := range []int{A, B, C} {
		blocked("host -> "+names[i]+":8786", probe(addr(i), 1500*time.Millisecond))
	}
	open("A -> B:8786 (remote group)", probeFrom(ns[A], ip[B], 3*time.Second))
	open("B -> A:8786 (remote group)", probeFrom(ns[B], ip[A], 3*time.Second))
	blocked("C -> A:8786 (C no member)", probeFrom(ns[C], ip[A], 1500*time.Millisecond))
	open("ping C (default group: ICMP from anywhere)", ping(ip[C], 3*time.Second))
	blocked("ping A (no ICMP rule)", ping(ip[A], 1500*time.Millisecond))

	// a rule for this host's address opens 8786 to it, its deletion closes it
	host := hostSource(t, ip[A])
	r := ingress(rules.ProtocolTCP, sgPort, host+"/32", "")
	r.SecGroupID = dask.ID
	t0 := time.Now()
	hostRule, err := rules.Create(ctx, c.Network, r).Extract()
	must(t, "rule for the host", err)
	created := time.Since(t0)
	opened, err := waitUntil(ctx, 10*time.Second, func() bool { return probe(addr(A), 300*time.Millisecond) == nil })
	if err != nil || opened > 5*time.Second {
		dump()
		t.Fatalf("host -> A:8786 after a rule for %s/32: %v after %s (want within 5 s)", host, err, opened)
	}
	open("host -> B:8786 (rule for the host)", probe(addr(B), 3*time.Second))
	blocked("C -> A:8786 (the rule names the host only)", probeFrom(ns[C], ip[A], 1500*time.Millisecond))
	must(t, "delete the host's rule", rules.Delete(ctx, c.Network, hostRule.ID).ExtractErr())
	closed, err := waitUntil(ctx, 10*time.Second, func() bool { return probe(addr(A), 500*time.Millisecond) != nil })
	if err != nil || closed > 5*time.Second {
		dump()
		t.Fatalf("host -> A:8786 after the rule's deletion: still open %s later (%v)", closed, err)
	}
	blocked("host -> A:8786 (rule deleted)", probe(addr(A), 1500*time.Millisecond))
	blocked("host -> B:8786 (rule deleted)", probe(addr(B), 1500*time.Millisecond))

	// membership: C's port joins the group, then leaves it
	pl, err := ports.List(c.Network, ports.ListOpts{DeviceID: srv[C].ID}).AllPages(ctx)
	must(t, "ports of C", err)
	pp, _ := ports.ExtractPorts(pl)
	if len(pp) != 1 {
		t.Fatalf("C has %d ports", len(pp))
	}
	setGroups := func(ids ...string) {
		_, err := ports.Update(ctx, c.Network, pp[0].ID, ports.UpdateOpts{SecurityGroups: &ids}).Extract()
		must(t, "update C's security groups", err)
	}
	setGroups(defaultID, dask.ID)
	joined, err := waitUntil(ctx, 10*time.Second, func() bool { return probeFrom(ns[C], ip[A], 500*time.Millisecond) == nil })
	if err != nil || joined > 5*time.Second {
		dump()
		t.Fatalf("C -> A:8786 after C joined the group: %v after %s", err, joined)
	}
	open("A -> C:8786 (C a member now)", probeFrom(ns[A], ip[C], 3*time.Second))
	setGroups(defaultID)
	left, err := waitUntil(ctx, 10*time.Second, func() bool { return probeFrom(ns[C], ip[A], 500*time.Millisecond) != nil })
	if err != nil || left > 5*time.Second {
		dump()
		t.Fatalf("C -> A:8786 after C left the group: still open %s later (%v)", left, err)
	}
	blocked("C -> A:8786 (C left)", probeFrom(ns[C], ip[A], 1500*time.Millisecond))
	t.Logf("rule for the host: create call %s, then reachable after %s; deleted: blocked after %s; "+
		"C joined the group: reached A after %s; left: blocked after %s",
		created.Round(time.Millisecond), opened.Round(time.Millisecond), closed.Round(time.Millisecond),
		joined.Round(time.Millisecond), left.Round(time.Millisecond))
	if st, err := testbed.ReadSGSyncStatus(); err == nil {
		t.Logf("sgsync: %d passes, %d Neutron calls, %d ruleset loads, %.1f s CPU, last pass %.0f ms",
			st.Passes, st.APICalls, st.Loads, st.CPUSeconds, st.LastFetchMS)
	}

	// everything goes; nothing may be left
	var wg sync.WaitGroup
	for _, s := range srv {
		wg.Add(1)
		go func(id string) { defer wg.Done(); f.deleteServer(id) }(s.ID)
	}
	wg.Wait()
	deleteSecGroup(t, c.Network, dask.ID)
	deleteSecGroup(t, c.Network, ssh.ID)
	must(t, "delete keypair", keypairs.Delete(ctx, c.Compute, f.keyName, nil).ExtractErr())
	env.AssertNoLeftovers(t, f.cid)
}

// TestSecurityGroupsDefaultDeny: a new instance's namespace is closed
// before it has any interface. The driver's spawn pause (testbed_spawn_delay)
// comes after the namespace exists and before its ports are set up: then it
// has only lo, and its rulesets admit nothing but loopback and replies (plus
// ICMPv6 neighbour discovery). Once ACTIVE, its ports' security groups (the
// default group here) are loaded: SSH works.
func TestSecurityGroupsDefaultDeny(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s, err := f.boot(ctx, "sg-"+f.cid+"-new", "", map[string]string{"testbed_spawn_delay": "15"})
	must(t, "boot", err)
	for {
		out, err := servers.ShowConsoleOutput(ctx, f.c.Compute, s.ID, servers.ShowConsoleOutputOpts{}).Extract()
		if err == nil && strings.Contains(out, "testbed: spawn paused") {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the driver never paused the spawn: %v %q", err, out)
		case <-time.After(500 * time.Millisecond):
		}
	}
	ns := testbed.Namespace(s.ID)
	links, err := exec.Command("ip", "-n", ns, "-o", "link", "show").CombinedOutput()
	must(t, "links of "+ns+": "+string(links), err)
	if l := strings.Split(strings.TrimSpace(string(links)), "\n"); len(l) != 1 || !strings.Contains(l[0], " lo:") {
		t.Errorf("%s has interfaces besides lo while paused:\n%s", ns, links)
	}
	base := []string{"-A INPUT -i lo -j ACCEPT", "-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"}
	want := map[string][]string{"iptables-save": base, "ip6tables-save": append(append([]string{}, base...),
		"-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 130 -j ACCEPT",
		"-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 134 -j ACCEPT",
		"-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 135 -j ACCEPT",
		"-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 136 -j ACCEPT")}
	for save, rules := range want {
		text := rulesIn(ns, save)
		var policy string
		var got []string
		for _, l := range strings.Split(text, "\n") {
			switch {
			case strings.HasPrefix(l, ":INPUT "):
				policy = strings.Fields(l)[1]
			case strings.HasPrefix(l, "-A "):
				got = append(got, l)
			}
		}
		if policy != "DROP" || strings.Join(got, "\n") != strings.Join(rules, "\n") {
			t.Errorf("%s of %s while it is being created: INPUT policy %q, rules:\n%s\nwant DROP and:\n%s",
				save, ns, policy, strings.Join(got, "\n"), strings.Join(rules, "\n"))
		}
	}
	active, err := f.waitActive(ctx, s.ID)
	must(t, "active", err)
	cl, err := f.sshTo(ctx, s.ID, fixedIP(active))
	if err != nil {
		t.Fatalf("ssh after the security groups were loaded: %v\n%s", err, rulesIn(ns, "iptables-save"))
	}
	_ = cl.Close()
	if text := rulesIn(ns, "iptables-save"); !strings.Contains(text, "-A port-eth0 ") {
		t.Errorf("no rules for eth0 once ACTIVE:\n%s", text)
	}
	f.deleteServer(s.ID)
	must(t, "delete keypair", keypairs.Delete(ctx, f.c.Compute, f.keyName, nil).ExtractErr())
	f.env.AssertNoLeftovers(t, f.cid)
}
