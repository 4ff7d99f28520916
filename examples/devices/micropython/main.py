# Hearth sensor for MicroPython (ESP32, ESP8266, Raspberry Pi Pico W): a DS18B20 on one pin,
# read every 30 s, posted to Hearth in batches every 2 minutes. Readings wait in RAM while
# Wi-Fi or Hearth is down and are retried with the times they were taken; Hearth stores each
# (sensor, time) once, so retries never double anything.
#
# Copy config.py (edit it first) and main.py to the board: mpremote cp config.py main.py :

import time

import ds18x20
import machine
import network
import ntptime
import onewire
import urequests

import config

SAMPLE_S = 30
SEND_S = 120
MAX_QUEUE = 2000   # about 16 hours at one reading per 30 s; the oldest go first when full
BATCH = 50
UNIX_OFFSET = 946684800 if time.gmtime(0)[0] == 2000 else 0  # ports whose epoch is 2000

wlan = network.WLAN(network.STA_IF)
sensors = ds18x20.DS18X20(onewire.OneWire(machine.Pin(config.PIN)))
roms = sensors.scan()
queue = []          # [key, value, unix seconds, or None and ticks_ms when the clock was unknown]
clock_set = False


def connect():
    if not wlan.isconnected():
        wlan.active(True)
        wlan.connect(config.WIFI_SSID, config.WIFI_PASSWORD)


def set_clock():
    global clock_set
    try:
        ntptime.settime()
        clock_set = True
    except OSError:
        pass


def key_of(rom):
    return config.NAMES.get(rom.hex(), "ds18b20." + rom.hex())


def sample():
    if not roms:
        return
    sensors.convert_temp()
    time.sleep_ms(750)
    now = time.time() + UNIX_OFFSET if clock_set else None
    for rom in roms:
        try:
            celsius = sensors.read_temp(rom)
        except Exception:  # CRC error: skip this reading
            continue
        if celsius is None or celsius == 85.0:  # 85 °C: the sensor just lost power
            continue
        queue.append([key_of(rom), round(celsius, 2), now, time.ticks_ms()])
    del queue[:max(0, len(queue) - MAX_QUEUE)]


def resolve_times():
    # Readings taken before NTP answered get their time from their age.
    now, ticks = time.time() + UNIX_OFFSET, time.ticks_ms()
    for item in queue:
        if item[2] is None:
            item[2] = now - time.ticks_diff(ticks, item[3]) // 1000


def send():
    while queue:
        batch = queue[:BATCH]
        body = {"readings": [
            {"sensor": k, "value": v, "at": at, "kind": "temperature", "room": config.ROOM}
            for k, v, at, _ in batch
        ]}
        try:
            answer = urequests.post(config.HEARTH_URL + "/api/v1/readings", json=body,
                                    headers={"Authorization": "Bearer " + config.HEARTH_TOKEN})
        except OSError as e:
            print("not sent:", e, len(queue), "waiting")
            return
        status, text = answer.status_code, answer.text
        answer.close()
        if status == 200 or (400 <= status < 500 and status not in (408, 429)):
            del queue[:len(batch)]  # accepted, or refused for good
            print("sent" if status == 200 else "refused", len(batch), text)
        else:
            print("not sent:", status, len(queue), "waiting")
            return


connect()
last_send = time.time()
while True:
    started = time.time()
    sample()
    if wlan.isconnected():
        if not clock_set:
            set_clock()
        if clock_set and time.time() - last_send >= SEND_S:
            last_send = time.time()
            resolve_times()
            send()
    else:
        connect()
    time.sleep(max(1, SAMPLE_S - (time.time() - started)))
