// The writer's lifecycle and submission (one transaction: batch.cc; register, catch-up and
// recovery: recovery.cc).
#include "keyledger/writer/writer.h"

#include <chrono>

#include "pending.h"

namespace keyledger::writer {

using common::Result;
using common::Status;

std::string_view WriterStateName(WriterState state) {
  switch (state) {
    case WriterState::kStarting: return "starting";
    case WriterState::kReady: return "ready";
    case WriterState::kRecovering: return "recovering";
    case WriterState::kFenced: return "fenced";
    case WriterState::kStopped: return "stopped";
  }
  return "unknown";
}

std::string TransactionalId(const std::string& topic, const std::string& writer_id) {
  return "keyledger-writer." + topic + "." + writer_id;
}

Writer::Writer(WriterOptions options, const events::Catalog* catalog, const common::Clock* clock,
               common::RandomSource* random, common::Logger* logger)
    : Writer(options, nullptr, catalog, clock, random, logger) {}

Writer::Writer(WriterOptions options, EventLog* log, const events::Catalog* catalog, const common::Clock* clock,
               common::RandomSource* random, common::Logger* logger)
    : options_(std::move(options)), log_(log), catalog_(catalog), clock_(clock), random_(random), logger_(logger),
      idempotency_(options_.max_idempotency_records) {
  if (log_ == nullptr) {
    owned_log_ = NewKafkaEventLog(options_.kafka, options_.topic, TransactionalId(options_.topic, options_.writer_id));
    log_ = owned_log_.get();
  }
}

Writer::~Writer() { Stop(); }

std::int32_t Writer::PartitionFor(const std::string& team_id) const {
  return events::PartitionForTeam(team_id, partition_count_);
}

Status Writer::Start(int timeout_ms) {
  KL_ASSIGN_OR_RETURN(partition_count_, log_->PartitionCount(timeout_ms));
  owned_ = options_.partitions;
  if (owned_.empty()) {
    for (std::int32_t p = 0; p < partition_count_; ++p) owned_.insert(p);
  }
  for (std::int32_t p : owned_) {
    if (p < 0 || p >= partition_count_) return common::InvalidArgument("partition " + std::to_string(p) + " does not exist");
  }
  {
    common::MutexLock lock(&mu_);
    guards_.clear();
    for (std::int32_t p : owned_) guards_.emplace(p, events::PartitionGuard(p, partition_count_));
  }
  // Register first: it fences an older writer, so nothing changes the log behind our catch-up.
  KL_RETURN_IF_ERROR(Register(timeout_ms));
  KL_RETURN_IF_ERROR(CatchUp(timeout_ms));
  {
    common::MutexLock lock(&mu_);
    stats_.state = WriterState::kReady;
    stopping_ = false;
  }
  thread_ = std::thread([this] { Loop(); });
  logger_->Info("writer ready",
                {{"transactional_id", log_->identity()}, {"partitions", static_cast<std::uint64_t>(owned_.size())}});
  return Status::Ok();
}

void Writer::Stop() {
  {
    common::MutexLock lock(&mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  queue_cv_.SignalAll();
  if (thread_.joinable()) thread_.join();
  {
    common::MutexLock lock(&mu_);
    if (stats_.state != WriterState::kFenced) stats_.state = WriterState::kStopped;
  }
  FailQueued(common::Unavailable("writer is shutting down"));
}

std::future<Result<CommandOutcome>> Writer::SubmitAsync(CommandRequest request, std::int64_t deadline_micros) {
  auto pending = std::make_shared<Pending>();
  pending->request = std::move(request);
  pending->deadline_micros = deadline_micros;
  auto future = pending->promise.get_future();
  std::optional<Status> refused;
  {
    common::MutexLock lock(&mu_);
    switch (stats_.state) {
      case WriterState::kReady:
        queue_.push_back(pending);
        break;
      case WriterState::kFenced:
        refused = common::FailedPrecondition("writer is fenced: " + stats_.fenced_reason);
        break;
      case WriterState::kRecovering:
        refused = common::Unavailable("the event log is unavailable; the writer is reconnecting");
        break;
      default:
        refused = common::Unavailable("writer is not running");
    }
  }
  if (refused) {
    Resolve(pending, *refused);
  } else {
    queue_cv_.Signal();
  }
  return future;
}

Result<CommandOutcome> Writer::Submit(CommandRequest request) {
  auto future = SubmitAsync(std::move(request), clock_->NowMicros() + options_.command_timeout_ms * 1000ll);
  // A command past its deadline is dropped before it is appended, and one already in a
  // transaction is answered once that commits or fails, so the writer's answer normally arrives
  // well within this wait. Only a writer stuck in recovery keeps the caller waiting past it, and
  // then the outcome is genuinely unknown.
  int wait_ms = options_.command_timeout_ms + options_.commit_timeout_ms + 2000;
  if (future.wait_for(std::chrono::milliseconds(wait_ms)) != std::future_status::ready) {
    common::MutexLock lock(&mu_);
    ++stats_.commands_outcome_unknown;
    return common::DeadlineExceeded("the event log did not confirm the command within " + std::to_string(wait_ms) +
                                    " ms, so whether it was written is unknown; retry with the same "
                                    "Idempotency-Key to learn the outcome");
  }
  return future.get();
}

void Writer::Resolve(const std::shared_ptr<Pending>& pending, Result<CommandOutcome> outcome) {
  if (pending->resolved) return;
  pending->resolved = true;
  {
    common::MutexLock lock(&mu_);
    if (outcome.ok()) {
      if (outcome->replayed) ++stats_.idempotent_replays;
      ++stats_.commands_acknowledged;
    } else if (outcome.status().code() == common::StatusCode::kDeadlineExceeded) {
      ++stats_.commands_outcome_unknown;
    } else if (outcome.status().code() == common::StatusCode::kUnavailable ||
               outcome.status().code() == common::StatusCode::kFailedPrecondition) {
      ++stats_.commands_unavailable;
    } else {
      ++stats_.commands_rejected;
    }
  }
  pending->promise.set_value(std::move(outcome));
}

void Writer::FailQueued(const Status& why) {
  std::deque<std::shared_ptr<Pending>> queued;
  {
    common::MutexLock lock(&mu_);
    queued.swap(queue_);
  }
  for (const auto& p : queued) Resolve(p, why);
}

std::string Writer::ScopeOf(const CommandRequest& r) const {
  const std::string* team = &r.caller.team_id;
  if (const auto* imp = std::get_if<events::ImportLegacyKeyCommand>(&r.command)) team = &imp->team_id;
  return IdempotencyScope(*team, r.caller.user_id, r.idempotency_key);
}

std::optional<Result<CommandOutcome>> Writer::CheckIdempotency(const CommandRequest& request) {
  std::string scope = ScopeOf(request);
  if (scope.empty()) return std::nullopt;
  CommandKind kind = KindOf(request.command);
  common::MutexLock lock(&mu_);
  IdempotencyTable::Lookup found =
      idempotency_.Check(scope, kind, events::CommandKeyId(request.command), clock_->NowMicros());
  if (found.verdict == IdempotencyTable::Verdict::kNew) return std::nullopt;
  const IdempotencyRecord& rec = found.record;
  if (found.verdict == IdempotencyTable::Verdict::kConflict) {
    std::string used = std::string(CommandKindName(rec.kind));
    if (rec.kind != CommandKind::kCreate && rec.kind != CommandKind::kImport) used += " " + rec.key_id;
    return Result<CommandOutcome>(
        common::Conflict("Idempotency-Key was already used for a different request (" + used + ")"));
  }
  if (auto key = keys_.find(rec.key_id); key != keys_.end() && !SameRequest(request.command, rec, key->second)) {
    return Result<CommandOutcome>(common::Conflict(
        "Idempotency-Key was already used for a different request (a " + std::string(CommandKindName(rec.kind)) +
        " with other fields); use a new key for a new request"));
  }
  CommandOutcome outcome;
  outcome.replayed = true;
  outcome.partition = rec.partition;
  outcome.offset = rec.offset;
  if (auto key = keys_.find(rec.key_id); key != keys_.end()) outcome.key_after = key->second;
  outcome.event.key_id = rec.key_id;
  outcome.event.team_id = outcome.key_after.team_id;
  outcome.event.key_revision = rec.revision;
  switch (rec.kind) {
    case CommandKind::kRename: outcome.event.payload = events::KeyRenamed{}; break;
    case CommandKind::kRegenerate: outcome.event.payload = events::KeyRegenerated{}; break;
    case CommandKind::kDelete: outcome.event.payload = events::KeyDeleted{}; break;
    default: outcome.event.payload = events::KeyCreated{};
  }
  return Result<CommandOutcome>(std::move(outcome));
}

void Writer::Loop() {
  while (true) {
    Batch batch;
    {
      common::MutexLock lock(&mu_);
      // Idempotency records expire here, every second, commands or not (bounded memory).
      while (!stopping_ && queue_.empty()) {
        queue_cv_.WaitFor(&mu_, std::chrono::seconds(1));
        ExpireIdempotency();
      }
      if (stopping_) return;
      ExpireIdempotency();
      while (!queue_.empty() && batch.size() < options_.max_batch_commands) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    RunBatch(batch);
  }
}

void Writer::ExpireIdempotency() { idempotency_.ExpireBefore(clock_->NowMicros()); }

void Writer::TrackSecret(const std::optional<events::KeyState>& before, const events::KeyState& after) {
  if (before && !before->deleted) {
    auto it = live_secrets_.find(before->secret_sha256);
    if (it != live_secrets_.end() && it->second == before->key_id) live_secrets_.erase(it);
  }
  if (!after.deleted) live_secrets_.emplace(after.secret_sha256, after.key_id);
}

std::optional<std::string> Writer::SecretOwner(const common::SecretHash& hash) const {
  common::MutexLock lock(&mu_);
  auto it = live_secrets_.find(hash);
  if (it == live_secrets_.end()) return std::nullopt;
  return it->second;
}

std::optional<events::KeyState> Writer::KeyState(const std::string& key_id) const {
  common::MutexLock lock(&mu_);
  auto it = keys_.find(key_id);
  if (it == keys_.end()) return std::nullopt;
  return it->second;
}

std::map<std::int32_t, std::int64_t> Writer::CommittedOffsets() const {
  common::MutexLock lock(&mu_);
  std::map<std::int32_t, std::int64_t> out;
  for (std::int32_t p : owned_) {
    auto it = guards_.find(p);
    out[p] = it == guards_.end() ? 0 : it->second.position().next_offset;
  }
  return out;
}

std::map<std::int32_t, events::PartitionHalt> Writer::Halts() const {
  common::MutexLock lock(&mu_);
  std::map<std::int32_t, events::PartitionHalt> out;
  for (const auto& [p, guard] : guards_) {
    if (guard.halted()) out.emplace(p, *guard.position().halt);
  }
  return out;
}

WriterStats Writer::stats() const {
  common::MutexLock lock(&mu_);
  WriterStats s = stats_;
  s.idempotency_records = idempotency_.size();
  s.idempotency_expired = idempotency_.expired();
  s.idempotency_evicted = idempotency_.evicted();
  return s;
}

}  // namespace keyledger::writer
