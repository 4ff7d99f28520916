#!/usr/bin/env bash
# Makes sure the PostgreSQL the tests use answers, starting the local cluster if it is
# installed but down. Exits non-zero when it cannot be reached: its tests fail, never skip.
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
