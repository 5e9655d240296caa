#!/usr/bin/env bash
# Checks a release directory as the Terraform and OpenTofu registries will read it:
#   scripts/check-release.sh DIR PUBLIC_KEY.asc
# DIR holds terraform-provider-saharagen_<version>_{<os>_<arch>.zip,SHA256SUMS,SHA256SUMS.sig,manifest.json}
# (dist/ after `make release-snapshot`, or the files of a published release). It checks: one zip per platform
# of .goreleaser.yml and no other, each holding the binary
# terraform-provider-saharagen_v<version>[.exe] built for that platform, static, with the version;
# `sha256sum -c` of SHA256SUMS; `gpg --verify` of the .sig with PUBLIC_KEY.asc; the manifest equal to
# terraform-registry-manifest.json.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
[ $# -eq 2 ] || { echo "usage: $0 DIR PUBLIC_KEY.asc" >&2; exit 2; }
dir=$(cd "$1" && pwd)
key=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
name=terraform-provider-saharagen

# The platforms of .goreleaser.yml: {freebsd,windows,linux,darwin} x {amd64,386,arm,arm64} less darwin/386,
# darwin/arm and windows/arm. A platform added there fails here until it is added here too.
targets="darwin_amd64 darwin_arm64 freebsd_386 freebsd_amd64 freebsd_arm freebsd_arm64 linux_386 linux_amd64
linux_arm linux_arm64 windows_386 windows_amd64 windows_arm64"

fail=0
bad() { echo "FAIL: $*" >&2; fail=$((fail + 1)); }

sums=$(find "$dir" -maxdepth 1 -name "${name}_*_SHA256SUMS" -printf '%f\n')
[ "$(echo "$sums" | grep -c .)" -eq 1 ] || { echo "FAIL: want one ${name}_<version>_SHA256SUMS in $dir, found: ${sums:-none}" >&2; exit 1; }
version=${sums#"${name}_"}
version=${version%_SHA256SUMS}
echo "release $version in $dir"

tmp=$(mktemp -d)
cleanup() {
	GNUPGHOME="$tmp/gnupg" gpgconf --kill gpg-agent >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT

# Zips: exactly one per platform, each with the binary for that platform.
want=$(for t in $targets; do echo "${name}_${version}_${t}.zip"; done | sort)
have=$(find "$dir" -maxdepth 1 -name "${name}_*.zip" -printf '%f\n' | sort)
[ "$want" = "$have" ] || bad "zips differ from the expected platforms ($(echo "$targets" | wc -w)):
$(diff <(echo "$want") <(echo "$have") | grep '^[<>]')"
for t in $targets; do
	zip="$dir/${name}_${version}_${t}.zip"
	[ -f "$zip" ] || continue
	before=$fail
	os=${t%_*} arch=${t#*_}
	bin="${name}_v${version}"
	[ "$os" = windows ] && bin="$bin.exe"
	files=$(unzip -Z1 "$zip")
	grep -qxF "$bin" <<<"$files" || { bad "$zip lacks $bin (has: $(echo "$files" | tr '\n' ' '))"; continue; }
	unzip -q -o "$zip" "$bin" -d "$tmp/$t"
	info=$(go version -m "$tmp/$t/$bin") || { bad "$bin in $zip is not a Go binary"; continue; }
	for setting in "GOOS=$os" "GOARCH=$arch" "CGO_ENABLED=0" "-trimpath=true"; do
		grep -qE "^\s+build\s+$setting\$" <<<"$info" || bad "$bin in $zip: want build setting $setting"
	done
	# -trimpath keeps -ldflags out of the build info: look for the version string itself.
	grep -qaF "$version" "$tmp/$t/$bin" || bad "$bin in $zip: version $version not set by ldflags"
	[ "$fail" -eq "$before" ] && echo "ok   $t: $bin"
	rm -rf "${tmp:?}/$t"
done

# Checksums: every line verifies, and every zip and the manifest have a line.
( cd "$dir" && sha256sum --strict -c "${name}_${version}_SHA256SUMS" ) || bad "sha256sum -c ${name}_${version}_SHA256SUMS"
for f in $have "${name}_${version}_manifest.json"; do
	grep -qE "^[0-9a-f]{64}  $f\$" "$dir/${name}_${version}_SHA256SUMS" || bad "SHA256SUMS has no line for $f"
done

# Signature: a detached signature of SHA256SUMS by the given key.
export GNUPGHOME="$tmp/gnupg"
mkdir -m 700 "$GNUPGHOME"
gpg --batch --quiet --import "$key"
if gpg --batch --verify "$dir/${name}_${version}_SHA256SUMS.sig" "$dir/${name}_${version}_SHA256SUMS"; then
	echo "ok   signature of ${name}_${version}_SHA256SUMS"
else
	bad "gpg --verify ${name}_${version}_SHA256SUMS.sig"
fi

# Manifest: the repository's, under the release's name.
if cmp -s "$root/terraform-registry-manifest.json" "$dir/${name}_${version}_manifest.json"; then
	echo "ok   ${name}_${version}_manifest.json equals terraform-registry-manifest.json"
else
	bad "${name}_${version}_manifest.json is missing or differs from terraform-registry-manifest.json"
fi

if [ "$fail" -ne 0 ]; then
	echo "release check failed" >&2
	exit 1
fi
echo "release check passed: $(echo "$have" | grep -c .) zips, SHA256SUMS, signature, manifest"
