# Swift configs + rings (sourced by testbed-up.sh).  Single replica on a local
# directory, workers = 0, Keystone auth.  Rings are built once.
SWIFT_DEV=${SWIFT_DEVICE_ROOT:-/srv/node}
mkdir -p "$SWIFT_DEV/d1" /var/cache/swift /etc/swift
chown -R swift:swift "$SWIFT_DEV" /var/cache/swift
cat >/etc/swift/swift.conf <<EOF2
[swift-hash]
swift_hash_path_suffix = saharagen-testbed-suffix
swift_hash_path_prefix = saharagen-testbed-prefix

[storage-policy:0]
name = Policy-0
default = yes

[swift-constraints]
EOF2
swift_backend_conf() {  # type port
cat <<EOF2
[DEFAULT]
bind_ip = $IP
bind_port = $2
workers = 0
user = swift
swift_dir = /etc/swift
devices = $SWIFT_DEV
mount_check = false
log_name = swift-$1
log_level = INFO

[pipeline:main]
pipeline = healthcheck recon $1-server

[app:$1-server]
use = egg:swift#$1

[filter:healthcheck]
use = egg:swift#healthcheck

[filter:recon]
use = egg:swift#recon
recon_cache_path = /var/cache/swift

[$1-replicator]
[$1-auditor]
[$1-updater]
EOF2
}
swift_backend_conf account 6202 >/etc/swift/account-server.conf
swift_backend_conf container 6201 >/etc/swift/container-server.conf
printf '[container-sync]\n' >>/etc/swift/container-server.conf
swift_backend_conf object 6200 >/etc/swift/object-server.conf
cat >/etc/swift/proxy-server.conf <<EOF2
[DEFAULT]
bind_ip = $IP
bind_port = 8080
workers = 0
user = swift
swift_dir = /etc/swift
log_name = swift-proxy
log_level = INFO

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk tempurl ratelimit authtoken keystoneauth copy container-quotas account-quotas slo dlo versioned_writes symlink proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true

[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory
www_authenticate_uri = $KS
auth_url = $KS
auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = service
username = swift
password = $PASS
region_name = $REGION
service_token_roles_required = true
delay_auth_decision = True
cache = swift.cache
include_service_catalog = False

[filter:keystoneauth]
use = egg:swift#keystoneauth
operator_roles = admin,member
reseller_admin_role = ResellerAdmin

[filter:cache]
use = egg:swift#memcache
memcache_servers = $IP:11211

[filter:catch_errors]
use = egg:swift#catch_errors
[filter:gatekeeper]
use = egg:swift#gatekeeper
[filter:healthcheck]
use = egg:swift#healthcheck
[filter:proxy-logging]
use = egg:swift#proxy_logging
[filter:listing_formats]
use = egg:swift#listing_formats
[filter:bulk]
use = egg:swift#bulk
[filter:tempurl]
use = egg:swift#tempurl
allowed_digests = sha256 sha512
[filter:ratelimit]
use = egg:swift#ratelimit
[filter:copy]
use = egg:swift#copy
[filter:container-quotas]
use = egg:swift#container_quotas
[filter:account-quotas]
use = egg:swift#account_quotas
[filter:slo]
use = egg:swift#slo
[filter:dlo]
use = egg:swift#dlo
[filter:versioned_writes]
use = egg:swift#versioned_writes
allow_versioned_writes = true
[filter:symlink]
use = egg:swift#symlink
EOF2
chown root:swift /etc/swift/*.conf; chmod 640 /etc/swift/*.conf
# rings: one python process instead of 9 swift-ring-builder calls
$PY - "$IP" <<'PYEOF' >>"$LOG/swift-rings.log" 2>&1
import os, sys
from swift.common.ring import RingBuilder
ip = sys.argv[1]
for name, port in (("account", 6202), ("container", 6201), ("object", 6200)):
    if os.path.exists("/etc/swift/%s.ring.gz" % name):
        continue
    b = RingBuilder(8, 1, 1)
    b.add_dev({"id": 0, "region": 1, "zone": 1, "ip": ip, "port": port, "device": "d1",
               "weight": 100, "meta": "", "replication_ip": ip, "replication_port": port})
    b.rebalance()
    b.save("/etc/swift/%s.builder" % name)
    b.get_ring().save("/etc/swift/%s.ring.gz" % name)
    os.chmod("/etc/swift/%s.ring.gz" % name, 0o644)
PYEOF
