// Time behind one interface, so tests and fault tests inject it: the wall clock (microseconds
// since the Unix epoch: event times, RFC 3339), a monotonic clock for durations and deadlines,
// and sleeping. Components never call std::chrono's clocks or std::this_thread::sleep_for
// themselves.
// Thread: SystemClock and ManualClock are thread-safe.
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
  // Wall-clock time, microseconds since the Unix epoch (may jump).
  virtual std::int64_t NowMicros() const = 0;
  // Monotonic time in microseconds from an arbitrary origin: for durations and deadlines.
  virtual std::int64_t MonotonicMicros() const = 0;
  virtual void SleepForMicros(std::int64_t micros) const = 0;

  std::int64_t MonotonicMillis() const { return MonotonicMicros() / 1000; }
  void SleepForMillis(std::int64_t millis) const { SleepForMicros(millis * 1000); }
};

class SystemClock final : public Clock {
 public:
  std::int64_t NowMicros() const override;
  std::int64_t MonotonicMicros() const override;
  void SleepForMicros(std::int64_t micros) const override;
};

// Time that moves only when told: Advance, Set, or a sleep (which advances both clocks by its
// length and returns at once).
class ManualClock final : public Clock {
 public:
  explicit ManualClock(std::int64_t now_micros) : now_(now_micros) {}
  std::int64_t NowMicros() const override { return now_.load(); }
  std::int64_t MonotonicMicros() const override { return monotonic_.load(); }
  void SleepForMicros(std::int64_t micros) const override {
    if (micros > 0) Advance(micros);
  }
  void Set(std::int64_t now_micros) { now_.store(now_micros); }
  void Advance(std::int64_t micros) const {
    now_.fetch_add(micros);
    monotonic_.fetch_add(micros);
  }

 private:
  mutable std::atomic<std::int64_t> now_;
  mutable std::atomic<std::int64_t> monotonic_{0};
};

// RFC 3339 UTC with microseconds when non-zero: 2026-11-22T21:55:12.123456Z.
std::string FormatRfc3339(std::int64_t micros);
// Accepts RFC 3339 with 'Z' or a numeric offset and optional fraction (up to 9 digits).
Result<std::int64_t> ParseRfc3339(std::string_view text);

}  // namespace keyledger::common
