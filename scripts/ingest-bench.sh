#!/usr/bin/env bash
# One wrk run of ingest against a fresh release server on a fresh SQLite file (or PostgreSQL
# with DATABASE_URL=postgres://…/db, dropped and created), with the commit histograms after it.
# usage: scripts/ingest-bench.sh FORMAT CONNECTIONS BATCH SECONDS
#   FORMAT: lpk (line protocol on /write), hj (Hearth's JSON), emoncms (one input per request)
#   Bodies come from the shared bench's ingest.lua (PEERS=../shared/bench/peers by default).
# env: PERF=1 records `perf record -g` of the server into $WORK/perf.data; WORK=/tmp/ingest-bench;
#      BIN=another hearth binary (default target/release/hearth); SENSORS=how many sensors the
#      bodies spread over (default 10); START=the first reading's Unix time (default 40 days
#      ago); KEEP=1 leaves the database in $WORK/h.db with its device's token in h.db.token, and
#      FROM=such a file is copied in as the database, so the same sensors write on top of the
#      readings stored there (pick START after them)
set -uo pipefail
cd "$(dirname "$0")/.."
FORMAT=$1 CONNS=$2 BATCH=$3 DUR=$4
PEERS=${PEERS:-../shared/bench/peers}; WORK=${WORK:-/tmp/ingest-bench}; PORT=${PORT:-3191}; SENSORS=${SENSORS:-10}
BIN=${BIN:-$PWD/target/release/hearth}
command -v wrk >/dev/null || { apt-get update -q; DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk; }
[ -x "$BIN" ] || { echo "build it first: cargo build --release -p hearth-server --bins" >&2; exit 1; }
rm -rf "$WORK"; mkdir -p "$WORK"
if [ -n "${FROM:-}" ]; then cp "$FROM" "$WORK/h.db"; sync; fi   # written out before the run, not during it
if [ -n "${DATABASE_URL:-}" ]; then
  psql "${DATABASE_URL%/*}/postgres" -qc "drop database if exists ${DATABASE_URL##*/}" -c "create database ${DATABASE_URL##*/}" >/dev/null
fi
export HEARTH_DATABASE_URL=${DATABASE_URL:-sqlite://$WORK/h.db} LEPTOS_SITE_ADDR=127.0.0.1:$PORT RUST_LOG=warn \
  HEARTH_INGEST_REQUESTS_PER_SECOND=0 HEARTH_RETENTION_RAW_DAYS=0 HEARTH_STREAMS_PER_SESSION=0
if [ -n "${FROM:-}" ]; then TOKEN=$(cat "$FROM.token"); else TOKEN=$("$BIN" device add bench 2>/dev/null); fi
[ -z "${KEEP:-}" ] || echo "$TOKEN" > "$WORK/h.db.token"
"$BIN" >"$WORK/server.log" 2>&1 & HPID=$!
trap 'kill $HPID 2>/dev/null' EXIT
for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/ping" && break; sleep 0.1; done
start=${START:-$(( $(date +%s) - 40 * 86400 ))}
if [ -n "${PERF:-}" ]; then perf record -F 1999 -g -p "$HPID" -o "$WORK/perf.data" -- sleep $((DUR - 2)) >/dev/null 2>&1 & fi
case $FORMAT in
  emoncms) APIKEY=$TOKEN QUIET=0 RUNS=1 SERVER_PID=$HPID "$PEERS/load/run_wrk.sh" "emoncms-c$CONNS" \
             "http://127.0.0.1:$PORT" scripts/bench/emoncms.lua "$DUR" "$CONNS" "$start" ;;
  hj) AUTH="Bearer $TOKEN" QUIET=0 RUNS=1 SERVER_PID=$HPID "$PEERS/load/run_wrk.sh" "json-b$BATCH-c$CONNS" \
        "http://127.0.0.1:$PORT/api/v1/readings" "$PEERS/load/ingest.lua" "$DUR" "$CONNS" hj "$BATCH" "$SENSORS" "$start" ;;
  *) AUTH="Token $TOKEN" QUIET=0 RUNS=1 SERVER_PID=$HPID "$PEERS/load/run_wrk.sh" "$FORMAT-b$BATCH-c$CONNS" \
       "http://127.0.0.1:$PORT/write?db=bench&precision=s" "$PEERS/load/ingest.lua" "$DUR" "$CONNS" "$FORMAT" "$BATCH" "$SENSORS" "$start" ;;
esac
wait %2 2>/dev/null
curl -s "http://127.0.0.1:$PORT/metrics" | grep -E '^hearth_(commit_(seconds|batches|readings)_(sum|count)|rollup_flush_(seconds|readings)_(sum|count)|db_pool_wait_seconds_(sum|count)|readings_total)'
if [ -n "${KEEP:-}" ]; then kill "$HPID"; wait "$HPID" 2>/dev/null; fi
