// Key usage on a validator replica (issue 17), kept off the check path's way:
//
// UsageRecorder: per (key, UTC minute) counts of allowed and denied checks, and the model and
// source VPC of the minute's last allowed check, in memory. Record takes one of 16 shard locks
// for a hash-map update (no allocation once the key's minute exists) and never waits on I/O.
// At most `max_entries` (key, minute) pairs are held; a check that would need another is not
// counted, and `dropped_checks` says how many were not.
//
// UsagePublisher: a thread that, every `flush_interval_ms` and on Stop, sends each aggregate that
// changed since it was last sent to the usage topic (events/usage.h: cumulative counts, so a
// re-sent record counts once) through an idempotent producer. The producer's queue is the bounded
// backlog while the brokers cannot be reached (`max_backlog` records, each retried for
// `message_timeout_ms`); a record that does not fit, or is given up, is dropped and counted. A
// later aggregate of the same minute carries the dropped counts again, so only a minute's last
// record being lost loses usage.
// Thread: Record from any thread; Collect from one thread at a time (the publisher's).
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
  explicit UsageRecorder(size_t max_entries = 200000);
  // One check of a known key at `now_micros` (wall clock).
  void Record(const std::array<std::uint8_t, 16>& key_id, std::string_view team_id, std::int64_t now_micros,
              bool allowed, std::string_view model, std::string_view source_vpc);
  // The aggregates changed since the last Collect, as records of `replica_id`; forgets the
  // minutes before `now_micros`'s previous minute that have been collected.
  std::vector<events::UsageRecord> Collect(const std::string& replica_id, std::int64_t now_micros);
  std::uint64_t dropped_checks() const { return dropped_.load(std::memory_order_relaxed); }
  size_t entries() const { return entries_.load(std::memory_order_relaxed); }

 private:
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
  struct Shard {
    common::Mutex mu;
    std::unordered_map<Key, Entry, KeyHash> entries KL_GUARDED_BY(mu);
  };
  static constexpr size_t kShards = 16;
  const size_t max_entries_;
  std::array<Shard, kShards> shards_;
  std::atomic<size_t> entries_{0};
  std::atomic<std::uint64_t> dropped_{0};
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
