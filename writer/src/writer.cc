#include "keyledger/writer/writer.h"

#include <chrono>
#include <limits>
#include <unordered_set>

#include "keyledger/events/codec.h"
#include "keyledger/events/hash_chain.h"

namespace keyledger::writer {

using common::Result;
using common::Status;

namespace {

constexpr int kRecoveryInitTimeoutMs = 3000;

std::string CommandFingerprint(const events::Command& command) {
  return std::visit(
      [](const auto& c) -> std::string {
        using C = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<C, events::CreateKeyCommand>) return "create";
        if constexpr (std::is_same_v<C, events::ImportLegacyKeyCommand>) return "import";
        if constexpr (std::is_same_v<C, events::RenameKeyCommand>) return "rename " + c.key_id;
        if constexpr (std::is_same_v<C, events::RegenerateKeyCommand>) return "regenerate " + c.key_id;
        return "delete " + c.key_id;
      },
      command);
}

std::string EventFingerprint(const events::Event& e) {
  switch (e.type()) {
    case events::EventType::kKeyCreated:
      return e.actor.role == events::Role::kOperator ? "import" : "create";
    case events::EventType::kKeyRenamed: return "rename " + e.key_id;
    case events::EventType::kKeyRegenerated: return "regenerate " + e.key_id;
    case events::EventType::kKeyDeleted: return "delete " + e.key_id;
  }
  return "";
}

std::string ScopeOf(const std::string& team, const std::string& user, const std::string& key) {
  std::string s = team;
  s.push_back('\0');
  s += user;
  s.push_back('\0');
  s += key;
  return s;
}

events::Payload PayloadFor(const std::string& fingerprint) {
  if (fingerprint.rfind("rename", 0) == 0) return events::KeyRenamed{};
  if (fingerprint.rfind("regenerate", 0) == 0) return events::KeyRegenerated{};
  if (fingerprint.rfind("delete", 0) == 0) return events::KeyDeleted{};
  return events::KeyCreated{};
}

}  // namespace

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

struct Writer::Pending {
  CommandRequest request;
  std::promise<Result<CommandOutcome>> promise;
  bool resolved = false;  // Writer thread only.
  // In the writer's clock: a command still queued at its deadline is answered Unavailable without
  // being appended, so a caller that gave up waiting never has its command land later.
  std::int64_t deadline_micros = std::numeric_limits<std::int64_t>::max();
  // Filled while the command is in a batch:
  std::int32_t partition = -1;
  std::optional<events::Event> event;
  std::string encoded;
  events::KeyState after;
  storage::DeliveryReport report;
  std::optional<Status> rejection;
  bool decided_on_uncommitted = false;
  std::shared_ptr<Pending> replay_of;  // Same idempotency key earlier in the same batch.
};

Writer::Writer(WriterOptions options, const events::Catalog* catalog, const common::Clock* clock,
               common::RandomSource* random, common::Logger* logger)
    : options_(std::move(options)), catalog_(catalog), clock_(clock), random_(random),
      logger_(logger) {
  transactional_id_ = "keyledger-writer." + options_.topic + "." + options_.writer_id;
}

Writer::~Writer() { Stop(); }

std::int32_t Writer::PartitionFor(const std::string& team_id) const {
  return storage::PartitionForTeam(team_id, partition_count_);
}

Status Writer::Register(int timeout_ms) {
  producer_.reset();
  KL_ASSIGN_OR_RETURN(producer_, storage::TransactionalProducer::Create(options_.kafka, transactional_id_));
  return producer_->InitTransactions(timeout_ms).WithContext("registering " + transactional_id_);
}

void Writer::TrackSecret(const std::optional<events::KeyState>& before,
                         const events::KeyState& after) {
  if (before && !before->deleted) {
    auto it = live_secrets_.find(before->secret_sha256);
    if (it != live_secrets_.end() && it->second == before->key_id) live_secrets_.erase(it);
  }
  if (!after.deleted) live_secrets_.emplace(after.secret_sha256, after.key_id);
}

Status Writer::ApplyFromLog(const events::Event& event, const storage::LogRecord& record) {
  PartitionLog& log = logs_[record.partition];
  if (event.prev_hash != log.chain_head) {
    return common::DataLoss("hash chain broken at partition " + std::to_string(record.partition) +
                            " offset " + std::to_string(record.offset));
  }
  std::optional<events::KeyState> current;
  if (auto it = keys_.find(event.key_id); it != keys_.end()) current = it->second;
  KL_ASSIGN_OR_RETURN(events::KeyState next, events::Apply(current, event));
  TrackSecret(current, next);
  keys_[event.key_id] = std::move(next);
  if (tracking_events_) caught_up_events_[event.event_id] = record.offset;
  log.chain_head = events::EventHash(record.value);
  log.next_offset = record.offset + 1;
  if (!event.idempotency_key.empty() &&
      event.occurred_at_micros > clock_->NowMicros() - kIdempotencyWindowMicros) {
    std::string team = event.team_id;
    idempotency_[ScopeOf(team, event.actor.user_id, event.idempotency_key)] =
        IdempotencyRecord{EventFingerprint(event), event.key_id, event.key_revision,
                          record.partition, record.offset, event.occurred_at_micros};
  }
  return Status::Ok();
}

Status Writer::CatchUp(int timeout_ms) {
  std::map<std::int32_t, std::int64_t> start;
  {
    std::lock_guard lock(mu_);
    for (std::int32_t p : owned_) start[p] = logs_[p].next_offset;
  }
  KL_ASSIGN_OR_RETURN(auto reader, storage::LogReader::Create(options_.kafka, options_.topic, start));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  std::uint64_t applied = 0;
  while (!reader->AtEnd()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return common::Unavailable("could not read the log to its end within " +
                                 std::to_string(timeout_ms) + " ms");
    }
    KL_ASSIGN_OR_RETURN(auto records, reader->Poll(200, 10000));
    std::lock_guard lock(mu_);
    for (const storage::LogRecord& record : records) {
      auto event = events::Decode(record.value);
      Status s = event.ok() ? ApplyFromLog(*event, record) : event.status();
      if (!s.ok()) {
        return s.WithContext("reading partition " + std::to_string(record.partition) +
                             " offset " + std::to_string(record.offset));
      }
      ++applied;
    }
  }
  logger_->Info("writer caught up with the log", {{"events", applied}, {"keys", keys_.size()}});
  return Status::Ok();
}

Status Writer::Start(int timeout_ms) {
  KL_ASSIGN_OR_RETURN(partition_count_, storage::PartitionCount(options_.kafka, options_.topic, timeout_ms));
  owned_ = options_.partitions;
  if (owned_.empty()) {
    for (std::int32_t p = 0; p < partition_count_; ++p) owned_.insert(p);
  }
  for (std::int32_t p : owned_) {
    if (p < 0 || p >= partition_count_) {
      return common::InvalidArgument("partition " + std::to_string(p) + " does not exist");
    }
  }
  // Register first: it fences an older writer, so nothing changes the log behind our catch-up.
  KL_RETURN_IF_ERROR(Register(timeout_ms));
  KL_RETURN_IF_ERROR(CatchUp(timeout_ms));
  {
    std::lock_guard lock(mu_);
    stats_.state = WriterState::kReady;
    stopping_ = false;
  }
  thread_ = std::thread([this] { Loop(); });
  logger_->Info("writer ready", {{"transactional_id", transactional_id_},
                                 {"partitions", static_cast<std::uint64_t>(owned_.size())}});
  return Status::Ok();
}

void Writer::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  queue_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::deque<std::shared_ptr<Pending>> left;
  {
    std::lock_guard lock(mu_);
    left.swap(queue_);
    if (stats_.state != WriterState::kFenced) stats_.state = WriterState::kStopped;
  }
  for (auto& p : left) Resolve(p, common::Unavailable("writer is shutting down"));
  producer_.reset();
}

std::future<Result<CommandOutcome>> Writer::SubmitAsync(CommandRequest request,
                                                        std::int64_t deadline_micros) {
  auto pending = std::make_shared<Pending>();
  pending->request = std::move(request);
  pending->deadline_micros = deadline_micros;
  auto future = pending->promise.get_future();
  std::optional<Status> refused;
  {
    std::lock_guard lock(mu_);
    switch (stats_.state) {
      case WriterState::kReady:
        queue_.push_back(pending);
        break;
      case WriterState::kFenced:
        refused = common::Unavailable("writer is fenced: " + stats_.fenced_reason);
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
    queue_cv_.notify_one();
  }
  return future;
}

Result<CommandOutcome> Writer::Submit(CommandRequest request) {
  auto future =
      SubmitAsync(std::move(request), clock_->NowMicros() + options_.command_timeout_ms * 1000ll);
  // A command past its deadline is dropped before it is appended, and one already in a
  // transaction is answered once that commits or fails, so the writer's answer normally arrives
  // well within this wait. Only a writer stuck in recovery keeps the caller waiting past it, and
  // then the outcome is genuinely unknown.
  int wait_ms = options_.command_timeout_ms + options_.commit_timeout_ms + 2000;
  if (future.wait_for(std::chrono::milliseconds(wait_ms)) != std::future_status::ready) {
    std::lock_guard lock(mu_);
    ++stats_.commands_unavailable;
    return common::Unavailable("the event log did not confirm the command within " +
                               std::to_string(wait_ms) +
                               " ms; it may still be written: retry with the same Idempotency-Key");
  }
  return future.get();
}

void Writer::Resolve(const std::shared_ptr<Pending>& pending, Result<CommandOutcome> outcome) {
  if (pending->resolved) return;
  pending->resolved = true;
  {
    std::lock_guard lock(mu_);
    if (outcome.ok()) {
      if (outcome->replayed) ++stats_.idempotent_replays;
      ++stats_.commands_acknowledged;
    } else if (outcome.status().code() == common::StatusCode::kUnavailable) {
      ++stats_.commands_unavailable;
    } else {
      ++stats_.commands_rejected;
    }
  }
  pending->promise.set_value(std::move(outcome));
}

std::string Writer::IdempotencyScope(const CommandRequest& r) const {
  if (r.idempotency_key.empty()) return "";
  std::string team = r.caller.team_id;
  if (const auto* imp = std::get_if<events::ImportLegacyKeyCommand>(&r.command)) team = imp->team_id;
  return ScopeOf(team, r.caller.user_id, r.idempotency_key);
}

std::optional<Result<CommandOutcome>> Writer::CheckIdempotency(const CommandRequest& request) {
  std::string scope = IdempotencyScope(request);
  if (scope.empty()) return std::nullopt;
  std::lock_guard lock(mu_);
  auto it = idempotency_.find(scope);
  if (it == idempotency_.end()) return std::nullopt;
  const IdempotencyRecord& rec = it->second;
  if (rec.at_micros <= clock_->NowMicros() - kIdempotencyWindowMicros) {
    idempotency_.erase(it);
    return std::nullopt;
  }
  if (rec.fingerprint != CommandFingerprint(request.command)) {
    return Result<CommandOutcome>(common::Conflict(
        "Idempotency-Key was already used for a different request (" + rec.fingerprint + ")"));
  }
  CommandOutcome outcome;
  outcome.replayed = true;
  outcome.partition = rec.partition;
  outcome.offset = rec.offset;
  auto key = keys_.find(rec.key_id);
  if (key != keys_.end()) outcome.key_after = key->second;
  outcome.event.key_id = rec.key_id;
  outcome.event.team_id = outcome.key_after.team_id;
  outcome.event.key_revision = rec.revision;
  outcome.event.payload = PayloadFor(rec.fingerprint);
  return Result<CommandOutcome>(std::move(outcome));
}

void Writer::Loop() {
  while (true) {
    std::vector<std::shared_ptr<Pending>> batch;
    {
      std::unique_lock lock(mu_);
      queue_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      while (!queue_.empty() && batch.size() < options_.max_batch_commands) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    RunBatch(batch);
  }
}

void Writer::RunBatch(std::vector<std::shared_ptr<Pending>>& batch) {
  std::unordered_map<std::string, events::KeyState> overlay;
  std::map<std::int32_t, common::Sha256Digest> heads;
  std::unordered_map<std::string, std::shared_ptr<Pending>> scopes_in_batch;
  std::vector<std::shared_ptr<Pending>> appended;

  const std::int64_t batch_start_micros = clock_->NowMicros();
  std::unordered_set<common::SecretHash, SecretHashHasher> secrets_in_batch;
  for (const std::shared_ptr<Pending>& p : batch) {
    if (p->deadline_micros <= batch_start_micros) {
      Resolve(p, common::Unavailable("the writer could not take the command before its deadline; "
                                     "nothing was written, retry"));
      continue;
    }
    const CommandRequest& req = p->request;
    const std::string* team = &req.caller.team_id;
    if (const auto* imp = std::get_if<events::ImportLegacyKeyCommand>(&req.command)) team = &imp->team_id;
    p->partition = PartitionFor(*team);
    if (!owned_.count(p->partition)) {
      Resolve(p, common::Unavailable("partition " + std::to_string(p->partition) +
                                     " is owned by another writer"));
      continue;
    }
    if (auto replay = CheckIdempotency(req)) {
      Resolve(p, std::move(*replay));
      continue;
    }
    std::string scope = IdempotencyScope(req);
    if (!scope.empty()) {
      auto [it, inserted] = scopes_in_batch.emplace(scope, p);
      if (!inserted) {
        p->replay_of = it->second;
        continue;
      }
    }
    events::Command command = req.command;
    if (auto* create = std::get_if<events::CreateKeyCommand>(&command); create && create->key_id.empty()) {
      auto id = common::NewUuidV4(*random_);
      if (!id.ok()) {
        Resolve(p, id.status());
        continue;
      }
      create->key_id = *id;
    } else if (auto* imp = std::get_if<events::ImportLegacyKeyCommand>(&command); imp && imp->key_id.empty()) {
      auto id = common::NewUuidV4(*random_);
      if (!id.ok()) {
        Resolve(p, id.status());
        continue;
      }
      imp->key_id = *id;
    }
    const std::string& key_id = events::CommandKeyId(command);
    std::optional<events::KeyState> current;
    bool uncommitted = false;
    if (auto it = overlay.find(key_id); it != overlay.end()) {
      current = it->second;
      uncommitted = true;
    } else {
      std::lock_guard lock(mu_);
      if (auto k = keys_.find(key_id); k != keys_.end()) current = k->second;
    }
    auto event_id = common::NewUuidV4(*random_);
    if (!event_id.ok()) {
      Resolve(p, event_id.status());
      continue;
    }
    events::CommandContext context{*event_id, clock_->NowMicros(), req.request_id,
                                   req.idempotency_key, req.correlation_id};
    auto event = events::Decide(current, req.caller, command, *catalog_, context);
    if (!event.ok()) {
      p->rejection = event.status();
      p->decided_on_uncommitted = uncommitted;
      continue;
    }
    if (auto h = heads.find(p->partition); h != heads.end()) {
      event->prev_hash = h->second;
    } else {
      std::lock_guard lock(mu_);
      event->prev_hash = logs_[p->partition].chain_head;
    }
    auto encoded = events::Encode(*event);
    auto after = encoded.ok() ? events::Apply(current, *event) : Result<events::KeyState>(encoded.status());
    if (!after.ok()) {
      Resolve(p, common::Internal("cannot append event: " + after.status().message()));
      continue;
    }
    // One live key per secret: a second key with the same secret hash would shadow the first in
    // every secret lookup (only an import can bring a secret in from outside).
    if (!after->deleted && (!current || current->secret_sha256 != after->secret_sha256)) {
      bool taken = !secrets_in_batch.insert(after->secret_sha256).second;
      if (!taken) {
        std::lock_guard lock(mu_);
        auto it = live_secrets_.find(after->secret_sha256);
        taken = it != live_secrets_.end() && it->second != key_id;
      }
      if (taken) {
        p->rejection = common::Conflict("the secret is already in use by another key");
        p->decided_on_uncommitted = uncommitted;
        continue;
      }
    }
    heads[p->partition] = events::EventHash(*encoded);
    overlay[key_id] = *after;
    p->event = std::move(*event);
    p->encoded = std::move(*encoded);
    p->after = std::move(*after);
    appended.push_back(p);
  }

  Status committed = Status::Ok();
  if (!appended.empty()) {
    committed = producer_->BeginTransaction();
    for (size_t i = 0; committed.ok() && i < appended.size(); ++i) {
      const auto& p = appended[i];
      committed = producer_->Produce(options_.topic, p->partition, p->event->team_id, p->encoded,
                                     &p->report);
    }
    if (committed.ok()) committed = producer_->CommitTransaction(options_.commit_timeout_ms);
    for (size_t i = 0; committed.ok() && i < appended.size(); ++i) {
      if (!appended[i]->report.status.ok()) committed = appended[i]->report.status;
    }
  }

  if (committed.ok()) {
    {
      std::lock_guard lock(mu_);
      for (const auto& p : appended) {
        auto& slot = keys_[p->after.key_id];
        TrackSecret(slot.key_id.empty() ? std::nullopt : std::optional(slot), p->after);
        slot = p->after;
        PartitionLog& log = logs_[p->partition];
        log.chain_head = events::EventHash(p->encoded);
        log.next_offset = p->report.offset + 1;
        if (!p->request.idempotency_key.empty()) {
          idempotency_[IdempotencyScope(p->request)] =
              IdempotencyRecord{CommandFingerprint(p->request.command), p->after.key_id,
                                p->event->key_revision, p->partition, p->report.offset,
                                p->event->occurred_at_micros};
        }
      }
      if (!appended.empty()) ++stats_.transactions_committed;
    }
    for (const auto& p : appended) {
      CommandOutcome outcome{*p->event, p->after, p->report.partition, p->report.offset, false};
      Resolve(p, std::move(outcome));
    }
    for (const auto& p : batch) {
      if (p->rejection) Resolve(p, *p->rejection);
      if (p->replay_of && !p->resolved) {
        auto replay = CheckIdempotency(p->request);
        Resolve(p, replay ? std::move(*replay)
                          : Result<CommandOutcome>(p->replay_of->rejection
                                                       ? *p->replay_of->rejection
                                                       : common::Unavailable("original request failed")));
      }
    }
    return;
  }

  // The transaction failed. Work out whether it can have committed.
  {
    std::lock_guard lock(mu_);
    ++stats_.transactions_failed;
  }
  logger_->Warn("transaction failed", {{"error", committed.message()},
                                       {"commands", static_cast<std::uint64_t>(appended.size())}});
  if (producer_->fenced()) {
    std::string reason = "another writer registered transactional.id " + transactional_id_ + " (" +
                         producer_->fatal_reason() + ")";
    {
      std::lock_guard lock(mu_);
      stats_.state = WriterState::kFenced;
      stats_.fenced_reason = reason;
    }
    logger_->Error("writer fenced; it will not append again", {{"reason", reason}});
    for (const auto& p : batch) Resolve(p, common::Unavailable("writer is fenced: " + reason));
    std::deque<std::shared_ptr<Pending>> queued;
    {
      std::lock_guard lock(mu_);
      queued.swap(queue_);
    }
    for (const auto& p : queued) Resolve(p, common::Unavailable("writer is fenced: " + reason));
    return;
  }
  bool clean_abort = !producer_->fatal() &&
                     committed.code() == common::StatusCode::kConflict &&
                     producer_->AbortTransaction(options_.commit_timeout_ms).ok();
  if (clean_abort) {
    // Aborted: none of the events is visible; the state was never updated.
    for (const auto& p : batch) {
      if (p->rejection && !p->decided_on_uncommitted) {
        Resolve(p, *p->rejection);
      } else {
        Resolve(p, common::Unavailable("the event log rejected the transaction (" +
                                       committed.message() + "); nothing was written, retry"));
      }
    }
    return;
  }
  Recover(batch);
}

void Writer::Recover(std::vector<std::shared_ptr<Pending>>& in_flight) {
  {
    std::lock_guard lock(mu_);
    stats_.state = WriterState::kRecovering;
  }
  for (const auto& p : in_flight) {
    if (p->rejection && !p->decided_on_uncommitted) Resolve(p, *p->rejection);
  }
  {
    std::lock_guard lock(mu_);
    caught_up_events_.clear();
    tracking_events_ = true;
  }
  bool first = true;
  while (true) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) break;
    }
    // Re-registering aborts our open transaction if it did not commit (and fences any zombie);
    // reading the log afterwards shows exactly what landed.
    Status s = Register(kRecoveryInitTimeoutMs);
    if (s.ok()) s = CatchUp(30000);
    if (s.ok()) {
      std::lock_guard lock(mu_);
      stats_.state = WriterState::kReady;
      tracking_events_ = false;
      break;
    }
    if (producer_ && producer_->fenced()) {
      std::lock_guard lock(mu_);
      stats_.state = WriterState::kFenced;
      stats_.fenced_reason = "fenced while recovering: " + producer_->fatal_reason();
      break;
    }
    if (first) {
      // The broker is away: answer the in-flight commands now rather than let them hang.
      for (const auto& p : in_flight) {
        Resolve(p, common::Unavailable("the event log is unavailable (" + s.message() +
                                       "); the command was not acknowledged, retry with the same "
                                       "Idempotency-Key"));
      }
      std::deque<std::shared_ptr<Pending>> queued;
      {
        std::lock_guard lock(mu_);
        queued.swap(queue_);
      }
      for (const auto& p : queued) Resolve(p, common::Unavailable("the event log is unavailable"));
      logger_->Warn("writer lost the event log; reconnecting", {{"error", s.message()}});
      first = false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  // Commands whose outcome is still open: acknowledged if their event is in the log now.
  for (const auto& p : in_flight) {
    if (p->resolved || !p->event) continue;
    std::optional<std::int64_t> offset;
    {
      std::lock_guard lock(mu_);
      if (auto it = caught_up_events_.find(p->event->event_id); it != caught_up_events_.end()) {
        offset = it->second;
      }
    }
    if (offset) {
      std::optional<events::KeyState> now = KeyState(p->event->key_id);
      CommandOutcome outcome{*p->event, now ? *now : p->after, p->partition, *offset, false};
      Resolve(p, std::move(outcome));
    } else {
      Resolve(p, common::Unavailable("the transaction did not commit; nothing was written, retry"));
    }
  }
  for (const auto& p : in_flight) {
    if (p->resolved) continue;
    auto replay = p->replay_of ? CheckIdempotency(p->request) : std::nullopt;
    Resolve(p, replay ? std::move(*replay)
                      : Result<CommandOutcome>(common::Unavailable("the transaction did not commit; retry")));
  }
  {
    std::lock_guard lock(mu_);
    caught_up_events_.clear();
  }
  logger_->Info("writer recovered", {{"state", std::string(WriterStateName(stats().state))}});
}

std::optional<std::string> Writer::SecretOwner(const common::SecretHash& hash) const {
  std::lock_guard lock(mu_);
  auto it = live_secrets_.find(hash);
  if (it == live_secrets_.end()) return std::nullopt;
  return it->second;
}

std::optional<events::KeyState> Writer::KeyState(const std::string& key_id) const {
  std::lock_guard lock(mu_);
  auto it = keys_.find(key_id);
  if (it == keys_.end()) return std::nullopt;
  return it->second;
}

std::map<std::int32_t, std::int64_t> Writer::CommittedOffsets() const {
  std::lock_guard lock(mu_);
  std::map<std::int32_t, std::int64_t> out;
  for (std::int32_t p : owned_) {
    auto it = logs_.find(p);
    out[p] = it == logs_.end() ? 0 : it->second.next_offset;
  }
  return out;
}

WriterStats Writer::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace keyledger::writer
