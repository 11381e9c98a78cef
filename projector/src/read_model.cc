#include "keyledger/projector/read_model.h"

#include <algorithm>

#include "keyledger/events/codec.h"

namespace keyledger::projector {

using common::Result;
using common::Status;

Result<std::optional<KeyRecord>> ReadModel::GetKey(const std::string& key_id) const {
  KL_ASSIGN_OR_RETURN(std::optional<std::string> raw, store_->Get(Column::kKeys, key_id));
  if (!raw) return std::optional<KeyRecord>();
  KL_ASSIGN_OR_RETURN(KeyRecord rec, DecodeKeyRecord(*raw));
  return std::optional<KeyRecord>(std::move(rec));
}

Result<std::optional<SecretRecord>> ReadModel::LookupSecret(const common::SecretHash& hash) const {
  KL_ASSIGN_OR_RETURN(std::optional<std::string> raw, store_->Get(Column::kSecretLookup, layout::SecretKey(hash)));
  if (!raw) return std::optional<SecretRecord>();
  KL_ASSIGN_OR_RETURN(SecretRecord rec, DecodeSecretRecord(*raw));
  return std::optional<SecretRecord>(std::move(rec));
}

Result<ReadModel::Page> ReadModel::ListView(const events::Caller& caller, events::View view, size_t page,
                                            size_t per_page) const {
  KL_RETURN_IF_ERROR(events::CheckViewAllowed(view, caller));
  if (page == 0) return common::InvalidArgument("page must be at least 1");
  if (per_page == 0) return common::InvalidArgument("per_page must be at least 1");
  Column column = view == events::View::kMine ? Column::kViewMine
                  : view == events::View::kLegacy ? Column::kViewLegacy
                                                  : Column::kViewTeam;
  std::string prefix = view == events::View::kMine ? layout::MineViewPrefix(caller.team_id, caller.user_id)
                                                   : layout::TeamViewPrefix(caller.team_id);
  // The stored counts make the total one or two reads; a store from before them (layout version
  // 1, until its projector starts) is counted by the scan.
  KL_ASSIGN_OR_RETURN(auto version, store_->Get(Column::kMeta, layout::kLayoutVersionKey));
  const bool counted = version && layout::ParseLayoutVersionValue(*version).value_or(0) >= layout::kCountsLayoutVersion;
  std::vector<std::string> ids;
  Page out;
  const size_t skip = (page - 1) * per_page;
  size_t seen = 0;
  Status scan = store_->ScanPrefix(column, prefix, [&](std::string_view k, std::string_view v) {
    // The team view excludes the caller's own keys (they are in My keys).
    if (view == events::View::kTeam && v == caller.user_id) return true;
    if (seen >= skip && ids.size() < per_page) ids.emplace_back(layout::KeyIdInViewKey(k, prefix.size()));
    ++seen;
    return counted ? ids.size() < per_page : true;
  });
  KL_RETURN_IF_ERROR(scan);
  size_t deleted = 0;
  for (const std::string& id : ids) {
    KL_ASSIGN_OR_RETURN(std::optional<KeyRecord> rec, GetKey(id));
    if (!rec) return common::DataLoss("view entry for key " + id + " has no key record");
    // The scan and these reads are not one snapshot: a deletion applied in between leaves a view
    // entry this scan saw pointing at a deleted key, which must not be listed.
    if (rec->state.deleted) {
      ++deleted;
      continue;
    }
    out.keys.push_back(std::move(rec->state));
  }
  if (!counted) {
    out.total = seen - deleted;
    return out;
  }
  // Read after the page, so a deletion the page saw is in the count too.
  std::int64_t total = 0;
  if (view == events::View::kTeam) {
    KL_ASSIGN_OR_RETURN(std::int64_t team, ViewCount(layout::ViewCountKey(events::View::kTeam, caller.team_id)));
    KL_ASSIGN_OR_RETURN(std::int64_t own,
                        ViewCount(layout::ViewCountKey(events::View::kMine, caller.team_id, caller.user_id)));
    total = team - own;
  } else {
    KL_ASSIGN_OR_RETURN(total, ViewCount(layout::ViewCountKey(view, caller.team_id, caller.user_id)));
  }
  out.total = static_cast<size_t>(std::max<std::int64_t>(total, 0));
  return out;
}

Result<std::int64_t> ReadModel::ViewCount(const std::string& count_key) const {
  KL_ASSIGN_OR_RETURN(auto stored, store_->Get(Column::kMeta, count_key));
  if (!stored) return std::int64_t{0};
  auto parsed = layout::ParseCountValue(*stored);
  if (!parsed) return common::DataLoss("a stored view count is not 8 bytes");
  return *parsed;
}

Result<events::Event> ReadModel::EventAt(EventLocator locator) const {
  KL_ASSIGN_OR_RETURN(std::optional<events::Event> event, FindEvent(locator));
  if (!event) {
    return common::DataLoss("an index points at partition " + std::to_string(locator.partition) + " offset " +
                            std::to_string(locator.offset) + ", which is not stored");
  }
  return std::move(*event);
}

Result<std::optional<events::Event>> ReadModel::FindEvent(EventLocator locator) const {
  KL_ASSIGN_OR_RETURN(std::optional<std::string> raw, store_->Get(Column::kEvents, layout::Locator(locator)));
  if (!raw) return std::optional<events::Event>();
  KL_ASSIGN_OR_RETURN(events::Event event, events::Decode(*raw));
  return std::optional<events::Event>(std::move(event));
}

Result<std::vector<ReadModel::HistoryEntry>> ReadModel::KeyHistory(const std::string& key_id) const {
  return KeyHistoryPage(key_id, 0, SIZE_MAX);
}

Result<std::vector<ReadModel::HistoryEntry>> ReadModel::KeyHistoryPage(const std::string& key_id, std::uint64_t from,
                                                                       size_t limit, bool newest_first) const {
  std::vector<EventLocator> locators;
  Status bad = Status::Ok();
  const std::string prefix = layout::AuditByKeyPrefix(key_id);
  std::string lower = newest_first ? prefix : layout::AuditByKeyKey(key_id, from);
  std::string upper = newest_first && from != UINT64_MAX ? layout::AuditByKeyKey(key_id, from + 1)
                                                         : storage::PrefixSuccessor(prefix);
  if (limit == 0) return std::vector<HistoryEntry>();
  KL_RETURN_IF_ERROR(store_->Scan(
      Column::kAuditByKey, lower, upper,
      [&](std::string_view, std::string_view v) {
        auto locator = layout::LocatorAtStart(v);
        if (!locator) {
          bad = common::DataLoss("audit entry of key " + key_id + " is malformed");
          return false;
        }
        locators.push_back(*locator);
        return locators.size() < limit;
      },
      newest_first));
  KL_RETURN_IF_ERROR(bad);
  std::vector<HistoryEntry> history;
  history.reserve(locators.size());
  for (const EventLocator& loc : locators) {
    KL_ASSIGN_OR_RETURN(events::Event e, EventAt(loc));
    history.push_back({loc, std::move(e)});
  }
  return history;
}

Result<std::optional<ReadModel::StoredRevision>> ReadModel::RevisionAt(const std::string& key_id,
                                                                      std::uint64_t revision) const {
  KL_ASSIGN_OR_RETURN(auto raw, store_->Get(Column::kAuditByKey, layout::AuditByKeyKey(key_id, revision)));
  if (!raw) return std::optional<StoredRevision>();
  auto locator = layout::LocatorAtStart(*raw);
  if (!locator) return common::DataLoss("audit entry of key " + key_id + " is malformed");
  StoredRevision out{*locator, std::nullopt};
  if (raw->size() > layout::kLocatorSize) {
    KL_ASSIGN_OR_RETURN(KeyRecord after, DecodeKeyRecord(std::string_view(*raw).substr(layout::kLocatorSize)));
    if (after.state.key_id != key_id || after.state.revision != revision) {
      return common::DataLoss("audit entry of key " + key_id + " revision " + std::to_string(revision) +
                              " holds another key's state");
    }
    out.after = std::move(after);
  }
  return std::optional<StoredRevision>(std::move(out));
}

Result<std::map<std::int32_t, std::int64_t>> ReadModel::Offsets() const {
  std::map<std::int32_t, std::int64_t> out;
  KL_RETURN_IF_ERROR(store_->ScanPrefix(Column::kMeta, layout::kOffsetPrefix, [&](std::string_view k, std::string_view v) {
    auto partition = layout::PartitionOfOffsetKey(k);
    auto offset = layout::ParseOffsetValue(v);
    if (partition && offset) out[*partition] = *offset;
    return true;
  }));
  return out;
}

Result<std::vector<Halt>> ReadModel::Halts() const {
  std::vector<Halt> out;
  Status decode_status;
  KL_RETURN_IF_ERROR(store_->ScanPrefix(Column::kMeta, layout::kHaltPrefix, [&](std::string_view, std::string_view v) {
    auto h = DecodeHalt(v);
    if (!h.ok()) {
      decode_status = h.status();
      return false;
    }
    out.push_back(std::move(*h));
    return true;
  }));
  KL_RETURN_IF_ERROR(decode_status);
  return out;
}

Result<std::vector<std::string>> ReadModel::Skips() const {
  std::vector<std::string> out;
  KL_RETURN_IF_ERROR(store_->ScanPrefix(Column::kMeta, layout::kSkipPrefix, [&](std::string_view, std::string_view v) {
    out.emplace_back(v);
    return true;
  }));
  return out;
}

}  // namespace keyledger::projector
