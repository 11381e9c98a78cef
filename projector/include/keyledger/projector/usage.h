// The usage read models (issue 17), projected from the usage topic (events/usage.h) into a store
// of their own, beside the key read models: rebuilt by projecting the usage topic again (delete
// the store; serve re-projects from offset 0), never from the key-event log, which stays the only
// source of key state.
//
//   usage_minutes  partition(be32) minute(be64) replica \0 key_id  -> allowed, denied (varints)
//   usage_days     key_id \0 day(be32)                             -> allowed, denied (varints)
//   last_used      key_id                                          -> minute, model, source VPC
//   usage_meta     "offset" partition(be32)                        -> next offset (be64)
//                  "newest" partition(be32)                        -> newest minute seen (be64)
//
// Folding a record: usage_minutes holds each (replica, key, minute)'s largest counts seen; a
// record adds to the key's day only what it has beyond them, so a re-sent or older aggregate adds
// nothing. last_used moves to a record's minute when the record adds allowed checks and its minute
// is not before the current one. A partition's (replica, key, minute) entries are kept for a day
// behind the newest minute seen in that partition (kDedupMinutes), then pruned; a record older than
// that is late, and dropped (counted). All of this depends only on each partition's records in
// order, so a rebuild from the topic equals the live models. A record that does not decode is
// skipped and counted: usage is telemetry, and a bad record must not stop it.
// Thread: UsageProjector owns one thread; UsageReads and the free functions are thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "keyledger/common/clock.h"
#include "keyledger/common/log.h"
#include "keyledger/common/mutex.h"
#include "keyledger/common/status.h"
#include "keyledger/storage/kafka.h"
#include "keyledger/storage/store.h"

namespace keyledger::projector {

enum class UsageColumn : int { kMinutes = 0, kDays, kLastUsed, kMeta };
inline constexpr std::array<std::string_view, 4> kUsageColumnNames = {"usage_minutes", "usage_days", "last_used",
                                                                      "usage_meta"};
inline constexpr std::int64_t kDedupMinutes = 24 * 60;

common::Result<std::unique_ptr<storage::Store>> OpenUsageStore(const std::string& path,
                                                               const storage::StoreOptions& options);

struct UsageFoldStats {
  std::uint64_t records = 0;     // folded (counted something)
  std::uint64_t duplicates = 0;  // added nothing (re-sent or superseded)
  std::uint64_t late = 0;        // older than the dedup window
  std::uint64_t bad = 0;         // did not decode
  std::uint64_t pruned = 0;      // (replica, key, minute) entries pruned
  friend bool operator==(const UsageFoldStats&, const UsageFoldStats&) = default;
};

// Folds `records` (of the usage topic, each partition's in order) into `store` in one atomic write,
// with each partition's next offset.
common::Status FoldUsage(storage::Store* store, const std::vector<storage::LogRecord>& records, UsageFoldStats* stats);

// Each partition's next offset as stored.
common::Result<std::map<std::int32_t, std::int64_t>> UsageOffsets(const storage::Store& store);

// SHA-256 over the three models (not the offsets), to compare a rebuild with the live store.
common::Result<std::string> UsageChecksum(const storage::Store& store);

struct LastUse {
  std::int64_t minute = 0;  // minutes since the epoch
  std::string model;
  std::string source_vpc;
};
struct DayUsage {
  std::int64_t day = 0;  // days since the epoch
  std::uint64_t allowed = 0;
  std::uint64_t denied = 0;
};

class UsageReads {
 public:
  explicit UsageReads(const storage::Store* store) : store_(store) {}
  common::Result<std::optional<LastUse>> LastUsed(std::string_view key_id) const;
  // The key's days in [first_day, last_day], only days with checks, oldest first.
  common::Result<std::vector<DayUsage>> Days(std::string_view key_id, std::int64_t first_day,
                                             std::int64_t last_day) const;

 private:
  const storage::Store* store_;
};

struct UsageProjectorOptions {
  storage::KafkaConfig kafka;
  std::string topic;  // events::UsageTopicFor(the key-event topic)
  size_t max_batch_records = 5000;
  int poll_timeout_ms = 200;
  int metadata_interval_ms = 5000;  // partitions added to the topic are picked up this often
};

struct UsageProjectorStats {
  UsageFoldStats folded;
  std::uint64_t batches = 0;
  std::uint64_t errors = 0;
  std::string last_error;
  std::string waiting_for;  // non-empty while the topic does not exist
};

// Projects the usage topic into a usage store, from its stored offsets, until Stop.
class UsageProjector {
 public:
  // `store`, `logger` and `clock` must outlive the projector.
  UsageProjector(UsageProjectorOptions options, storage::Store* store, common::Logger* logger,
                 const common::Clock* clock);
  ~UsageProjector();
  void Start();
  void Stop();
  UsageProjectorStats stats() const KL_EXCLUDES(mu_);
  // Each partition's next offset to fold (for tests and lag).
  std::map<std::int32_t, std::int64_t> positions() const KL_EXCLUDES(mu_);

 private:
  void Loop();
  void Fail(const common::Status& s) KL_EXCLUDES(mu_);

  UsageProjectorOptions options_;
  storage::Store* store_;
  common::Logger* logger_;
  const common::Clock* clock_;
  mutable common::Mutex mu_;
  UsageProjectorStats stats_ KL_GUARDED_BY(mu_);
  std::map<std::int32_t, std::int64_t> positions_ KL_GUARDED_BY(mu_);
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace keyledger::projector
