"""Nova fake virt driver whose servers behave like small VMs.

Every spawned server becomes an isolated "instance" on this host:

* network namespace ``sgtb-<uuid>``; one veth per port (``ethN`` inside,
  ``sgtbv<uuid9><N>`` on the host) enslaved to a Linux bridge per Neutron
  network (``sgtbb<netid10>``).  The bridge holds the subnet's gateway address,
  so the host reaches every fixed IP and instances on one network reach each
  other.  Instances get no default route: nothing routes beyond the testbed
  networks.  Floating IPs are put on the instance as extra /32 addresses
  plus a host route via the bridge (fip.py).  Security groups: the namespace
  gets a default-deny iptables ruleset before it has any interface, the
  sgsync daemon replaces it with the ports' security group rules
  (firewall.py).
* its own mount, pid, uts and ipc namespaces with a copy-on-write overlay of
  the host's / on tmpfs, a minimal /dev and an empty /sys/block
  (``instance-init.sh``); the server's user data runs as root before sshd
  starts (cloud-init's job); the keypair goes to the image user's
  authorized_keys (passwordless sudo); the instance's own ed25519 host key is
  printed to the console log in cloud-init's format.
* attached volumes (``saharagen_testbed.cinder.SparseFileDriver`` hands out a
  sparse file) become a loop device whose node is created inside the
  instance's /dev at the attachment's mountpoint (and in its /sys/block, so
  lsblk shows it).

Fault hooks (metadata or server name):
  testbed_fault=spawn_error  | name contains "fault-spawn"  -> ERROR
  testbed_boot_delay=N       | name contains "slowboot<N>"  -> sshd N s late
  testbed_fault=no_ssh       | name contains "fault-nossh"  -> no sshd at all
  testbed_spawn_delay=N      | name contains "slowspawn<N>" -> the driver waits
      N s after Nova read the port's addresses (console log line
      "testbed: spawn paused"), before it records the port: a floating IP
      associated meanwhile reaches the instance only through fip.adopt_wanted
  testbed_delete_delay=N     | name contains "slowdelete<N>" -> the driver
      waits N s before it tears the instance down: the server stays in task
      state "deleting" meanwhile (a server stuck deleting)

Enable: compute_driver = saharagen_testbed.TestbedDriver (the launcher
aliases nova.virt.saharagen_testbed).  Instances are separate process trees:
a restarted nova-compute adopts its live instances from STATE/<uuid>/.
"""
import base64
import email
import ipaddress
import json
import os
import re
import shutil
import signal
import time

from oslo_concurrency import processutils
from oslo_log import log

from nova.compute import power_state
from nova import exception
from nova.virt import fake

from saharagen_testbed import fip
from saharagen_testbed import firewall

LOG = log.getLogger(__name__)

STATE = os.environ.get("SAHARAGEN_TESTBED_INSTANCES",
                       "/var/lib/saharagen-testbed/instances")
LIBEXEC = "/usr/local/lib/saharagen-testbed"
INIT = LIBEXEC + "/instance-init.sh"
LOGIN_USER = os.environ.get("SAHARAGEN_TESTBED_LOGIN_USER", "ubuntu")


def _run(*args, check=True, **kw):
    return processutils.execute(
        *args, check_exit_code=[0] if check else list(range(256)), **kw)


def _ip(*args, check=True):
    return _run("ip", *args, check=check)


def ns_name(uuid):
    return "sgtb-" + uuid


def veth_name(uuid, idx):
    return "sgtbv" + uuid.replace("-", "")[:9] + str(idx)


def bridge_name(net_id):
    return "sgtbb" + net_id.replace("-", "")[:10]


def _userdata_scripts(ud_b64):
    """Return the shell scripts cloud-init would run from user_data."""
    if not ud_b64:
        return []
    try:
        raw = base64.b64decode(ud_b64)
    except Exception:
        raw = ud_b64.encode() if isinstance(ud_b64, str) else ud_b64
    text = raw.decode("utf-8", "replace")
    if text.startswith("#!"):
        return [text]
    out = []
    msg = email.message_from_string(text)
    if msg.is_multipart():
        for part in msg.walk():
            if part.is_multipart():
                continue
            body = (part.get_payload(decode=True) or b"").decode(
                "utf-8", "replace")
            if body.startswith("#!") and part.get_content_type() in (
                    "text/x-shellscript", "text/x-cfninitdata", "text/plain"):
                out.append(body)
    return out


def _seconds(md, key, name, word):
    """Seconds from metadata key or from "<word>N" in the server's name."""
    n = 0
    try:
        n = int(md.get(key, "0") or 0)
    except ValueError:
        pass
    m = re.search(word + r"(\d+)", name)
    return max(n, int(m.group(1))) if m else n


def _faults(instance):
    md = dict(instance.metadata or {})
    name = (instance.display_name or "") + " " + (instance.hostname or "")
    fault = md.get("testbed_fault", "")
    if "fault-spawn" in name:
        fault = "spawn_error"
    if "fault-nossh" in name:
        fault = "no_ssh"
    return (fault, _seconds(md, "testbed_boot_delay", name, "slowboot"),
            _seconds(md, "testbed_spawn_delay", name, "slowspawn"),
            _seconds(md, "testbed_delete_delay", name, "slowdelete"))


class TestbedDriver(fake.FakeDriver):

    def __init__(self, virtapi, read_only=False):
        super().__init__(virtapi, read_only)
        self._insts = {}    # uuid -> {"ifaces": [(veth, ifname, br, gw)]}
        self._ports = {}    # port id -> (uuid, ifname, bridge, gw)
        self._vols = {}     # volume id -> (uuid, loop dev, mountpoint)

    def init_host(self, host):
        super().init_host(host)
        os.makedirs(STATE, exist_ok=True)
        # FakeDriver keeps its servers in memory.  The instances themselves
        # are separate process trees and survive a nova-compute restart:
        # adopt the live ones of this host, remove the dead ones.
        for uuid in os.listdir(STATE):
            d = os.path.join(STATE, uuid)
            try:
                with open(os.path.join(d, "host")) as f:
                    owner = f.read().strip()
            except OSError:
                continue
            if owner != host:
                continue
            try:
                self._adopt(uuid)
                LOG.info("testbed: adopted running instance %s", uuid)
            except Exception as e:
                LOG.info("testbed: removing stale instance %s (%s)", uuid, e)
                self._teardown(uuid)

    def _adopt(self, uuid):
        d = os.path.join(STATE, uuid)
        with open(os.path.join(d, "init.pid")) as f:
            os.kill(int(f.read().strip()), 0)
        with open(os.path.join(d, "state.json")) as f:
            st = json.load(f)
        self.instances[uuid] = fake.FakeInstance(st["name"],
                                                 power_state.RUNNING, uuid)
        self._insts[uuid] = {"ifaces": [tuple(i) for i in st["ifaces"]]}
        for port, (ifname, br, gw) in st["ports"].items():
            self._ports[port] = (uuid, ifname, br, gw)
        vd = os.path.join(d, "vols")
        for vid in (os.listdir(vd) if os.path.isdir(vd) else []):
            with open(os.path.join(vd, vid)) as f:
                loop, mp = f.read().split()
            self._vols[vid] = (uuid, loop, mp)

    def _save_state(self, instance):
        uuid = instance.uuid
        st = {"name": instance.name,
              "ifaces": self._insts[uuid]["ifaces"],
              "ports": {p: list(v[1:]) for p, v in self._ports.items()
                        if v[0] == uuid}}
        with open(os.path.join(STATE, uuid, "state.json"), "w") as f:
            json.dump(st, f)

    # ------------------------------------------------------------ spawn
    def spawn(self, context, instance, image_meta, injected_files,
              admin_password, allocations, network_info=None,
              block_device_info=None, power_on=True, accel_info=None):
        fault, delay, pause, _linger = _faults(instance)
        if fault == "spawn_error":
            LOG.info("testbed: fault spawn_error injected for %s",
                     instance.uuid)
            raise exception.BuildAbortException(
                instance_uuid=instance.uuid,
                reason="testbed fault injected: spawn_error")
        super().spawn(context, instance, image_meta, injected_files,
                      admin_password, allocations, network_info,
                      block_device_info, power_on, accel_info)
        try:
            self._setup(instance, network_info or [], fault, delay, pause)
        except Exception as e:
            LOG.exception("testbed: could not set up instance %s",
                          instance.uuid)
            self._teardown(instance.uuid)
            raise exception.BuildAbortException(
                instance_uuid=instance.uuid,
                reason="testbed instance setup failed: %s" % e)

    def _ensure_bridge(self, net_id, subnets):
        br = bridge_name(net_id)
        for _ in range(5):
            _ip("link", "add", br, "type", "bridge", check=False)
            _out, err = _ip("link", "set", br, "up", check=False)
            if not err:
                break
            time.sleep(0.2)
        else:
            raise exception.NovaException("testbed: cannot create bridge %s" % br)
        gw = None
        for sn in subnets:
            g = (sn.get("gateway") or {}).get("address")
            cidr = sn.get("cidr")
            if not g or not cidr or ipaddress.ip_network(cidr).version != 4:
                continue
            plen = ipaddress.ip_network(cidr).prefixlen
            # an "ip addr add" race between several nova-computes is harmless
            _ip("addr", "add", "%s/%d" % (g, plen), "dev", br, check=False)
            gw = gw or g
        return br, gw

    def _setup(self, instance, network_info, fault, delay, pause=0):
        uuid = instance.uuid
        ns = ns_name(uuid)
        d = os.path.join(STATE, uuid)
        os.makedirs(d, exist_ok=True)
        # Fail closed: the namespace gets the default-deny firewall before it
        # has any interface or process; sgsync loads the ruleset of the
        # ports' security groups once the ports are recorded below.
        _ip("netns", "add", ns)
        _ip("-n", ns, "link", "set", "lo", "up")
        for family, text in firewall.default_deny().items():
            _run("ip", "netns", "exec", ns, firewall.RESTORE[family],
                 process_input=text)
        network_info = list(network_info)  # waits for Nova's allocation
        if pause:
            with open(os.path.join(d, "console.log"), "a") as f:
                f.write("testbed: spawn paused for %d s\n" % pause)
            time.sleep(pause)
        with open(os.path.join(d, "authorized_keys"), "w") as f:
            f.write((instance.key_data or "") + "\n")
        with open(os.path.join(d, "host"), "w") as f:
            f.write(self._host or "")
        scripts = _userdata_scripts(instance.user_data)
        for i, s in enumerate(scripts):
            with open(os.path.join(d, "userdata-%d.sh" % i), "w") as f:
                f.write(s)
        self._insts[uuid] = {"ifaces": []}
        first = None
        for idx, vif in enumerate(network_info):
            net = vif["network"]
            subnets = [sn for sn in net["subnets"]
                       if ipaddress.ip_network(sn["cidr"]).version == 4]
            br, gw = self._ensure_bridge(net["id"], subnets)
            veth, ifname = veth_name(uuid, idx), "eth%d" % idx
            _ip("link", "add", veth, "type", "veth", "peer", "name", ifname,
                "netns", ns)
            mac = vif.get("address")
            if mac:
                _ip("-n", ns, "link", "set", ifname, "address", mac)
            _ip("link", "set", veth, "master", br, "up")
            _ip("-n", ns, "link", "set", ifname, "up")
            for sn in subnets:
                plen = ipaddress.ip_network(sn["cidr"]).prefixlen
                for ipm in sn["ips"]:
                    _ip("-n", ns, "addr", "add",
                        "%s/%d" % (ipm["address"], plen), "dev", ifname)
                    first = first or ipm["address"]
            self._insts[uuid]["ifaces"].append((veth, ifname, br, gw))
            self._ports[vif["id"]] = (uuid, ifname, br, gw)
            fip.record_port(vif["id"], uuid, ifname, br, gw)
            known = set()
            for sn in subnets:
                for ipm in sn["ips"]:
                    for f in ipm.get("floating_ips") or []:
                        fip.plumb(vif["id"], f["address"])
                        known.add(f["address"])
            late = [a for a in fip.adopt_wanted(vif["id"]) if a not in known]
            if late:
                LOG.info("testbed: floating ips %s of port %s associated "
                         "while %s was building", late, vif["id"], uuid)
                with open(os.path.join(d, "console.log"), "a") as f:
                    f.write("testbed: floating ips %s associated while "
                            "building\n" % " ".join(late))
        name = instance.hostname or ("host-" + uuid[:8])
        env = dict(os.environ, LOGIN_USER=LOGIN_USER,
                   BOOT_DELAY=str(delay), NO_SSH="1" if fault == "no_ssh" else "0")
        env["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        # double fork via setsid -f; the pid of unshare goes to DIR/init.pid
        _run("setsid", "-f", "sh", "-c",
             'echo $$ > "$4/init.pid"; exec ip netns exec "$1" unshare '
             '--mount --uts --ipc --pid --fork --kill-child "$5" "$2" "$3" "$4"'
             ' >>"$4/console.log" 2>&1 </dev/null',
             "sh", ns, name, first or "127.0.0.1", d, INIT,
             env_variables=env)
        self._save_state(instance)
        LOG.info("testbed: server %s (%s) at %s fault=%s delay=%s",
                 uuid, name, first, fault or "-", delay)

    def get_host_uptime(self):
        with open("/proc/uptime") as f:
            up = float(f.read().split()[0])
        return " %s up %d min" % (time.strftime("%H:%M:%S"), up // 60)

    # ------------------------------------------------------------ console
    def get_console_output(self, context, instance):
        try:
            with open(os.path.join(STATE, instance.uuid, "console.log"),
                      "rb") as f:
                return f.read()[-256 * 1024:]
        except OSError:
            return b""

    # ------------------------------------------------------------ destroy
    def destroy(self, context, instance, network_info, block_device_info=None,
                destroy_disks=True, destroy_secrets=True):
        linger = _faults(instance)[3]
        if linger:
            LOG.info("testbed: delete of %s delayed %d s", instance.uuid,
                     linger)
            time.sleep(linger)
        super().destroy(context, instance, network_info, block_device_info,
                        destroy_disks, destroy_secrets)
        self._teardown(instance.uuid)

    def _teardown(self, uuid):
        ns = ns_name(uuid)
        d = os.path.join(STATE, uuid)
        # every process of the instance lives in its netns: kill them by PID
        for _ in range(50):
            out, _e = _ip("netns", "pids", ns, check=False)
            pids = [int(p) for p in out.split() if p.strip().isdigit()]
            if not pids:
                break
            for p in pids:
                try:
                    os.kill(p, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.1)
        info = self._insts.pop(uuid, {"ifaces": []})
        fip.unplumb_all(uuid)
        _ip("netns", "del", ns, check=False)
        for veth, _ifn, _br, _gw in info["ifaces"]:
            _ip("link", "del", veth, check=False)
        for vid, (u, loop, mp) in list(self._vols.items()):
            if u == uuid:
                _run("losetup", "-d", loop, check=False)
                del self._vols[vid]
        shutil.rmtree(d, ignore_errors=True)
        for p in [p for p, v in self._ports.items() if v[0] == uuid]:
            del self._ports[p]
        try:
            for p in os.listdir(fip.PORTS):
                try:
                    with open(os.path.join(fip.PORTS, p)) as f:
                        owner = f.read().split()[0]
                except (OSError, IndexError):
                    continue
                if owner == uuid:
                    fip.forget_port(p)
        except OSError:
            pass

    # ------------------------------------------------------------ volumes
    def _init_pid(self, uuid):
        """PID (host view) of the instance's pid-namespace init."""
        try:
            with open(os.path.join(STATE, uuid, "init.pid")) as f:
                upid = int(f.read().strip())
            with open("/proc/%d/task/%d/children" % (upid, upid)) as f:
                return int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def _in_instance(self, uuid, script, *args):
        pid = None
        for _ in range(100):
            pid = self._init_pid(uuid)
            # wait until the instance has pivoted into its own root
            if pid and os.path.exists("/proc/%d/root/etc/ssh/sshd_instance.conf" % pid):
                break
            time.sleep(0.2)
        if not pid:
            raise exception.NovaException("testbed: instance %s not running" % uuid)
        return _run("nsenter", "-t", str(pid), "-m", "-r", "-w",
                    "sh", "-c", script, "sh", *args)

    def attach_volume(self, context, connection_info, instance, mountpoint,
                      disk_bus=None, device_type=None, encryption=None):
        super().attach_volume(context, connection_info, instance, mountpoint,
                              disk_bus, device_type, encryption)
        data = connection_info.get("data") or {}
        path = data.get("device_path")
        vid = data.get("volume_id") or connection_info.get("serial")
        if not path or not os.path.exists(path):
            LOG.warning("testbed: volume %s has no local backing file (%s)",
                        vid, path)
            return
        out, _e = _run("losetup", "--find", "--show", path)
        loop = out.strip()
        st = os.stat(loop)
        major, minor = os.major(st.st_rdev), os.minor(st.st_rdev)
        name = os.path.basename(mountpoint)
        self._vols[vid] = (instance.uuid, loop, mountpoint)
        vd = os.path.join(STATE, instance.uuid, "vols")
        os.makedirs(vd, exist_ok=True)
        with open(os.path.join(vd, vid), "w") as f:
            f.write("%s %s\n" % (loop, mountpoint))
        try:
            self._in_instance(
                instance.uuid,
                'set -e; rm -f "$1"; mknod "$1" b "$2" "$3"; chmod 660 "$1"; '
                'chgrp disk "$1" 2>/dev/null || true; '
                'ln -sfn "/sys/devices/virtual/block/$4" "/sys/block/$5"; '
                'ln -sfn "/sys/devices/virtual/block/$4" "/sys/dev/block/$2:$3"; '
                'P=/run/testbed/partitions; [ -f $P ] && printf "%4d  %7d %10d %s\\n" '
                '"$2" "$3" "$6" "$5" >> $P; true',
                mountpoint, str(major), str(minor), os.path.basename(loop), name,
                str(os.path.getsize(path) // 1024))
        except Exception:
            _run("losetup", "-d", loop, check=False)
            self._vols.pop(vid, None)
            raise
        LOG.info("testbed: volume %s -> %s as %s in %s", vid, loop,
                 mountpoint, instance.uuid)

    def detach_volume(self, context, connection_info, instance, mountpoint,
                      encryption=None):
        super().detach_volume(context, connection_info, instance, mountpoint,
                              encryption)
        data = connection_info.get("data") or {}
        vid = data.get("volume_id") or connection_info.get("serial")
        v = self._vols.pop(vid, None)
        if not v:
            return
        uuid, loop, mp = v
        try:
            os.unlink(os.path.join(STATE, uuid, "vols", vid))
        except OSError:
            pass
        st = os.stat(loop)
        try:
            self._in_instance(
                uuid,
                'umount -l "$1" 2>/dev/null; rm -f "$1" "/sys/block/$2" '
                '"/sys/dev/block/$3"; P=/run/testbed/partitions; '
                'if [ -f $P ]; then grep -v " $2\\$" $P > $P.new; cat $P.new > $P; '
                'rm -f $P.new; fi; true', mp, os.path.basename(mp),
                "%d:%d" % (os.major(st.st_rdev), os.minor(st.st_rdev)))
        except Exception:
            LOG.exception("testbed: cleaning %s in instance %s", mp, uuid)
        _run("losetup", "-d", loop, check=False)
