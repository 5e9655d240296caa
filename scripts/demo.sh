#!/usr/bin/env bash
# make demo: a Dask cluster built by Terraform on the local OpenStack testbed,
# used, scaled up, scaled down by name (its data survives), destroyed, and
# nothing left behind. Works offline on a fresh machine: the provider is
# installed into a local filesystem mirror that `terraform init` reads.
#
# Environment: SAHARAGEN_DEMO_KEEP=1 leaves the cluster up (no destroy);
# SAHARAGEN_DEMO_SKIP_TESTBED_UP=1 uses the testbed as it is (while others
# work on it, testbed-up may restart its services).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH=/usr/local/go/bin:$PATH GOFLAGS=-buildvcs=false CHECKPOINT_DISABLE=1

VERSION=0.1.0 # the mirror needs a semantic version; main.version of the build
ADDR=registry.terraform.io/saharagen/saharagen
MIRROR=$ROOT/bin/mirror
DEMO=$ROOT/bin/demo
PY=/usr/bin/python3 # Debian's, with python3-distributed (never a pyenv shim)
COMPUTE=$ROOT/examples/quickstart/compute.py
DEMO_START=$(date +%s.%N)
exec 3>&1 # the terminal, for progress lines of commands whose output is captured

since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f s", b - a }'; }

# step TITLE CMD...: prints what it does, runs it, prints how long it took.
step() {
	local title=$1 t0
	shift
	t0=$(date +%s.%N)
	printf '\n\033[1m==> %s\033[0m\n' "$title"
	"$@"
	printf '    done in %s: %s\n' "$(since "$t0")" "$title"
}

testbed_up() {
	if [ "${SAHARAGEN_DEMO_SKIP_TESTBED_UP:-}" = 1 ] && [ -f .testbed/env.json ]; then
		echo "    SAHARAGEN_DEMO_SKIP_TESTBED_UP=1: using the testbed as it is"
		return 0
	fi
	make --no-print-directory testbed-up
}

build_provider() {
	local dir=$MIRROR/$ADDR/$VERSION/linux_amd64
	mkdir -p "$dir"
	go build -ldflags "-X main.version=$VERSION" -o "$dir/terraform-provider-saharagen_v$VERSION" .
	cat >"$ROOT/bin/demo.tfrc" <<EOF
# Written by scripts/demo.sh: saharagen comes from the local mirror, nothing
# is downloaded.
provider_installation {
  filesystem_mirror {
    path    = "$MIRROR"
    include = ["$ADDR"]
  }
}
EOF
	echo "    provider $VERSION in $dir"
}

prepare_config() {
	rm -rf "$DEMO"
	mkdir -p "$DEMO"
	cp "$ROOT"/examples/quickstart/*.tf "$DEMO/"
	# The testbed's values, from what testbed-up wrote (.testbed/env.json).
	$PY - "$ROOT/.testbed/env.json" >"$DEMO/testbed.auto.tfvars" <<'EOF'
import json, sys
env = json.load(open(sys.argv[1]))
print('cloud            = "%s"' % env["cloud"])
print('image_id         = "%s"' % env["images"]["dask"])
print('register_image   = false  # the testbed tagged %s already' % env["image_names"]["dask"])
print('image_user       = "%s"' % env["image_user"])
print('flavor_id        = "%s"  # %s' % (env["flavor_id"], env["flavor_name"]))
print('network_id       = "%s"  # %s' % (env["network_id"], env["network_name"]))
print('floating_ip_pool = "%s"' % env["external_network_name"])
print('cluster_name     = "dask-demo"')
print('client_cidrs     = ["%s"]  # the testbed host is on the cluster network' % env["subnet_cidr"])
EOF
	sed 's/^/    /' "$DEMO/testbed.auto.tfvars"
	quiet tf init -input=false -no-color
	grep -E 'Installing|Installed|successfully initialized' "$DEMO/last.out" | sed 's/^/    /'
}

# LOG_FILTER shows the provider's own log lines (not the plugin protocol's)
# as "| message key=value", without Terraform's bookkeeping fields.
LOG_FILTER='
import re, sys
line_re = re.compile(r"^\S+ \[(INFO|WARN|ERROR)\] +provider\.terraform-provider-saharagen[^:]*: (.*)$")
field_re = re.compile(r"""([@\w.]+)=("(?:[^"\\]|\\.)*"|\[[^\]]*\]|\S*)""")
skip_msg = ("configuring server automatic mTLS", "timeout configuration not found")
skip_key = ("@", "tf_", "timestamp", "cluster_id", "cluster_name", "cluster")
for line in sys.stdin:
    m = line_re.match(line.rstrip("\n"))
    if not m:
        continue
    body = m.group(2)
    f = re.search(r": (?=[@\w.]+=)", body)
    msg, rest = (body[:f.start()], body[f.end():]) if f else (body.rstrip(":"), "")
    if any(s in msg for s in skip_msg):
        continue
    fields = ["%s=%s" % kv for kv in field_re.findall(rest) if not kv[0].startswith(skip_key) and kv[0] not in skip_key]
    print("    | " + msg + ("  (" + " ".join(sorted(fields)) + ")" if fields else ""))
'

# tf runs Terraform in the demo directory against the testbed; the
# provider's INFO log (cluster statuses, "N/M instances", Dask progress) is
# shown as it happens.
tf() {
	: >"$DEMO/provider.log"
	tail -n 0 -F "$DEMO/provider.log" 2>/dev/null | $PY -u -c "$LOG_FILTER" >&3 &
	local tailpid=$! rc=0
	TF_CLI_CONFIG_FILE=$ROOT/bin/demo.tfrc OS_CLIENT_CONFIG_FILE=$ROOT/.testbed/clouds.yaml \
		TF_LOG_PROVIDER=INFO TF_LOG_PATH=$DEMO/provider.log \
		"$TERRAFORM" -chdir="$DEMO" "$@" || rc=$?
	sleep 0.5
	kill "$tailpid" 2>/dev/null || true
	wait "$tailpid" 2>/dev/null || true
	return $rc
}

# quiet CMD...: runs CMD with its output in bin/demo/last.out, shows the
# lines that tell the story, and all of it when CMD fails.
quiet() {
	local rc=0
	"$@" >"$DEMO/last.out" 2>&1 || rc=$?
	awk '
		/instances_to_be_removed.*= \[$/ { blk = 1; print; next }
		blk { print; if ($0 ~ /^ *\]/) blk = 0; next }
		/Still |Refreshing state/ { next }
		/^(saharagen_|Apply complete|Destroy complete|Plan:|  # )|Error/ { print }
	' "$DEMO/last.out" | sed 's/^/    /'
	if [ $rc != 0 ]; then
		echo "    ---- failed ($rc); full output:"
		sed 's/^/    /' "$DEMO/last.out"
	fi
	return $rc
}

apply() { # apply VAR=VALUE...: terraform apply with those variables
	local args=()
	for kv in "$@"; do args+=(-var "$kv"); done
	quiet tf apply -input=false -auto-approve -no-color -compact-warnings "${args[@]}"
}

tfout() { # tfout NAME: one output of the demo configuration
	TF_CLI_CONFIG_FILE=$ROOT/bin/demo.tfrc "$TERRAFORM" -chdir="$DEMO" output "$@"
}

show_cluster() {
	CLUSTER_ID=$(tfout -raw cluster_id)
	SCHED=$(tfout -raw scheduler_internal_address)
	echo "    cluster $CLUSTER_ID is $(tfout -raw status); scheduler $SCHED (this host is on the cluster network; clients elsewhere use $(tfout -raw scheduler_address))"
	echo "    workers: $(tfout -json workers | tr -d '[]"' | sed 's/,/, /g')"
	# The cluster's TLS credentials, as the quickstart's README writes them.
	mkdir -p "$DEMO/tls" && chmod 700 "$DEMO/tls"
	tfout -raw tls_ca_cert >"$DEMO/tls/ca.pem"
	tfout -raw tls_client_cert >"$DEMO/tls/client.pem"
	(umask 077 && tfout -raw tls_client_key >"$DEMO/tls/client.key")
	echo "    TLS credentials of the cluster in $DEMO/tls (Dask over TLS with mutual authentication)"
}

compute() { # compute ARGS...: the quickstart's Dask client, run from this machine
	$PY "$COMPUTE" --tls "$DEMO/tls" "$@" | sed 's/^/    /'
	return "${PIPESTATUS[0]}"
}

refused() { # refused SCHED: a client with the CA but no certificate is turned away
	local rc=0
	mkdir -p "$DEMO/tls-no-cert"
	cp "$DEMO/tls/ca.pem" "$DEMO/tls-no-cert/"
	$PY "$COMPUTE" --tls "$DEMO/tls-no-cert" probe "$1" | sed 's/^/    /' || rc=${PIPESTATUS[0]}
	[ "$rc" = 3 ] || { echo "    the scheduler answered a client without the cluster's certificate (exit $rc)"; return 1; }
}

create() {
	apply || {
		CLUSTER_ID=$(tfout -raw cluster_id 2>/dev/null || true)
		return 1
	}
	show_cluster
}

scale_up() {
	apply worker_count=4
	show_cluster
}

scale_down() {
	apply worker_count=2 "workers_to_remove=[\"$VICTIM\"]"
	show_cluster
}

destroy() {
	quiet tf destroy -input=false -auto-approve -no-color
}

leftovers() {
	go run ./scripts/leftovers -cluster "$CLUSTER_ID" | sed 's/^/    /'
	return "${PIPESTATUS[0]}"
}

# A failed run removes what it created, unless SAHARAGEN_DEMO_KEEP=1.
CREATED=
on_exit() {
	local rc=$?
	if [ $rc != 0 ] && [ -n "$CREATED" ] && [ "${SAHARAGEN_DEMO_KEEP:-}" != 1 ]; then
		printf '\n==> make demo failed (status %s): destroying what it created (SAHARAGEN_DEMO_KEEP=1 keeps it)\n' "$rc"
		# -refresh=false: a cluster left in Error must not need a plan of the
		# configuration to be deleted; Delete removes all that carries its ID.
		quiet tf destroy -refresh=false -input=false -auto-approve -no-color ||
			echo "    destroy failed: run terraform -chdir=bin/demo destroy -refresh=false when the cloud is back"
		if [ -n "${CLUSTER_ID:-}" ]; then leftovers || true; fi
	fi
	exit $rc
}
trap on_exit EXIT

if [ "$(id -u)" != 0 ]; then
	echo "make demo runs the local OpenStack testbed and needs root" >&2
	exit 1
fi
TERRAFORM=$(TF_CLI_CONFIG_FILE=/dev/null bash scripts/terraform-path.sh)
echo "make demo: Terraform $(TF_CLI_CONFIG_FILE=/dev/null "$TERRAFORM" version -json | sed -n 's/.*"terraform_version": *"\([^"]*\)".*/\1/p'), Go $(go env GOVERSION)"

step "Bring up the OpenStack testbed (make testbed-up)" testbed_up
step "Build the provider into a local filesystem mirror" build_provider
step "terraform init of examples/quickstart (offline, from the mirror)" prepare_config
CREATED=1
step "terraform apply: 1 Dask scheduler + 3 workers" create
step "Compute on the cluster from this machine (3 workers)" compute run "$SCHED" 3
step "A client without the cluster's certificate is refused" refused "$SCHED"
step "Scale to 4 workers (terraform apply -var worker_count=4)" scale_up
step "Compute again: the new worker takes tasks" compute run "$SCHED" 4
VICTIM=$(tfout -json workers | $PY -c 'import json,sys; print(json.load(sys.stdin)[1])')
step "Put a dataset on $VICTIM only" compute scatter "$SCHED" "$VICTIM"
step "Scale to 2 workers, removing $VICTIM first (its data moves to the others)" scale_down
step "Read the dataset back: it survived the retirement of $VICTIM" compute check "$SCHED"
if [ "${SAHARAGEN_DEMO_KEEP:-}" = 1 ]; then
	echo "SAHARAGEN_DEMO_KEEP=1: the cluster stays up (terraform -chdir=bin/demo destroy removes it)"
	exit 0
fi
step "terraform destroy" destroy
CREATED=
step "Check that nothing of cluster $CLUSTER_ID is left in the cloud" leftovers
printf '\nmake demo: everything worked, in %s\n' "$(since "$DEMO_START")"
