#!/usr/bin/env bash
# Runs the acceptance tests (every package, one at a time: they share one
# cloud project and some lower its quotas; within a package, the tests that
# drive the Terraform CLI as separate processes run 4 at a time), then a
# representative part of them again under OpenTofu: the fake plugin's
# lifecycle with an import, a create killed in Configuring and a killed
# destroy ($TESTACC_TOFU_RUN, a go test -run pattern over ./internal/provider;
# empty: no OpenTofu run). The whole verbose output goes to $TESTACC_LOG
# ($TESTACC_TOFU_LOG), each Terraform test's provider log (INFO) to
# $TESTACC_TFLOG/<test>.log ($TESTACC_TOFU_TFLOG); the console gets one line
# per test (prefixed "tofu: " for the OpenTofu run), and a failure ends with a
# summary — CI keeps only the tail of what it prints.
#   usage: scripts/testacc.sh [go test args...]   (default: ./...)
set -uo pipefail
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || set -- ./...
tofu_run=${TESTACC_TOFU_RUN-'^TestAccCluster_(FakePluginLifecycle|InterruptedCreateConverges|InterruptedDestroyConverges)$/^kill_-9_at_Configuring$'}

# acc LABEL PREFIX LOG TFLOG [go test args...]: one go test run of the
# acceptance tests with the CLI of TF_ACC_TERRAFORM_PATH; its exit code.
acc() {
	local label=$1 prefix=$2 log=$3 tflog=$4 rc
	shift 4
	mkdir -p "$(dirname "$log")"
	rm -rf "$tflog" && mkdir -p "$tflog"
	tflog=$(cd "$tflog" && pwd) # go test runs in each package's directory
	echo "acceptance tests under $label: full output in $log, provider logs in $tflog/"
	# TF_LOG: the in-process provider's level; TF_ACC_LOG: the CLI's.
	SAHARAGEN_TESTBED=1 TF_ACC=1 TF_LOG=INFO TF_ACC_LOG=WARN TF_LOG_PATH_MASK="$tflog/%s.log" \
		go test -p 1 -parallel 4 -count=1 -v -timeout "${TESTACC_TIMEOUT:-30m}" "$@" 2>&1 |
		tee "$log" | grep --line-buffered -E '^(--- |ok |FAIL|panic: )' | sed -u "s/^/$prefix/"
	rc=${PIPESTATUS[0]}
	[ "$rc" -eq 0 ] || summary "$label" "$log" "$tflog" "$rc"
	return "$rc"
}

# summary LABEL LOG TFLOG RC: what hung, and per failed test its last
# provider messages and its errors.
summary() {
	local label=$1 log=$2 tflog=$3 rc=$4 t f
	echo
	echo "=== acceptance tests under $label failed (exit $rc); summary of $log ==="
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
	# reported (the CLI's errors included), without the engine's INFO lines.
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
}

# The OpenTofu CLI first: a build of it (once) fails before any test runs.
if [ -n "$tofu_run" ]; then
	tofu=$(bash scripts/tofu-path.sh) || { echo "no OpenTofu CLI (scripts/tofu-path.sh failed)"; exit 1; }
fi
acc Terraform "" "${TESTACC_LOG:-bin/testacc.log}" "${TESTACC_TFLOG:-bin/tflog}" "$@"
rc=$?
if [ -n "$tofu_run" ]; then
	TF_ACC_TERRAFORM_PATH=$tofu acc OpenTofu "tofu: " "${TESTACC_TOFU_LOG:-bin/testacc-tofu.log}" \
		"${TESTACC_TOFU_TFLOG:-bin/tflog-tofu}" -run "$tofu_run" ./internal/provider
	tofu_rc=$?
	[ "$rc" -ne 0 ] || rc=$tofu_rc
fi
exit "$rc"
