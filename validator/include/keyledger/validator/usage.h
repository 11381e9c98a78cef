// Key usage on a validator replica (issue 17), kept off the check path's way:
//
// UsageRecorder: per (key, UTC minute) counts of allowed and denied checks, and the model and
// source VPC of the minute's last allowed check, in memory. Record, on the check path, only
// appends a fixed-size entry to one of 16 buffers (picked per thread, so its lock is uncontended)
// with no allocation and no random memory access; Fold, on the publisher's thread every 100 ms,
// folds the buffers into the aggregates. A buffer holds at most `max_buffered` checks between
// folds and at most `max_entries` (key, minute) aggregates are held; a check beyond either is not
// counted, and `dropped_checks` says how many were not.
// UsagePublisher: a thread that, every `flush_interval_ms` and on Stop, sends each aggregate that
// changed since it was last sent to the usage topic (events/usage.h: cumulative counts, so a
// re-sent record counts once) through an idempotent producer. The producer's queue is the bounded
// backlog while the brokers cannot be reached (`max_backlog` records, each retried for
// `message_timeout_ms`); a record that does not fit, or is given up, is dropped and counted. A
// later aggregate of the same minute carries the dropped counts again, so only a minute's last
// record being lost loses usage.
// Thread: Record from any thread; Fold and Collect from any thread (they serialise on one lock).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "keyledger/common/clock.h"
#include "keyledger/common/log.h"
#include "keyledger/common/mutex.h"
#include "keyledger/events/usage.h"
#include "keyledger/storage/kafka.h"

namespace keyledger::validator {

class UsageRecorder {
 public:
  explicit UsageRecorder(size_t max_entries = 200000, size_t max_buffered = 65536);
  // One check of a known key at `now_micros` (wall clock).
  void Record(const std::array<std::uint8_t, 16>& key_id, std::string_view team_id, std::int64_t now_micros,
              bool allowed, std::string_view model, std::string_view source_vpc) KL_EXCLUDES(mu_);
  // Folds the buffered checks into the aggregates.
  void Fold() KL_EXCLUDES(mu_);
  // Folds, then the aggregates changed since the last Collect, as records of `replica_id`;
  // forgets the minutes before `now_micros`'s previous minute that have been collected.
  std::vector<events::UsageRecord> Collect(const std::string& replica_id, std::int64_t now_micros) KL_EXCLUDES(mu_);
  std::uint64_t dropped_checks() const { return dropped_.load(std::memory_order_relaxed); }
  size_t entries() const { return entry_count_.load(std::memory_order_relaxed); }

 private:
  // One check as Record appends it: 96 bytes, with the team, model and VPC side by side in `text`
  // when together they fit (the usual case); a check whose do not goes aside whole (Long).
  static constexpr size_t kTextBytes = 68;
  struct Buffered {
    std::array<std::uint8_t, 16> key_id;
    std::int64_t micros;
    bool allowed;
    std::uint8_t team_size, model_size, vpc_size;
    char text[kTextBytes];
    std::string_view team() const { return {text, team_size}; }
    std::string_view model() const { return {text + team_size, model_size}; }
    std::string_view vpc() const { return {text + team_size + model_size, vpc_size}; }
  };
  struct Long {  // a check whose team, model or VPC did not fit inline (rare)
    std::array<std::uint8_t, 16> key_id;
    std::int64_t micros;
    bool allowed;
    std::string team, model, vpc;
  };
  struct Buffer {
    common::Mutex mu;
    std::vector<Buffered> checks KL_GUARDED_BY(mu);
    std::vector<Long> long_checks KL_GUARDED_BY(mu);
  };
  struct Key {
    std::array<std::uint8_t, 16> key_id{};
    std::int64_t minute = 0;
    friend bool operator==(const Key&, const Key&) = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const;
  };
  struct Entry {
    std::string team_id;
    std::uint64_t allowed = 0;
    std::uint64_t denied = 0;
    std::string last_model;
    std::string last_source_vpc;
    bool dirty = false;
  };
  static constexpr size_t kBuffers = 16;
  void Apply(const std::array<std::uint8_t, 16>& key_id, std::int64_t micros, bool allowed, std::string_view team,
             std::string_view model, std::string_view vpc) KL_REQUIRES(mu_);

  const size_t max_entries_;
  const size_t max_buffered_;
  std::array<Buffer, kBuffers> buffers_;
  std::atomic<std::uint64_t> dropped_{0};
  std::atomic<size_t> entry_count_{0};
  common::Mutex mu_;  // the aggregates (Fold and Collect)
  std::unordered_map<Key, Entry, KeyHash> entries_ KL_GUARDED_BY(mu_);
  std::vector<Buffered> spare_ KL_GUARDED_BY(mu_);  // a drained buffer's storage, handed back on the next swap
};

struct UsagePublisherOptions {
  storage::KafkaConfig kafka;
  std::string topic;  // events::UsageTopicFor(the key-event topic)
  std::string replica_id;
  int flush_interval_ms = 10000;
  int max_backlog = 100000;           // records queued for the brokers at most
  int message_timeout_ms = 300000;    // a queued record is retried this long, then dropped
};

class UsagePublisher {
 public:
  // `recorder`, `logger` and `clock` must outlive the publisher.
  UsagePublisher(UsagePublisherOptions options, UsageRecorder* recorder, common::Logger* logger,
                 const common::Clock* clock);
  ~UsagePublisher();
  common::Status Start();
  // Sends what is left and waits up to 2 s for it to be delivered.
  void Stop() KL_EXCLUDES(mu_);
  // Sends what changed now (tests and benchmarks; the thread does it every flush interval).
  void Flush();
  std::uint64_t sent() const { return sent_.load(); }
  std::uint64_t delivered() const;
  // Records that did not fit the backlog or were given up after message_timeout_ms.
  std::uint64_t dropped() const;

 private:
  void Loop() KL_EXCLUDES(mu_);

  UsagePublisherOptions options_;
  UsageRecorder* recorder_;
  common::Logger* logger_;
  const common::Clock* clock_;
  std::unique_ptr<storage::RecordProducer> producer_;
  common::Mutex mu_;
  common::CondVar wake_;
  bool stop_ KL_GUARDED_BY(mu_) = false;
  common::Mutex flush_mu_;  // one Flush at a time
  std::atomic<std::uint64_t> sent_{0};
  std::atomic<std::uint64_t> rejected_{0};
  std::int64_t last_error_log_ms_ = 0;
  std::thread thread_;
};

}  // namespace keyledger::validator
