#!/usr/bin/env bash
# Installs what building and testing hitl needs, when it is missing; quick when all is there.
# Sourced by scripts/start, scripts/test and scripts/bench. `HITL_SETUP_BROWSER=1` also installs Chromium.
set -euo pipefail

CARGO_LEPTOS_VERSION=0.3.10   # 0.3.11 needs a newer rustc than 1.95
step() { echo "=== $(date +%T) $*"; }

# The release build. --split: the pages of app/src/routes.rs are lazily loaded, each a chunk of
# its own.
build_release() {
  step "building (cargo leptos build --release --split)"
  cargo leptos build --release --split
}

# hitl-bench, with the flags cargo-leptos builds the release with, so the two builds share their
# dependencies.
build_bench() {
  step "building hitl-bench"
  RUSTFLAGS="--cfg erase_components" cargo build --release -p hitl-bench
}

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$HOME/.cargo/bin:$root/end2end/node_modules/.bin:$PATH"

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  step "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
  step "installing cargo-leptos $CARGO_LEPTOS_VERSION (takes ~25 min on 2 cores, once per machine)"
  cargo install cargo-leptos --locked --version "$CARGO_LEPTOS_VERSION"
fi

# The CLI must match the wasm-bindgen library version in Cargo.lock exactly.
wb_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$root/Cargo.lock")
if ! wasm-bindgen --version 2>/dev/null | grep -q "$wb_version"; then
  step "installing wasm-bindgen-cli $wb_version"
  # Not --locked: its lockfile pins a crate version the registry no longer has.
  cargo install wasm-bindgen-cli --version "$wb_version"
fi

# npm packages: Playwright's runner and binaryen's wasm-opt (cargo-leptos uses the one on PATH
# instead of downloading; Debian's is too old and breaks release builds).
if [ ! -x "$root/end2end/node_modules/.bin/wasm-opt" ] || [ "$root/end2end/package-lock.json" -nt "$root/end2end/node_modules/.package-lock.json" ]; then
  step "installing the npm packages of end2end/"
  (cd "$root/end2end" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
fi

apt_install() {
  step "installing Debian's $*"
  sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "$@" >/dev/null
}

if [ "${HITL_SETUP_BROWSER:-0}" = 1 ] && ! command -v chromium >/dev/null; then
  apt_install chromium
fi

# The store tests start a private PostgreSQL cluster of their own (server/src/pg_cluster.rs).
if [ "${HITL_SETUP_BROWSER:-0}" = 1 ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  apt_install postgresql
fi
