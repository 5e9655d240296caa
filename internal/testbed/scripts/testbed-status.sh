#!/bin/bash
# testbed-status.sh: which testbed services run (by pid file), their memory
# (PSS of each service's process group, MB), the security group daemon's
# counters, and the instances (namespaces sgtb-*) with their memory.
. "$(dirname "$0")/lib.sh"
pss() {  # pss PID... -> total PSS in kB
  local t=0 p v
  for p in "$@"; do
    v=$(awk '/^Pss:/{print $2}' /proc/$p/smaps_rollup 2>/dev/null); t=$((t + ${v:-0}))
  done; echo $t
}
printf '%-18s %8s %6s %9s\n' service pid procs PSS_MB
total=0
for f in "$RUN"/*.pid; do
  [ -f "$f" ] || continue
  n=$(basename "$f" .pid); pid=$(cat "$f")
  if ! kill -0 "$pid" 2>/dev/null; then printf '%-18s %8s %6s %9s\n' "$n" "$pid" - DEAD; continue; fi
  pids=$(ps -e -o pid=,pgid= | awk -v g="$pid" '$2==g{print $1}')
  [ "$n" = rabbitmq ] && pids="$pids $(ps -e -o pid=,user= | awk '$2=="rabbitmq"{print $1}')"
  kb=$(pss $(echo $pids | tr ' ' '\n' | sort -u))
  total=$((total + kb))
  printf '%-18s %8s %6s %9.1f\n' "$n" "$pid" "$(echo $pids | wc -w)" "$(awk -v k=$kb 'BEGIN{print k/1024}')"
done
printf '%-18s %8s %6s %9.1f\n' TOTAL "" "" "$(awk -v k=$total 'BEGIN{print k/1024}')"
# the security group daemon's own counters (sgsync.py writes them after each fetch pass)
if [ -f "$RUN/sgsync.status" ]; then
  "$PY" -c 'import json, sys, time; s = json.load(open(sys.argv[1]))
print("sgsync: last fetch %.1f s ago (%.0f ms), %d passes, %d Neutron calls, %d ruleset loads (%d failed), %d fetch errors, %.1f s CPU; %d instances%s" % (
    time.time() - s["last_fetch"], s["last_fetch_ms"], s["passes"], s["api_calls"], s["loads"], s["load_errors"],
    s["fetch_errors"], s["cpu_seconds"], s["instances"], ("; last error: " + s["last_error"]) if s["last_error"] else ""))' "$RUN/sgsync.status"
fi
ni=0; itotal=0
for ns in $(ip netns list 2>/dev/null | awk '/^sgtb-/{print $1}'); do
  kb=$(pss $(ip netns pids "$ns")); ni=$((ni+1)); itotal=$((itotal+kb))
done
up=$(du -sk "$STATE/instances" 2>/dev/null | cut -f1)
echo "instances: $ni, PSS total $(awk -v k=$itotal 'BEGIN{printf "%.1f", k/1024}') MB (processes), overlay upper dirs ${up:-0} kB on tmpfs"
