// The single writer of a set of partitions (SPEC section 3).
//
// On Start the writer registers its transactional identity (fencing any older writer with the
// same identity) and reads its partitions from the log (read_committed) to rebuild every key's
// state, the hash chain heads and the idempotency records of the last 24 h; only then does it
// accept commands. Each command is validated by the key rules against that state (so the
// expected revision is always the latest committed one) and the resulting event is appended
// inside a transaction. Commands that arrive while a transaction is being committed are grouped
// into the next one (group commit); a rejected command never fails the others. A command is
// acknowledged (partition, offset, revision) only after its transaction committed.
//
// Outcomes of Submit:
//   OK                  committed (or an idempotent replay of a committed command)
//   Unavailable         nothing was written: the broker is unreachable (after a bounded wait),
//                       the writer is recovering, or the command was still queued at its deadline;
//                       a retry with the same idempotency key is safe
//   FailedPrecondition  the writer is fenced (another writer took its identity; it never appends
//                       again), or the team's partition is halted on a record that cannot be
//                       applied (until an operator skips it); retrying here cannot help
//   DeadlineExceeded    the outcome is unknown (a writer stuck reconnecting); retry with the same
//                       idempotency key to learn it
//   other codes         the key rules' verdict (events/key_rules.h), or Conflict for a reused
//                       idempotency key or a secret already in use
// After a failed commit that was not a clean abort, the writer re-registers, re-reads its
// partitions and resolves each command of the failed transaction from the log itself: commands
// whose events did land are acknowledged, the others answer Unavailable.
//
// Bad records: each partition is read with an events::PartitionGuard, the rule every consumer
// shares. A record that cannot be applied halts its partition in the writer (logged): the writer
// starts and serves every other partition, and answers the halted team's commands
// FailedPrecondition naming the partition and offset. A SkipRecordCommand (an operator's, naming
// the record by partition, offset and SHA-256) appends the RecordSkipped control event, after
// which the writer and every other consumer pass over the record and go on.
//
// Where it is: writer.cc (lifecycle, submission), batch.cc (one transaction: decide, append,
// publish, on failure), recovery.cc (register, catch-up, recovery), idempotency.h.
// Threads: Submit is thread-safe and blocks its caller until the outcome is known or the command
// deadline passes. The writer owns one thread that runs transactions.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <deque>
#include <future>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "keyledger/common/clock.h"
#include "keyledger/common/crypto.h"
#include "keyledger/common/log.h"
#include "keyledger/common/mutex.h"
#include "keyledger/common/secret.h"
#include "keyledger/common/status.h"
#include "keyledger/events/catalog.h"
#include "keyledger/events/event.h"
#include "keyledger/events/key_rules.h"
#include "keyledger/events/partition_guard.h"
#include "keyledger/storage/kafka.h"
#include "keyledger/writer/command_sink.h"
#include "keyledger/writer/event_log.h"
#include "keyledger/writer/idempotency.h"

namespace keyledger::writer {

struct SecretHashHasher {
  size_t operator()(const common::SecretHash& hash) const noexcept {
    size_t h;
    std::memcpy(&h, hash.data(), sizeof(h));
    return h;
  }
};

struct WriterOptions {
  storage::KafkaConfig kafka;
  std::string topic = storage::kDefaultTopic;
  // Stable identity: transactional.id = "keyledger-writer." + topic + "." + writer_id.
  std::string writer_id = "0";
  // Partitions this writer owns; empty = all partitions of the topic.
  std::set<std::int32_t> partitions;
  size_t max_batch_commands = 1000;
  // How long Submit waits for an outcome before answering Unavailable.
  int command_timeout_ms = 5000;
  // How long one transaction may take to commit before it counts as failed.
  int commit_timeout_ms = 4000;
  // Idempotency records held at most (idempotency.h): the oldest go early beyond it, counted.
  size_t max_idempotency_records = kDefaultMaxIdempotencyRecords;
};

// "keyledger-writer.<topic>.<writer id>".
std::string TransactionalId(const std::string& topic, const std::string& writer_id);

class Writer final : public CommandSink {
 public:
  // A writer on Kafka (options.kafka). `catalog`, `clock`, `random` and `logger` must outlive it.
  Writer(WriterOptions options, const events::Catalog* catalog, const common::Clock* clock,
         common::RandomSource* random, common::Logger* logger);
  // A writer on `log` (which must outlive it); options.kafka is not used.
  Writer(WriterOptions options, EventLog* log, const events::Catalog* catalog, const common::Clock* clock,
         common::RandomSource* random, common::Logger* logger);
  ~Writer() override;
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Registers, catches up and starts accepting commands. Unavailable if the broker cannot be
  // reached within `timeout_ms`. A record that cannot be applied halts its partition only.
  common::Status Start(int timeout_ms) KL_EXCLUDES(mu_);
  void Stop() KL_EXCLUDES(mu_);

  // Blocks until the outcome is known. Unavailable always means "not written": a command still
  // queued at its deadline (now + command_timeout_ms) is answered so without being appended, and
  // so is one whose transaction failed before its commit was sent. When the commit was sent and
  // failed, the writer reads the log back to learn what landed; if it cannot by the deadline +
  // commit_timeout_ms (the log went away), the answer is DeadlineExceeded: the outcome is
  // unknown, and a retry with the same Idempotency-Key learns it once the log is back.
  common::Result<CommandOutcome> Submit(CommandRequest request) override KL_EXCLUDES(mu_);
  // Queues the command and returns at once; the future is always satisfied eventually (by the
  // writer thread, or with Unavailable at shutdown). Callers impose their own deadline.
  // A command still queued at `deadline_micros` (the writer's clock) is answered Unavailable
  // without being appended.
  std::future<common::Result<CommandOutcome>> SubmitAsync(CommandRequest request, std::int64_t deadline_micros)
      KL_EXCLUDES(mu_);
  std::future<common::Result<CommandOutcome>> SubmitAsync(CommandRequest request) override KL_EXCLUDES(mu_) {
    return SubmitAsync(std::move(request), std::numeric_limits<std::int64_t>::max());
  }

  // The key's current committed state as this writer knows it (for tests and read-your-writes).
  std::optional<events::KeyState> KeyState(const std::string& key_id) const override KL_EXCLUDES(mu_);
  // The live key holding this secret hash, if any.
  std::optional<std::string> SecretOwner(const common::SecretHash& hash) const override KL_EXCLUDES(mu_);
  std::int32_t PartitionFor(const std::string& team_id) const;
  std::int32_t partition_count() const { return partition_count_; }
  // The halts of this writer's partitions (a halted partition's team is refused), for readiness.
  std::map<std::int32_t, events::PartitionHalt> Halts() const override KL_EXCLUDES(mu_);
  WriterStats stats() const override KL_EXCLUDES(mu_);
  std::map<std::int32_t, std::int64_t> CommittedOffsets() const override KL_EXCLUDES(mu_);

 private:
  struct Pending;
  struct BatchState;
  using Batch = std::vector<std::shared_ptr<Pending>>;

  // recovery.cc
  common::Status Register(int timeout_ms);
  common::Status CatchUp(int timeout_ms) KL_EXCLUDES(mu_);
  // One record read back from the log, through its partition's guard. Returns the offset to
  // re-read the partition from after an honoured skip.
  std::optional<std::int64_t> ReadBack(const storage::LogRecord& record) KL_REQUIRES(mu_);
  common::Status ApplyFromLog(const events::Event& event, const storage::LogRecord& record) KL_REQUIRES(mu_);
  // Re-registers and reads the log back until it can, then answers `in_flight` from what landed.
  // With `commit_sent` the outcome is unknown until the log is read: the commands that carry an
  // event wait for it up to their deadline (plus commit_timeout_ms) and are answered
  // DeadlineExceeded after that; without it nothing can have landed and they are answered
  // Unavailable as soon as the log is found away.
  void Recover(Batch& in_flight, bool commit_sent) KL_EXCLUDES(mu_);
  void AnswerOutcomeUnknown(const std::shared_ptr<Pending>& p, const std::string& why) KL_EXCLUDES(mu_);
  // batch.cc: one transaction, by phase.
  void RunBatch(Batch& batch) KL_EXCLUDES(mu_);
  // Validates each command against the committed state plus the batch's own earlier events and
  // prepares its event; returns the commands to append (the others are resolved or deferred).
  Batch DecideBatch(Batch& batch) KL_EXCLUDES(mu_);
  void Decide(const std::shared_ptr<Pending>& p, BatchState& state) KL_EXCLUDES(mu_);
  void DecideSkip(const std::shared_ptr<Pending>& p, const events::SkipRecordCommand& skip, BatchState& state)
      KL_EXCLUDES(mu_);
  // Sets *commit_sent once the commit request is on its way: from then on a failure leaves the
  // outcome unknown until the log is read back.
  common::Status Append(const Batch& appended, bool* commit_sent);
  void Publish(const Batch& batch, const Batch& appended) KL_EXCLUDES(mu_);
  void OnFailure(Batch& batch, const Batch& appended, const common::Status& failure, bool commit_sent)
      KL_EXCLUDES(mu_);
  // writer.cc
  void Loop() KL_EXCLUDES(mu_);
  // Drops expired idempotency records.
  void ExpireIdempotency() KL_REQUIRES(mu_);
  void Resolve(const std::shared_ptr<Pending>& pending, common::Result<CommandOutcome> outcome) KL_EXCLUDES(mu_);
  // Fails every queued command with `why` (fencing, losing the log).
  void FailQueued(const common::Status& why) KL_EXCLUDES(mu_);
  // Keeps live_secrets_ in step with a key's change.
  void TrackSecret(const std::optional<events::KeyState>& before, const events::KeyState& after) KL_REQUIRES(mu_);
  std::string ScopeOf(const CommandRequest& request) const;
  // A replay of an earlier command with the same key (OK), a Conflict for a key reused for
  // another command, or nullopt for a new one.
  std::optional<common::Result<CommandOutcome>> CheckIdempotency(const CommandRequest& request) KL_EXCLUDES(mu_);

  WriterOptions options_;
  std::unique_ptr<EventLog> owned_log_;
  EventLog* log_;  // writer thread only (and Start)
  const events::Catalog* catalog_;
  const common::Clock* clock_;
  common::RandomSource* random_;
  common::Logger* logger_;
  std::int32_t partition_count_ = 0;
  std::set<std::int32_t> owned_;

  mutable common::Mutex mu_;
  common::CondVar queue_cv_;  // a command was queued, or the writer is stopping
  std::deque<std::shared_ptr<Pending>> queue_ KL_GUARDED_BY(mu_);
  std::unordered_map<std::string, events::KeyState> keys_ KL_GUARDED_BY(mu_);
  std::map<std::int32_t, events::PartitionGuard> guards_ KL_GUARDED_BY(mu_);  // by owned partition
  IdempotencyTable idempotency_ KL_GUARDED_BY(mu_);
  // Secret hash of every live key -> key id: a secret may belong to one live key only.
  std::unordered_map<common::SecretHash, std::string, SecretHashHasher> live_secrets_ KL_GUARDED_BY(mu_);
  WriterStats stats_ KL_GUARDED_BY(mu_);
  bool stopping_ KL_GUARDED_BY(mu_) = false;
  // While recovering: ids and offsets of the events read back from the log.
  bool tracking_events_ KL_GUARDED_BY(mu_) = false;
  std::unordered_map<std::string, std::int64_t> caught_up_events_ KL_GUARDED_BY(mu_);

  std::thread thread_;
};

}  // namespace keyledger::writer
