# Settings for main.py.
WIFI_SSID = "your-wifi"
WIFI_PASSWORD = "your-wifi-password"
HEARTH_URL = "http://192.168.1.10:3000"
HEARTH_TOKEN = "hth_paste_the_token_from_hearth_device_add"
ROOM = "Bedroom"
PIN = 4
# Sensor keys by 1-Wire ROM (hex); others are ds18b20.<rom>.
NAMES = {}
