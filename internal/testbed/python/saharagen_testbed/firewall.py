"""Neutron security groups as iptables rulesets inside testbed instances.

A testbed instance is a network namespace (``sgtb-<uuid>``) with one
interface per Neutron port (``eth<N>``).  A real cloud filters a VM's
traffic outside the VM, on the hypervisor; here the filter lives in the
instance's own namespace: the ``filter`` table of iptables (IPv4) and
ip6tables (IPv6), loaded atomically with ``iptables-restore`` through
``ip netns exec``.  Only *ingress* is enforced; egress and forwarding stay
open whatever the egress rules say (every testbed security group has
Neutron's default allow-all egress rules anyway).

The ruleset of one instance:

* INPUT policy DROP; loopback and conntrack RELATED,ESTABLISHED accepted
  (security groups are stateful: replies to what the instance sent, and
  ICMP errors about it, come back in);
* IPv6 only: the ICMPv6 messages Neutron's own firewall always lets in
  (MLD query, router advertisement, neighbour solicitation/advertisement),
  or neighbour discovery on the link breaks;
* per port a chain ``port-<ifname>`` reached from INPUT by ``-i <ifname>``,
  holding one ACCEPT per ingress rule of each of the port's security groups
  (a remote group expands to one ACCEPT per address of its members), or a
  single ACCEPT when the port has port_security_enabled=false.

With no ports (``render({})``) that is the default-deny ruleset the Nova
driver loads into every new namespace before any interface or process
exists in it, so an instance is never briefly open.

The source addresses a rule matches are the ones traffic really carries
when it arrives here: another instance talks to this one over the shared
bridge from its *fixed* IP (floating IPs are /32s reachable from the host
only, and an instance's outgoing traffic leaves from its fixed IP); the
host talks to every fixed and floating IP from its address on the bridge
(the subnet's gateway IP).  So a remote group expands to the fixed IPs and
allowed address pairs of its members, like Neutron's own firewall drivers
do, never to floating IPs.

Pure functions only (no I/O but ``apply``): the Nova driver and the sgsync
daemon both import this module.
"""
import ipaddress
import subprocess

V4, V6 = "IPv4", "IPv6"
RESTORE = {V4: "iptables-restore", V6: "ip6tables-restore"}

# Protocols whose rules may carry a destination port range (-m multiport
# knows all five).
PORT_PROTOCOLS = ("tcp", "udp", "sctp", "dccp", "udplite")
# The protocol names Neutron accepts (neutron_lib IP_PROTOCOL_MAP), to
# numbers: iptables gets a number for the rarer ones, never a name that
# /etc/protocols may lack (one bad line would reject the whole ruleset).
NEUTRON_PROTOCOLS = {
    "ah": 51, "dccp": 33, "egp": 8, "esp": 50, "gre": 47, "hopopt": 0,
    "icmp": 1, "igmp": 2, "ip": 0, "ipip": 4, "ipv6-encap": 41,
    "ipv6-frag": 44, "ipv6-icmp": 58, "icmpv6": 58, "ipv6-nonxt": 59,
    "ipv6-opts": 60, "ipv6-route": 43, "ospf": 89, "pgm": 113, "rsvp": 46,
    "sctp": 132, "tcp": 6, "udp": 17, "udplite": 136, "vrrp": 112}
# Numbers iptables gets by name: the ones with port or type matches.
PROTOCOL_NAMES = {1: "icmp", 6: "tcp", 17: "udp", 33: "dccp",
                  58: "ipv6-icmp", 132: "sctp", 136: "udplite"}
# Neutron's iptables driver: ICMPv6 always admitted on ingress (MLD query,
# router advertisement, neighbour solicitation, neighbour advertisement).
ICMPV6_ALWAYS = (130, 134, 135, 136)


# Egress (OUTPUT) and FORWARD stay open: only ingress is enforced.
HEADER = ["*filter",
          ":INPUT DROP [0:0]",
          ":FORWARD ACCEPT [0:0]",
          ":OUTPUT ACCEPT [0:0]"]


def _base_rules(family):
    rules = ["-A INPUT -i lo -j ACCEPT",
             "-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"]
    if family == V6:
        rules += ["-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type %d -j ACCEPT"
                  % t for t in ICMPV6_ALWAYS]
    return rules


def family_of(addr):
    """IPv4 or IPv6 for an address or CIDR (None when it is neither)."""
    try:
        net = ipaddress.ip_network(addr, strict=False)
    except ValueError:
        return None
    return V4 if net.version == 4 else V6


def _cidr(addr):
    """An address or CIDR as iptables prints it back (host bits cleared)."""
    return str(ipaddress.ip_network(addr, strict=False))


def members(ports):
    """Security group id -> set of source CIDRs of its members.

    A member's traffic comes from its fixed IPs or from an allowed address
    pair (a VIP, a container network behind it).  Every port counts, not
    only instance ports: that is how Neutron expands a remote group.
    """
    out = {}
    for p in ports:
        addrs = [ip.get("ip_address") for ip in p.get("fixed_ips") or []]
        addrs += [a.get("ip_address")
                  for a in p.get("allowed_address_pairs") or []]
        addrs = [_cidr(a) for a in addrs if a and family_of(a)]
        for sg in p.get("security_groups") or []:
            out.setdefault(sg, set()).update(addrs)
    return out


class Unrenderable(ValueError):
    """A rule this module cannot express (it is left out, with a comment)."""


def _protocol(rule, family):
    """The iptables -p value of a rule (None: any protocol)."""
    p = rule.get("protocol")
    if p is None or str(p).lower() in ("", "any"):
        return None
    p = str(p).lower()
    num = int(p) if p.isdigit() else NEUTRON_PROTOCOLS.get(p)
    if num is None or not 0 <= num <= 255:
        raise Unrenderable("unknown protocol %r" % p)
    if num == 0:
        return None  # Neutron: protocol 0 means any, like no protocol
    if family == V6 and num == 1:
        num = 58  # Neutron's spelling rules for ICMP over IPv6
    return PROTOCOL_NAMES.get(num, str(num))


def _matches(rule, family):
    """iptables match arguments for protocol and ports of one rule."""
    proto = _protocol(rule, family)
    if proto is None:
        return []
    args = ["-p", proto]
    lo, hi = rule.get("port_range_min"), rule.get("port_range_max")
    if proto in PORT_PROTOCOLS:
        if lo is None and hi is None:
            return args
        lo = 1 if lo is None else int(lo)
        hi = lo if hi is None else int(hi)
        if (lo, hi) != (1, 65535):
            args += ["-m", "multiport", "--dports",
                     str(lo) if lo == hi else "%d:%d" % (lo, hi)]
    elif proto in ("icmp", "ipv6-icmp") and lo is not None:
        # for ICMP Neutron keeps the type in port_range_min, the code in max
        what = str(int(lo)) if hi is None else "%d/%d" % (int(lo), int(hi))
        if proto == "icmp":
            args += ["-m", "icmp", "--icmp-type", what]
        else:
            args += ["-m", "icmp6", "--icmpv6-type", what]
    return args


def _sources(rule, family, groups, address_groups):
    """Source CIDRs a rule admits: [None] = any; [] = nobody (yet)."""
    if rule.get("remote_group_id"):
        addrs = groups.get(rule["remote_group_id"], ())
    elif rule.get("remote_address_group_id"):
        addrs = address_groups.get(rule["remote_address_group_id"], ())
    elif rule.get("remote_ip_prefix"):
        prefix = rule["remote_ip_prefix"]
        if family_of(prefix) != family:
            return []
        if ipaddress.ip_network(prefix, strict=False).prefixlen == 0:
            return [None]
        return [_cidr(prefix)]
    else:
        return [None]
    return sorted((a for a in addrs if family_of(a) == family),
                  key=lambda a: ipaddress.ip_network(a))


def _port_rules(chain, port, rules_by_sg, groups, address_groups, family):
    """ACCEPT lines of one port's chain (plus comment lines for people)."""
    if port is None:
        return ["# port unknown to Neutron (deleted?): nothing admitted"]
    if port.get("port_security_enabled") is False:
        return ["-A %s -m comment --comment port_security_disabled -j ACCEPT"
                % chain]
    out, seen = [], set()
    for sg in port.get("security_groups") or []:
        for r in sorted(rules_by_sg.get(sg, ()), key=lambda r: r["id"]):
            if r.get("direction", "ingress") != "ingress":
                continue
            if r.get("ethertype", V4) != family:
                continue
            srcs = _sources(r, family, groups, address_groups)
            if not srcs:
                out.append("# rule %s of sg %s admits no %s source now"
                           % (r["id"], sg, family))
                continue
            try:
                match = _matches(r, family)
            except (Unrenderable, TypeError, ValueError) as e:
                out.append("# rule %s of sg %s left out: %s" % (r["id"], sg, e))
                continue
            for src in srcs:
                spec = (["-s", src] if src else []) + match
                key = " ".join(spec)
                if key in seen:  # the same traffic admitted twice
                    continue
                seen.add(key)
                out.append(" ".join(["-A", chain] + spec + [
                    "-m", "comment", "--comment",
                    "sg:%s/rule:%s" % (sg, r["id"]), "-j", "ACCEPT"]))
    return out


def render(ifaces, ports=None, rules_by_sg=None, groups=None,
           address_groups=None, title=""):
    """The iptables-restore inputs of one instance: {"IPv4": ..., "IPv6": ...}.

    ifaces: port id -> interface name in the instance; ports: port id ->
    Neutron port (missing: the port is gone, nothing admitted on it);
    rules_by_sg: security group id -> its rules; groups: members();
    address_groups: address group id -> CIDRs.  render({}) is default-deny.
    """
    ports = ports or {}
    rules_by_sg = rules_by_sg or {}
    groups = groups or {}
    address_groups = address_groups or {}
    out = {}
    for family in (V4, V6):
        chains, jumps, body = [], [], []
        for port_id, ifname in sorted(ifaces.items(), key=lambda x: x[1]):
            chain = "port-" + ifname
            chains.append(":%s - [0:0]" % chain)
            jumps.append("-A INPUT -i %s -j %s" % (ifname, chain))
            body.append("# port %s on %s" % (port_id, ifname))
            body += _port_rules(chain, ports.get(port_id), rules_by_sg,
                                groups, address_groups, family)
        lines = ["# saharagen testbed: Neutron security groups, ingress "
                 "only%s" % (" (%s)" % title if title else "")]
        lines += HEADER + chains + _base_rules(family)
        lines += jumps + body + ["COMMIT", ""]
        out[family] = "\n".join(lines)
    return out


def render_instances(instances, ports, rules, address_groups=None):
    """Rulesets of several instances from Neutron's listings.

    instances: uuid -> {port id: ifname}; ports: Neutron's port list (every
    port: their addresses make up the remote groups); rules: Neutron's
    security group rules; address_groups: id -> CIDRs.
    Returns uuid -> render() of that instance.
    """
    by_id = {p["id"]: p for p in ports}
    rules_by_sg = {}
    for r in rules:
        rules_by_sg.setdefault(r["security_group_id"], []).append(r)
    groups = members(ports)
    return {uuid: render(ifaces, by_id, rules_by_sg, groups, address_groups,
                         title="instance " + uuid)
            for uuid, ifaces in instances.items()}


def default_deny():
    """What a new instance namespace gets before it has any interface."""
    return render({}, title="default deny until sgsync renders the rules")


def apply(ns, family, text, timeout=30):
    """Load one family's ruleset into namespace ns (atomic: the restore
    replaces the whole filter table in one transaction).  Raises
    CalledProcessError with the tool's stderr."""
    subprocess.run(["ip", "netns", "exec", ns, RESTORE[family]],
                   input=text, text=True, capture_output=True, check=True,
                   timeout=timeout)


if __name__ == "__main__":
    # python3 -m saharagen_testbed.firewall < doc.json: render without any
    # cloud or namespace (the Go test TestFirewallRender feeds it fixtures).
    # doc: {"instances": {uuid: {port id: ifname}}, "ports": [...],
    #       "rules": [...], "address_groups": {id: [cidr, ...]}}
    import json
    import sys
    doc = json.load(sys.stdin)
    out = render_instances(doc.get("instances") or {}, doc.get("ports") or [],
                           doc.get("rules") or [], doc.get("address_groups"))
    out["<default-deny>"] = default_deny()
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
