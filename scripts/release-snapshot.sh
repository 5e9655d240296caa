#!/usr/bin/env bash
# Builds the release as goreleaser would publish it, into dist/, offline: `goreleaser release --snapshot
# --clean` (no tag needed, nothing published), signed with a throwaway GPG key made in a temporary GNUPGHOME
# and removed afterwards. Then checks the result with scripts/check-release.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

tmp=$(mktemp -d)
export GNUPGHOME="$tmp/gnupg"
cleanup() {
	gpgconf --kill gpg-agent >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -m 700 "$GNUPGHOME"

# RSA like the maintainers' key; no passphrase, valid for a day.
gpg --batch --quiet --passphrase '' \
	--quick-generate-key 'saharagen release snapshot (throwaway) <snapshot@saharagen.invalid>' rsa3072 sign 1d
GPG_FINGERPRINT=$(gpg --batch --with-colons --list-secret-keys | awk -F: '$1 == "fpr" { print $10; exit }')
export GPG_FINGERPRINT
gpg --batch --armor --export "$GPG_FINGERPRINT" >"$tmp/key.asc"

bin/goreleaser release --snapshot --clean

# goreleaser uploads the manifest only when it publishes (release.extra_files); put it where the
# release would have it, so dist/ holds every file of the release.
version=$(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' dist/metadata.json | head -1)
cp terraform-registry-manifest.json "dist/terraform-provider-saharagen_${version}_manifest.json"

bash scripts/check-release.sh dist "$tmp/key.asc"
