#!/bin/bash
# testbed-down.sh: stop everything testbed-up.sh started, by PID (pid files in
# /run/saharagen-testbed), and remove every instance (namespaces, their
# processes, veths, bridges, loop devices, overlay tmpfs).  Safe to run twice
# or after a crash.
#   testbed-down.sh          stop (databases, images, volumes kept: up is fast)
#   testbed-down.sh --purge  also drop databases, keys, images, volumes,
#                            swift data and .testbed/ (next up = from scratch)
set -uo pipefail
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { echo "testbed-down: must run as root"; exit 1; }

# 1. nova-computes first, so none creates an instance while we clean up; the
#    security group daemon too (it would load rules into vanishing namespaces)
for f in "$RUN"/nova-compute-*.pid; do [ -f "$f" ] && stop "$(basename "$f" .pid)" & done
stop sgsync & wait
# 2. instances: every process of an instance lives in its netns sgtb-<uuid>
for ns in $(ip netns list 2>/dev/null | awk '/^sgtb-/{print $1}'); do
  for _ in $(seq 30); do
    PIDS=$(ip netns pids "$ns" 2>/dev/null)
    [ -z "$PIDS" ] && break
    kill -KILL $PIDS 2>/dev/null; sleep 0.1
  done
  ip netns del "$ns" 2>/dev/null
done
for l in $(ip -o link show type veth 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 | grep '^sgtbv'); do ip link del "$l" 2>/dev/null; done
for l in $(ip -o link show type bridge 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 | grep '^sgtbb'); do ip link del "$l" 2>/dev/null; done
# loop devices over our volume files
losetup -n -O NAME,BACK-FILE 2>/dev/null | awk -v d="$STATE/volumes/" 'index($2, d)==1{print $1}' | while read -r dev; do losetup -d "$dev"; done
mountpoint -q "$STATE/instances" && umount -l "$STATE/instances"
ip route flush proto $RT_PROTO 2>/dev/null

# 3. OpenStack services (reverse start order), then the infrastructure
for n in $(echo $SERVICES_OS | tr ' ' '\n' | tac); do stop "$n" & done; wait
if running rabbitmq; then
  timeout 60 rabbitmqctl -n rabbit@localhost stop >/dev/null 2>&1
  stop rabbitmq
fi
stop memcached
stop epmd
if [ "${1:-}" = --purge ]; then
  # After a reboot or a killed session MariaDB is down: start it to drop the data.
  if ! running mariadb && [ -x /usr/sbin/mariadbd ]; then
    mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
    start mariadb /usr/sbin/mariadbd --user=mysql
    for _ in $(seq 300); do mysqladmin ping >/dev/null 2>&1 && break; sleep 0.2; done
  fi
  if running mariadb; then
    for d in keystone glance placement nova_api nova nova_cell0 neutron cinder heat; do mysql -e "DROP DATABASE IF EXISTS $d"; done
    echo "  databases dropped"
  fi
  rm -rf /etc/keystone/fernet-keys /etc/keystone/credential-keys /var/lib/glance/images/* \
         /var/lib/glance/saharagen-testbed.img "$STATE/volumes" "$STATE/dbsync.done" "$STATE/heat-dbsync.done" "$STATE/heat-keystone.done" \
         /etc/swift/{account,container,object}.{builder,ring.gz} /etc/swift/backups \
         "${SWIFT_DEVICE_ROOT:-/srv/node}"/d1/* /var/cache/swift/* "$TB_DIR"
  echo "  purged"
fi
stop mariadb
echo "testbed down"
