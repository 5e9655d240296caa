#!/bin/sh
# dask-service start|stop|status CONF
#
# Runs the one Dask process that CONF describes (a shell fragment of quoted
# assignments rendered by saharagen's dask plugin) as a detached daemon under
# the invoking user, supervised through a pid file. start and stop are
# idempotent, so a retried configure or scale step is harmless.
set -eu

usage() { echo "usage: dask-service start|stop|status CONF" >&2; exit 2; }
[ $# -eq 2 ] || usage
action=$1
conf=$2
# shellcheck disable=SC1090
. "$conf"

pid=
running() {
	[ -s "$DASK_PIDFILE" ] || return 1
	pid=$(cat "$DASK_PIDFILE")
	case $pid in '' | *[!0-9]*) return 1 ;; esac
	kill -0 "$pid" 2>/dev/null || return 1
	# a pid reused by another program is not ours; Dask retitles its
	# processes "dask scheduler [address]" when setproctitle is installed
	case $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) in
	*"distributed.cli.dask_$DASK_ROLE "* | "dask $DASK_ROLE "*) return 0 ;;
	esac
	return 1
}

logtail() {
	echo "last lines of $DASK_LOG:" >&2
	tail -n 15 "$DASK_LOG" >&2 2>/dev/null || true
}

start() {
	if running; then
		echo "dask $DASK_ROLE already running (pid $pid)"
		return 0
	fi
	case $DASK_ROLE in
	scheduler)
		set -- "$DASK_PYTHON" -m distributed.cli.dask_scheduler \
			--host "$DASK_HOST" --port "$DASK_PORT" --pid-file "$DASK_PIDFILE"
		if [ "$DASK_DASHBOARD" = true ]; then
			set -- "$@" --dashboard --dashboard-address ":$DASK_DASHBOARD_PORT"
		else
			set -- "$@" --no-dashboard
		fi
		;;
	worker)
		set -- "$DASK_PYTHON" -m distributed.cli.dask_worker "$DASK_SCHEDULER" \
			--host "$DASK_HOST" --name "$DASK_NAME" \
			--worker-port "$DASK_WORKER_PORT" --nanny-port "$DASK_NANNY_PORT" \
			--memory-limit "$DASK_MEMORY_LIMIT" --local-directory "$DASK_LOCAL_DIR" \
			--no-dashboard --pid-file "$DASK_PIDFILE"
		if [ "$DASK_NTHREADS" -gt 0 ]; then
			set -- "$@" --nthreads "$DASK_NTHREADS"
		fi
		;;
	*)
		echo "dask-service: unknown role $DASK_ROLE in $conf" >&2
		exit 2
		;;
	esac
	# configs rendered before TLS have no protocol: they ran TCP
	set -- "$@" --protocol "${DASK_PROTOCOL:-tcp}"
	if [ "${DASK_PROTOCOL:-tcp}" = tls ]; then
		set -- "$@" --tls-ca-file "$DASK_TLS_CA" --tls-cert "$DASK_TLS_CERT" --tls-key "$DASK_TLS_KEY"
		# nothing of this process may talk or listen in the clear
		export DASK_DISTRIBUTED__COMM__REQUIRE_ENCRYPTION=True
	fi
	rm -f "$DASK_PIDFILE"
	echo "=== $(date -u +%FT%TZ) dask-service start" >>"$DASK_LOG"
	# setsid: the daemon leads its own process group, so stop can reach the
	# worker processes a nanny forks; nohup + closed fds: it outlives the session.
	setsid nohup "$@" >>"$DASK_LOG" 2>&1 </dev/null &
	launcher=$!
	i=0
	while ! running; do
		if ! kill -0 "$launcher" 2>/dev/null; then
			echo "dask $DASK_ROLE exited while starting" >&2
			logtail
			exit 1
		fi
		i=$((i + 1))
		if [ "$i" -gt 600 ]; then
			echo "dask $DASK_ROLE wrote no pid file within 60 s" >&2
			logtail
			exit 1
		fi
		sleep 0.1
	done
	echo "dask $DASK_ROLE started (pid $pid)"
}

stop() {
	if ! running; then
		rm -f "$DASK_PIDFILE"
		echo "dask $DASK_ROLE not running"
		return 0
	fi
	kill -TERM "$pid" 2>/dev/null || true
	i=0
	while kill -0 "$pid" 2>/dev/null; do
		i=$((i + 1))
		if [ "$i" -gt $((DASK_STOP_TIMEOUT * 10)) ]; then
			echo "dask $DASK_ROLE (pid $pid) ignored SIGTERM for $DASK_STOP_TIMEOUT s: killing it" >&2
			kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
		fi
		sleep 0.1
	done
	# whatever the daemon forked and left behind
	kill -KILL -- "-$pid" 2>/dev/null || true
	rm -f "$DASK_PIDFILE"
	echo "dask $DASK_ROLE stopped (pid $pid)"
}

case $action in
start) start ;;
stop) stop ;;
status)
	if running; then
		echo "dask $DASK_ROLE running (pid $pid)"
	else
		echo "dask $DASK_ROLE not running"
		logtail
		exit 3
	fi
	;;
*) usage ;;
esac
