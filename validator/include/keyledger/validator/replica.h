// A replica validator: reads every partition of the key-event topic (no consumer group; each
// replica reads everything), keeps a SecretIndex, and answers checks. A regenerated or deleted
// secret is denied as soon as this replica has read the event.
//
// Freshness: a prober thread asks the brokers, every `probe_interval_ms`, how far each partition's
// committed records go (storage::OffsetProbe); a partition is confirmed as of the moment of a
// question whose answer the replica's reader has reached. A partition not confirmed within
// `max_staleness_ms` is stale: its keys' checks answer kStale (or are allowed, when the operator
// chose `allow_when_stale`), and the replica is not ready. So a replica cut off from its brokers
// stops vouching for secrets within max_staleness_ms (plus one probe interval) of its last
// confirmation, whatever its reader's cached state says.
//
// Partitions: each is walked by an events::PartitionGuard, the rule every consumer shares: a
// record that does not decode, is in the wrong partition or breaks the hash chain halts its
// partition (logged, counted; its keys answer kPartitionHalted, while the replica stays ready for
// every other team) until an operator's skip record names it.
// A topic that does not exist yet is waited for (not ready, saying so); partitions added to the
// topic are picked up within `metadata_interval_ms`.
//
// Fast restart: the index and every partition's position are snapshotted every
// `snapshot_interval_ms` and on Stop; Start loads the snapshot and reads on from there.
// Threads: a consumer thread and a prober thread, owned by the replica; Check, Ready and stats
// from any thread (Check takes no lock of the replica's).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "keyledger/common/clock.h"
#include "keyledger/common/files.h"
#include "keyledger/common/log.h"
#include "keyledger/common/mutex.h"
#include "keyledger/events/partition_guard.h"
#include "keyledger/storage/kafka.h"
#include "keyledger/validator/replica_status.h"
#include "keyledger/validator/secret_index.h"
#include "keyledger/validator/usage.h"

namespace keyledger::validator {

struct ReplicaOptions {
  storage::KafkaConfig kafka;
  std::string topic = storage::kDefaultTopic;
  std::string snapshot_path;  // empty: no snapshots
  int snapshot_interval_ms = 30000;
  common::FileSystem* files = nullptr;  // null: the machine's filesystem
  int max_staleness_ms = 5000;
  bool allow_when_stale = false;
  int probe_interval_ms = 200;
  int metadata_interval_ms = 5000;
};

struct PartitionStatus {
  std::int32_t partition = 0;
  std::int64_t read_to = 0;     // the reader's position (transaction markers included)
  std::int64_t applied = 0;     // the index holds every event before this offset
  std::int64_t log_end = -1;    // the last stable offset the brokers last answered; -1 unknown
  std::int64_t staleness_ms = -1;  // since the last confirmation; -1 never confirmed
  std::optional<events::PartitionHalt> halt;
};

struct ReplicaStats {
  std::uint64_t events_applied = 0;
  std::uint64_t halts = 0;           // records that halted a partition, ever
  std::uint64_t skips_honoured = 0;
  std::uint64_t poll_errors = 0;
  std::uint64_t probe_errors = 0;
  bool loaded_snapshot = false;
  std::string waiting_for;  // non-empty while there is no topic to read yet
  std::vector<PartitionStatus> partitions;
};

class Replica {
 public:
  // `catalog`, `logger` and `clock` must outlive the replica.
  Replica(ReplicaOptions options, const events::Catalog* catalog, common::Logger* logger, const common::Clock* clock);
  ~Replica();
  // Loads the snapshot and starts the threads; the topic need not exist yet.
  common::Status Start();
  void Stop();

  // The index's decision, except that nothing is allowed while the replica cannot vouch for it:
  // before it has first read to the end of the log (a stale snapshot may still hold revoked
  // secrets) or when the key's partition is halted (kPartitionHalted), or when the partition is stale
  // (kStale, unless allow_when_stale). Every decision carries the staleness it was made with.
  Decision Check(const CheckRequest& request) const;
  bool Ready(std::string* why) const KL_EXCLUDES(mu_);
  ReplicaStats stats() const KL_EXCLUDES(mu_);
  // What this replica says of itself (replica_status.h): per partition the offset its index has
  // applied up to, staleness and halt. Read after the index was updated, so never more than applied.
  ReplicaHeartbeat Heartbeat(const std::string& replica_id) const KL_EXCLUDES(mu_);
  // Called on the consumer thread right after a batch that applied a regenerate or a delete
  // (set before Start).
  void SetOnRevocation(std::function<void()> callback) { on_revocation_ = std::move(callback); }
  // Every decision about a known key is counted here (usage.h), allowed or denied, except those
  // the replica could not vouch for (not ready, stale, halted). Set before Start; null: none.
  void SetUsageRecorder(UsageRecorder* recorder) { usage_ = recorder; }
  const SecretIndex& index() const { return index_; }
  const ReplicaOptions& options() const { return options_; }

 private:
  // Lock-free per-partition state for Check and the prober. A table never shrinks; when the topic
  // grows, a bigger table replaces it and the old one is kept until the replica goes.
  struct PartitionTable {
    explicit PartitionTable(std::int32_t n)
        : count(n), read_to(new std::atomic<std::int64_t>[n]), confirmed_micros(new std::atomic<std::int64_t>[n]),
          log_end(new std::atomic<std::int64_t>[n]), halted(new std::atomic<bool>[n]),
          applied(new std::atomic<std::int64_t>[n]) {
      for (std::int32_t i = 0; i < n; ++i) {
        read_to[i] = 0;
        applied[i] = 0;
        confirmed_micros[i] = kNeverConfirmed;
        log_end[i] = -1;
        halted[i] = false;
      }
    }
    static constexpr std::int64_t kNeverConfirmed = INT64_MIN;
    const std::int32_t count;
    std::unique_ptr<std::atomic<std::int64_t>[]> read_to;
    std::unique_ptr<std::atomic<std::int64_t>[]> confirmed_micros;
    std::unique_ptr<std::atomic<std::int64_t>[]> log_end;
    std::unique_ptr<std::atomic<bool>[]> halted;
    std::unique_ptr<std::atomic<std::int64_t>[]> applied;  // the guard's next offset: all before it is in the index
  };

  void Loop();
  void Probe();
  // Consumer thread: the topic has `count` partitions now (the first time, or more than before).
  common::Status Grow(std::int32_t count) KL_EXCLUDES(mu_);
  void ApplyRecords(const std::vector<storage::LogRecord>& records);
  common::Status Snapshot();
  std::int64_t StalenessMs(const PartitionTable& table, std::int32_t partition, std::int64_t now) const;
  void LogRateLimited(std::int64_t* last, const char* what, const common::Status& error);

  ReplicaOptions options_;
  common::Logger* logger_;
  const common::Clock* clock_;
  SecretIndex index_;
  // Consumer thread only:
  std::unique_ptr<storage::LogReader> reader_;
  std::map<std::int32_t, events::PartitionGuard> guards_;
  std::int64_t last_snapshot_ms_ = 0;
  std::function<void()> on_revocation_;
  UsageRecorder* usage_ = nullptr;

  std::atomic<const PartitionTable*> table_{nullptr};
  std::atomic<std::int32_t> topic_partitions_{0};  // from the prober; 0 while there is no topic
  std::atomic<bool> checks_ready_{false};
  std::atomic<std::int64_t> worst_confirmed_micros_{PartitionTable::kNeverConfirmed};

  mutable common::Mutex mu_;
  std::vector<std::unique_ptr<PartitionTable>> tables_ KL_GUARDED_BY(mu_);  // every table made
  ReplicaStats stats_ KL_GUARDED_BY(mu_);
  bool caught_up_ KL_GUARDED_BY(mu_) = false;
  std::map<std::int32_t, std::optional<events::PartitionHalt>> halts_ KL_GUARDED_BY(mu_);

  std::atomic<bool> stop_{false};
  std::thread consumer_;
  std::thread prober_;
};

}  // namespace keyledger::validator
