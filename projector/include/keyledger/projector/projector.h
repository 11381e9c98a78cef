// The projector: consumes every partition of the key-event topic (read_committed) and maintains
// the read models of read_model.h.
//
// Each batch of applied events is one WriteBatch that also carries the next offset and the hash
// chain head of every partition it touched, so a crash at any point leaves the store equal to a
// replay of a prefix of the log, and a restart resumes from the stored offsets. Offsets may have
// gaps (transaction markers).
//
// Each partition is read through an events::PartitionGuard, the rule every consumer shares: an
// event that cannot be decoded, breaks its partition's hash chain, is in the wrong partition or
// does not follow from the key's state halts that partition: the halt (partition, offset, reason,
// record SHA-256) is stored, logged and counted, the other partitions go on, and nothing past it
// is applied until the operator's RecordSkipped event for exactly that record arrives (appended
// through the writer: `keyledger skip`). Then the skip is recorded in the store (who, when, why:
// all from the event, so a replay records the same) and the partition is read again from the
// record after the skipped one.
//
// Threads: Start() runs the consumer loop on a thread the projector owns; WaitForOffset, stats()
// and the ReadModel may be used from any thread. RunUntil runs the loop on the caller's thread
// (tools, tests, replay) and must not be combined with Start(). Either way the loop decodes and
// applies a batch while a second thread writes the previous one to the store: batches are written
// one at a time and in order, and a batch counts as applied (offsets, WaitForOffset, stats) only
// once its write has returned.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>

#include "keyledger/common/clock.h"
#include "keyledger/common/log.h"
#include "keyledger/common/mutex.h"
#include "keyledger/common/status.h"
#include "keyledger/events/partition_guard.h"
#include "keyledger/projector/layout.h"
#include "keyledger/projector/read_model.h"
#include "keyledger/storage/kafka.h"
#include "keyledger/storage/store.h"

namespace keyledger::projector {

struct ProjectorOptions {
  storage::KafkaConfig kafka;
  std::string topic = storage::kDefaultTopic;
  size_t max_batch_events = 20000;
  int poll_timeout_ms = 100;
  // Rate limit for the consumer loop (0 = none): keeps a rebuild from saturating a shared disk.
  std::uint64_t max_events_per_second = 0;
  // RunUntil returns Unavailable("interrupted") soon after this becomes true (it must outlive
  // the projector). Everything applied so far is stored; a later run resumes from there.
  const std::atomic<bool>* cancel = nullptr;
};

struct ProjectorStats {
  std::uint64_t events_applied = 0;
  std::uint64_t batches_written = 0;
  std::uint64_t halts = 0;          // partitions currently halted
  std::uint64_t decode_errors = 0;  // records that could not be decoded or applied, since start
  std::uint64_t skips_honoured = 0; // operator skips that moved a halted partition on, since start
  // Set when the running projector stopped itself because the store refused a write (disk full,
  // read-only directory, I/O error); only a restart from the stored offsets can go on.
  std::string failure;
  std::map<std::int32_t, std::int64_t> next_offsets;
};

class Projector {
 public:
  // `store`, `logger` and `clock` must outlive the projector.
  Projector(ProjectorOptions options, storage::Store* store, common::Logger* logger,
            const common::Clock* clock);
  ~Projector();
  Projector(const Projector&) = delete;
  Projector& operator=(const Projector&) = delete;

  // Connects, loads stored offsets and starts the consumer thread.
  common::Status Start();
  // Stops the thread (finishing the batch in hand) and closes the consumer.
  void Stop();

  // Projects on the caller's thread until every non-halted partition is caught up with the log
  // as of the call (or has reached `stop_at`'s offset for it, if given, or the end of a log that stops
  // short of it); Unavailable after
  // `timeout_ms` without getting there.
  common::Status RunUntil(int timeout_ms,
                          const std::optional<std::map<std::int32_t, std::int64_t>>& stop_at = {});

  // Blocks until the event at (partition, offset) has been applied (read-your-writes);
  // Unavailable after `timeout_ms`, DataLoss if the partition halted before it.
  common::Status WaitForOffset(std::int32_t partition, std::int64_t offset, int timeout_ms);

  ProjectorStats stats() const;
  const ReadModel& read_model() const { return read_model_; }
  // Sum over partitions of (end of log - next offset); needs the broker.
  common::Result<std::int64_t> Lag(int timeout_ms);

 private:
  using PartitionState = events::PartitionPosition;

  struct Prepared;
  class Committer;
  // What one step of the consumer loop did.
  struct Step {
    common::Status read = common::Status::Ok();   // the poll failed (the broker is away)
    common::Status write = common::Status::Ok();  // preparing or writing a batch failed
    size_t records = 0;                           // records handed to the committer
    bool log_exhausted = false;                   // nothing came and the log is at its end
  };

  common::Status Load() KL_EXCLUDES(mu_);
  // Brings a store from an older layout (layout.h) up to this build's: each key's history folded
  // once to store the state after every revision (before 3), every view counted (before 2), the
  // version written last. Refuses a newer layout. (prepare.cc)
  common::Status UpgradeLayout();
  common::Status OpenReader() KL_EXCLUDES(mu_);
  // Polls once, keeps the records before `stop_at`, prepares them and hands them over.
  Step PollOnce(Committer& committer, const std::optional<std::map<std::int32_t, std::int64_t>>& stop_at);
  // Seeks the reader for the partitions an honoured skip sends back (seeks_).
  common::Status SeekPending();
  // Sleeps what is left of the batch's share of max_events_per_second.
  void Throttle(std::int64_t batch_start_micros, size_t records) const;
  // Decodes and applies records (in partition order) to the prepared state and builds the one
  // WriteBatch that stores them; nothing is written yet. (prepare.cc)
  common::Result<std::unique_ptr<Prepared>> Prepare(const std::vector<storage::LogRecord>& records);
  // Writes a prepared batch and publishes it (offsets, stats, halts). On the committer's thread.
  common::Status Commit(Prepared& prepared) KL_EXCLUDES(mu_);
  void Loop();
  void StopFailed(const common::Status& error) KL_EXCLUDES(mu_);

  ProjectorOptions options_;
  storage::Store* store_;
  common::Logger* logger_;
  const common::Clock* clock_;
  ReadModel read_model_;
  std::int32_t partition_count_ = 0;
  std::unique_ptr<storage::LogReader> reader_;  // Owned by the projector thread.
  // Recently prepared key states, so most events need no store read. Projector thread only.
  std::unordered_map<std::string, events::KeyState> cache_;
  // The view counts (layout.h) as of the last prepared batch, for every count that batch changed
  // (the batch being written may not be in the store yet). Projector thread only.
  std::unordered_map<std::string, std::int64_t> count_cache_;
  // Partition states as of the last prepared batch (ahead of partitions_ by at most the batch
  // being written). Projector thread only.
  std::map<std::int32_t, PartitionState> prepared_;
  // Partitions to read again from an offset (after an honoured skip). Projector thread only.
  std::map<std::int32_t, std::int64_t> seeks_;

  mutable common::Mutex mu_;
  common::CondVar applied_cv_;  // a batch was written, or the projector stopped
  std::map<std::int32_t, PartitionState> partitions_ KL_GUARDED_BY(mu_);  // As of the last written batch.
  ProjectorStats stats_ KL_GUARDED_BY(mu_);
  bool failed_ KL_GUARDED_BY(mu_) = false;  // stopped: the store refused a write

  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace keyledger::projector
