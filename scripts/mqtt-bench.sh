#!/usr/bin/env bash
# MQTT ingest against a fresh release server on a fresh SQLite file: PUBLISHERS mosquitto_pub
# processes send N single-reading messages at QoS 1 to Hearth's own topic (`hearth/<prefix>`,
# the same JSON as `ingest-bench.sh hj` posts one reading at a time) through a Mosquitto of the
# bench's own that queues without limit, so the publishers never wait for Hearth and nothing is
# dropped. Prints how fast Hearth stored them and its CPU time per 1,000 readings; run
# `ingest-bench.sh hj C 1 S` beside it for JSON's (its server_cpu × duration / requests).
# usage: scripts/mqtt-bench.sh N [PUBLISHERS=4]
# env: WORK=/tmp/mqtt-bench, PORT=3192, BROKER_PORT=3193, BIN=another hearth binary
set -uo pipefail
cd "$(dirname "$0")/.."
N=$1 PUBLISHERS=${2:-4}
WORK=${WORK:-/tmp/mqtt-bench}; PORT=${PORT:-3192}; BROKER_PORT=${BROKER_PORT:-3193}
BIN=${BIN:-$PWD/target/release/hearth}
command -v mosquitto_pub >/dev/null || { apt-get update -q; DEBIAN_FRONTEND=noninteractive apt-get install -y -q mosquitto-clients; }
[ -x "$BIN" ] || { echo "build it first: cargo build --release -p hearth-server --bins" >&2; exit 1; }
rm -rf "$WORK"; mkdir -p "$WORK"
cat > "$WORK/mosquitto.conf" <<EOF
listener $BROKER_PORT 127.0.0.1
user $(id -un)
allow_anonymous true
persistence false
max_queued_messages 0
max_inflight_messages 0
log_dest file $WORK/mosquitto.log
log_type error
log_type warning
log_type notice
log_type subscribe
EOF
mosquitto -c "$WORK/mosquitto.conf" 2>/dev/null & BPID=$!
export HEARTH_DATABASE_URL=sqlite://$WORK/h.db LEPTOS_SITE_ADDR=127.0.0.1:$PORT RUST_LOG=warn \
  HEARTH_RETENTION_RAW_DAYS=0 HEARTH_MQTT_URL=mqtt://127.0.0.1:$BROKER_PORT HEARTH_MQTT_CLIENT_ID=bench-$$
"$BIN" device add bench --mqtt-prefix bench >/dev/null 2>&1
"$BIN" >"$WORK/server.log" 2>&1 & HPID=$!
trap 'kill $HPID $BPID 2>/dev/null' EXIT
stored() { curl -s "http://127.0.0.1:$PORT/metrics" | awk '/^hearth_readings_total\{.*protocol="hearth".*status="stored"/ {n += $2} END {print n + 0}'; }
for _ in $(seq 200); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/ping" && break; sleep 0.1; done
# Hearth's shared subscription, which every message of the bench takes, as the broker logs it.
for _ in $(seq 200); do grep -qF '$share/' "$WORK/mosquitto.log" 2>/dev/null && break; sleep 0.1; done
start=$(( $(date +%s) - 40 * 86400 ))
# Each publisher its own sensors' readings, one second apart, as the JSON bench posts them.
python3 - "$N" "$PUBLISHERS" "$start" "$WORK" <<'EOF'
import sys
n, publishers, start, work = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
for p in range(publishers):
    with open(f"{work}/messages-{p}", "w") as f:
        for i in range(p, n, publishers):
            s, ts = i % 10, start + i // 10
            v = 20 + s + ((ts * 7 + s * 13) % 1000) / 100
            f.write(f'{{"sensor":"r.{s}","value":{v:.2f},"at":{ts},"kind":"temperature"}}\n')
EOF
cpu() { awk '{print $14 + $15}' "/proc/$HPID/stat"; }
c0=$(cpu); t0=$(date +%s.%N)
for p in $(seq 0 $((PUBLISHERS - 1))); do
  mosquitto_pub -p "$BROKER_PORT" -q 1 -i "pub-$p-$$" -t hearth/bench -l < "$WORK/messages-$p" & 
done
deadline=$(( $(date +%s) + 600 ))
while [ "$(stored)" -lt "$N" ] && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.1; done
t1=$(date +%s.%N); c1=$(cpu)
got=$(stored)
awk -v n="$got" -v want="$N" -v t0="$t0" -v t1="$t1" -v c0="$c0" -v c1="$c1" -v hz="$(getconf CLK_TCK)" -v p="$PUBLISHERS" 'BEGIN {
  s = t1 - t0; printf "mqtt-q1-p%d stored=%d of %d seconds=%.2f readings_per_s=%.0f server_cpu=%.0f%% cpu_ms_per_1000=%.1f\n",
    p, n, want, s, n / s, 100 * (c1 - c0) / hz / s, 1000 * (c1 - c0) / hz / n * 1000 }'
grep -ci "out of memory\|exceeded timeout" "$WORK/mosquitto.log" | sed 's/^/broker warnings (out of memory, timeouts): /'
grep -c "lost the MQTT broker" "$WORK/server.log" | sed 's/^/hearth reconnections: /'
