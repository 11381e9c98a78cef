// The projector's decide-and-apply phase: records in, one WriteBatch with their read-model effects
// out (nothing is written here; see projector.cc for the loop and committer.h for the writes).
#include "keyledger/common/log.h"
#include "keyledger/events/codec.h"
#include "keyledger/events/hash_chain.h"
#include "keyledger/events/key_rules.h"
#include "keyledger/events/partition_guard.h"
#include "keyledger/projector/layout.h"
#include "keyledger/projector/projector.h"
#include "keyledger/projector/records.h"
#include "prepared.h"

namespace keyledger::projector {

using common::Result;
using common::Status;

namespace {

// Puts the read-model changes of one applied event into `batch`, and what it changes in the view
// counts into `count_deltas`.
void WriteEffects(storage::Store::Batch& batch, std::map<std::string, std::int64_t>& count_deltas,
                  const std::optional<events::KeyState>& before, const events::KeyState& after,
                  const events::Event& event, const storage::LogRecord& record) {
  const EventLocator locator{record.partition, record.offset};
  const std::string loc = layout::Locator(locator);
  const std::string key_record = EncodeKeyRecord(KeyRecord{after, record.partition, record.offset});
  batch.Put(Column::kKeys, after.key_id, key_record);

  if (before && !before->deleted && (after.deleted || before->secret_sha256 != after.secret_sha256)) {
    batch.Delete(Column::kSecretLookup, layout::SecretKey(before->secret_sha256));
  }
  // A rename leaves the secret and what it may do unchanged: no write.
  if (!after.deleted && (!before || before->secret_sha256 != after.secret_sha256)) {
    batch.Put(Column::kSecretLookup, layout::SecretKey(after.secret_sha256), EncodeSecretRecord(SecretRecordOf(after)));
  }

  const std::string team_prefix = layout::TeamViewPrefix(after.team_id);
  if (!before || after.deleted) {
    const std::int64_t delta = before ? -1 : 1;
    if (after.legacy) {
      count_deltas[layout::ViewCountKey(events::View::kLegacy, after.team_id)] += delta;
    } else {
      count_deltas[layout::ViewCountKey(events::View::kMine, after.team_id, after.creator_id)] += delta;
      count_deltas[layout::ViewCountKey(events::View::kTeam, after.team_id)] += delta;
    }
  }
  if (!before) {
    if (after.legacy) {
      batch.Put(Column::kViewLegacy, layout::ViewKey(team_prefix, after), after.creator_id);
    } else {
      batch.Put(Column::kViewMine, layout::ViewKey(layout::MineViewPrefix(after.team_id, after.creator_id), after), "");
      batch.Put(Column::kViewTeam, layout::ViewKey(team_prefix, after), after.creator_id);
    }
  } else if (after.deleted) {
    if (after.legacy) {
      batch.Delete(Column::kViewLegacy, layout::ViewKey(team_prefix, after));
    } else {
      batch.Delete(Column::kViewMine, layout::ViewKey(layout::MineViewPrefix(after.team_id, after.creator_id), after));
      batch.Delete(Column::kViewTeam, layout::ViewKey(team_prefix, after));
    }
  }

  batch.Put(Column::kAuditByKey, layout::AuditByKeyKey(after.key_id, event.key_revision), loc + key_record);
  const std::string type(1, static_cast<char>(event.type()));
  batch.Put(Column::kAuditByTeamTime,
            layout::AuditTimeKey(layout::AuditByTeamPrefix(event.team_id), event.occurred_at_micros, locator), type);
  batch.Put(Column::kAuditByActor,
            layout::AuditTimeKey(layout::AuditByActorPrefix(event.team_id, event.actor.user_id),
                                 event.occurred_at_micros, locator),
            type);
  batch.Put(Column::kEvents, loc, record.value);
}

// The stored note of an honoured skip: all from the event, so a replay stores the same bytes.
std::string SkipNote(const events::Event& event, const events::RecordSkipped& skip, std::int64_t skip_offset) {
  std::string out = "{\"skipped_at\":\"" + common::FormatRfc3339(event.occurred_at_micros) + "\",\"operator\":";
  common::AppendJsonString(out, event.actor.user_id);
  out += ",\"event_id\":";
  common::AppendJsonString(out, event.event_id);
  out += ",\"skip_offset\":" + std::to_string(skip_offset) + ",\"reason\":";
  common::AppendJsonString(out, skip.reason);
  out += ",\"note\":";
  common::AppendJsonString(out, skip.note);
  out += ",\"record_sha256\":\"" + common::HexEncode(skip.record_sha256) + "\"}";
  return out;
}

}  // namespace

Result<std::unique_ptr<Projector::Prepared>> Projector::Prepare(const std::vector<storage::LogRecord>& records) {
  using Verdict = events::PartitionGuard::Verdict;
  auto prepared = std::make_unique<Prepared>();
  prepared->batch = store_->NewBatch();
  storage::Store::Batch& batch = prepared->batch;
  std::map<std::int32_t, events::PartitionGuard> guards;
  std::unordered_map<std::string, events::KeyState> pending;
  std::map<std::string, std::int64_t> count_deltas;
  for (const auto& r : records) {
    if (!guards.count(r.partition)) guards.emplace(r.partition, events::PartitionGuard(r.partition, partition_count_, prepared_[r.partition]));
  }
  for (const storage::LogRecord& record : records) {
    // After an honoured skip the partition is read again from the record after the bad one; this
    // poll's later records of it come again then.
    if (prepared->reread.count(record.partition)) continue;
    events::PartitionGuard& guard = guards.at(record.partition);
    auto halt = [&] {
      const events::PartitionHalt& h = *guard.position().halt;
      prepared->halts.push_back(Halt{record.partition, h.offset, h.reason, h.record_sha256});
    };
    events::PartitionGuard::Step step = guard.Next(record.offset, record.value);
    switch (step.verdict) {
      case Verdict::kIgnored:
        continue;
      case Verdict::kHalted:
        if (step.newly_halted) halt();
        continue;
      case Verdict::kSkipHonoured: {
        const auto& skip = std::get<events::RecordSkipped>(step.event.payload);
        batch.Put(Column::kMeta, layout::SkipKey(record.partition, skip.offset), SkipNote(step.event, skip, record.offset));
        prepared->skips.push_back(skip);
        prepared->reread[record.partition] = step.reread_from;
        continue;
      }
      case Verdict::kApply:
        break;
    }
    const events::Event& event = step.event;
    std::optional<events::KeyState> before;
    if (auto it = pending.find(event.key_id); it != pending.end()) {
      before = it->second;
    } else if (auto cached = cache_.find(event.key_id); cached != cache_.end()) {
      before = cached->second;
    } else {
      // Not prepared recently, so written already (the batch being written is all in cache_).
      KL_ASSIGN_OR_RETURN(auto stored, read_model_.GetKey(event.key_id));
      if (stored) before = std::move(stored->state);
    }
    auto after = events::Apply(before, event);
    if (!after.ok()) {
      guard.HaltAt(record.offset, record.value, "event does not apply: " + after.status().message());
      halt();
      continue;
    }
    WriteEffects(batch, count_deltas, before, *after, event, record);
    pending[event.key_id] = std::move(*after);
    guard.Applied(record.offset, record.value);
    ++prepared->applied;
  }
  for (const auto& [p, guard] : guards) {
    const PartitionState& ps = guard.position();
    batch.Put(Column::kMeta, layout::OffsetKey(p), layout::OffsetValue(ps.next_offset));
    batch.Put(Column::kMeta, layout::ChainKey(p), layout::DigestValue(ps.head));
    if (ps.alt_head) {
      batch.Put(Column::kMeta, layout::AltChainKey(p), layout::DigestValue(*ps.alt_head));
    } else {
      batch.Delete(Column::kMeta, layout::AltChainKey(p));
    }
    if (ps.halt) {
      batch.Put(Column::kMeta, layout::HaltKey(p), EncodeHalt(Halt{p, ps.halt->offset, ps.halt->reason, ps.halt->record_sha256}));
    } else {
      batch.Delete(Column::kMeta, layout::HaltKey(p));
    }
    prepared->touched[p] = ps;
  }
  batch.Put(Column::kMeta, layout::kLayoutVersionKey, layout::LayoutVersionValue(layout::kLayoutVersion));
  // Counts from the last prepared batch, else from the store (written by then: see cache_).
  std::unordered_map<std::string, std::int64_t> counts;
  for (const auto& [key, delta] : count_deltas) {
    std::int64_t count = 0;
    if (auto it = count_cache_.find(key); it != count_cache_.end()) {
      count = it->second;
    } else {
      KL_ASSIGN_OR_RETURN(count, read_model_.ViewCount(key));
    }
    count += delta;
    if (count < 0) return common::DataLoss("a view count would fall below zero: the store's counts are damaged");
    if (count == 0) {
      batch.Delete(Column::kMeta, key);
    } else {
      batch.Put(Column::kMeta, key, layout::CountValue(count));
    }
    counts[key] = count;
  }
  // The next batch starts from this one's states, written or not. If its write fails, the
  // projector stops, and a restart (Load) reads states from the store again.
  for (const auto& [p, ps] : prepared->touched) prepared_[p] = ps;
  constexpr size_t kMaxCachedKeys = 1u << 20;
  if (cache_.size() + pending.size() > kMaxCachedKeys) cache_.clear();
  for (auto& [key_id, state] : pending) cache_[key_id] = std::move(state);
  if (count_cache_.size() + counts.size() > kMaxCachedKeys) count_cache_.clear();
  for (const auto& [key, count] : counts) count_cache_[key] = count;
  return prepared;
}

Status Projector::UpgradeLayout() {
  KL_ASSIGN_OR_RETURN(auto stored_version, store_->Get(Column::kMeta, layout::kLayoutVersionKey));
  std::uint32_t version = 1;
  if (stored_version) {
    auto v = layout::ParseLayoutVersionValue(*stored_version);
    if (!v) return common::DataLoss("the store's layout version is not 4 bytes");
    version = *v;
  }
  if (version > layout::kLayoutVersion) {
    return common::FailedPrecondition("the store has layout version " + std::to_string(version) +
                                      ", newer than this build's " + std::to_string(layout::kLayoutVersion) +
                                      ": run the newer build");
  }
  if (version == layout::kLayoutVersion) return Status::Ok();
  if (!stored_version) {
    // Nothing projected yet (no offsets): nothing to upgrade, and the first batch writes the
    // version with its effects, so a store is never ahead of a replay of a prefix of its log.
    KL_ASSIGN_OR_RETURN(auto offsets, read_model_.Offsets());
    if (offsets.empty()) return Status::Ok();
  }
  logger_->Info("upgrading the read-model store's layout",
                {{"from", static_cast<std::int64_t>(version)}, {"to", static_cast<std::int64_t>(layout::kLayoutVersion)}});
  // Before 3: each key's history folded once, its audit_by_key values given the state after each
  // revision, in batches (rewriting a value twice writes the same bytes, so a crash part-way is
  // harmless: the next start does it again). Keys sort by id, then revision: one key at a time.
  storage::Store::Batch batch = store_->NewBatch();
  std::string key_id;
  std::optional<events::KeyState> state;
  std::int64_t rewritten = 0;
  Status inner = Status::Ok();
  KL_RETURN_IF_ERROR(store_->Scan(Column::kAuditByKey, "", "", [&](std::string_view k, std::string_view v) {
    const size_t sep = k.find('\0');
    if (sep == std::string_view::npos) return true;
    if (k.substr(0, sep) != key_id) {
      key_id.assign(k.substr(0, sep));
      state.reset();
    }
    auto locator = layout::LocatorAtStart(v);
    if (!locator) {
      inner = common::DataLoss("audit entry of key " + key_id + " is malformed");
      return false;
    }
    auto event = read_model_.EventAt(*locator);
    if (!event.ok()) {
      inner = event.status();
      return false;
    }
    auto next = events::Apply(state, *event);
    if (!next.ok()) {
      inner = common::DataLoss("history of key " + key_id + " does not fold: " + next.status().message());
      return false;
    }
    state = std::move(*next);
    batch.Put(Column::kAuditByKey, k,
              layout::Locator(*locator) + EncodeKeyRecord(KeyRecord{*state, locator->partition, locator->offset}));
    if (++rewritten % 10000 == 0) {
      inner = store_->Write(batch);
      batch.Clear();
      if (rewritten % 1000000 == 0) logger_->Info("layout upgrade: key histories", {{"events", rewritten}});
    }
    return inner.ok();
  }));
  KL_RETURN_IF_ERROR(inner);
  // Before 2 (and again, harmlessly, for 2): count each view from its entries
  // (team \0 [creator \0] ~created_at key_id).
  std::map<std::string, std::int64_t> counts;
  auto count_by = [&](Column column, events::View view, int separators) {
    return store_->Scan(column, "", "", [&](std::string_view k, std::string_view) {
      size_t end = k.find('\0');
      if (separators == 2 && end != std::string_view::npos) end = k.find('\0', end + 1);
      if (end == std::string_view::npos) return true;  // not a view key: counted by nobody
      const std::string_view team = k.substr(0, k.find('\0'));
      const std::string_view creator =
          separators == 2 ? k.substr(team.size() + 1, end - team.size() - 1) : std::string_view();
      ++counts[layout::ViewCountKey(view, team, creator)];
      return true;
    });
  };
  KL_RETURN_IF_ERROR(count_by(Column::kViewMine, events::View::kMine, 2));
  KL_RETURN_IF_ERROR(count_by(Column::kViewLegacy, events::View::kLegacy, 1));
  KL_RETURN_IF_ERROR(count_by(Column::kViewTeam, events::View::kTeam, 1));
  for (const auto& [key, count] : counts) batch.Put(Column::kMeta, key, layout::CountValue(count));
  batch.Put(Column::kMeta, layout::kLayoutVersionKey, layout::LayoutVersionValue(layout::kLayoutVersion));
  KL_RETURN_IF_ERROR(store_->Write(batch));
  logger_->Info("read-model store upgraded: view counts and each revision's state",
                {{"counts", static_cast<std::int64_t>(counts.size())}, {"histories_rewritten", rewritten}});
  return Status::Ok();
}

}  // namespace keyledger::projector
