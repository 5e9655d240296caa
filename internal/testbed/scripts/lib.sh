# Shared settings of the saharagen testbed scripts.  Source me.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin   # Debian python3, never pyenv
export DEBIAN_FRONTEND=noninteractive
TB_SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TB_SRC=$(cd "$TB_SCRIPTS/.." && pwd)                 # internal/testbed
REPO_ROOT=$(cd "$TB_SRC/../.." && pwd)
TB_DIR=${SAHARAGEN_TESTBED_DIR:-$REPO_ROOT/.testbed}  # clouds.yaml, openrc, env.json
PASS=${TESTBED_PASSWORD:-secret}                     # service + admin password
IP=127.0.0.1
REGION=RegionOne
NUM_COMPUTE=${NUM_COMPUTE:-5}
RUN=/run/saharagen-testbed                           # pid files
LOG=/var/log/saharagen-testbed                       # service logs
STATE=/var/lib/saharagen-testbed                     # volumes/, instances/ (tmpfs)
LIBEXEC=/usr/local/lib/saharagen-testbed
SITE=/usr/local/lib/python3.11/dist-packages
PY=/usr/bin/python3
KS=http://$IP:5000
INSTANCES_TMPFS_SIZE=${INSTANCES_TMPFS_SIZE:-4g}
RT_PROTO=199                                         # routes testbed-up adds ("ip route flush proto 199")
mkdir -p "$RUN" "$LOG"

T0=${T0:-$EPOCHREALTIME}
step() {  # pure bash: works before any package is installed
  local ms=$(( (${EPOCHREALTIME/./} - ${T0/./}) / 1000 ))
  printf '[%4d.%ds] %s\n' $((ms / 1000)) $(((ms % 1000) / 100)) "$*"
}

starttime() { awk '{print $22}' "/proc/$1/stat" 2>/dev/null; }
running() {  # running NAME -> 0 if its pid file names our live process
  # (the start time recorded next to the PID guards against PID reuse after a reboot)
  [ -f "$RUN/$1.pid" ] || return 1
  local pid; pid=$(cat "$RUN/$1.pid")
  kill -0 "$pid" 2>/dev/null || return 1
  [ ! -f "$RUN/$1.start" ] || [ "$(cat "$RUN/$1.start")" = "$(starttime "$pid")" ]
}
start() {  # start NAME CMD... : setsid'd background process, log + pid file
  local name=$1; shift
  if running "$name"; then echo "  $name already running"; return; fi
  setsid "$@" >>"$LOG/$name.log" 2>&1 </dev/null 9>&- &
  echo $! >"$RUN/$name.pid"
  starttime $! >"$RUN/$name.start"
}
stop_pid() {  # stop_pid NAME PID : TERM the process group, KILL after 10 s
  local name=$1 pid=$2 wait=50
  kill -0 "$pid" 2>/dev/null || return 0
  # nova-compute (fake driver, nothing to save) hangs on TERM: kill it fast
  case $name in nova-compute-*) wait=10 ;; esac
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
  for _ in $(seq $wait); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    echo "  $name: SIGKILL"; kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid"
  fi
  echo "  stopped $name ($pid)"
}
stop() {  # stop NAME (only if the pid file still names our process)
  [ -f "$RUN/$1.pid" ] || return 0
  if running "$1"; then stop_pid "$1" "$(cat "$RUN/$1.pid")"; fi
  rm -f "$RUN/$1.pid" "$RUN/$1.start"
}
wait_port() {  # wait_port PORT [timeout]
  for _ in $(seq $((${2:-120}*5))); do
    (echo >/dev/tcp/$IP/$1) 2>/dev/null && return 0; sleep 0.2; done
  echo "port $1 did not open"; return 1
}
wait_http() {  # wait_http URL [timeout] (any HTTP answer counts)
  for _ in $(seq $((${2:-120}*5))); do
    curl -s -o /dev/null -m 2 "$1" && return 0; sleep 0.2; done
  echo "$1 did not answer"; return 1
}
wait_health() {  # swift: GET /healthcheck must say OK
  for _ in $(seq $((${2:-60}*10))); do
    [ "$(curl -s -m 2 "http://$IP:$1/healthcheck")" = OK ] && return 0; sleep 0.1; done
  echo "http://$IP:$1/healthcheck did not answer OK"; return 1
}
# services in start order (stop order is the reverse)
SERVICES_INFRA="epmd mariadb rabbitmq memcached"
SERVICES_OS="keystone placement glance-api neutron-server nova-api nova-conductor nova-scheduler cinder-api cinder-scheduler cinder-volume heat-api heat-engine swift-account swift-container swift-object swift-proxy"
