// Host test of the sketch's reading buffer: g++ -std=c++17 -Wall -Wextra -Werror -I../hearth_esp32
//   test_reading_buffer.cpp -o /tmp/t && /tmp/t   (Hearth's CI runs it: server/tests/examples.rs)
#include "reading_buffer.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

static int failures = 0;
#define CHECK(cond)                                                   \
  do {                                                                \
    if (!(cond)) {                                                    \
      std::printf("FAILED %s:%d: %s\n", __FILE__, __LINE__, #cond);   \
      failures++;                                                     \
    }                                                                 \
  } while (0)

int main() {
  ReadingBuffer<4> buffer;
  char json[512];

  // Taken before the clock was known: no time, nothing to send yet.
  buffer.push(1000, 0, 21.5f);
  CHECK(buffer.toJson(json, sizeof json, "hall.temp", "temperature", 10) == 0);

  // NTP sets the clock at millis 31000 = 1764000030 s: the first reading was 30 s earlier.
  buffer.resolveTimes(31000, 1764000030);
  buffer.push(61000, 1764000060, 21.75f);
  size_t n = buffer.toJson(json, sizeof json, "hall.temp", "temperature", 10);
  CHECK(n == 2);
  CHECK(std::strcmp(json,
                    "{\"readings\":[{\"sensor\":\"hall.temp\",\"value\":21.50,\"at\":1764000000,\"kind\":\"temperature\"},"
                    "{\"sensor\":\"hall.temp\",\"value\":21.75,\"at\":1764000060,\"kind\":\"temperature\"}]}") == 0);

  // The post failed: the same readings, same times, are in the next attempt.
  char again[512];
  CHECK(buffer.toJson(again, sizeof again, "hall.temp", "temperature", 10) == 2);
  CHECK(std::strcmp(json, again) == 0);

  // Accepted: they leave the buffer.
  buffer.dropOldest(n);
  CHECK(buffer.size() == 0);

  // Full: the oldest reading is dropped and counted.
  for (int i = 0; i < 5; i++) buffer.push(100000 + i * 1000, 1764000100 + i, 20.0f + i);
  CHECK(buffer.size() == 4);
  CHECK(buffer.dropped() == 1);
  CHECK(buffer.oldest(0).unixSeconds == 1764000101);

  // At most maxReadings per batch, and only what fits the output.
  CHECK(buffer.toJson(json, sizeof json, "hall.temp", "temperature", 3) == 3);
  char small[120];
  CHECK(buffer.toJson(small, sizeof small, "hall.temp", "temperature", 4) == 1);

  // millis() wraps after 49.7 days; ages stay right across the wrap.
  ReadingBuffer<2> wrap;
  wrap.push(0xFFFFF000u, 0, 1.0f);  // 4096 ms before the wrap
  wrap.resolveTimes(0x00001000u, 1764000000);  // 4096 ms after it
  CHECK(wrap.oldest(0).unixSeconds == 1764000000 - 8);

  if (failures) return EXIT_FAILURE;
  std::printf("reading buffer: all checks passed\n");
  return EXIT_SUCCESS;
}
