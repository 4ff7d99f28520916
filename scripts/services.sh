#!/usr/bin/env bash
# Makes sure the PostgreSQL and the Mosquitto the tests use answer, starting them if they are
# installed but down. Exits non-zero when one cannot be reached: its tests fail, never skip.
set -euo pipefail

PG_HOST=127.0.0.1 PG_PORT=5432
up() { pg_isready -q -h "$PG_HOST" -p "$PG_PORT" 2>/dev/null || (exec 3<>"/dev/tcp/$PG_HOST/$PG_PORT") 2>/dev/null; }

if ! up; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    echo "PostgreSQL is down; starting it"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    for _ in $(seq 1 20); do up && break; sleep 0.5; done
  fi
fi
if ! up; then
  cat >&2 <<MSG
PostgreSQL is not reachable at $PG_HOST:$PG_PORT; the PostgreSQL tests need it.
Install it (apt-get install -y postgresql) with trust authentication for user root and a
database named test, or point HEARTH_TEST_POSTGRES_URL at another server.
MSG
  exit 1
fi

MQTT_HOST=127.0.0.1 MQTT_PORT=1883
mqtt_up() { (exec 3<>"/dev/tcp/$MQTT_HOST/$MQTT_PORT") 2>/dev/null; }
if ! mqtt_up && command -v mosquitto >/dev/null; then
  echo "Mosquitto is down; starting it"
  if [ -f /etc/mosquitto/mosquitto.conf ]; then mosquitto -d -c /etc/mosquitto/mosquitto.conf || true; fi
  for _ in $(seq 1 20); do mqtt_up && break; sleep 0.25; done
fi
if ! mqtt_up; then
  cat >&2 <<MSG
Mosquitto is not reachable at $MQTT_HOST:$MQTT_PORT; the MQTT tests need it (and the
mosquitto binary, for the reconnection test). Install it: apt-get install -y mosquitto.
MSG
  exit 1
fi
