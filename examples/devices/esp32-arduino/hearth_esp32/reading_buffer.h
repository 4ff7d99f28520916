// A fixed-size queue of temperature readings for a microcontroller that is sometimes offline.
// Readings are stamped with millis() when taken; once the clock is set (NTP) each gets its Unix
// time, computed back from its millis(), so readings taken before the first sync keep their
// real time. The oldest readings are sent first and removed only after Hearth accepted them,
// so a failed post is retried with the same timestamps. Plain C++ (no Arduino headers), so it
// is tested on a PC: see ../test/test_reading_buffer.cpp.
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

template <size_t Capacity>
class ReadingBuffer {
 public:
  struct Reading {
    uint32_t takenMillis;  // millis() when taken
    int64_t unixSeconds;   // 0 until the clock is known
    float value;
  };

  // Adds a reading; when full, the oldest is dropped (and counted).
  void push(uint32_t takenMillis, int64_t unixSeconds, float value) {
    if (count_ == Capacity) {
      head_ = (head_ + 1) % Capacity;
      count_--;
      dropped_++;
    }
    items_[(head_ + count_) % Capacity] = Reading{takenMillis, unixSeconds, value};
    count_++;
  }

  // Gives a Unix time to readings taken before the clock was known.
  void resolveTimes(uint32_t nowMillis, int64_t nowUnixSeconds) {
    for (size_t i = 0; i < count_; i++) {
      Reading& r = at(i);
      if (r.unixSeconds == 0) {
        uint32_t age = nowMillis - r.takenMillis;  // unsigned: correct across millis() wrap-around
        r.unixSeconds = nowUnixSeconds - static_cast<int64_t>(age / 1000);
      }
    }
  }

  // Writes {"readings":[...]} with the oldest readings that have a time, at most maxReadings,
  // for sensor `key` of kind `kind`. Returns how many it wrote (0 if none or out fits none).
  size_t toJson(char* out, size_t capacity, const char* key, const char* kind, size_t maxReadings) const {
    size_t used = snprintf(out, capacity, "{\"readings\":[");
    size_t written = 0;
    for (size_t i = 0; i < count_ && written < maxReadings; i++) {
      const Reading& r = at(i);
      if (r.unixSeconds == 0) break;  // keep order: stop at the first reading without a time
      char item[160];
      int n = snprintf(item, sizeof item, "%s{\"sensor\":\"%s\",\"value\":%.2f,\"at\":%lld,\"kind\":\"%s\"}",
                       written ? "," : "", key, static_cast<double>(r.value), static_cast<long long>(r.unixSeconds), kind);
      if (n < 0 || used + n + 3 > capacity) break;
      memcpyInto(out + used, item, n);
      used += n;
      written++;
    }
    if (written == 0) {
      if (capacity) out[0] = '\0';
      return 0;
    }
    out[used++] = ']';
    out[used++] = '}';
    out[used] = '\0';
    return written;
  }

  // Removes the n oldest readings (after Hearth accepted them).
  void dropOldest(size_t n) {
    if (n > count_) n = count_;
    head_ = (head_ + n) % Capacity;
    count_ -= n;
  }

  size_t size() const { return count_; }
  uint32_t dropped() const { return dropped_; }
  const Reading& oldest(size_t i) const { return at(i); }

 private:
  Reading& at(size_t i) { return items_[(head_ + i) % Capacity]; }
  const Reading& at(size_t i) const { return items_[(head_ + i) % Capacity]; }
  static void memcpyInto(char* to, const char* from, int n) {
    for (int i = 0; i < n; i++) to[i] = from[i];
  }

  Reading items_[Capacity] = {};
  size_t head_ = 0;
  size_t count_ = 0;
  uint32_t dropped_ = 0;
};
