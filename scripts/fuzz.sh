#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for a bounded time (default 60 s each), installing
# cargo-fuzz from crates.io if it is missing. Not part of `make test` (too slow).
#   scripts/fuzz.sh [seconds-per-target]
# A crash stops the run; its input is copied to server/tests/fixtures/fuzz/<target>/, where
# `cargo test -p hearth-server --test fuzz_regressions` replays it for good.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "installing cargo-fuzz (a few minutes, once)"
  cargo install cargo-fuzz --locked
fi

cd fuzz
# Stable Rust: no sanitizer (AddressSanitizer needs nightly's -Zsanitizer). Safe Rust does
# not need it to find panics, overflows (debug assertions are on) and hangs.
for target in $(cargo fuzz list); do
  corpus=corpus/$target
  mkdir -p "$corpus"
  cp -n ../server/tests/fixtures/fuzz/"$target"/* "$corpus"/ 2>/dev/null || true
  echo "== fuzzing $target for $seconds s"
  if ! cargo fuzz run --sanitizer none "$target" "$corpus" -- -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048; then
    mkdir -p ../server/tests/fixtures/fuzz/"$target"
    cp artifacts/"$target"/* ../server/tests/fixtures/fuzz/"$target"/ 2>/dev/null || true
    echo "$target crashed; its input is now in server/tests/fixtures/fuzz/$target/ (add a regression test there)" >&2
    exit 1
  fi
done
echo "every target ran $seconds s without a crash"
