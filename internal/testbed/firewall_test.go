package testbed_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestFirewallRender feeds Neutron-shaped ports and rules to the renderer
// the testbed uses (python/saharagen_testbed/firewall.py, no cloud needed)
// and checks the iptables-restore input it makes of them.
func TestFirewallRender(t *testing.T) {
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		t.Skip("needs /usr/bin/python3 (the testbed's python)")
	}
	doc := `{
	 "instances": {"u1": {"p1": "eth0", "p2": "eth1", "gone": "eth2"}},
	 "ports": [
	  {"id": "p1", "device_owner": "compute:nova", "fixed_ips": [{"ip_address": "10.90.0.5"}],
	   "security_groups": ["sgA", "default"], "port_security_enabled": true},
	  {"id": "pB", "device_owner": "compute:nova", "fixed_ips": [{"ip_address": "10.90.0.6"}, {"ip_address": "fd00::6"}],
	   "allowed_address_pairs": [{"ip_address": "192.168.7.0/24"}], "security_groups": ["sgA"]},
	  {"id": "p2", "device_owner": "compute:nova", "port_security_enabled": false, "fixed_ips": [{"ip_address": "10.90.0.7"}], "security_groups": []}
	 ],
	 "rules": [
	  {"id": "r1", "security_group_id": "sgA", "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp",
	   "port_range_min": 8786, "port_range_max": 8786, "remote_group_id": "sgA"},
	  {"id": "r2", "security_group_id": "default", "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp",
	   "port_range_min": 22, "port_range_max": 22, "remote_ip_prefix": "0.0.0.0/0"},
	  {"id": "r3", "security_group_id": "default", "direction": "ingress", "ethertype": "IPv6", "protocol": "icmp", "remote_ip_prefix": "::/0"},
	  {"id": "r4", "security_group_id": "default", "direction": "ingress", "ethertype": "IPv4", "protocol": "icmp",
	   "port_range_min": 8, "port_range_max": 0, "remote_ip_prefix": "10.0.0.0/8"},
	  {"id": "r5", "security_group_id": "sgA", "direction": "ingress", "ethertype": "IPv6", "protocol": null, "remote_group_id": "sgA"},
	  {"id": "r6", "security_group_id": "sgA", "direction": "ingress", "ethertype": "IPv4", "protocol": "17",
	   "port_range_min": 1, "port_range_max": 65535, "remote_ip_prefix": "10.90.0.1/24"},
	  {"id": "r7", "security_group_id": "sgA", "direction": "ingress", "ethertype": "IPv4", "protocol": "bogus"},
	  {"id": "r8", "security_group_id": "sgA", "direction": "egress", "ethertype": "IPv4", "protocol": "tcp",
	   "port_range_min": 25, "port_range_max": 25},
	  {"id": "r9", "security_group_id": "sgA", "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp",
	   "port_range_min": 8786, "port_range_max": 8786, "remote_group_id": "sgEmpty"},
	  {"id": "r10", "security_group_id": "sgA", "direction": "ingress", "ethertype": "IPv4", "protocol": "6",
	   "port_range_min": 22, "port_range_max": 22}
	 ]}`
	cmd := exec.Command("/usr/bin/python3", "-m", "saharagen_testbed.firewall")
	cmd.Dir = filepath.Join("python")
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	cmd.Stdin = strings.NewReader(doc)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("firewall.py: %v", err)
	}
	var got map[string]map[string]string
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("firewall.py output: %v\n%s", err, out)
	}
	v4, v6 := got["u1"]["IPv4"], got["u1"]["IPv6"]
	has := func(name, text string, lines ...string) {
		t.Helper()
		for _, l := range lines {
			if !strings.Contains(text, "\n"+l+"\n") {
				t.Errorf("%s lacks %q:\n%s", name, l, text)
			}
		}
	}
	hasNot := func(name, text string, frags ...string) {
		t.Helper()
		for _, f := range frags {
			if strings.Contains(text, f) {
				t.Errorf("%s has %q:\n%s", name, f, text)
			}
		}
	}
	base := []string{":INPUT DROP [0:0]", ":OUTPUT ACCEPT [0:0]", "-A INPUT -i lo -j ACCEPT",
		"-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"}
	has("default-deny IPv4", got["<default-deny>"]["IPv4"], base...)
	has("default-deny IPv6", got["<default-deny>"]["IPv6"], append(base, "-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 135 -j ACCEPT")...)
	hasNot("default-deny IPv4", got["<default-deny>"]["IPv4"], "port-")
	has("IPv4", v4, append(base,
		// the remote group: every member's fixed IP and allowed address pair
		"-A INPUT -i eth0 -j port-eth0",
		"-A port-eth0 -s 10.90.0.5/32 -p tcp -m multiport --dports 8786 -m comment --comment sg:sgA/rule:r1 -j ACCEPT",
		"-A port-eth0 -s 10.90.0.6/32 -p tcp -m multiport --dports 8786 -m comment --comment sg:sgA/rule:r1 -j ACCEPT",
		"-A port-eth0 -s 192.168.7.0/24 -p tcp -m multiport --dports 8786 -m comment --comment sg:sgA/rule:r1 -j ACCEPT",
		// from anywhere: no -s (r2 in default admits the same: left out); a
		// protocol number; a full port range: no port match; host bits cleared
		"-A port-eth0 -p tcp -m multiport --dports 22 -m comment --comment sg:sgA/rule:r10 -j ACCEPT",
		"-A port-eth0 -s 10.90.0.0/24 -p udp -m comment --comment sg:sgA/rule:r6 -j ACCEPT",
		// ICMP type/code
		"-A port-eth0 -s 10.0.0.0/8 -p icmp -m icmp --icmp-type 8/0 -m comment --comment sg:default/rule:r4 -j ACCEPT",
		// port security off: everything
		"-A port-eth1 -m comment --comment port_security_disabled -j ACCEPT")...)
	hasNot("IPv4", v4,
		"10.90.0.7/32", // p2 is in no group
		"rule:r7 ",     // an unknown protocol is left out...
		"--dports 25",  // egress is not enforced
		"rule:r9 ",     // a remote group without members admits nobody
		"-A port-eth2", // a port Neutron does not know admits nothing
	)
	if n := strings.Count(v4, "--dports 22 "); n != 1 {
		t.Errorf("SSH from anywhere admitted by two groups: %d lines, want 1", n)
	}
	has("IPv4", v4, "# rule r7 of sg sgA left out: unknown protocol 'bogus'") // ...with a comment
	has("IPv6", v6,
		"-A port-eth0 -s fd00::6/128 -m comment --comment sg:sgA/rule:r5 -j ACCEPT",
		"-A port-eth0 -p ipv6-icmp -m comment --comment sg:default/rule:r3 -j ACCEPT")
	hasNot("IPv6", v6, "10.90.0.", "--dports 22")
}
