#!/usr/bin/env python3
"""Posts the temperatures of the DS18B20 sensors on a Raspberry Pi's 1-Wire bus to Hearth.

Python 3 standard library only. Every --interval seconds it reads each sensor under --w1-dir
(/sys/bus/w1/devices/28-*/w1_slave), stamps the reading with the time it was taken, and posts
the readings waiting so far as one batch. A batch that cannot be delivered (network down, server
restarting, 503) stays queued, in memory and in the --spool file, and is sent again later with
the same timestamps; Hearth stores a reading once per (sensor, time), so retries never double
anything. A batch Hearth refuses for good (4xx other than 408/429) is logged and dropped.

Each sensor is "ds18b20.<its 1-Wire id>" (ds18b20.28-00000566cc39) unless --name maps its id
to a key (--name 28-00000566cc39=kitchen.temp); --room names the room of new sensors.

Environment: HEARTH_URL (http://127.0.0.1:3000) and HEARTH_TOKEN (from `hearth device add`).
"""

import argparse
import glob
import json
import logging
import os
import re
import sys
import time
import urllib.error
import urllib.request

MAX_QUEUE = 50_000  # readings kept while Hearth is unreachable (about a month at 1/min for one sensor)
BATCH = 1_000       # readings per request, well under Hearth's 10,000
POWER_ON_VALUE = 85000  # a DS18B20 that lost power reports exactly 85 °C before its first conversion

log = logging.getLogger("hearth-ds18b20")


def read_sensors(w1_dir, names):
    """One reading per healthy sensor: (key, °C). A failed CRC or the power-on value is skipped."""
    readings = []
    for path in sorted(glob.glob(os.path.join(w1_dir, "28-*", "w1_slave"))):
        sensor_id = os.path.basename(os.path.dirname(path)).lower()
        try:
            with open(path, encoding="ascii", errors="replace") as f:
                lines = f.read().splitlines()
        except OSError as e:
            log.warning("cannot read %s: %s", path, e)
            continue
        match = re.search(r"t=(-?\d+)", lines[1]) if len(lines) >= 2 else None
        if not lines or not lines[0].strip().endswith("YES") or not match:
            log.warning("sensor %s: bad CRC or unreadable, skipped", sensor_id)
            continue
        millidegrees = int(match.group(1))
        if millidegrees == POWER_ON_VALUE:
            log.warning("sensor %s: power-on value 85 °C, skipped", sensor_id)
            continue
        key = names.get(sensor_id) or "ds18b20." + re.sub(r"[^a-z0-9_.-]", "_", sensor_id)
        readings.append((key[:64], millidegrees / 1000.0))
    return readings


def load_spool(path):
    if not path or not os.path.exists(path):
        return []
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        log.warning("ignoring unreadable spool %s: %s", path, e)
        return []


def save_spool(path, queue):
    if not path:
        return
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(queue, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def post(url, token, batch, timeout=15):
    """Posts one batch. True: delivered (or refused for good, so it must not be retried)."""
    body = json.dumps({"readings": batch}).encode()
    request = urllib.request.Request(
        url.rstrip("/") + "/api/v1/readings",
        data=body,
        headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            receipt = json.load(response)
            log.info("sent %d readings: %s", len(batch), receipt)
            return True
    except urllib.error.HTTPError as e:
        detail = e.read().decode(errors="replace")[:300]
        if e.code in (408, 429) or e.code >= 500:
            log.warning("Hearth answered %d, will retry: %s", e.code, detail)
            return False
        log.error("Hearth refused %d readings (%d): %s; dropping them", len(batch), e.code, detail)
        return True
    except (urllib.error.URLError, OSError) as e:
        log.warning("cannot reach %s, will retry: %s", url, e)
        return False


def flush(url, token, queue, spool):
    """Sends the queue oldest first; stops at the first failure. True when it is empty."""
    while queue:
        batch = queue[:BATCH]
        if not post(url, token, batch):
            return False
        del queue[: len(batch)]
        save_spool(spool, queue)
    return True


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("HEARTH_URL", "http://127.0.0.1:3000"))
    parser.add_argument("--w1-dir", default=os.environ.get("HEARTH_W1_DIR", "/sys/bus/w1/devices"))
    parser.add_argument("--interval", type=float, default=60.0, help="seconds between readings")
    parser.add_argument("--room", default=os.environ.get("HEARTH_ROOM"), help="room of new sensors")
    parser.add_argument("--name", action="append", default=[], metavar="ID=KEY", help="sensor key for a 1-Wire id")
    parser.add_argument("--spool", default=os.environ.get("HEARTH_SPOOL"), help="file keeping unsent readings across restarts")
    parser.add_argument("--once", action="store_true", help="read once, send what is queued, exit (non-zero if unsent)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    token = os.environ.get("HEARTH_TOKEN")
    if not token:
        sys.exit("set HEARTH_TOKEN to the device's token (hearth device add <name>)")
    names = dict(pair.lower().split("=", 1) for pair in args.name)

    queue = load_spool(args.spool)
    while True:
        now = round(time.time(), 3)
        for key, celsius in read_sensors(args.w1_dir, names):
            # Kind and room on every reading: whichever arrives first creates the sensor.
            reading = {"sensor": key, "value": celsius, "at": now, "kind": "temperature"}
            if args.room:
                reading["room"] = args.room
            queue.append(reading)
        del queue[: max(0, len(queue) - MAX_QUEUE)]
        save_spool(args.spool, queue)
        sent = flush(args.url, token, queue, args.spool)
        if args.once:
            sys.exit(0 if sent else 1)
        time.sleep(max(1.0, args.interval - (time.time() - now)))


if __name__ == "__main__":
    main()
