// Time as microseconds since the Unix epoch, behind an interface so tests inject it.
// Thread: SystemClock is thread-safe; ManualClock is thread-safe (atomic).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "keyledger/common/status.h"

namespace keyledger::common {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::int64_t NowMicros() const = 0;
};

class SystemClock final : public Clock {
 public:
  std::int64_t NowMicros() const override;
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(std::int64_t now_micros) : now_(now_micros) {}
  std::int64_t NowMicros() const override { return now_.load(); }
  void Set(std::int64_t now_micros) { now_.store(now_micros); }
  void Advance(std::int64_t micros) { now_.fetch_add(micros); }

 private:
  std::atomic<std::int64_t> now_;
};

// RFC 3339 UTC with microseconds when non-zero: 2026-11-22T21:55:12.123456Z.
std::string FormatRfc3339(std::int64_t micros);
// Accepts RFC 3339 with 'Z' or a numeric offset and optional fraction (up to 9 digits).
Result<std::int64_t> ParseRfc3339(std::string_view text);

}  // namespace keyledger::common
