// One transaction of the writer, by phase: decide (validate every command of the batch against
// the committed state plus the batch's own earlier events), append (one transaction), publish
// (the new state and the answers), and on failure (fenced, aborted cleanly, or unknown).
#include <unordered_set>

#include "keyledger/events/codec.h"
#include "keyledger/events/hash_chain.h"
#include "keyledger/writer/writer.h"
#include "pending.h"

namespace keyledger::writer {

using common::Result;
using common::Status;

struct Writer::BatchState {
  std::int64_t start_micros = 0;
  std::unordered_map<std::string, events::KeyState> overlay;  // keys changed earlier in this batch
  std::map<std::int32_t, common::Sha256Digest> heads;         // chain heads after this batch's events
  std::unordered_map<std::string, std::shared_ptr<Pending>> scopes;  // idempotency scopes seen
  std::unordered_set<common::SecretHash, SecretHashHasher> secrets;  // secrets this batch assigns
  Batch appended;
};

void Writer::RunBatch(Batch& batch) {
  Batch appended = DecideBatch(batch);
  Status committed = appended.empty() ? Status::Ok() : Append(appended);
  if (committed.ok()) {
    Publish(batch, appended);
  } else {
    OnFailure(batch, appended, committed);
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
  const std::string* team = &req.caller.team_id;
  if (const auto* imp = std::get_if<events::ImportLegacyKeyCommand>(&req.command)) team = &imp->team_id;
  p->partition = PartitionFor(*team);
  if (!owned_.count(p->partition)) {
    return Resolve(p, common::Unavailable("partition " + std::to_string(p->partition) + " is owned by another writer"));
  }
  if (auto replay = CheckIdempotency(req)) return Resolve(p, std::move(*replay));
  if (std::string scope = ScopeOf(req); !scope.empty()) {
    auto [it, inserted] = state.scopes.emplace(scope, p);
    if (!inserted) {
      p->replay_of = it->second;  // answered after the batch, like its original
      return;
    }
  }
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
    event->prev_hash = logs_[p->partition].chain_head;
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

Status Writer::Append(const Batch& appended) {
  KL_RETURN_IF_ERROR(log_->Begin());
  for (const auto& p : appended) {
    KL_RETURN_IF_ERROR(log_->Append(p->partition, p->event->team_id, p->encoded, &p->report));
  }
  KL_RETURN_IF_ERROR(log_->Commit(options_.commit_timeout_ms));
  for (const auto& p : appended) KL_RETURN_IF_ERROR(p->report.status);
  return Status::Ok();
}

void Writer::Publish(const Batch& batch, const Batch& appended) {
  {
    common::MutexLock lock(&mu_);
    for (const auto& p : appended) {
      auto& slot = keys_[p->after.key_id];
      TrackSecret(slot.key_id.empty() ? std::nullopt : std::optional(slot), p->after);
      slot = p->after;
      PartitionLog& log = logs_[p->partition];
      log.chain_head = events::EventHash(p->encoded);
      log.next_offset = p->report.offset + 1;
      if (std::string scope = ScopeOf(p->request); !scope.empty()) {
        idempotency_.Remember(scope, IdempotencyRecord{KindOf(p->request.command), p->after.key_id,
                                                       p->event->key_revision, p->partition, p->report.offset,
                                                       p->event->occurred_at_micros});
      }
    }
    if (!appended.empty()) ++stats_.transactions_committed;
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

void Writer::OnFailure(Batch& batch, const Batch& appended, const Status& failure) {
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
  Recover(batch);
}

}  // namespace keyledger::writer
