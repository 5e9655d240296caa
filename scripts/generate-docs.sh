#!/usr/bin/env bash
# Regenerates docs/ from the provider schema, templates/ and examples/ with tfplugindocs, offline.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
tf=$(bash scripts/terraform-path.sh)
tfdir=$(mktemp -d); trap 'rm -rf "$tfdir"' EXIT
ln -s "$tf" "$tfdir/terraform"
PATH="$tfdir:$PATH" CHECKPOINT_DISABLE=1 bin/tfplugindocs generate --provider-name saharagen --rendered-provider-name saharagen
