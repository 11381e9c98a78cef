// One transaction of the writer, by phase: decide (validate every command of the batch against
// the committed state plus the batch's own earlier events), append (one transaction), publish
// (the new state and the answers), and on failure (fenced, aborted cleanly, or unknown).
#include <algorithm>
#include <set>
#include <unordered_set>

#include "keyledger/events/codec.h"
#include "keyledger/events/hash_chain.h"
#include "keyledger/writer/writer.h"
#include "pending.h"

namespace keyledger::writer {

using common::Result;
using common::Status;

namespace {
constexpr int kSkipCatchUpTimeoutMs = 30000;
}  // namespace

struct Writer::BatchState {
  std::int64_t start_micros = 0;
  std::unordered_map<std::string, events::KeyState> overlay;  // keys changed earlier in this batch
  std::map<std::int32_t, common::Sha256Digest> heads;         // chain heads after this batch's events
  std::unordered_map<std::string, std::shared_ptr<Pending>> scopes;  // idempotency scopes seen
  std::unordered_set<common::SecretHash, SecretHashHasher> secrets;  // secrets this batch assigns
  std::set<std::int32_t> skips;                                      // partitions this batch skips in
  Batch appended;
};

void Writer::RunBatch(Batch& batch) {
  Batch appended = DecideBatch(batch);
  bool commit_sent = false;
  Status committed = appended.empty() ? Status::Ok() : Append(appended, &commit_sent);
  if (committed.ok()) {
    Publish(batch, appended);
  } else {
    OnFailure(batch, appended, committed, commit_sent);
  }
}

Writer::Batch Writer::DecideBatch(Batch& batch) {
  BatchState state;
  state.start_micros = clock_->NowMicros();
  for (const std::shared_ptr<Pending>& p : batch) Decide(p, state);
  return std::move(state.appended);
}

void Writer::Decide(const std::shared_ptr<Pending>& p, BatchState& state) {
  if (p->deadline_micros <= state.start_micros) {
    return Resolve(p, common::Unavailable("the writer could not take the command before its deadline; "
                                          "nothing was written, retry"));
  }
  const CommandRequest& req = p->request;
  const auto* skip = std::get_if<events::SkipRecordCommand>(&req.command);
  const std::string* team = &req.caller.team_id;
  if (const auto* imp = std::get_if<events::ImportLegacyKeyCommand>(&req.command)) team = &imp->team_id;
  p->partition = skip != nullptr ? skip->skip.partition : PartitionFor(*team);
  if (!owned_.count(p->partition)) {
    return Resolve(p, skip != nullptr && (p->partition < 0 || p->partition >= partition_count_)
                          ? common::InvalidArgument("partition " + std::to_string(p->partition) + " does not exist")
                          : common::Unavailable("partition " + std::to_string(p->partition) +
                                                " is owned by another writer"));
  }
  if (auto replay = CheckIdempotency(req)) return Resolve(p, std::move(*replay));
  if (std::string scope = ScopeOf(req); !scope.empty()) {
    auto [it, inserted] = state.scopes.emplace(scope, p);
    if (!inserted) {
      if (!SameRequest(req.command, it->second->request.command)) {
        return Resolve(p, common::Conflict("Idempotency-Key was already used for a different request; use a new key "
                                           "for a new request"));
      }
      p->replay_of = it->second;  // answered after the batch, like its original
      return;
    }
  }
  if (skip != nullptr) return DecideSkip(p, *skip, state);
  std::optional<Status> halted;
  {
    common::MutexLock lock(&mu_);
    const events::PartitionGuard& guard = guards_.at(p->partition);
    if (guard.halted()) {
      const events::PartitionHalt& halt = *guard.position().halt;
      halted = common::FailedPrecondition("partition " + std::to_string(p->partition) + " is halted at offset " +
                                          std::to_string(halt.offset) + " (" + halt.reason +
                                          "): this team's keys cannot change until an operator skips that record");
    }
  }
  if (halted) return Resolve(p, *halted);
  events::Command command = req.command;
  std::string* new_key_id = nullptr;
  if (auto* create = std::get_if<events::CreateKeyCommand>(&command); create && create->key_id.empty()) {
    new_key_id = &create->key_id;
  } else if (auto* imp = std::get_if<events::ImportLegacyKeyCommand>(&command); imp && imp->key_id.empty()) {
    new_key_id = &imp->key_id;
  }
  if (new_key_id != nullptr) {
    auto id = common::NewUuidV4(*random_);
    if (!id.ok()) return Resolve(p, id.status());
    *new_key_id = *id;
  }
  const std::string& key_id = events::CommandKeyId(command);
  std::optional<events::KeyState> current;
  const bool uncommitted = state.overlay.count(key_id) > 0;
  if (uncommitted) {
    current = state.overlay[key_id];
  } else {
    common::MutexLock lock(&mu_);
    if (auto k = keys_.find(key_id); k != keys_.end()) current = k->second;
  }
  auto reject = [&](Status why) {
    p->rejection = std::move(why);
    p->decided_on_uncommitted = uncommitted;
  };
  auto event_id = common::NewUuidV4(*random_);
  if (!event_id.ok()) return Resolve(p, event_id.status());
  events::CommandContext context{*event_id, clock_->NowMicros(), req.request_id, req.idempotency_key, req.correlation_id};
  auto event = events::Decide(current, req.caller, command, *catalog_, context);
  if (!event.ok()) return reject(event.status());
  if (auto h = state.heads.find(p->partition); h != state.heads.end()) {
    event->prev_hash = h->second;
  } else {
    common::MutexLock lock(&mu_);
    event->prev_hash = guards_.at(p->partition).position().head;
  }
  auto encoded = events::Encode(*event);
  auto after = encoded.ok() ? events::Apply(current, *event) : Result<events::KeyState>(encoded.status());
  if (!after.ok()) return Resolve(p, common::Internal("cannot append event: " + after.status().message()));
  // One live key per secret: a second key with the same secret hash would shadow the first in
  // every secret lookup (only an import can bring a secret in from outside).
  if (!after->deleted && (!current || current->secret_sha256 != after->secret_sha256)) {
    bool taken = !state.secrets.insert(after->secret_sha256).second;
    if (!taken) {
      common::MutexLock lock(&mu_);
      auto it = live_secrets_.find(after->secret_sha256);
      taken = it != live_secrets_.end() && it->second != key_id;
    }
    if (taken) return reject(common::Conflict("the secret is already in use by another key"));
  }
  state.heads[p->partition] = events::EventHash(*encoded);
  state.overlay[key_id] = *after;
  p->event = std::move(*event);
  p->encoded = std::move(*encoded);
  p->after = std::move(*after);
  state.appended.push_back(p);
}

void Writer::DecideSkip(const std::shared_ptr<Pending>& p, const events::SkipRecordCommand& command,
                        BatchState& state) {
  const CommandRequest& req = p->request;
  events::RecordSkipped skip = command.skip;
  const std::string where = "partition " + std::to_string(skip.partition);
  std::optional<Status> refused;
  {
    common::MutexLock lock(&mu_);
    const events::PartitionGuard& guard = guards_.at(skip.partition);
    if (!guard.halted()) {
      refused = common::Conflict(where + " is not halted: there is no record to skip");
    } else if (const events::PartitionHalt& halt = *guard.position().halt; halt.offset != skip.offset) {
      refused = common::Conflict(where + " is halted at offset " + std::to_string(halt.offset) + ", not at offset " +
                                 std::to_string(skip.offset));
    } else if (halt.record_sha256 != skip.record_sha256) {
      refused = common::Conflict("the record at " + where + " offset " + std::to_string(skip.offset) +
                                 " has SHA-256 " + common::HexEncode(halt.record_sha256) + ", not " +
                                 common::HexEncode(skip.record_sha256));
    } else {
      skip.reason = halt.reason.substr(0, 1024);
    }
  }
  if (refused) return Resolve(p, *refused);
  if (state.skips.count(skip.partition)) {
    return Resolve(p, common::Conflict("another skip of partition " + std::to_string(skip.partition) +
                                       " is being written"));
  }
  auto event_id = common::NewUuidV4(*random_);
  if (!event_id.ok()) return Resolve(p, event_id.status());
  events::CommandContext context{*event_id, clock_->NowMicros(), req.request_id, req.idempotency_key, req.correlation_id};
  auto event = events::DecideSkip(req.caller, skip, context);
  if (!event.ok()) return Resolve(p, event.status());
  auto encoded = events::Encode(*event);
  if (!encoded.ok()) return Resolve(p, encoded.status());
  state.skips.insert(skip.partition);
  p->event = std::move(*event);
  p->encoded = std::move(*encoded);
  state.appended.push_back(p);
}

Status Writer::Append(const Batch& appended, bool* commit_sent) {
  KL_RETURN_IF_ERROR(log_->Begin());
  for (const auto& p : appended) {
    // A skip has no team: its record key is empty.
    KL_RETURN_IF_ERROR(log_->Append(p->partition, p->event->team_id, p->encoded, &p->report));
  }
  if (Status commit = log_->Commit(options_.commit_timeout_ms); !commit.ok()) {
    // librdkafka sends EndTxn only once every record of the transaction is acknowledged (the
    // commit's flush): while one is not, no commit was sent, and re-registering aborts the
    // transaction. Once all are, the commit may have landed, and only the log can tell.
    *commit_sent = std::all_of(appended.begin(), appended.end(),
                               [](const std::shared_ptr<Pending>& p) { return p->report.status.ok(); });
    return commit;
  }
  *commit_sent = true;
  for (const auto& p : appended) KL_RETURN_IF_ERROR(p->report.status);
  return Status::Ok();
}

void Writer::Publish(const Batch& batch, const Batch& appended) {
  bool reread = false;
  {
    common::MutexLock lock(&mu_);
    for (const auto& p : appended) {
      events::PartitionGuard& guard = guards_.at(p->partition);
      if (!p->event->is_key_event()) {
        // Our own skip, read as every consumer reads it: it clears the halt, and the partition is
        // read again from the record after the skipped one (below).
        if (guard.Next(p->report.offset, p->encoded).verdict == events::PartitionGuard::Verdict::kSkipHonoured) {
          reread = true;
        }
      } else {
        auto& slot = keys_[p->after.key_id];
        TrackSecret(slot.key_id.empty() ? std::nullopt : std::optional(slot), p->after);
        slot = p->after;
        guard.Applied(p->report.offset, p->encoded);
      }
      if (std::string scope = ScopeOf(p->request); !scope.empty()) {
        idempotency_.Remember(scope, IdempotencyRecord{KindOf(p->request.command), p->after.key_id,
                                                       p->event->key_revision, p->partition, p->report.offset,
                                                       p->event->occurred_at_micros});
      }
    }
    if (!appended.empty()) ++stats_.transactions_committed;
  }
  if (reread) {
    // Apply the records the halt held back before answering the operator, so the team's next
    // command sees them; if the log went away meanwhile, recover as after a failed commit.
    Status s = CatchUp(kSkipCatchUpTimeoutMs);
    if (!s.ok()) {
      logger_->Warn("could not read the partition again after a skip; recovering", {{"error", s.message()}});
      Batch none;
      Recover(none, false);
    }
  }
  for (const auto& p : appended) {
    Resolve(p, CommandOutcome{*p->event, p->after, p->report.partition, p->report.offset, false});
  }
  for (const auto& p : batch) {
    if (p->rejection) Resolve(p, *p->rejection);
    if (p->replay_of && !p->resolved) {
      auto replay = CheckIdempotency(p->request);
      Resolve(p, replay ? std::move(*replay)
                        : Result<CommandOutcome>(p->replay_of->rejection ? *p->replay_of->rejection
                                                                         : common::Unavailable("original request failed")));
    }
  }
}

void Writer::OnFailure(Batch& batch, const Batch& appended, const Status& failure, bool commit_sent) {
  {
    common::MutexLock lock(&mu_);
    ++stats_.transactions_failed;
  }
  logger_->Warn("transaction failed",
                {{"error", failure.message()}, {"commands", static_cast<std::uint64_t>(appended.size())}});
  if (log_->fenced()) {
    std::string reason = "another writer registered transactional.id " + log_->identity() + " (" +
                         log_->fatal_reason() + ")";
    {
      common::MutexLock lock(&mu_);
      stats_.state = WriterState::kFenced;
      stats_.fenced_reason = reason;
    }
    logger_->Error("writer fenced; it will not append again", {{"reason", reason}});
    for (const auto& p : batch) Resolve(p, common::FailedPrecondition("writer is fenced: " + reason));
    FailQueued(common::FailedPrecondition("writer is fenced: " + reason));
    return;
  }
  const bool clean_abort = !log_->fatal() && failure.code() == common::StatusCode::kAborted &&
                           log_->Abort(options_.commit_timeout_ms).ok();
  if (clean_abort) {
    // Aborted: none of the events is visible; the state was never updated.
    for (const auto& p : batch) {
      if (p->rejection && !p->decided_on_uncommitted) {
        Resolve(p, *p->rejection);
      } else {
        Resolve(p, common::Unavailable("the event log rejected the transaction (" + failure.message() +
                                       "); nothing was written, retry"));
      }
    }
    return;
  }
  Recover(batch, commit_sent);
}

}  // namespace keyledger::writer
