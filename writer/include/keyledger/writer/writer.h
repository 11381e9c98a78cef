// The single writer of a set of partitions (SPEC section 3).
//
// On Start the writer registers its transactional.id (fencing any older writer with the same
// identity) and reads its partitions from the log (read_committed) to rebuild every key's state,
// the hash chain heads and the idempotency records of the last 24 h; only then does it accept
// commands. Each command is validated by the key rules against that state (so the expected
// revision is always the latest committed one) and the resulting event is appended inside a Kafka
// transaction. Commands that arrive while a transaction is being committed are grouped into the
// next one (group commit); a rejected command never fails the others. A command is acknowledged
// (partition, offset, revision) only after its transaction committed.
//
// Failures:
//   Unavailable  broker unreachable (after a bounded wait), writer recovering or fenced; nothing
//                was acknowledged; a retry with the same idempotency key is safe
//   other codes  the key rules' verdict (see events/key_rules.h)
// A fenced writer (another writer took its transactional.id) stops appending for good, answers
// Unavailable and logs why. After any other failed commit the writer re-registers, re-reads its
// partitions and resolves each command of the failed transaction from the log itself: commands
// whose events did land are acknowledged, the others answer Unavailable.
//
// Threads: Submit is thread-safe and blocks its caller until the outcome is known or the command
// deadline passes. The writer owns one thread that runs transactions.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <deque>
#include <future>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "keyledger/common/clock.h"
#include "keyledger/common/crypto.h"
#include "keyledger/common/log.h"
#include "keyledger/common/secret.h"
#include "keyledger/common/status.h"
#include "keyledger/events/catalog.h"
#include "keyledger/events/event.h"
#include "keyledger/events/key_rules.h"
#include "keyledger/storage/kafka.h"

namespace keyledger::writer {

struct SecretHashHasher {
  size_t operator()(const common::SecretHash& hash) const noexcept {
    size_t h;
    std::memcpy(&h, hash.data(), sizeof(h));
    return h;
  }
};

inline constexpr std::int64_t kIdempotencyWindowMicros = 24ll * 3600 * 1000000;

struct WriterOptions {
  storage::KafkaConfig kafka;
  std::string topic = "keyledger.key-events";
  // Stable identity: transactional.id = "keyledger-writer." + topic + "." + writer_id.
  std::string writer_id = "0";
  // Partitions this writer owns; empty = all partitions of the topic.
  std::set<std::int32_t> partitions;
  size_t max_batch_commands = 1000;
  // How long Submit waits for an outcome before answering Unavailable.
  int command_timeout_ms = 5000;
  // How long one transaction may take to commit before it counts as failed.
  int commit_timeout_ms = 4000;
};

struct CommandRequest {
  events::Caller caller;
  events::Command command;
  std::string request_id;
  std::string idempotency_key;  // Empty: not idempotent.
  std::string correlation_id;
};

struct CommandOutcome {
  events::Event event;          // The appended event (or the original one for a replay).
  events::KeyState key_after;   // The key's state after the event.
  std::int32_t partition = -1;
  std::int64_t offset = -1;
  // True when an earlier command with the same idempotency key produced this outcome; nothing
  // was appended now (and a secret must not be shown again).
  bool replayed = false;
};

enum class WriterState { kStarting, kReady, kRecovering, kFenced, kStopped };
std::string_view WriterStateName(WriterState state);

struct WriterStats {
  WriterState state = WriterState::kStarting;
  std::uint64_t commands_acknowledged = 0;
  std::uint64_t commands_rejected = 0;
  std::uint64_t commands_unavailable = 0;
  std::uint64_t transactions_committed = 0;
  std::uint64_t transactions_failed = 0;
  std::uint64_t idempotent_replays = 0;
  std::string fenced_reason;
};

class Writer {
 public:
  // `catalog`, `clock`, `random` and `logger` must outlive the writer.
  Writer(WriterOptions options, const events::Catalog* catalog, const common::Clock* clock,
         common::RandomSource* random, common::Logger* logger);
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Registers, catches up and starts accepting commands. Unavailable if the broker cannot be
  // reached within `timeout_ms`; DataLoss if the log cannot be read back (corrupt event).
  common::Status Start(int timeout_ms);
  void Stop();

  // Blocks until the outcome is known. A command still queued at its deadline (now +
  // command_timeout_ms) is answered Unavailable without being appended; one already inside a
  // transaction is answered when that commits or fails. Only if no answer comes within
  // command_timeout_ms + commit_timeout_ms + 2 s (a writer stuck reconnecting) does Submit give
  // up with Unavailable whose message says the command may still be written.
  common::Result<CommandOutcome> Submit(CommandRequest request);
  // Queues the command and returns at once; the future is always satisfied eventually (by the
  // writer thread, or with Unavailable at shutdown). Callers impose their own deadline.
  // A command still queued at `deadline_micros` (the writer's clock) is answered Unavailable
  // without being appended.
  std::future<common::Result<CommandOutcome>> SubmitAsync(
      CommandRequest request,
      std::int64_t deadline_micros = std::numeric_limits<std::int64_t>::max());

  // The key's current committed state as this writer knows it (for tests and read-your-writes).
  std::optional<events::KeyState> KeyState(const std::string& key_id) const;
  // The live key holding this secret hash, if any.
  std::optional<std::string> SecretOwner(const common::SecretHash& hash) const;
  std::int32_t PartitionFor(const std::string& team_id) const;
  std::int32_t partition_count() const { return partition_count_; }
  WriterStats stats() const;
  // Next offset after the last event this writer knows committed, per owned partition.
  std::map<std::int32_t, std::int64_t> CommittedOffsets() const;

 private:
  struct Pending;
  struct PartitionLog {
    common::Sha256Digest chain_head{};
    std::int64_t next_offset = 0;
  };
  struct IdempotencyRecord {
    std::string fingerprint;  // command type and target key
    std::string key_id;
    std::uint64_t revision = 0;
    std::int32_t partition = -1;
    std::int64_t offset = -1;
    std::int64_t at_micros = 0;
  };

  common::Status Register(int timeout_ms);
  common::Status CatchUp(int timeout_ms);
  // Keeps live_secrets_ in step with a key's change (mu_ held).
  void TrackSecret(const std::optional<events::KeyState>& before, const events::KeyState& after);
  common::Status ApplyFromLog(const events::Event& event, const storage::LogRecord& record);
  void Loop();
  void RunBatch(std::vector<std::shared_ptr<Pending>>& batch);
  void Recover(std::vector<std::shared_ptr<Pending>>& in_flight);
  void Resolve(const std::shared_ptr<Pending>& pending, common::Result<CommandOutcome> outcome);
  std::string IdempotencyScope(const CommandRequest& request) const;
  std::optional<common::Result<CommandOutcome>> CheckIdempotency(const CommandRequest& request);

  WriterOptions options_;
  const events::Catalog* catalog_;
  const common::Clock* clock_;
  common::RandomSource* random_;
  common::Logger* logger_;
  std::string transactional_id_;
  std::int32_t partition_count_ = 0;
  std::set<std::int32_t> owned_;

  std::unique_ptr<storage::TransactionalProducer> producer_;  // Writer thread only.

  mutable std::mutex mu_;  // Guards everything below.
  std::condition_variable queue_cv_;
  std::deque<std::shared_ptr<Pending>> queue_;
  std::unordered_map<std::string, events::KeyState> keys_;
  std::map<std::int32_t, PartitionLog> logs_;
  std::unordered_map<std::string, IdempotencyRecord> idempotency_;
  // Secret hash of every live key -> key id: a secret may belong to one live key only.
  std::unordered_map<common::SecretHash, std::string, SecretHashHasher> live_secrets_;
  std::unordered_map<std::string, std::string> event_to_idempotency_scope_;
  WriterStats stats_;
  bool stopping_ = false;
  // While recovering: ids and offsets of the events read back from the log.
  bool tracking_events_ = false;
  std::unordered_map<std::string, std::int64_t> caught_up_events_;

  std::thread thread_;
};

}  // namespace keyledger::writer
