#!/bin/bash
# testbed-smoke.sh: end-to-end check of a running testbed (make testbed-smoke).
# Runs the Go tests TestSmoke (token, flavors, images, keypair, anti-affinity
# group of 3 servers on 3 hosts, SSH with the host key pinned from the console
# log, sudo, A->B, private files, floating IP, volume mkfs+mount, Swift object,
# delete all, nothing left), TestNoStoreServer (the same server + floating IP
# in the project without object storage), TestFaults (fault hooks) and
# TestFloatingIPWhileBuilding, TestAddressesStayOnTheMachine,
# TestSecurityGroups (security groups enforced: remote groups, a rule added
# and deleted, a port joining and leaving a group) and
# TestSecurityGroupsDefaultDeny (a new instance is closed before it has an
# interface).
#   SMOKE_RUN='TestSmoke'        which tests (regexp)
#   SAHARAGEN_TESTBED_SCALE=20   also boot 20 servers at once (TestScale)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
cd "$ROOT"
[ -f .testbed/env.json ] || { echo "testbed-smoke: no .testbed/env.json: run make testbed-up first"; exit 1; }
RUNRE=${SMOKE_RUN:-'TestSmoke|TestHeatStack|TestNoStoreServer|TestFaults|TestFloatingIPWhileBuilding|TestAddressesStayOnTheMachine|TestSecurityGroups|TestHelpers'}
[ -n "${SAHARAGEN_TESTBED_SCALE:-}" ] && RUNRE="$RUNRE|TestScale"
export PATH=/usr/local/go/bin:$PATH
SAHARAGEN_TESTBED=1 SAHARAGEN_TESTBED_SMOKE=1 go test -count=1 -timeout 20m -run "$RUNRE" -v ./internal/testbed/
