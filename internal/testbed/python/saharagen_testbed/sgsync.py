"""sgsync: the testbed instances' firewalls follow Neutron's security groups.

testbed-up.sh runs it like the OpenStack services: ``python3 -m
saharagen_testbed.sgsync`` under setsid, PID file
/run/saharagen-testbed/sgsync.pid, log /var/log/saharagen-testbed/sgsync.log;
stopped by PID (SIGTERM); restarted when this file or firewall.py change.

Every second while instances exist (every 10 s while none does: then
nothing depends on the answers, and the first new instance's port record
brings a pass at once), a *fetch pass* reads as the cloud admin, across
all projects:

  1. GET /v2.0/ports?device_owner=compute:nova&fields=...
  2. GET /v2.0/security-group-rules?direction=ingress&fields=...
  (3. GET /v2.0/ports?id=...      only for recorded instance ports that
                                  list lacked: another availability zone)
  (4. GET /v2.0/address-groups   only while some rule uses an address group)

that is 2 Neutron calls per pass, on one kept-alive connection; the
Keystone token is reused until 5 minutes before it expires (one login an
hour).  The port list holds the instances' ports (Nova names their device
owner compute:<availability zone>, and every testbed host is in "nova"),
which are also the ports whose addresses make up remote groups; leaving out
router, DHCP and floating IP ports halves Neutron's work for a cluster with
floating IPs (listing ports is its most expensive read).  When neither
answer changed since the last pass, nothing else happens.  Otherwise each
instance's ruleset is rendered (firewall.render) and loaded into its
namespace only where it differs from what this process loaded last.

Between fetch passes it looks at the directory where the Nova driver
records each instance port (STATE/ports, see fip.py) ten times a second:
one stat(), no API call.  When it changed, an instance got its interfaces
(or lost them), and its ruleset is rendered at once from the last fetched
data, or after a fetch pass made right then when that data lacks one of
its ports (Nova created and bound the port before the spawn, so Neutron
has it): a new server's security groups apply before its sshd starts.
Until then the namespace has the default-deny ruleset the driver loaded
when it created it.

Failures keep the rules as they are (fail closed, never open): a fetch that
fails changes nothing; a ruleset that does not load is retried at the next
fetch pass.  When this process is not running, existing instances keep
their last rules and new ones stay default-deny.

It exits by itself when its own file disappears for 10 s: a testbed-up
from a checkout without security group enforcement replaced the installed
package, and its Nova driver no longer closes new instances, so nothing
here should go on filtering them (nor does that testbed-up know how to
stop this process).

State for people and tests: /run/saharagen-testbed/sgsync.status (JSON:
passes, API calls, loads, CPU seconds with the loading processes, last
error), rewritten after each
fetch pass; a summary line in the log every 10 minutes.
"""
import datetime
import hashlib
import http.client
import json
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.parse

from saharagen_testbed import firewall

STATE = os.environ.get("SAHARAGEN_TESTBED_INSTANCES",
                       "/var/lib/saharagen-testbed/instances")
PORTS = os.path.join(STATE, "ports")   # written by fip.record_port
NETNS = "/run/netns"
RUN = "/run/saharagen-testbed"
STATUS = os.path.join(RUN, "sgsync.status")
PIDFILE = os.path.join(RUN, "sgsync.pid")

AUTH_URL = os.environ.get("SGSYNC_AUTH_URL", "http://127.0.0.1:5000/v3")
ADMIN = os.environ.get("SGSYNC_USER", "admin")
PROJECT = os.environ.get("SGSYNC_PROJECT", "admin")
PASSWORD = os.environ.get("TESTBED_PASSWORD", "secret")

PERIOD = 1.0      # seconds between the starts of two fetch passes
IDLE_PERIOD = 10  # the same while no instance exists on this machine
MIN_IDLE = 0.25   # at least this long between two passes (slow Neutron)
TICK = 0.1        # how often the port records are looked at
SUMMARY = 600     # seconds between two summary lines in the log
ORPHANED = 10     # seconds without our installed file before we exit

INSTANCE_PORTS = "compute:nova"   # the device owner of the servers' ports
PORT_FIELDS = ("id", "device_id", "device_owner", "fixed_ips",
               "security_groups", "port_security_enabled",
               "allowed_address_pairs")
RULE_FIELDS = ("id", "security_group_id", "direction", "ethertype",
               "protocol", "port_range_min", "port_range_max",
               "remote_ip_prefix", "remote_group_id",
               "remote_address_group_id")

LOG = logging.getLogger("sgsync")


class APIError(Exception):
    pass


class Neutron:
    """Just enough of Keystone and Neutron, with counted calls.

    Plain http.client rather than openstacksdk: a pass is two GETs, and
    the SDK would cost more CPU per pass than everything else here.
    """

    def __init__(self):
        self.token = None
        self.expires = 0.0
        self.base = None      # (host, port, path prefix) of Neutron
        self.conn = None
        self.calls = 0        # Neutron requests
        self.logins = 0       # Keystone token requests

    def _login(self):
        u = urllib.parse.urlsplit(AUTH_URL)
        body = {"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": ADMIN, "domain": {"name": "Default"},
                "password": PASSWORD}}},
            "scope": {"project": {"name": PROJECT,
                                  "domain": {"name": "Default"}}}}}
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=15)
        try:
            self.logins += 1
            conn.request("POST", u.path.rstrip("/") + "/auth/tokens",
                         json.dumps(body),
                         {"Content-Type": "application/json"})
            r = conn.getresponse()
            data = r.read()
            if r.status != 201:
                raise APIError("keystone login: HTTP %d %s"
                               % (r.status, data[:200]))
            token = r.getheader("X-Subject-Token")
        finally:
            conn.close()
        tok = json.loads(data)["token"]
        exp = datetime.datetime.strptime(tok["expires_at"][:19],
                                         "%Y-%m-%dT%H:%M:%S")
        self.expires = exp.replace(tzinfo=datetime.timezone.utc).timestamp()
        for svc in tok.get("catalog", []):
            if svc["type"] != "network":
                continue
            for ep in svc["endpoints"]:
                if ep["interface"] == "public":
                    n = urllib.parse.urlsplit(ep["url"])
                    base = (n.hostname, n.port or 80, n.path.rstrip("/"))
                    if base != self.base:
                        self._close()
                        self.base = base
                    self.token = token
                    return
        raise APIError("no public network endpoint in the catalog")

    def _close(self):
        if self.conn:
            self.conn.close()
            self.conn = None

    def get(self, path):
        """GET a Neutron path, returning the body (bytes)."""
        for attempt in (1, 2):
            if not self.token or time.time() > self.expires - 300:
                self._login()
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.base[0],
                                                       self.base[1],
                                                       timeout=15)
            try:
                self.calls += 1
                self.conn.request("GET", self.base[2] + path,
                                  headers={"X-Auth-Token": self.token,
                                           "Accept": "application/json"})
                r = self.conn.getresponse()
                data = r.read()
            except (OSError, http.client.HTTPException):
                # Neutron closed the kept-alive connection (idle timeout,
                # restart): a GET is safe to send once more
                self._close()
                if attempt == 2:
                    raise
                continue
            if r.status == 401 and attempt == 1:
                self.token = None  # revoked or expired early: log in again
                continue
            if r.status != 200:
                raise APIError("GET %s: HTTP %d %s"
                               % (path.split("?")[0], r.status, data[:200]))
            return data
        raise APIError("GET %s: unauthorized twice" % path.split("?")[0])

    def list(self, resource, fields, **filters):
        """All items of a collection (following pagination links, which a
        default Neutron never sends) and the raw bodies."""
        q = [("fields", f) for f in fields]
        for k, v in sorted(filters.items()):
            q += [(k, x) for x in v] if isinstance(v, (list, tuple)) \
                else [(k, v)]
        path = "/v2.0/%s?%s" % (resource, urllib.parse.urlencode(q))
        key = resource.replace("-", "_")
        items, raws = [], []
        while path:
            raw = self.get(path)
            raws.append(raw)
            doc = json.loads(raw)
            items += doc[key]
            path = None
            for link in doc.get(key + "_links") or []:
                if link.get("rel") == "next":
                    n = urllib.parse.urlsplit(link["href"])
                    path = n.path[len(self.base[2]):] + "?" + n.query
        return items, raws


def instance_records():
    """uuid -> {port id: ifname} from the Nova driver's port records, for
    the instances whose namespace exists."""
    out = {}
    try:
        names = os.listdir(PORTS)
    except OSError:
        return out
    for port in names:
        if port.endswith(".tmp"):
            continue
        try:
            with open(os.path.join(PORTS, port)) as f:
                uuid, ifname = f.read().split()[:2]
        except (OSError, ValueError):
            continue
        if os.path.exists(os.path.join(NETNS, "sgtb-" + uuid)):
            out.setdefault(uuid, {})[port] = ifname
    return out


def records_signature():
    """Changes whenever a port record is added or removed (the driver
    writes each with a rename in that directory)."""
    try:
        st = os.stat(PORTS)
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns)


def _cpu():
    """CPU seconds of this process and of the ip/iptables-restore processes
    it ran (most of the cost of a load is theirs)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _rules(text):
    return {ln for ln in text.splitlines() if ln.startswith("-A port-")}


class Sync:

    def __init__(self):
        self.api = Neutron()
        self.data = None          # (ports, rules, address groups) last fetched
        self.digest = None        # of the raw answers behind self.data
        self.loaded = {}          # (namespace, family) -> ruleset text loaded
        self.failed = set()       # namespaces whose last load failed
        self.stop = False
        self.passes = self.loads = self.load_errors = self.fetch_errors = 0
        self.last_fetch = 0.0
        self.last_fetch_ms = 0.0
        self.last_error = ""
        self.logged_error = ("", 0.0)
        self.started = time.time()

    def fetch(self):
        """One fetch pass; True when the answers differ from the last."""
        ports, raw_p = self.api.list("ports", PORT_FIELDS,
                                     device_owner=INSTANCE_PORTS)
        rules, raw_r = self.api.list("security-group-rules", RULE_FIELDS,
                                     direction="ingress")
        raws = raw_p + raw_r
        have = {p["id"] for p in ports}
        recorded = {port for ifaces in instance_records().values()
                    for port in ifaces}
        missing = sorted(recorded - have)
        if missing:  # servers in another availability zone: ask by ID
            extra, raw_x = self.api.list("ports", PORT_FIELDS, id=missing)
            ports += extra
            raws += raw_x
        ags = {}
        if any(r.get("remote_address_group_id") for r in rules):
            groups, raw_a = self.api.list("address-groups",
                                          ("id", "addresses"))
            ags = {g["id"]: g.get("addresses") or [] for g in groups}
            raws += raw_a
        h = hashlib.sha256()
        for raw in raws:
            h.update(raw)
        digest = h.digest()
        changed = digest != self.digest
        self.data, self.digest = (ports, rules, ags), digest
        return changed

    def render_pass(self):
        """Render every local instance; load what changed."""
        if self.data is None:
            return  # nothing fetched yet: the namespaces stay default-deny
        ports, rules, ags = self.data
        records = instance_records()
        rulesets = firewall.render_instances(records, ports, rules, ags)
        failed = set()
        for uuid, rs in rulesets.items():
            ns = "sgtb-" + uuid
            for family, text in rs.items():
                old = self.loaded.get((ns, family))
                if old == text:
                    continue
                t0 = time.monotonic()
                try:
                    firewall.apply(ns, family, text)
                except (subprocess.SubprocessError, OSError) as e:
                    if not os.path.exists(os.path.join(NETNS, ns)):
                        break  # the instance was just deleted
                    failed.add(ns)
                    self.load_errors += 1
                    err = getattr(e, "stderr", "") or str(e)
                    LOG.error("%s %s: loading the ruleset failed: %s",
                              ns, family, err.strip())
                    self.last_error = "%s %s: %s" % (ns, family, err.strip())
                    continue
                self.loaded[(ns, family)] = text
                self.loads += 1
                new = _rules(text)
                was = _rules(old) if old is not None else set()
                LOG.info("%s %s: %d rules loaded (+%d -%d) in %.0f ms%s",
                         ns, family, len(new), len(new - was),
                         len(was - new), (time.monotonic() - t0) * 1000,
                         "" if old is not None else " (first load)")
        self.failed = failed
        live = {"sgtb-" + u for u in rulesets}
        for key in [k for k in self.loaded if k[0] not in live]:
            del self.loaded[key]  # the instance is gone

    def write_status(self):
        st = {"pid": os.getpid(), "started": self.started,
              "last_fetch": self.last_fetch,
              "last_fetch_ms": round(self.last_fetch_ms, 1),
              "passes": self.passes, "api_calls": self.api.calls,
              "logins": self.api.logins, "loads": self.loads,
              "load_errors": self.load_errors,
              "fetch_errors": self.fetch_errors,
              "last_error": self.last_error,
              "instances": len({k[0] for k in self.loaded}),
              "cpu_seconds": round(_cpu(), 2)}
        tmp = STATUS + ".tmp"
        with open(tmp, "w") as f:
            json.dump(st, f)
        os.replace(tmp, STATUS)

    def _log_fetch_error(self, e):
        # the same error every second (Neutron restarting) is logged once
        # a minute, a new one at once
        msg = str(e) or e.__class__.__name__
        last, when = self.logged_error
        if msg != last or time.time() - when > 60:
            LOG.warning("fetch failed (rules unchanged): %s", msg)
            self.logged_error = (msg, time.time())

    def run(self):
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        LOG.info("sgsync started: 2 Neutron calls per pass, every %.0f s "
                 "while instances exist, every %.0f s without", PERIOD,
                 IDLE_PERIOD)
        next_fetch = last_end = 0.0
        records = object()
        here = False  # any instance on this machine?
        next_summary = time.monotonic() + SUMMARY
        missing_since = None
        while not self.stop:
            now = time.monotonic()
            dirty = fetched = False
            sig = records_signature()
            if sig != records:
                # taken before reading the records: a change made while
                # rendering is seen at the next tick
                records, dirty = sig, True
                recorded = instance_records()
                here = bool(recorded)
                if self._unknown(recorded):
                    # a port the last answers lack (the first instance
                    # after an idle spell): ask Neutron now rather than
                    # leave it closed until the next pass
                    next_fetch = min(next_fetch, max(now, last_end + MIN_IDLE))
            if now >= next_fetch:
                fetched = True
                self.passes += 1
                try:
                    dirty = self.fetch() or bool(self.failed) or dirty
                    self.last_fetch = time.time()
                except Exception as e:  # keep the rules, try again
                    self.fetch_errors += 1
                    self.last_error = "fetch: %s" % e
                    self._log_fetch_error(e)
                last_end = time.monotonic()
                self.last_fetch_ms = (last_end - now) * 1000
                next_fetch = max(now + (PERIOD if here else IDLE_PERIOD),
                                 last_end + MIN_IDLE)
            if dirty:
                self.render_pass()
            if fetched:
                try:
                    self.write_status()
                except OSError:
                    pass
                if os.path.exists(__file__):
                    missing_since = None
                elif missing_since is None:
                    missing_since = now  # testbed-up copying the package?
                elif now - missing_since > ORPHANED:
                    LOG.warning("%s is gone: the installed testbed package "
                                "does not enforce security groups; exiting",
                                __file__)
                    self._drop_pidfile()
                    break
            if now >= next_summary:
                next_summary = now + SUMMARY
                LOG.info("summary: %d passes, %d Neutron calls, %d logins, "
                         "%d loads (%d failed), %d fetch errors, %.1f s CPU",
                         self.passes, self.api.calls, self.api.logins,
                         self.loads, self.load_errors, self.fetch_errors,
                         _cpu())
            time.sleep(TICK)
        LOG.info("sgsync stopped (rules stay as loaded)")

    def _unknown(self, recorded):
        """Whether some recorded instance port is not in the last answers."""
        if self.data is None:
            return True
        have = {p["id"] for p in self.data[0]}
        return any(port not in have
                   for ifaces in recorded.values() for port in ifaces)

    def _stop(self, *_):
        self.stop = True

    @staticmethod
    def _drop_pidfile():
        # only if it names this process (testbed-up may have started another)
        try:
            with open(PIDFILE) as f:
                if int(f.read().strip()) == os.getpid():
                    os.unlink(PIDFILE)
        except (OSError, ValueError):
            pass


def main():
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    os.makedirs(RUN, exist_ok=True)
    Sync().run()


if __name__ == "__main__":
    main()
