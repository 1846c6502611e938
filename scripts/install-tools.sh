#!/usr/bin/env bash
# Installs what building and testing tchatche needs, idempotently and
# without downloads outside the package registries (crates.io, npm, Debian).
# Each step is skipped when its tool is already there at the right version.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_LEPTOS_VERSION=0.3.10
# The wasm-bindgen CLI must equal the wasm-bindgen crate in Cargo.lock.
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  step "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if [ "$(cargo leptos --version 2>/dev/null)" != "cargo-leptos $CARGO_LEPTOS_VERSION" ]; then
  step "installing cargo-leptos $CARGO_LEPTOS_VERSION (no_downloads; about 15 minutes the first time)"
  cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --features no_downloads
fi

if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
  step "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  # Not --locked: its lockfile asks for a webpki-roots the registry lacks.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

# npm ci only when the lockfile changed since the last install.
npm_install() {
  local dir=$1
  if [ ! -f "$dir/node_modules/.package-lock.json" ] || ! cmp -s "$dir/package-lock.json" "$dir/node_modules/.lock-installed"; then
    step "installing npm packages in $dir"
    (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
    cp "$dir/package-lock.json" "$dir/node_modules/.lock-installed"
  fi
}
npm_install .
npm_install end2end

# Debian packages, as root (through sudo when not root already).
apt_install() {
  local sudo_cmd
  sudo_cmd=$([ "$(id -u)" = 0 ] && echo "" || echo "sudo")
  $sudo_cmd apt-get update -qq
  $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

if [ "${1:-}" = "--browser" ] && ! command -v chromium >/dev/null; then
  step "installing Debian's Chromium for the browser tests"
  apt_install chromium
fi

# The translation tests run a real Apertium APy (worker/tests/common/apy.rs)
# with the English-Spanish and French-Spanish pairs.
APERTIUM_MODES=/usr/share/apertium/modes
if [ "${1:-}" = "--browser" ] && { ! command -v apertium-apy >/dev/null \
    || [ ! -f "$APERTIUM_MODES/eng-spa.mode" ] || [ ! -f "$APERTIUM_MODES/fr-es.mode" ]; }; then
  step "installing Debian's Apertium APy and its en-es and fr-es pairs for the translation tests"
  apt_install apertium apertium-apy apertium-eng-spa apertium-fr-es
fi
