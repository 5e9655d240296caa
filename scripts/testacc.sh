#!/usr/bin/env bash
# Runs the acceptance tests (every package, one at a time: they share one
# cloud project and some lower its quotas; within a package, the tests that
# drive the Terraform CLI as separate processes run 4 at a time). The whole verbose output goes to
# $TESTACC_LOG, each Terraform test's provider log (INFO) to
# $TESTACC_TFLOG/<test>.log; the console gets one line per test, and a
# failure ends with a summary — CI keeps only the tail of what it prints.
#   usage: scripts/testacc.sh [go test args...]   (default: ./...)
set -uo pipefail
cd "$(dirname "$0")/.."
log=${TESTACC_LOG:-bin/testacc.log}
tflog=${TESTACC_TFLOG:-bin/tflog}
mkdir -p "$(dirname "$log")"
rm -rf "$tflog" && mkdir -p "$tflog"
tflog=$(cd "$tflog" && pwd) # go test runs in each package's directory
[ $# -gt 0 ] || set -- ./...

echo "acceptance tests: full output in $log, provider logs in $tflog/"
# TF_LOG: the in-process provider's level; TF_ACC_LOG: the Terraform CLI's.
SAHARAGEN_TESTBED=1 TF_ACC=1 TF_LOG=INFO TF_ACC_LOG=WARN TF_LOG_PATH_MASK="$tflog/%s.log" \
	go test -p 1 -parallel 4 -count=1 -v -timeout "${TESTACC_TIMEOUT:-30m}" "$@" 2>&1 |
	tee "$log" | grep --line-buffered -E '^(--- |ok |FAIL|panic: )'
rc=${PIPESTATUS[0]}
[ "$rc" -eq 0 ] && exit 0

echo
echo "=== acceptance tests failed (exit $rc); summary of $log ==="
# A test that hung: which one, and the project's goroutines that were stuck.
if grep -q '^panic: test timed out' "$log"; then
	grep -A 8 '^panic: test timed out' "$log"
	echo "--- stuck goroutines in saharagen code (first frames) ---"
	# Per goroutine: its state, its function frames, and the file:line of
	# the project's own frames.
	awk '/^goroutine [0-9]+ \[/ { if (keep) print blk "\n"; blk=$0; keep=0; n=0; ours=0; next }
	     blk == "" || /^$/ || /^created by/ { next }
	     /^\t/ { if (ours && n < 40) blk = blk "\n" $0; next }
	     { ours = ($0 ~ /saharagen\/terraform-provider-saharagen\//); if (ours) keep=1
	       n++; if (n < 40) blk = blk "\n" $0 }
	     END { if (keep) print blk }' "$log" | head -n 150
	echo
fi
# Each failed test: the last of its provider's messages, then what the test
# reported (Terraform's errors included), without the engine's INFO lines.
for t in $(sed -n 's/^ *--- FAIL: \([^ ]*\).*/\1/p' "$log" | sort -u); do
	f="$tflog/${t//\//__}.log"
	if [ -s "$f" ]; then
		echo "--- $t: last provider messages ($f) ---"
		grep -E '\[(INFO|WARN|ERROR)\] +saharagen: ' "$f" |
			sed -E 's/ tf_[a-z_]+=[^ ]+//g; s/^([0-9T:.-]+)Z?/\1/' | cut -c1-300 | tail -n 25
	fi
	echo "--- $t: test output ---"
	awk -v t="$t" '/^=== (RUN|CONT|PAUSE|NAME) / { cur = $3; next }
	     /^ *--- (FAIL|PASS|SKIP): / { cur = ""; next }
	     cur == t && !/ level=(INFO|DEBUG) /' "$log" | cut -c1-400 | tail -n 60
done
grep -E '^FAIL\s' "$log" || true
exit "$rc"
