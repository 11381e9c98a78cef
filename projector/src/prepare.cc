// The projector's decide-and-apply phase: records in, one WriteBatch with their read-model effects
// out (nothing is written here; see projector.cc for the loop and committer.h for the writes).
#include "keyledger/events/codec.h"
#include "keyledger/events/hash_chain.h"
#include "keyledger/events/key_rules.h"
#include "keyledger/projector/layout.h"
#include "keyledger/projector/projector.h"
#include "keyledger/projector/records.h"
#include "prepared.h"

namespace keyledger::projector {

using common::Result;
using common::Status;

namespace {

// Puts the read-model changes of one applied event into `batch`.
void WriteEffects(storage::Store::Batch& batch, const std::optional<events::KeyState>& before,
                  const events::KeyState& after, const events::Event& event, const storage::LogRecord& record) {
  const EventLocator locator{record.partition, record.offset};
  const std::string loc = layout::Locator(locator);
  batch.Put(Column::kKeys, after.key_id, EncodeKeyRecord(KeyRecord{after, record.partition, record.offset}));

  if (before && !before->deleted && (after.deleted || before->secret_sha256 != after.secret_sha256)) {
    batch.Delete(Column::kSecretLookup, layout::SecretKey(before->secret_sha256));
  }
  // A rename leaves the secret and what it may do unchanged: no write.
  if (!after.deleted && (!before || before->secret_sha256 != after.secret_sha256)) {
    batch.Put(Column::kSecretLookup, layout::SecretKey(after.secret_sha256), EncodeSecretRecord(SecretRecordOf(after)));
  }

  const std::string team_prefix = layout::TeamViewPrefix(after.team_id);
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

  batch.Put(Column::kAuditByKey, layout::AuditByKeyKey(after.key_id, event.key_revision), loc);
  const std::string type(1, static_cast<char>(event.type()));
  batch.Put(Column::kAuditByTeamTime,
            layout::AuditTimeKey(layout::AuditByTeamPrefix(event.team_id), event.occurred_at_micros, locator), type);
  batch.Put(Column::kAuditByActor,
            layout::AuditTimeKey(layout::AuditByActorPrefix(event.team_id, event.actor.user_id),
                                 event.occurred_at_micros, locator),
            type);
  batch.Put(Column::kEvents, loc, record.value);
}

}  // namespace

Result<std::unique_ptr<Projector::Prepared>> Projector::Prepare(const std::vector<storage::LogRecord>& records) {
  auto prepared = std::make_unique<Prepared>();
  prepared->batch = store_->NewBatch();
  storage::Store::Batch& batch = prepared->batch;
  std::map<std::int32_t, PartitionState>& touched = prepared->touched;
  std::unordered_map<std::string, events::KeyState> pending;
  for (const auto& r : records) {
    if (!touched.count(r.partition)) touched[r.partition] = prepared_[r.partition];
  }
  for (const storage::LogRecord& record : records) {
    PartitionState& ps = touched[record.partition];
    if (ps.halted || record.offset < ps.next_offset) continue;
    auto halt = [&](const std::string& reason) {
      ps.halted = true;
      Halt h{record.partition, record.offset, reason, common::Sha256Of(record.value)};
      batch.Put(Column::kMeta, layout::HaltKey(record.partition), EncodeHalt(h));
      prepared->halts.push_back(std::move(h));
    };
    auto event = events::Decode(record.value);
    if (!event.ok()) {
      halt("undecodable event: " + event.status().message());
      continue;
    }
    if (event->prev_hash != ps.chain_head && !(ps.alt_head && event->prev_hash == *ps.alt_head)) {
      halt("hash chain broken: event " + event->event_id + " has prev_hash " + common::HexEncode(event->prev_hash) +
           ", expected " + common::HexEncode(ps.chain_head));
      continue;
    }
    if (storage::PartitionForTeam(event->team_id, partition_count_) != record.partition) {
      halt("event " + event->event_id + " of team " + event->team_id + " is in the wrong partition");
      continue;
    }
    std::optional<events::KeyState> before;
    if (auto it = pending.find(event->key_id); it != pending.end()) {
      before = it->second;
    } else if (auto cached = cache_.find(event->key_id); cached != cache_.end()) {
      before = cached->second;
    } else {
      // Not prepared recently, so written already (the batch being written is all in cache_).
      KL_ASSIGN_OR_RETURN(auto stored, read_model_.GetKey(event->key_id));
      if (stored) before = std::move(stored->state);
    }
    auto after = events::Apply(before, *event);
    if (!after.ok()) {
      halt("event does not apply: " + after.status().message());
      continue;
    }
    WriteEffects(batch, before, *after, *event, record);
    pending[event->key_id] = std::move(*after);
    ps.chain_head = events::EventHash(record.value);
    if (ps.alt_head) {
      ps.alt_head.reset();
      batch.Delete(Column::kMeta, layout::AltChainKey(record.partition));
    }
    ps.next_offset = record.offset + 1;
    ++prepared->applied;
  }
  for (const auto& [p, ps] : touched) {
    batch.Put(Column::kMeta, layout::OffsetKey(p), layout::OffsetValue(ps.next_offset));
    batch.Put(Column::kMeta, layout::ChainKey(p), layout::DigestValue(ps.chain_head));
  }
  // The next batch starts from this one's states, written or not. If its write fails, the
  // projector stops, and a restart (Load) reads states from the store again.
  for (const auto& [p, ps] : touched) prepared_[p] = ps;
  constexpr size_t kMaxCachedKeys = 1u << 20;
  if (cache_.size() + pending.size() > kMaxCachedKeys) cache_.clear();
  for (auto& [key_id, state] : pending) cache_[key_id] = std::move(state);
  return prepared;
}

}  // namespace keyledger::projector
