#!/bin/bash
# testbed-up.sh: bring up the saharagen testbed (a single-node OpenStack Zed
# from Debian bookworm packages whose servers are SSH-reachable, isolated
# instances).  Idempotent and re-runnable: installs missing packages, writes
# configs, starts whatever is not running (plain setsid'd processes, PID files
# in /run/saharagen-testbed), bootstraps the cloud and writes <repo>/.testbed/.
#
#   internal/testbed/scripts/testbed-up.sh        (= make testbed-up)
#   NUM_COMPUTE=5        fake compute hosts (anti-affinity groups need >= size)
#   SKIP_INSTALL=1       do not look at packages at all
set -euo pipefail
. "$(dirname "$0")/lib.sh"
DB="mysql+pymysql://os:${PASS}@${IP}/"
MQ="rabbit://openstack:${PASS}@${IP}:5672/"
[ "$(id -u)" = 0 ] || { echo "testbed-up: must run as root"; exit 1; }
exec 9>"$RUN/up.lck"; flock 9           # one testbed-up at a time (fd 9 is closed for the daemons)

# ---------------------------------------------------------------- packages
PKGS="mariadb-server rabbitmq-server python3-pymysql keystone python3-openstackclient
      glance-api placement-api nova-api nova-conductor nova-scheduler python3-nova
      neutron-server cinder-api cinder-scheduler cinder-volume uwsgi-plugin-python3
      swift swift-proxy swift-account swift-container swift-object python3-keystonemiddleware
      memcached openssh-server openssh-client openssh-sftp-server xfsprogs e2fsprogs iproute2
      util-linux sudo curl bc python3-distributed iptables heat-api heat-engine"
if [ "${SKIP_INSTALL:-0}" != 1 ]; then
  MISSING=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' $PKGS 2>/dev/null | awk '$2=="ii"{print $1}' | sort >"$RUN/have.txt"; \
            for p in $PKGS; do grep -qx "$p" "$RUN/have.txt" || echo "$p"; done)
  if [ -n "$MISSING" ]; then
    step "installing packages: $(echo $MISSING)"
    # debconf: no package may touch databases, rabbit or keystone
    for t in keystone/configure_db keystone/create-admin-tenant keystone/register-endpoint; do
      echo "keystone $t boolean false"; done | debconf-set-selections
    echo "nova-api novaapi/configure_db boolean false" | debconf-set-selections
    for p in glance placement nova neutron cinder heat; do
      for q in configure_db configure_rabbit configure_ksat ksat-create-service-user \
               configure_api-endpoint configure_neutron configure_placement configure_nova \
               configure_with_debconf; do echo "$p-common $p/$q boolean false"; done
    done | debconf-set-selections
    # no postinst may start a daemon (docker-style images already have this)
    if [ ! -x /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; fi
    if ! ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1; then apt-get update >>"$LOG/apt.log" 2>&1; fi
    if ! apt-get -o DPkg::Lock::Timeout=900 install -y --no-install-recommends $MISSING >>"$LOG/apt.log" 2>&1; then
      apt-get update >>"$LOG/apt.log" 2>&1
      apt-get -o DPkg::Lock::Timeout=900 install -y --no-install-recommends $MISSING >>"$LOG/apt.log" 2>&1 \
        || { echo "apt-get install failed, see $LOG/apt.log"; tail -n 20 "$LOG/apt.log"; exit 1; }
    fi
  fi
fi

# ---------------------------------------------------------------- our drivers + helpers
step "installing testbed drivers"
# drivers changed since the services started? then restart the processes that load them
# (sgsync.py is the security group daemon's alone; firewall.py is shared by it and the Nova driver)
NEWSUM=$({ for f in "$TB_SRC"/python/saharagen_testbed/*.py; do [ "${f##*/}" = sgsync.py ] || cat "$f"; done
          cat "$TB_SRC"/python/saharagen-testbed-nova-compute "$TB_SCRIPTS/instance-init.sh"; } | sha256sum | cut -c1-16)
if [ -f "$RUN/drivers.sum" ] && [ "$(cat "$RUN/drivers.sum")" != "$NEWSUM" ]; then
  echo "  drivers changed: restarting nova-compute-*, cinder-volume, neutron-server (running instances are adopted by the new nova-computes)"
  for f in "$RUN"/nova-compute-*.pid; do [ -f "$f" ] && stop "$(basename "$f" .pid)" & done
  stop cinder-volume & stop neutron-server & wait
fi
echo "$NEWSUM" >"$RUN/drivers.sum"
SGSUM=$(cat "$TB_SRC"/python/saharagen_testbed/{sgsync,firewall}.py | sha256sum | cut -c1-16)
if [ -f "$RUN/sgsync.sum" ] && [ "$(cat "$RUN/sgsync.sum")" != "$SGSUM" ]; then
  echo "  sgsync changed: restarting it (instances keep their rules meanwhile)"
  stop sgsync
fi
echo "$SGSUM" >"$RUN/sgsync.sum"
mkdir -p "$SITE" "$LIBEXEC" "$STATE/volumes" "$STATE/instances" /var/lib/glance/images /var/lib/nova/tmp \
         /var/lib/neutron/tmp /var/lib/cinder/tmp /var/lib/glance/tmp
rm -rf "$SITE/saharagen_testbed" "$SITE/saharagen_testbed-0.1.dist-info"
cp -r "$TB_SRC/python/saharagen_testbed" "$TB_SRC/python/saharagen_testbed-0.1.dist-info" "$SITE/"
install -m 755 "$TB_SRC/python/saharagen-testbed-nova-compute" "$LIBEXEC/nova-compute"
install -m 755 "$TB_SCRIPTS/instance-init.sh" "$LIBEXEC/instance-init.sh"
# the image user of the testbed images; '*' (not '!') so sshd without PAM accepts keys
id ubuntu >/dev/null 2>&1 || useradd -m -s /bin/bash ubuntu
usermod -p '*' ubuntu
# instance overlay upper dirs must live on tmpfs (not on the lower fs)
# (not mounted = after testbed-down or a reboot: servers still in Nova's DB are ghosts, deleted below)
CLEAN_GHOSTS=0
if ! mountpoint -q "$STATE/instances"; then
  mount -t tmpfs -o "size=$INSTANCES_TMPFS_SIZE,mode=700" sgtb-instances "$STATE/instances"
  CLEAN_GHOSTS=1
fi
modprobe loop 2>/dev/null || true

# ---------------------------------------------------------------- MariaDB
step "mariadb"
mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
cat >/etc/mysql/mariadb.conf.d/99-saharagen-testbed.cnf <<EOF
[mysqld]
bind-address = $IP
max_connections = 1000
innodb_buffer_pool_size = 256M
innodb_flush_log_at_trx_commit = 0
innodb_doublewrite = 0
sync_binlog = 0
skip-name-resolve
character-set-server = utf8mb4
collation-server = utf8mb4_general_ci
EOF
start mariadb /usr/sbin/mariadbd --user=mysql
# epmd under our own PID (rabbitmq would otherwise spawn an untracked one)
start epmd /usr/bin/epmd -address $IP
for _ in $(seq 300); do mysqladmin ping >/dev/null 2>&1 && break; sleep 0.2; done
mysql <<EOF
CREATE USER IF NOT EXISTS 'os'@'127.0.0.1' IDENTIFIED BY '$PASS';
CREATE USER IF NOT EXISTS 'os'@'localhost' IDENTIFIED BY '$PASS';
EOF
for d in keystone glance placement nova_api nova nova_cell0 neutron cinder heat; do
  mysql -e "CREATE DATABASE IF NOT EXISTS $d; GRANT ALL ON $d.* TO 'os'@'127.0.0.1'; GRANT ALL ON $d.* TO 'os'@'localhost';"
done

# ---------------------------------------------------------------- RabbitMQ
step "rabbitmq"
cat >/etc/rabbitmq/rabbitmq-env.conf <<EOF
NODENAME=rabbit@localhost
NODE_IP_ADDRESS=$IP
NODE_PORT=5672
EOF
cat >/etc/rabbitmq/rabbitmq.conf <<EOF
listeners.tcp.default = $IP:5672
distribution.listener.interface = $IP
loopback_users = none
EOF
export ERL_EPMD_ADDRESS=$IP
running rabbitmq || rm -f "$RUN/rabbit-user.done"
start rabbitmq /usr/sbin/rabbitmq-server
start memcached /usr/bin/memcached -u memcache -l $IP -p 11211 -m 64 -c 1024

# ---------------------------------------------------------------- Keystone
step "keystone"
cat >/etc/keystone/keystone.conf <<EOF
[DEFAULT]
log_dir = $LOG
[database]
connection = ${DB}keystone
[token]
provider = fernet
EOF
cat >/etc/keystone/saharagen-testbed-uwsgi.ini <<EOF
[uwsgi]
plugins = python3
http-socket = $IP:5000
wsgi-file = /usr/bin/keystone-wsgi-public
master = true
processes = 2
threads = 4
lazy-apps = true
die-on-term = true
enable-threads = true
buffer-size = 65535
add-header = Connection: close
EOF
SYNCED=$STATE/dbsync.done
if [ ! -f "$SYNCED" ] || ! running keystone; then
  keystone-manage db_sync >"$LOG/dbsync-keystone.log" 2>&1
fi
[ -d /etc/keystone/fernet-keys ] || keystone-manage fernet_setup --keystone-user root --keystone-group root >>"$LOG/keystone-manage.log" 2>&1
[ -d /etc/keystone/credential-keys ] || keystone-manage credential_setup --keystone-user root --keystone-group root >>"$LOG/keystone-manage.log" 2>&1
if [ ! -f "$SYNCED" ]; then
  keystone-manage bootstrap --bootstrap-password "$PASS" \
    --bootstrap-admin-url $KS/v3/ --bootstrap-internal-url $KS/v3/ \
    --bootstrap-public-url $KS/v3/ --bootstrap-region-id $REGION >"$LOG/keystone-bootstrap.log" 2>&1
fi
start keystone /usr/bin/uwsgi_python311 --ini /etc/keystone/saharagen-testbed-uwsgi.ini

# ------------------------------------------- all other configs (while keystone starts)
step "writing configs"
authtoken() {
cat <<EOF
[keystone_authtoken]
www_authenticate_uri = $KS
auth_url = $KS
auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = service
username = $1
password = $PASS
region_name = $REGION
service_token_roles_required = true
memcached_servers = $IP:11211
EOF
}
svc_creds() {
cat <<EOF
[$1]
auth_url = $KS
auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = service
username = $2
password = $PASS
region_name = $REGION
EOF
}
cat >/etc/glance/glance-api.conf <<EOF
[DEFAULT]
bind_host = $IP
bind_port = 9292
workers = 1
log_file = $LOG/glance-api.log
enabled_backends = fs:file
[database]
connection = ${DB}glance
$(authtoken glance)
[paste_deploy]
flavor = keystone
[glance_store]
default_backend = fs
[fs]
filesystem_store_datadir = /var/lib/glance/images/
[oslo_concurrency]
lock_path = /var/lib/glance/tmp
EOF
cat >/etc/placement/placement.conf <<EOF
[api]
auth_strategy = keystone
[placement_database]
connection = ${DB}placement
$(authtoken placement)
EOF
cat >/etc/placement/saharagen-testbed-uwsgi.ini <<EOF
[uwsgi]
plugins = python3
http-socket = $IP:8778
wsgi-file = /usr/bin/placement-api
master = true
processes = 1
threads = 8
lazy-apps = true
die-on-term = true
enable-threads = true
buffer-size = 65535
add-header = Connection: close
EOF
cat >/etc/nova/nova.conf <<EOF
[DEFAULT]
my_ip = $IP
state_path = /var/lib/nova
transport_url = $MQ
compute_driver = saharagen_testbed.TestbedDriver
enabled_apis = osapi_compute
osapi_compute_listen = $IP
osapi_compute_workers = 2
metadata_workers = 1
log_dir = $LOG
# no real VIF plugging: never wait for neutron events
vif_plugging_is_fatal = false
vif_plugging_timeout = 0
cpu_allocation_ratio = 16.0
ram_allocation_ratio = 4.0
max_concurrent_builds = 20
[api]
auth_strategy = keystone
[api_database]
connection = ${DB}nova_api
[database]
connection = ${DB}nova
$(authtoken nova)
$(svc_creds placement placement)
$(svc_creds neutron neutron)
$(svc_creds cinder nova)
os_region_name = $REGION
$(svc_creds service_user nova)
send_service_user_token = true
[glance]
region_name = $REGION
[conductor]
workers = 1
[scheduler]
workers = 1
discover_hosts_in_cells_interval = 5
[filter_scheduler]
enabled_filters = ComputeFilter,ComputeCapabilitiesFilter,ImagePropertiesFilter,ServerGroupAntiAffinityFilter,ServerGroupAffinityFilter,AvailabilityZoneFilter
[vnc]
enabled = false
[oslo_concurrency]
lock_path = /var/lib/nova/tmp
[oslo_messaging_notifications]
driver = noop
[wsgi]
api_paste_config = /etc/nova/api-paste.ini
EOF
cat >/etc/neutron/neutron.conf <<EOF
[DEFAULT]
core_plugin = ml2
service_plugins = router
auth_strategy = keystone
transport_url = $MQ
bind_host = $IP
bind_port = 9696
api_workers = 2
rpc_workers = 0
rpc_state_report_workers = 0
allow_overlapping_ips = true
dhcp_agent_notification = false
notify_nova_on_port_status_changes = true
notify_nova_on_port_data_changes = true
log_dir = $LOG
[database]
connection = ${DB}neutron
$(authtoken neutron)
$(svc_creds nova nova)
[oslo_concurrency]
lock_path = /var/lib/neutron/tmp
[oslo_messaging_notifications]
driver = noop
EOF
cat >/etc/neutron/plugins/ml2/ml2_conf.ini <<EOF
[ml2]
type_drivers = flat,vlan,vxlan
tenant_network_types = vxlan
mechanism_drivers = fakebind
extension_drivers = port_security
[ml2_type_flat]
flat_networks = *
[ml2_type_vlan]
network_vlan_ranges = public
[ml2_type_vxlan]
vni_ranges = 1:10000
[securitygroup]
enable_security_group = true
EOF
cat >/etc/cinder/cinder.conf <<EOF
[DEFAULT]
my_ip = $IP
transport_url = $MQ
auth_strategy = keystone
osapi_volume_listen = $IP
osapi_volume_workers = 1
enabled_backends = testbed
default_volume_type = __DEFAULT__
state_path = /var/lib/cinder
log_dir = $LOG
[database]
connection = ${DB}cinder
$(authtoken cinder)
$(svc_creds nova nova)
[testbed]
volume_driver = saharagen_testbed.cinder.SparseFileDriver
volume_backend_name = testbed
[oslo_concurrency]
lock_path = /var/lib/cinder/tmp
[oslo_messaging_notifications]
driver = noop
EOF
. "$TB_SCRIPTS/swift-conf.sh"
# Heat: a stack is created with the user's token; later operations on it
# (updates, deletes) run as the heat user, trustee of a trust the user gave
# at create. The trustee's token is trust-scoped, so this section names no
# project: with project_name set as well keystoneauth refuses to scope to
# both ("Authentication cannot be scoped to multiple targets") and every
# stack update fails. The heat user has its roles in the service project.
cat >/etc/heat/heat.conf <<EOF
[DEFAULT]
transport_url = $MQ
num_engine_workers = 1
heat_metadata_server_url = http://$IP:8000
heat_waitcondition_server_url = http://$IP:8000/v1/waitcondition
stack_domain_admin = heat_domain_admin
stack_domain_admin_password = $PASS
stack_user_domain_name = heat
log_dir = $LOG
region_name_for_services = $REGION
[heat_api]
bind_host = $IP
workers = 1
[database]
connection = ${DB}heat
$(authtoken heat)
[trustee]
auth_url = $KS
auth_type = password
user_domain_name = Default
username = heat
password = $PASS
[clients_keystone]
auth_uri = $KS
[oslo_messaging_notifications]
driver = noop
EOF

# configs changed since the services started? restart the OpenStack services
CONFSUM=$(cat /etc/keystone/keystone.conf /etc/keystone/saharagen-testbed-uwsgi.ini /etc/glance/glance-api.conf \
  /etc/placement/placement.conf /etc/placement/saharagen-testbed-uwsgi.ini /etc/nova/nova.conf /etc/neutron/neutron.conf \
  /etc/neutron/plugins/ml2/ml2_conf.ini /etc/cinder/cinder.conf /etc/swift/*.conf | sha256sum | cut -c1-16)
if [ -f "$RUN/config.sum" ] && [ "$(cat "$RUN/config.sum")" != "$CONFSUM" ]; then
  echo "  configs changed: restarting the OpenStack services (running instances are adopted by the new nova-computes)"
  for f in "$RUN"/nova-compute-*.pid; do [ -f "$f" ] && stop "$(basename "$f" .pid)" & done
  for n in $SERVICES_OS; do stop "$n" & done; wait
fi
echo "$CONFSUM" >"$RUN/config.sum"
# Heat has its own sum: added to a running testbed, it restarts nothing else
HEATSUM=$(sha256sum </etc/heat/heat.conf | cut -c1-16)
if [ -f "$RUN/heat.sum" ] && [ "$(cat "$RUN/heat.sum")" != "$HEATSUM" ]; then
  echo "  heat.conf changed: restarting heat-api, heat-engine"
  stop heat-engine & stop heat-api & wait
fi
echo "$HEATSUM" >"$RUN/heat.sum"
HEAT_SYNCED=$STATE/heat-dbsync.done
HEAT_SYNC=
if [ ! -f "$HEAT_SYNCED" ]; then  # in the background, beside the other syncs
  ( heat-manage --config-file /etc/heat/heat.conf db_sync >"$LOG/dbsync-heat.log" 2>&1 ) & HEAT_SYNC=$!
fi

# ------------------------------------------------- DB schemas (parallel, once)
if [ ! -f "$SYNCED" ]; then
  step "db syncs"
  SYNC=()
  ( glance-manage db_sync >"$LOG/dbsync-glance.log" 2>&1 ) & SYNC+=($!)
  ( placement-manage db sync >"$LOG/dbsync-placement.log" 2>&1 ) & SYNC+=($!)
  ( neutron-db-manage --config-file /etc/neutron/neutron.conf \
      --config-file /etc/neutron/plugins/ml2/ml2_conf.ini upgrade heads >"$LOG/dbsync-neutron.log" 2>&1 ) & SYNC+=($!)
  ( cinder-manage db sync >"$LOG/dbsync-cinder.log" 2>&1 ) & SYNC+=($!)
  ( nova-manage api_db sync && nova-manage cell_v2 map_cell0 &&
    (nova-manage cell_v2 list_cells | grep -q ' cell1 ' || nova-manage cell_v2 create_cell --name=cell1) &&
    nova-manage db sync ) >"$LOG/dbsync-nova.log" 2>&1 & SYNC+=($!)
  FAIL=0; for j in "${SYNC[@]}"; do wait "$j" || FAIL=1; done
  [ $FAIL = 0 ] || { echo "a db sync failed, see $LOG/dbsync-*.log"; tail -n 5 "$LOG"/dbsync-*.log; exit 1; }
fi

# ------------------------------------------------- rabbit user (rabbit started long ago)
wait_port 5672 180
if [ ! -f "$RUN/rabbit-user.done" ]; then
  rabbitmqctl -n rabbit@localhost await_startup >/dev/null
  rabbitmqctl -n rabbit@localhost add_user openstack "$PASS" >/dev/null 2>&1 || true
  rabbitmqctl -n rabbit@localhost set_permissions openstack '.*' '.*' '.*' >/dev/null
  touch "$RUN/rabbit-user.done"
fi

# ------------------------------------------------- keystone catalog, users
wait_http $KS/v3 120
if [ ! -f "$SYNCED" ] || [ "${FORCE_BOOTSTRAP:-0}" = 1 ]; then
  step "keystone: service users, catalog, project"
  TESTBED_PASSWORD=$PASS $PY "$TB_SRC/python/bootstrap.py" keystone
  touch "$SYNCED"
fi
HEAT_KS=
if [ ! -f "$STATE/heat-keystone.done" ] || [ "${FORCE_BOOTSTRAP:-0}" = 1 ]; then
  step "keystone: heat (orchestration endpoints, stack domain, roles), in the background"
  ( TESTBED_PASSWORD=$PASS $PY "$TB_SRC/python/bootstrap.py" heat >"$LOG/keystone-heat.log" 2>&1 ) & HEAT_KS=$!
fi

# ------------------------------------------------- start the services
step "starting services"
start placement /usr/bin/uwsgi_python311 --ini /etc/placement/saharagen-testbed-uwsgi.ini
start glance-api /usr/bin/glance-api --config-file /etc/glance/glance-api.conf
start neutron-server /usr/bin/neutron-server --config-file /etc/neutron/neutron.conf \
      --config-file /etc/neutron/plugins/ml2/ml2_conf.ini --log-file "$LOG/neutron-server.log"
start nova-api /usr/bin/nova-api --config-file /etc/nova/nova.conf --log-file "$LOG/nova-api.log"
start nova-conductor /usr/bin/nova-conductor --config-file /etc/nova/nova.conf --log-file "$LOG/nova-conductor.log"
start nova-scheduler /usr/bin/nova-scheduler --config-file /etc/nova/nova.conf --log-file "$LOG/nova-scheduler.log"
for i in $(seq 1 "$NUM_COMPUTE"); do
  printf '[DEFAULT]\nhost = testbed-%s\n' "$i" >/etc/nova/nova-compute-$i.conf
  start nova-compute-$i "$LIBEXEC/nova-compute" --config-file /etc/nova/nova.conf \
        --config-file /etc/nova/nova-compute-$i.conf --log-file "$LOG/nova-compute-$i.log"
done
start cinder-api /usr/bin/cinder-api --config-file /etc/cinder/cinder.conf --log-file "$LOG/cinder-api.log"
start cinder-scheduler /usr/bin/cinder-scheduler --config-file /etc/cinder/cinder.conf --log-file "$LOG/cinder-scheduler.log"
start cinder-volume /usr/bin/cinder-volume --config-file /etc/cinder/cinder.conf --log-file "$LOG/cinder-volume.log"
AS_SWIFT="setpriv --reuid=swift --regid=swift --init-groups"
if [ -n "$HEAT_SYNC" ]; then
  wait "$HEAT_SYNC" || { echo "heat db sync failed, see $LOG/dbsync-heat.log"; tail -n 5 "$LOG/dbsync-heat.log"; exit 1; }
  touch "$HEAT_SYNCED"
fi
start heat-api /usr/bin/heat-api --config-file /etc/heat/heat.conf --log-file "$LOG/heat-api.log"
start heat-engine /usr/bin/heat-engine --config-file /etc/heat/heat.conf --log-file "$LOG/heat-engine.log"
for s in account container object proxy; do
  start swift-$s $AS_SWIFT $PY /usr/bin/swift-$s-server /etc/swift/$s-server.conf -v
done
for u in http://$IP:8778/ http://$IP:9292/ http://$IP:9696/ http://$IP:8774/ http://$IP:8776/ http://$IP:8004/; do wait_http "$u" 180; done
for p in 6202 6201 6200 8080; do wait_health $p 120; done
# Security groups: each instance's firewall follows Neutron (python/saharagen_testbed/sgsync.py).
# The admin password reaches it through the environment, not the command line.
TESTBED_PASSWORD=$PASS start sgsync "$PY" -m saharagen_testbed.sgsync

if [ -n "$HEAT_KS" ]; then  # before resources: it gives the roles to the nostore project's user
  wait "$HEAT_KS" || { echo "keystone heat bootstrap failed, see $LOG/keystone-heat.log"; tail -n 5 "$LOG/keystone-heat.log"; exit 1; }
  touch "$STATE/heat-keystone.done"
fi
step "resources: compute hosts, flavors, images, networks, quotas -> $TB_DIR"
mkdir -p "$TB_DIR"
TESTBED_PASSWORD=$PASS NUM_COMPUTE=$NUM_COMPUTE TB_DIR=$TB_DIR CLEAN_GHOSTS=$CLEAN_GHOSTS \
  $PY "$TB_SRC/python/bootstrap.py" resources
# Testbed addresses never leave this machine: one with no instance behind it
# (a floating IP not plumbed yet, a fixed IP before its network's bridge
# exists) is unreachable here instead of going to the default gateway. The
# bridge's route and each floating IP's /32 are more specific or cheaper.
for cidr in $($PY -c 'import json, sys; e = json.load(open(sys.argv[1])); print(e["subnet_cidr"], e["external_cidr"])' "$TB_DIR/env.json"); do
  ip route replace unreachable "$cidr" metric 4096 proto $RT_PROTO
done
step "testbed up: $TB_DIR/{clouds.yaml,openrc,env.json}"
