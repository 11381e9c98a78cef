// A replica validator: reads every partition of the key-event topic (no consumer group; each
// replica reads everything), keeps a SecretIndex, and answers checks. A regenerated or deleted
// secret is denied as soon as this replica has read the event.
//
// Fast restart: the index and its offsets are snapshotted to a file every `snapshot_interval_ms`
// and on Stop; Start loads the snapshot and reads on from its offsets. Ready once it has read to
// the end of the log after starting; lag per partition is refreshed every second. An event that
// cannot be decoded halts its partition (logged, counted) and the replica reports not ready.
// Threads: one consumer thread owned by the replica; Check, Ready and stats from any thread.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "keyledger/common/clock.h"
#include "keyledger/common/files.h"
#include "keyledger/common/log.h"
#include "keyledger/common/mutex.h"
#include "keyledger/storage/kafka.h"
#include "keyledger/validator/secret_index.h"

namespace keyledger::validator {

struct ReplicaOptions {
  storage::KafkaConfig kafka;
  std::string topic = storage::kDefaultTopic;
  std::string snapshot_path;  // empty: no snapshots
  int snapshot_interval_ms = 30000;
  common::FileSystem* files = nullptr;  // null: the machine's filesystem
};

struct ReplicaStats {
  std::uint64_t events_applied = 0;
  std::uint64_t undecodable_events = 0;
  std::set<std::int32_t> halted_partitions;
  std::map<std::int32_t, std::int64_t> lag;  // per partition, events not yet read
  bool loaded_snapshot = false;
};

class Replica {
 public:
  // `catalog`, `logger` and `clock` must outlive the replica.
  Replica(ReplicaOptions options, const events::Catalog* catalog, common::Logger* logger, const common::Clock* clock);
  ~Replica();
  common::Status Start();
  void Stop();

  // The index's decision, except that nothing is allowed while the replica cannot vouch for it:
  // before it has first read to the end of the log (a stale snapshot may still hold revoked
  // secrets), or when the key's partition is halted (later events of that team, such as a
  // deletion, are not being applied). Those checks answer kNotReady.
  Decision Check(const CheckRequest& request) const;
  bool Ready(std::string* why) const KL_EXCLUDES(mu_);
  ReplicaStats stats() const KL_EXCLUDES(mu_);
  const SecretIndex& index() const { return index_; }

 private:
  void Loop();
  common::Status Snapshot();

  ReplicaOptions options_;
  common::Logger* logger_;
  const common::Clock* clock_;
  SecretIndex index_;
  std::unique_ptr<storage::LogReader> reader_;  // consumer thread only
  std::map<std::int32_t, std::int64_t> positions_;  // consumer thread only
  mutable common::Mutex mu_;
  ReplicaStats stats_ KL_GUARDED_BY(mu_);
  bool caught_up_ KL_GUARDED_BY(mu_) = false;
  std::int32_t partition_count_ = 0;
  // Lock-free copies for Check: caught up once, and a bit per halted partition (partitions
  // from 64 on share one flag).
  std::atomic<bool> checks_ready_{false};
  std::atomic<std::uint64_t> halted_mask_{0};
  std::atomic<bool> halted_beyond_mask_{false};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace keyledger::validator
