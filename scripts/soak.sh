#!/usr/bin/env bash
# The soak: a release `hearth` on a fresh database under steady ingest (200 single-reading
# posts/s and a 1,000-reading batch every 5 s) with 100 live-stream clients, for 10 minutes
# by default. Prints the server's RSS every 30 s and the errors at the end (exit 1 if any).
#   scripts/soak.sh [seconds] [extra hearth-bench options, e.g. --database-url postgres://…]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
shift || true
cargo build --release -p hearth-server --bins
exec target/release/hearth-bench --soak "$seconds" "$@"
