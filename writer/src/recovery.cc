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

void Writer::AnswerOutcomeUnknown(const std::shared_ptr<Pending>& p, const std::string& why) {
  Resolve(p, common::DeadlineExceeded(
                 "the event log went away while this command's transaction was committing and could not be read "
                 "back in time, so whether it was written is unknown (" + why +
                 "); retry with the same Idempotency-Key to learn the outcome once the log is back"));
}

Status Writer::ApplyFromLog(const events::Event& event, const storage::LogRecord& record) {
  std::optional<events::KeyState> current;
  if (auto it = keys_.find(event.key_id); it != keys_.end()) current = it->second;
  KL_ASSIGN_OR_RETURN(events::KeyState next, events::Apply(current, event));
  TrackSecret(current, next);
  keys_[event.key_id] = std::move(next);
  if (!event.idempotency_key.empty() && event.occurred_at_micros > clock_->NowMicros() - kIdempotencyWindowMicros) {
    idempotency_.Remember(IdempotencyScope(event.team_id, event.actor.user_id, event.idempotency_key),
                          IdempotencyRecord{KindOf(event), event.key_id, event.key_revision, record.partition,
                                            record.offset, event.occurred_at_micros});
  }
  return Status::Ok();
}

std::optional<std::int64_t> Writer::ReadBack(const storage::LogRecord& record) {
  auto g = guards_.find(record.partition);
  if (g == guards_.end()) return std::nullopt;
  events::PartitionGuard& guard = g->second;
  events::PartitionGuard::Step step = guard.Next(record.offset, record.value);
  const std::uint64_t partition = static_cast<std::uint64_t>(record.partition);
  const std::uint64_t offset = static_cast<std::uint64_t>(record.offset);
  if (tracking_events_ && !step.event.event_id.empty()) caught_up_events_[step.event.event_id] = record.offset;
  switch (step.verdict) {
    case events::PartitionGuard::Verdict::kApply: {
      Status applied = ApplyFromLog(step.event, record);
      if (applied.ok()) {
        guard.Applied(record.offset, record.value);
      } else {
        guard.HaltAt(record.offset, record.value, applied.message());
        logger_->Error("partition halted: the record does not apply; the team's commands are refused until an "
                       "operator skips it",
                       {{"partition", partition}, {"offset", offset}, {"reason", applied.message()}});
      }
      return std::nullopt;
    }
    case events::PartitionGuard::Verdict::kHalted:
      if (step.newly_halted) {
        logger_->Error("partition halted: the record cannot be applied; the team's commands are refused until an "
                       "operator skips it",
                       {{"partition", partition}, {"offset", offset}, {"reason", step.why}});
      }
      return std::nullopt;
    case events::PartitionGuard::Verdict::kSkipHonoured:
      logger_->Warn("operator skip honoured: the partition goes on past the bad record",
                    {{"partition", partition}, {"skip_offset", offset}, {"reread_from", static_cast<std::uint64_t>(step.reread_from)}});
      return step.reread_from;
    case events::PartitionGuard::Verdict::kIgnored:
      if (!step.event.event_id.empty()) {
        logger_->Info("record skip ignored", {{"partition", partition}, {"offset", offset}, {"why", step.why}});
      }
      return std::nullopt;
  }
  return std::nullopt;
}

Status Writer::CatchUp(int timeout_ms) {
  std::map<std::int32_t, std::int64_t> start;
  {
    common::MutexLock lock(&mu_);
    for (const auto& [p, guard] : guards_) start[p] = guard.position().next_offset;
  }
  KL_ASSIGN_OR_RETURN(auto reader, log_->Read(start));
  const std::int64_t deadline = clock_->MonotonicMillis() + timeout_ms;
  std::uint64_t records_read = 0;
  while (!reader->AtEnd()) {
    if (clock_->MonotonicMillis() > deadline) {
      return common::Unavailable("could not read the log to its end within " + std::to_string(timeout_ms) + " ms");
    }
    KL_ASSIGN_OR_RETURN(auto records, reader->Poll(200, 10000));
    // After an honoured skip the partition is read again from the record after the bad one; the
    // rest of this poll's records of that partition are read again then.
    std::map<std::int32_t, std::int64_t> reread;
    {
      common::MutexLock lock(&mu_);
      for (const storage::LogRecord& record : records) {
        if (reread.count(record.partition)) continue;
        if (auto from = ReadBack(record)) reread[record.partition] = *from;
        ++records_read;
      }
    }
    for (const auto& [p, from] : reread) KL_RETURN_IF_ERROR(reader->Seek(p, from));
  }
  size_t keys = 0;
  std::uint64_t halted = 0;
  {
    common::MutexLock lock(&mu_);
    keys = keys_.size();
    for (const auto& [p, guard] : guards_) halted += guard.halted() ? 1 : 0;
  }
  logger_->Info("writer caught up with the log", {{"records", records_read},
                                                  {"keys", static_cast<std::uint64_t>(keys)},
                                                  {"halted_partitions", halted}});
  return Status::Ok();
}

void Writer::Recover(Batch& in_flight, bool commit_sent) {
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
  // Whether a command's outcome hangs on what the log holds: it was appended (or repeats one
  // that was, by its Idempotency-Key) in a transaction whose commit was sent.
  auto open_outcome = [&](const std::shared_ptr<Pending>& p) { return commit_sent && (p->event || p->replay_of); };
  bool first = true;
  bool read_back = false;  // the log was read to its end after re-registering
  std::string last_error = "the writer stopped";
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
      read_back = true;
      break;
    }
    last_error = s.message();
    if (log_->fenced()) {
      common::MutexLock lock(&mu_);
      stats_.state = WriterState::kFenced;
      stats_.fenced_reason = "fenced while recovering: " + log_->fatal_reason();
      break;
    }
    if (first) {
      // The broker is away: answer now what is known not to be written rather than let it hang.
      for (const auto& p : in_flight) {
        if (open_outcome(p)) continue;
        Resolve(p, common::Unavailable("the event log is unavailable (" + s.message() +
                                       "); nothing was written, retry"));
      }
      FailQueued(common::Unavailable("the event log is unavailable; nothing was written, retry"));
      logger_->Warn("writer lost the event log; reconnecting", {{"error", s.message()}});
      first = false;
    }
    // A command whose commit was sent is answered from the log once it can be read; past its
    // deadline the caller is told plainly that nobody knows yet.
    const std::int64_t now = clock_->NowMicros();
    for (const auto& p : in_flight) {
      if (p->resolved || !open_outcome(p)) continue;
      // (Subtracted, not added: a command without a deadline has INT64_MAX.)
      if (now - p->deadline_micros >= options_.commit_timeout_ms * 1000ll) AnswerOutcomeUnknown(p, s.message());
    }
    clock_->SleepForMillis(kRecoveryRetryMs);
  }
  if (!read_back) {
    // Stopped or fenced before the log could be read: only what was never committed is known.
    for (const auto& p : in_flight) {
      if (p->resolved) continue;
      if (open_outcome(p)) {
        AnswerOutcomeUnknown(p, last_error);
      } else {
        Resolve(p, common::Unavailable("the event log is unavailable (" + last_error + "); nothing was written, retry"));
      }
    }
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
