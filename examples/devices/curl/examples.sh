#!/usr/bin/env bash
# Posts one reading by each of Hearth's HTTP ways in: the JSON API, InfluxDB line protocol
# (2.x and 1.x) and the Emoncms input API. Every command is a one-liner to copy.
#   HEARTH_URL=http://127.0.0.1:3000 HEARTH_TOKEN=hth_... ./examples.sh
# Hearth's CI runs it against a real server (server/tests/examples.rs).
set -euo pipefail
: "${HEARTH_URL:=http://127.0.0.1:3000}" "${HEARTH_TOKEN:?set HEARTH_TOKEN (hearth device add <name>)}"
now=$(date +%s)

# Hearth's JSON: the first reading of a sensor carries its kind (and room).
curl -fsS "$HEARTH_URL/api/v1/readings" -H "Authorization: Bearer $HEARTH_TOKEN" \
  -H 'Content-Type: application/json' \
  -d '{"sensor": "hall.temp", "value": 20.5, "kind": "temperature", "room": "Hall"}'
echo

# A batch with times (Unix seconds or RFC 3339): retrying it stores nothing twice.
curl -fsS "$HEARTH_URL/api/v1/readings" -H "Authorization: Bearer $HEARTH_TOKEN" \
  -H 'Content-Type: application/json' \
  -d "{\"readings\": [{\"sensor\": \"hall.temp\", \"value\": 20.4, \"at\": $((now - 120))}, {\"sensor\": \"hall.temp\", \"value\": 20.6, \"at\": $((now - 60))}]}"
echo

# InfluxDB 2.x line protocol: sensors climate.kitchen.temperature and .humidity, room Kitchen (answers 204).
curl -fsS "$HEARTH_URL/api/v2/write?bucket=home&precision=s" -H "Authorization: Token $HEARTH_TOKEN" \
  --data-binary "climate,room=Kitchen temperature=21.3,humidity=48 $now"

# InfluxDB 1.x: the token is the password.
curl -fsS "$HEARTH_URL/write?db=home&precision=s&u=pi&p=$HEARTH_TOKEN" \
  --data-binary "plug,room=Office,kind=power desk=63.5 $now"

# Emoncms input API: node emontx, inputs power1 and power2 (answers {"success": true}).
curl -fsS -G "$HEARTH_URL/input/post" --data-urlencode 'node=emontx' \
  --data-urlencode 'fulljson={"power1":100,"power2":200}' --data-urlencode "apikey=$HEARTH_TOKEN"
echo

# Emoncms bulk, as emonhub sends it (answers ok).
curl -fsS "$HEARTH_URL/input/bulk" --data-urlencode "data=[[$((now - 10)),\"emontx\",{\"power1\":110}]]" \
  --data-urlencode "sentat=$now" --data-urlencode "apikey=$HEARTH_TOKEN"
echo
