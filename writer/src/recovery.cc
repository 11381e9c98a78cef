// How the writer learns the log: registering its identity, catching up from its partitions, and
// recovering after a commit whose outcome it does not know.
#include "keyledger/events/codec.h"
#include "keyledger/events/hash_chain.h"
#include "keyledger/writer/writer.h"
#include "pending.h"

namespace keyledger::writer {

using common::Result;
using common::Status;

namespace {
constexpr int kRecoveryRegisterTimeoutMs = 3000;
constexpr int kRecoveryCatchUpTimeoutMs = 30000;
constexpr int kRecoveryRetryMs = 500;
}  // namespace

Status Writer::Register(int timeout_ms) { return log_->Register(timeout_ms); }

Status Writer::ApplyFromLog(const events::Event& event, const storage::LogRecord& record) {
  PartitionLog& log = logs_[record.partition];
  if (event.prev_hash != log.chain_head) {
    return common::DataLoss("hash chain broken at partition " + std::to_string(record.partition) + " offset " +
                            std::to_string(record.offset));
  }
  std::optional<events::KeyState> current;
  if (auto it = keys_.find(event.key_id); it != keys_.end()) current = it->second;
  KL_ASSIGN_OR_RETURN(events::KeyState next, events::Apply(current, event));
  TrackSecret(current, next);
  keys_[event.key_id] = std::move(next);
  if (tracking_events_) caught_up_events_[event.event_id] = record.offset;
  log.chain_head = events::EventHash(record.value);
  log.next_offset = record.offset + 1;
  if (!event.idempotency_key.empty() && event.occurred_at_micros > clock_->NowMicros() - kIdempotencyWindowMicros) {
    idempotency_.Remember(IdempotencyScope(event.team_id, event.actor.user_id, event.idempotency_key),
                          IdempotencyRecord{KindOf(event), event.key_id, event.key_revision, record.partition,
                                            record.offset, event.occurred_at_micros});
  }
  return Status::Ok();
}

Status Writer::CatchUp(int timeout_ms) {
  std::map<std::int32_t, std::int64_t> start;
  {
    common::MutexLock lock(&mu_);
    for (std::int32_t p : owned_) start[p] = logs_[p].next_offset;
  }
  KL_ASSIGN_OR_RETURN(auto reader, log_->Read(start));
  const std::int64_t deadline = clock_->MonotonicMillis() + timeout_ms;
  std::uint64_t applied = 0;
  while (!reader->AtEnd()) {
    if (clock_->MonotonicMillis() > deadline) {
      return common::Unavailable("could not read the log to its end within " + std::to_string(timeout_ms) + " ms");
    }
    KL_ASSIGN_OR_RETURN(auto records, reader->Poll(200, 10000));
    common::MutexLock lock(&mu_);
    for (const storage::LogRecord& record : records) {
      auto event = events::Decode(record.value);
      Status s = event.ok() ? ApplyFromLog(*event, record) : event.status();
      if (!s.ok()) {
        return s.WithContext("reading partition " + std::to_string(record.partition) + " offset " +
                             std::to_string(record.offset));
      }
      ++applied;
    }
  }
  size_t keys = 0;
  {
    common::MutexLock lock(&mu_);
    keys = keys_.size();
  }
  logger_->Info("writer caught up with the log", {{"events", applied}, {"keys", static_cast<std::uint64_t>(keys)}});
  return Status::Ok();
}

void Writer::Recover(Batch& in_flight) {
  {
    common::MutexLock lock(&mu_);
    stats_.state = WriterState::kRecovering;
  }
  for (const auto& p : in_flight) {
    if (p->rejection && !p->decided_on_uncommitted) Resolve(p, *p->rejection);
  }
  {
    common::MutexLock lock(&mu_);
    caught_up_events_.clear();
    tracking_events_ = true;
  }
  bool first = true;
  while (true) {
    {
      common::MutexLock lock(&mu_);
      if (stopping_) break;
    }
    // Re-registering aborts our open transaction if it did not commit (and fences any zombie);
    // reading the log afterwards shows exactly what landed.
    Status s = Register(kRecoveryRegisterTimeoutMs);
    if (s.ok()) s = CatchUp(kRecoveryCatchUpTimeoutMs);
    if (s.ok()) {
      common::MutexLock lock(&mu_);
      stats_.state = WriterState::kReady;
      tracking_events_ = false;
      break;
    }
    if (log_->fenced()) {
      common::MutexLock lock(&mu_);
      stats_.state = WriterState::kFenced;
      stats_.fenced_reason = "fenced while recovering: " + log_->fatal_reason();
      break;
    }
    if (first) {
      // The broker is away: answer the in-flight commands now rather than let them hang.
      for (const auto& p : in_flight) {
        Resolve(p, common::Unavailable("the event log is unavailable (" + s.message() +
                                       "); the command was not acknowledged, retry with the same Idempotency-Key"));
      }
      FailQueued(common::Unavailable("the event log is unavailable"));
      logger_->Warn("writer lost the event log; reconnecting", {{"error", s.message()}});
      first = false;
    }
    clock_->SleepForMillis(kRecoveryRetryMs);
  }
  // Commands whose outcome is still open: acknowledged if their event is in the log now.
  for (const auto& p : in_flight) {
    if (p->resolved || !p->event) continue;
    std::optional<std::int64_t> offset;
    {
      common::MutexLock lock(&mu_);
      if (auto it = caught_up_events_.find(p->event->event_id); it != caught_up_events_.end()) offset = it->second;
    }
    if (offset) {
      std::optional<events::KeyState> now = KeyState(p->event->key_id);
      Resolve(p, CommandOutcome{*p->event, now ? *now : p->after, p->partition, *offset, false});
    } else {
      Resolve(p, common::Unavailable("the transaction did not commit; nothing was written, retry"));
    }
  }
  for (const auto& p : in_flight) {
    if (p->resolved) continue;
    auto replay = p->replay_of ? CheckIdempotency(p->request) : std::nullopt;
    Resolve(p, replay ? std::move(*replay) : Result<CommandOutcome>(common::Unavailable("the transaction did not commit; retry")));
  }
  {
    common::MutexLock lock(&mu_);
    caught_up_events_.clear();
  }
  logger_->Info("writer recovered", {{"state", std::string(WriterStateName(stats().state))}});
}

}  // namespace keyledger::writer
