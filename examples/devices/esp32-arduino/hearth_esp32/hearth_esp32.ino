// Hearth ESP32 temperature sensor: a DS18B20 (or a DHT22, see USE_DHT22) read every 30 s,
// posted to Hearth in batches every 2 minutes. Readings wait in RAM while Wi-Fi or Hearth is
// down (about 2 days at this rate) and are retried with the times they were taken; Hearth
// stores each (sensor, time) once, so a retry never doubles anything.
//
// Libraries (Arduino Library Manager): OneWire, DallasTemperature (or "DHT sensor library"
// by Adafruit for a DHT22). Board: any ESP32 with the Espressif "esp32" core.

#include <HTTPClient.h>
#include <WiFi.h>
#include <time.h>

#include "reading_buffer.h"

// ---- Settings ---------------------------------------------------------------------------
const char* WIFI_SSID = "your-wifi";
const char* WIFI_PASSWORD = "your-wifi-password";
const char* HEARTH_URL = "http://192.168.1.10:3000/api/v1/readings";
const char* HEARTH_TOKEN = "hth_paste_the_token_from_hearth_device_add";
const char* SENSOR_KEY = "kitchen.temp";  // [a-z0-9_.-], unique on this device
const char* ROOM = "Kitchen";             // sent with each batch; names the room of a new sensor
const uint32_t SAMPLE_MS = 30UL * 1000;
const uint32_t SEND_MS = 120UL * 1000;
const int SENSOR_PIN = 4;
// #define USE_DHT22
// -------------------------------------------------------------------------------------------

#ifdef USE_DHT22
#include <DHT.h>
DHT dht(SENSOR_PIN, DHT22);
#else
#include <DallasTemperature.h>
#include <OneWire.h>
OneWire oneWire(SENSOR_PIN);
DallasTemperature ds18b20(&oneWire);
#endif

ReadingBuffer<5760> buffer;  // 2 days at one reading per 30 s, about 92 KB of RAM
const size_t BATCH = 100;
char body[BATCH * 100 + 64];
uint32_t lastSample = 0, lastSend = 0, lastWifiTry = 0;

int64_t unixNow() {
  time_t now = time(nullptr);
  return now > 1600000000 ? static_cast<int64_t>(now) : 0;  // 0 until NTP has set the clock
}

bool readTemperature(float* celsius) {
#ifdef USE_DHT22
  float t = dht.readTemperature();
  if (isnan(t)) return false;
#else
  ds18b20.requestTemperatures();
  float t = ds18b20.getTempCByIndex(0);
  // -127 means no sensor answered; exactly 85 is the value of a sensor that just lost power.
  if (t == DEVICE_DISCONNECTED_C || t == 85.0f) return false;
#endif
  *celsius = t;
  return true;
}

// Posts the oldest readings; removes them once Hearth accepted them (or refused them for good).
void sendBatch() {
  if (unixNow() != 0) buffer.resolveTimes(millis(), unixNow());
  size_t n = buffer.toJson(body, sizeof body, SENSOR_KEY, "temperature", BATCH);
  if (n == 0) return;
  // Add the room to each reading: it names the room of the sensor if this batch creates it.
  String json(body);
  json.replace("\"kind\":\"temperature\"}", String("\"kind\":\"temperature\",\"room\":\"") + ROOM + "\"}");
  HTTPClient http;
  http.begin(HEARTH_URL);
  http.setTimeout(15000);
  http.addHeader("Content-Type", "application/json");
  http.addHeader("Authorization", String("Bearer ") + HEARTH_TOKEN);
  int status = http.POST(json);
  String answer = http.getString();
  http.end();
  if (status == 200) {
    buffer.dropOldest(n);
    Serial.printf("sent %u readings: %s\n", (unsigned)n, answer.c_str());
  } else if (status >= 400 && status < 500 && status != 408 && status != 429) {
    buffer.dropOldest(n);  // refused for good: retrying would be refused again
    Serial.printf("Hearth refused %u readings (%d): %s\n", (unsigned)n, status, answer.c_str());
  } else {
    Serial.printf("not sent (%d), %u readings waiting\n", status, (unsigned)buffer.size());
  }
}

void setup() {
  Serial.begin(115200);
#ifdef USE_DHT22
  dht.begin();
#else
  ds18b20.begin();
#endif
  WiFi.mode(WIFI_STA);
  WiFi.begin(WIFI_SSID, WIFI_PASSWORD);
  configTime(0, 0, "pool.ntp.org", "time.nist.gov");  // UTC; Hearth shows house time
}

void loop() {
  uint32_t now = millis();
  if (now - lastSample >= SAMPLE_MS || lastSample == 0) {
    lastSample = now;
    float celsius;
    if (readTemperature(&celsius)) buffer.push(now, unixNow(), celsius);
  }
  if (WiFi.status() != WL_CONNECTED) {
    if (now - lastWifiTry >= 30000) {
      lastWifiTry = now;
      WiFi.reconnect();
    }
  } else if (now - lastSend >= SEND_MS) {
    lastSend = now;
    while (buffer.size() > 0) {
      size_t before = buffer.size();
      sendBatch();
      if (buffer.size() == before) break;  // not delivered: try again at the next round
    }
  }
  delay(100);
}
