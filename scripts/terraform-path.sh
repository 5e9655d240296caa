#!/usr/bin/env bash
# Prints the path of a Terraform CLI >= 1.5 for the tests: the one on PATH,
# else bin/terraform, built once from the Go module proxy (no download at test time).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
ok() { # version check: terraform >= 1.5
	local v
	v=$("$1" version -json 2>/dev/null | sed -n 's/.*"terraform_version": *"\([0-9.]*\)".*/\1/p' | head -1)
	[ -n "$v" ] || return 1
	local major=${v%%.*} rest=${v#*.}
	local minor=${rest%%.*}
	[ "$major" -gt 1 ] || { [ "$major" -eq 1 ] && [ "$minor" -ge 5 ]; }
}
if tf=$(command -v terraform 2>/dev/null) && [ "$tf" != "$root/bin/terraform" ] && ok "$tf"; then
	echo "$tf"; exit 0
fi
if [ ! -x "$root/bin/terraform" ]; then
	echo "building terraform v1.5.7 into bin/ (once)" >&2
	GOBIN="$root/bin" GOFLAGS=-buildvcs=false go install github.com/hashicorp/terraform@v1.5.7 >&2
fi
echo "$root/bin/terraform"
