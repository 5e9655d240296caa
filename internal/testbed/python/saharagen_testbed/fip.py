"""Floating IPs of testbed instances (shared by the Nova and Neutron sides).

The Nova driver records every instance port in STATE/ports/<port id>
("<instance uuid> <ifname> <bridge> <gateway>"); sgsync reads the same
records to know which interface of which instance each port is.  Neutron's FLOATING_IP
callbacks (registered by the ML2 driver in neutron-server, which runs as
root on the same host) then plumb a floating IP the moment it is associated:
an extra /32 on the instance's interface and a host route via the network's
bridge, recorded in STATE/<uuid>/fips/<address> so that deleting the server
removes the route.  No polling.

A floating IP associated while its server is still building (after Nova
read the port's addresses, before the driver recorded the port) would be
seen by neither side.  So each side first writes what it knows, then reads
the other's: Neutron writes STATE/wanted/<port id>/<address> before it looks
for the port's record, and the driver records the port before it looks for
wanted addresses (adopt_wanted).  Whichever comes second plumbs; plumbing
twice is harmless.
"""
import os
import shutil
import subprocess

STATE = os.environ.get("SAHARAGEN_TESTBED_INSTANCES",
                       "/var/lib/saharagen-testbed/instances")
PORTS = os.path.join(STATE, "ports")
WANTED = os.path.join(STATE, "wanted")


def _ip(*args):
    return subprocess.run(("ip",) + args, capture_output=True, text=True)


def _write(path, text):
    # readers in the other process never see a half-written file
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = "%s.%d.tmp" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def record_port(port_id, uuid, ifname, br, gw):
    _write(os.path.join(PORTS, port_id),
           "%s %s %s %s\n" % (uuid, ifname, br, gw or "-"))


def forget_port(port_id):
    try:
        os.unlink(os.path.join(PORTS, port_id))
    except OSError:
        pass
    shutil.rmtree(os.path.join(WANTED, port_id), ignore_errors=True)


def associate(port_id, addr):
    """Neutron side: the address is wanted on the port; plumb it if the
    port's instance exists already.  Returns whether it was plumbed."""
    _write(os.path.join(WANTED, port_id, addr), "")
    return plumb(port_id, addr)


def disassociate(port_id, addr):
    try:
        os.unlink(os.path.join(WANTED, port_id, addr))
    except OSError:
        pass
    unplumb(port_id, addr)


def adopt_wanted(port_id):
    """Nova side, after record_port: plumb the addresses associated while
    the server was building.  Returns them."""
    try:
        addrs = [a for a in os.listdir(os.path.join(WANTED, port_id))
                 if not a.endswith(".tmp")]
    except OSError:
        return []
    return [a for a in addrs if plumb(port_id, a)]


def _port(port_id):
    try:
        with open(os.path.join(PORTS, port_id)) as f:
            uuid, ifname, br, gw = f.read().split()
        return uuid, ifname, br, (None if gw == "-" else gw)
    except (OSError, ValueError):
        return None


def plumb(port_id, addr):
    p = _port(port_id)
    if not p:
        return False
    uuid, ifname, br, gw = p
    d = os.path.join(STATE, uuid, "fips")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, addr), "w") as f:
        f.write("%s %s\n" % (ifname, br))
    _ip("-n", "sgtb-" + uuid, "addr", "replace", addr + "/32", "dev", ifname)
    route = ["route", "replace", addr + "/32", "dev", br]
    if gw:
        route += ["src", gw]
    _ip(*route)
    return True


def unplumb(port_id, addr, uuid=None):
    if uuid is None:
        p = _port(port_id)
        if not p:
            return
        uuid = p[0]
    f = os.path.join(STATE, uuid, "fips", addr)
    try:
        with open(f) as fh:
            ifname, br = fh.read().split()
    except (OSError, ValueError):
        return
    _ip("route", "del", addr + "/32", "dev", br)
    _ip("-n", "sgtb-" + uuid, "addr", "del", addr + "/32", "dev", ifname)
    try:
        os.unlink(f)
    except OSError:
        pass


def unplumb_all(uuid):
    d = os.path.join(STATE, uuid, "fips")
    try:
        addrs = os.listdir(d)
    except OSError:
        return
    for a in addrs:
        unplumb(None, a, uuid=uuid)
