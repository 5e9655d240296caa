#!/usr/bin/env bash
# Prints the path of an OpenTofu CLI for the tests: the one on PATH if it is at
# least the version tools/tofu/go.mod requires (1.12.6), else bin/tofu, built
# once from the Go module proxy at that version (no download at test time).
# OpenTofu's go.mod replaces hcl with its fork, which `go install tofu@version`
# refuses, so tools/tofu is a module that requires it with the same replace.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
version() { # the version a tofu binary reports, e.g. 1.12.6
	"$1" version -json 2>/dev/null | sed -n 's/.*"terraform_version": *"\([0-9.]*\)".*/\1/p' | head -1
}
want=$(sed -n 's/^\s*github.com\/opentofu\/opentofu v\([0-9.]*\).*/\1/p' "$root/tools/tofu/go.mod")
ok() { # tofu >= the version the tests build
	local v
	v=$(version "$1")
	[ -n "$v" ] && printf '%s\n%s\n' "$want" "$v" | sort -V -C
}
if tofu=$(command -v tofu 2>/dev/null) && [ "$tofu" != "$root/bin/tofu" ] && ok "$tofu"; then
	echo "$tofu"; exit 0
fi
if [ ! -x "$root/bin/tofu" ] || [ "$(version "$root/bin/tofu")" != "$want" ]; then
	echo "building OpenTofu v$want into bin/ (once: about 8 min on 2 cores, download included)" >&2
	(cd "$root/tools/tofu" && GOFLAGS=-buildvcs=false go build -o "$root/bin/tofu" \
		-ldflags "-X github.com/opentofu/opentofu/version.dev=no" github.com/opentofu/opentofu/cmd/tofu) >&2
fi
echo "$root/bin/tofu"
