// What the admin API needs of the writer, and nothing more: submit a command and wait for its
// outcome, and say how the writer is doing. Writer implements it; the API's handler tests use a
// fake (api/testing/fakes.h).
// Thread: implementations are thread-safe.
#pragma once

#include <cstdint>
#include <future>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "keyledger/common/status.h"
#include "keyledger/events/event.h"
#include "keyledger/events/key_rules.h"
#include "keyledger/events/partition_guard.h"

namespace keyledger::writer {

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
  // Answered DeadlineExceeded: the transaction's commit was sent, and the log could not be read back
  // before the command's deadline to learn whether it landed.
  std::uint64_t commands_outcome_unknown = 0;
  std::uint64_t transactions_committed = 0;
  std::uint64_t transactions_failed = 0;
  std::uint64_t idempotent_replays = 0;
  std::uint64_t idempotency_records = 0;  // held now
  std::uint64_t idempotency_expired = 0;  // forgotten after their 24 h
  std::uint64_t idempotency_evicted = 0;  // forgotten early, at the cap
  std::string fenced_reason;
};

class CommandSink {
 public:
  virtual ~CommandSink() = default;
  // Blocks until the outcome is known (see Writer::Submit for the codes).
  virtual common::Result<CommandOutcome> Submit(CommandRequest request) = 0;
  // Queues the command and returns at once (Writer::SubmitAsync). The default carries it out
  // when the future is waited for.
  virtual std::future<common::Result<CommandOutcome>> SubmitAsync(CommandRequest request) {
    return std::async(std::launch::deferred, [this, r = std::move(request)]() mutable { return Submit(std::move(r)); });
  }
  // The key's committed state as the sink knows it, and the live key holding a secret hash.
  virtual std::optional<events::KeyState> KeyState(const std::string& key_id) const = 0;
  virtual std::optional<std::string> SecretOwner(const common::SecretHash& hash) const = 0;
  virtual WriterStats stats() const = 0;
  // Next offset after the last event known committed, per partition this sink appends to.
  virtual std::map<std::int32_t, std::int64_t> CommittedOffsets() const = 0;
  // The partitions halted on a record the sink cannot apply (their teams' commands are refused).
  virtual std::map<std::int32_t, events::PartitionHalt> Halts() const = 0;
};

}  // namespace keyledger::writer
