#include "testing/fakes.h"

#include <algorithm>

#include "keyledger/events/key_rules.h"

namespace keyledger::api::testing {

using common::Result;
using common::Status;

class FakeLedger::View final : public replay::ReadView {
 public:
  explicit View(FakeLedger* ledger) : ledger_(ledger) {}

  void HeavyRead() const {
    if (int ms = ledger_->heavy_read_ms_.load(); ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  }

  Result<std::optional<projector::KeyRecord>> GetKey(const std::string& key_id) const override {
    common::MutexLock lock(&ledger_->mu_);
    KL_RETURN_IF_ERROR(ledger_->read_failure_);
    auto it = ledger_->keys_.find(key_id);
    if (it == ledger_->keys_.end()) return std::optional<projector::KeyRecord>();
    return std::optional<projector::KeyRecord>(projector::KeyRecord{it->second, 0, 0});
  }

  Result<projector::ReadModel::Page> ListView(const events::Caller& caller, events::View view, size_t page,
                                              size_t per_page) const override {
    KL_RETURN_IF_ERROR(events::CheckViewAllowed(view, caller));
    HeavyRead();
    common::MutexLock lock(&ledger_->mu_);
    KL_RETURN_IF_ERROR(ledger_->read_failure_);
    std::vector<events::KeyState> in_view;
    for (const auto& [id, k] : ledger_->keys_) {
      if (!k.deleted && events::KeyInView(k, view, caller)) in_view.push_back(k);
    }
    std::sort(in_view.begin(), in_view.end(), [](const auto& a, const auto& b) {
      return std::tie(b.created_at_micros, b.key_id) < std::tie(a.created_at_micros, a.key_id);
    });
    projector::ReadModel::Page out;
    out.total = in_view.size();
    for (size_t i = (page - 1) * per_page; i < in_view.size() && out.keys.size() < per_page; ++i) {
      out.keys.push_back(in_view[i]);
    }
    return out;
  }

  Result<std::vector<projector::ReadModel::HistoryEntry>> KeyHistory(const std::string& key_id, std::uint64_t from,
                                                                     size_t limit, bool newest_first) const override {
    HeavyRead();
    common::MutexLock lock(&ledger_->mu_);
    KL_RETURN_IF_ERROR(ledger_->read_failure_);
    std::vector<projector::ReadModel::HistoryEntry> all;
    for (const Stored& s : ledger_->log_) {
      if (s.event.key_id == key_id) all.push_back({{0, s.offset}, s.event});
    }
    if (newest_first) std::reverse(all.begin(), all.end());
    std::vector<projector::ReadModel::HistoryEntry> out;
    for (auto& e : all) {
      const std::uint64_t rev = e.event.key_revision;
      if (newest_first ? rev > from : rev < from) continue;
      if (out.size() == limit) break;
      out.push_back(std::move(e));
    }
    return out;
  }

  Result<std::optional<events::Event>> FindEvent(projector::EventLocator locator) const override {
    common::MutexLock lock(&ledger_->mu_);
    KL_RETURN_IF_ERROR(ledger_->read_failure_);
    for (const Stored& s : ledger_->log_) {
      if (locator.partition == 0 && s.offset == locator.offset) return std::optional<events::Event>(s.event);
    }
    return std::optional<events::Event>();
  }

  Result<replay::AuditPage> QueryAudit(const replay::AuditQuery& q) const override {
    if (q.since_micros && q.until_micros && *q.since_micros >= *q.until_micros) return replay::AuditPage{};
    HeavyRead();
    common::MutexLock lock(&ledger_->mu_);
    KL_RETURN_IF_ERROR(ledger_->read_failure_);
    replay::AuditPage page;
    std::map<std::string, events::KeyState> states;
    for (const Stored& s : ledger_->log_) {
      std::optional<events::KeyState> before;
      if (auto it = states.find(s.event.key_id); it != states.end()) before = it->second;
      KL_ASSIGN_OR_RETURN(events::KeyState after, events::Apply(before, s.event));
      states[s.event.key_id] = after;
      const events::Event& e = s.event;
      if (e.team_id != q.team_id || (!q.key_id.empty() && e.key_id != q.key_id) ||
          (!q.actor_id.empty() && e.actor.user_id != q.actor_id) || (q.event_type && e.type() != *q.event_type)) {
        continue;
      }
      page.records.push_back({e, 0, s.offset, before, after});
    }
    if (q.order == replay::AuditOrder::kNewestFirst) std::reverse(page.records.begin(), page.records.end());
    if (page.records.size() > q.limit) page.records.resize(q.limit);
    return page;
  }

  Result<std::optional<events::KeyState>> KeyAsOf(const std::string& team_id, const std::string& key_id,
                                                  const replay::AsOf& as_of) const override {
    common::MutexLock lock(&ledger_->mu_);
    KL_RETURN_IF_ERROR(ledger_->read_failure_);
    std::optional<events::KeyState> state;
    for (const Stored& s : ledger_->log_) {
      if ((as_of.offset && s.offset > *as_of.offset) || (as_of.time_micros && s.event.occurred_at_micros > *as_of.time_micros)) break;
      if (s.event.key_id != key_id || s.event.team_id != team_id) continue;
      KL_ASSIGN_OR_RETURN(events::KeyState next, events::Apply(state, s.event));
      state = std::move(next);
    }
    return state;
  }

  Result<std::vector<events::KeyState>> CallableAsOf(const std::string& team_id, const std::string& model,
                                                     const std::string& source_vpc, const replay::AsOf& as_of,
                                                     const events::Catalog& catalog) const override {
    std::vector<events::KeyState> out;
    std::map<std::string, events::KeyState> keys;
    {
      common::MutexLock lock(&ledger_->mu_);
      KL_RETURN_IF_ERROR(ledger_->read_failure_);
      for (const Stored& s : ledger_->log_) {
        if ((as_of.offset && s.offset > *as_of.offset) || (as_of.time_micros && s.event.occurred_at_micros > *as_of.time_micros)) break;
        if (s.event.team_id != team_id) continue;
        std::optional<events::KeyState> current;
        if (auto it = keys.find(s.event.key_id); it != keys.end()) current = it->second;
        KL_ASSIGN_OR_RETURN(keys[s.event.key_id], events::Apply(current, s.event));
      }
    }
    for (auto& [id, k] : keys) {
      if (replay::CouldCall(k, model, source_vpc, catalog)) out.push_back(k);
    }
    return out;
  }

  Status WaitForOffset(std::int32_t, std::int64_t, int) override {
    common::MutexLock lock(&ledger_->mu_);
    if (ledger_->projector_behind_) return common::Unavailable("the fake projector is behind");
    return Status::Ok();
  }

  projector::ProjectorStats projector_stats() const override {
    common::MutexLock lock(&ledger_->mu_);
    projector::ProjectorStats stats;
    stats.events_applied = ledger_->log_.size();
    std::int64_t next = ledger_->log_.empty() ? 0 : ledger_->log_.back().offset + 1;
    stats.next_offsets[0] = ledger_->projector_behind_ ? 0 : next;
    stats.halts = ledger_->halt_ ? 1 : 0;
    return stats;
  }

  Result<std::vector<projector::Halt>> Halts() const override {
    common::MutexLock lock(&ledger_->mu_);
    if (!ledger_->read_failure_.ok()) return ledger_->read_failure_;
    std::vector<projector::Halt> out;
    if (const std::optional<events::PartitionHalt> h = ledger_->halt_) {
      out.push_back({0, h->offset, h->reason, h->record_sha256});
    }
    return out;
  }

  Result<std::vector<std::string>> Skips() const override {
    common::MutexLock lock(&ledger_->mu_);
    if (!ledger_->read_failure_.ok()) return ledger_->read_failure_;
    return ledger_->skips_;
  }

 private:
  FakeLedger* ledger_;
};

FakeLedger::FakeLedger(const events::Catalog* catalog, const common::Clock* clock, common::RandomSource* random)
    : catalog_(catalog), clock_(clock), random_(random), view_(std::make_shared<View>(this)) {}

FakeLedger::~FakeLedger() = default;

std::shared_ptr<replay::ReadView> FakeLedger::Acquire() const { return view_; }

Result<writer::CommandOutcome> FakeLedger::Submit(writer::CommandRequest request) {
  common::MutexLock lock(&mu_);
  requests_.push_back(request);
  if (next_failure_) {
    Status failure = *next_failure_;
    next_failure_.reset();
    return failure;
  }
  if (state_ == writer::WriterState::kFenced) return common::FailedPrecondition("writer is fenced: by a test");
  if (state_ != writer::WriterState::kReady) return common::Unavailable("writer is not ready");
  std::string scope = request.idempotency_key.empty()
                          ? ""
                          : request.caller.team_id + "/" + request.caller.user_id + "/" + request.idempotency_key;
  if (!scope.empty()) {
    if (auto it = idempotency_.find(scope); it != idempotency_.end()) {
      writer::CommandOutcome replay = it->second;
      replay.replayed = true;
      if (!replay.key_after.key_id.empty()) replay.key_after = keys_[replay.key_after.key_id];
      return replay;
    }
  }
  if (const auto* skip = std::get_if<events::SkipRecordCommand>(&request.command)) {
    if (!halt_ || skip->skip.partition != 0 || skip->skip.offset != halt_->offset ||
        skip->skip.record_sha256 != halt_->record_sha256) {
      return common::Conflict("the fake partition is not halted at that record");
    }
    KL_ASSIGN_OR_RETURN(std::string event_id, common::NewUuidV4(*random_));
    events::CommandContext context{event_id, clock_->NowMicros(), request.request_id, request.idempotency_key,
                                   request.correlation_id};
    KL_ASSIGN_OR_RETURN(events::Event event, events::DecideSkip(request.caller, skip->skip, context));
    std::int64_t offset = static_cast<std::int64_t>(log_.size());
    log_.push_back({event, offset});
    skips_.push_back("{\"operator\":\"" + request.caller.user_id + "\",\"note\":\"" + skip->skip.note + "\"}");
    halt_.reset();
    writer::CommandOutcome outcome{event, {}, 0, offset, false};
    if (!scope.empty()) idempotency_[scope] = outcome;
    return outcome;
  }
  if (halt_) return common::FailedPrecondition("partition 0 is halted at offset " + std::to_string(halt_->offset));
  if (auto* create = std::get_if<events::CreateKeyCommand>(&request.command); create && create->key_id.empty()) {
    KL_ASSIGN_OR_RETURN(create->key_id, common::NewUuidV4(*random_));
  }
  const std::string& key_id = events::CommandKeyId(request.command);
  std::optional<events::KeyState> current;
  if (auto it = keys_.find(key_id); it != keys_.end()) current = it->second;
  KL_ASSIGN_OR_RETURN(std::string event_id, common::NewUuidV4(*random_));
  events::CommandContext context{event_id, clock_->NowMicros(), request.request_id, request.idempotency_key,
                                 request.correlation_id};
  KL_ASSIGN_OR_RETURN(events::Event event, events::Decide(current, request.caller, request.command, *catalog_, context));
  KL_ASSIGN_OR_RETURN(events::KeyState after, events::Apply(current, event));
  std::int64_t offset = static_cast<std::int64_t>(log_.size());
  log_.push_back({event, offset});
  keys_[key_id] = after;
  writer::CommandOutcome outcome{event, after, 0, offset, false};
  if (!scope.empty()) idempotency_[scope] = outcome;
  if (next_unconfirmed_) {
    Status unconfirmed = *next_unconfirmed_;
    next_unconfirmed_.reset();
    return unconfirmed;
  }
  return outcome;
}

writer::WriterStats FakeLedger::stats() const {
  common::MutexLock lock(&mu_);
  writer::WriterStats s;
  s.state = state_;
  s.commands_acknowledged = log_.size();
  return s;
}

std::map<std::int32_t, std::int64_t> FakeLedger::CommittedOffsets() const {
  common::MutexLock lock(&mu_);
  return {{0, log_.empty() ? 0 : log_.back().offset + 1}};
}

std::map<std::int32_t, events::PartitionHalt> FakeLedger::Halts() const {
  common::MutexLock lock(&mu_);
  if (!halt_) return {};
  return {{0, *halt_}};
}

void FakeLedger::SetHalt(events::PartitionHalt halt) {
  common::MutexLock lock(&mu_);
  halt_ = std::move(halt);
}

void FakeLedger::FailNextCommand(Status status) {
  common::MutexLock lock(&mu_);
  next_failure_ = std::move(status);
}

void FakeLedger::LandNextCommandUnconfirmed(Status status) {
  common::MutexLock lock(&mu_);
  next_unconfirmed_ = std::move(status);
}

std::optional<events::KeyState> FakeLedger::KeyState(const std::string& key_id) const {
  common::MutexLock lock(&mu_);
  auto it = keys_.find(key_id);
  if (it == keys_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> FakeLedger::SecretOwner(const common::SecretHash& hash) const {
  common::MutexLock lock(&mu_);
  for (const auto& [id, k] : keys_) {
    if (!k.deleted && k.secret_sha256 == hash) return id;
  }
  return std::nullopt;
}

void FakeLedger::FailReads(Status status) {
  common::MutexLock lock(&mu_);
  read_failure_ = std::move(status);
}

void FakeLedger::SetWriterState(writer::WriterState state) {
  common::MutexLock lock(&mu_);
  state_ = state;
}

void FakeLedger::SetProjectorBehind(bool behind) {
  common::MutexLock lock(&mu_);
  projector_behind_ = behind;
}

size_t FakeLedger::event_count() const {
  common::MutexLock lock(&mu_);
  return log_.size();
}

std::vector<writer::CommandRequest> FakeLedger::requests() const {
  common::MutexLock lock(&mu_);
  return requests_;
}

}  // namespace keyledger::api::testing
