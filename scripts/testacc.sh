#!/usr/bin/env bash
# Runs the acceptance tests (every package, one at a time: they share one
# cloud project and some lower its quotas). The whole verbose output goes to
# $TESTACC_LOG; the console gets one line per test, and a failure ends with
# a summary — CI keeps only the tail of what it prints.
#   usage: scripts/testacc.sh [go test args...]   (default: ./...)
set -uo pipefail
cd "$(dirname "$0")/.."
log=${TESTACC_LOG:-bin/testacc.log}
mkdir -p "$(dirname "$log")"
[ $# -gt 0 ] || set -- ./...

echo "acceptance tests: full output in $log"
SAHARAGEN_TESTBED=1 TF_ACC=1 go test -p 1 -count=1 -v -timeout "${TESTACC_TIMEOUT:-30m}" "$@" 2>&1 |
	tee "$log" | grep --line-buffered -E '^(--- |ok |FAIL|panic: )'
rc=${PIPESTATUS[0]}
[ "$rc" -eq 0 ] && exit 0

echo
echo "=== acceptance tests failed (exit $rc); summary of $log ==="
# Failed tests with the lines they logged (file:line: message).
grep -E -- '^\s*--- FAIL|^\s+[a-zA-Z0-9_]+_test\.go:[0-9]+:|^FAIL' "$log" | cut -c1-400 | tail -n 80
# A test that hung: which one, and the project's goroutines that were stuck.
if grep -q '^panic: test timed out' "$log"; then
	echo
	grep -A 8 '^panic: test timed out' "$log"
	echo "--- stuck goroutines in saharagen code (first frames) ---"
	# Per goroutine: its state, its function frames, and the file:line of
	# the project's own frames.
	awk '/^goroutine [0-9]+ \[/ { if (keep) print blk "\n"; blk=$0; keep=0; n=0; ours=0; next }
	     blk == "" || /^$/ || /^created by/ { next }
	     /^\t/ { if (ours && n < 40) blk = blk "\n" $0; next }
	     { ours = ($0 ~ /saharagen\/terraform-provider-saharagen\//); if (ours) keep=1
	       n++; if (n < 40) blk = blk "\n" $0 }
	     END { if (keep) print blk }' "$log" | head -n 200
fi
exit "$rc"
