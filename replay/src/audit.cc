#include "keyledger/replay/audit.h"

#include <algorithm>
#include <map>
#include <unordered_map>

#include "keyledger/common/crypto.h"
#include "keyledger/projector/layout.h"
#include "keyledger/projector/read_model.h"

namespace keyledger::replay {

using common::Result;
using common::Status;
using projector::Column;
using projector::EventLocator;
namespace layout = projector::layout;

namespace {

// Fills before/after for a record: the states stored with its revision and the one before (two
// reads, whatever the key's history). A store from before layout version 3 has no stored states
// until its projector upgrades it: then the key's whole history is folded once per request.
class StateCache {
 public:
  explicit StateCache(const projector::ReadModel& model) : model_(model) {}
  Status Fill(AuditRecord& record) {
    const std::string& key_id = record.event.key_id;
    const std::uint64_t rev = record.event.key_revision;
    if (rev == 0) return common::DataLoss("event of key " + key_id + " has revision 0");
    KL_ASSIGN_OR_RETURN(auto after, Stored(key_id, rev));
    std::optional<projector::KeyRecord> before;
    if (after && rev > 1) {
      KL_ASSIGN_OR_RETURN(before, Stored(key_id, rev - 1));
    }
    if (after && (rev == 1 || before)) {
      record.after = std::move(after->state);
      if (before) record.before = std::move(before->state);
      return Status::Ok();
    }
    return FillByFold(record);
  }

 private:
  Result<std::optional<projector::KeyRecord>> Stored(const std::string& key_id, std::uint64_t rev) const {
    KL_ASSIGN_OR_RETURN(auto at, model_.RevisionAt(key_id, rev));
    if (!at) return common::DataLoss("history of key " + key_id + " has no revision " + std::to_string(rev));
    return std::move(at->after);
  }

  Status FillByFold(AuditRecord& record) {
    auto it = folded_.find(record.event.key_id);
    if (it == folded_.end()) {
      KL_ASSIGN_OR_RETURN(auto history, model_.KeyHistory(record.event.key_id));
      std::vector<events::KeyState> states;  // states[i] = after revision i + 1
      std::optional<events::KeyState> current;
      for (const auto& entry : history) {
        KL_ASSIGN_OR_RETURN(events::KeyState next, events::Apply(current, entry.event));
        states.push_back(next);
        current = std::move(next);
      }
      it = folded_.emplace(record.event.key_id, std::move(states)).first;
    }
    std::uint64_t rev = record.event.key_revision;
    if (rev > it->second.size()) {
      return common::DataLoss("history of key " + record.event.key_id + " has no revision " + std::to_string(rev));
    }
    record.after = it->second[rev - 1];
    if (rev > 1) record.before = it->second[rev - 2];
    return Status::Ok();
  }

  const projector::ReadModel& model_;
  std::unordered_map<std::string, std::vector<events::KeyState>> folded_;
};

// A cursor is where the previous page ended within its index, after the query's prefix: 20 bytes
// (40 hex digits) for every query, occurred_at(be64) and locator for the team and actor indexes,
// revision(be64) and 12 zero bytes for a key's. Any well-formed cursor is a position in any query
// (one from another query resumes at that position in this one), so only a malformed one is a 400.
constexpr size_t kCursorBytes = 20;
constexpr size_t kRevisionBytes = 8;

// Fold of a team's events (one partition) in log order, up to as_of.
Result<std::map<std::string, events::KeyState>> FoldTeam(const projector::ReadModel& model, const std::string& team_id,
                                                         const AsOf& as_of) {
  if (as_of.time_micros.has_value() == as_of.offset.has_value()) {
    return common::InvalidArgument("give exactly one of a time or an offset");
  }
  std::vector<EventLocator> locators;
  KL_RETURN_IF_ERROR(model.store().ScanPrefix(Column::kAuditByTeamTime, layout::AuditByTeamPrefix(team_id),
                                              [&](std::string_view k, std::string_view) {
                                                if (auto loc = layout::LocatorAtEnd(k)) locators.push_back(*loc);
                                                return true;
                                              }));
  std::sort(locators.begin(), locators.end(), [](const auto& a, const auto& b) {
    return std::pair(a.partition, a.offset) < std::pair(b.partition, b.offset);
  });
  std::map<std::string, events::KeyState> keys;
  for (const auto& loc : locators) {
    if (as_of.offset && loc.offset > *as_of.offset) break;
    KL_ASSIGN_OR_RETURN(events::Event e, model.EventAt(loc));
    if (as_of.time_micros && e.occurred_at_micros > *as_of.time_micros) break;
    std::optional<events::KeyState> current;
    if (auto it = keys.find(e.key_id); it != keys.end()) current = it->second;
    KL_ASSIGN_OR_RETURN(events::KeyState next, events::Apply(current, e));
    keys[e.key_id] = std::move(next);
  }
  return keys;
}

Result<std::string> DecodeCursor(const std::string& cursor) {
  std::string raw;
  if (cursor.size() != 2 * kCursorBytes) return common::InvalidArgument("cursor must be 40 hex digits, a next_cursor");
  for (size_t i = 0; i < cursor.size(); i += 2) {
    int v = 0;
    for (size_t j = i; j < i + 2; ++j) {
      char c = cursor[j];
      int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
      if (d < 0) return common::InvalidArgument("cursor must be 40 hex digits, a next_cursor");
      v = v * 16 + d;
    }
    raw.push_back(static_cast<char>(v));
  }
  return raw;
}

}  // namespace

Result<AuditPage> QueryAudit(const storage::Store& store, const AuditQuery& query) {
  if (query.team_id.empty()) return common::InvalidArgument("team_id is required");
  if (query.limit == 0 || query.limit > 1000) return common::InvalidArgument("limit must be between 1 and 1000");
  projector::ReadModel model(&store);
  // An empty time range holds no event: an empty page (not an error: the range is well-formed).
  if (query.since_micros && query.until_micros && *query.since_micros >= *query.until_micros) return AuditPage{};
  const bool newest = query.order == AuditOrder::kNewestFirst;
  Column column;
  std::string prefix;
  std::string lower, upper;  // scan bounds [lower, upper)
  if (!query.key_id.empty()) {
    column = Column::kAuditByKey;
    prefix = layout::AuditByKeyPrefix(query.key_id);
    lower = prefix;
    upper = storage::PrefixSuccessor(prefix);
  } else {
    column = query.actor_id.empty() ? Column::kAuditByTeamTime : Column::kAuditByActor;
    prefix = query.actor_id.empty() ? layout::AuditByTeamPrefix(query.team_id)
                                    : layout::AuditByActorPrefix(query.team_id, query.actor_id);
    lower = layout::AuditTimeBound(prefix, query.since_micros.value_or(0));
    upper = query.until_micros ? layout::AuditTimeBound(prefix, *query.until_micros) : storage::PrefixSuccessor(prefix);
  }
  if (!query.cursor.empty()) {
    KL_ASSIGN_OR_RETURN(std::string raw, DecodeCursor(query.cursor));
    std::string position = prefix + (column == Column::kAuditByKey ? raw.substr(0, kRevisionBytes) : raw);
    if (newest) {
      upper = std::min(upper, position);
    } else {
      position.push_back('\0');
      lower = std::max(lower, position);
    }
  }
  if (!upper.empty() && lower >= upper) return AuditPage{};  // a cursor past the range's end

  AuditPage page;
  StateCache cache(model);
  Status inner = Status::Ok();
  std::string last_key;
  bool more = false;
  Status scan = store.Scan(column, lower, upper, [&](std::string_view k, std::string_view v) {
    std::optional<EventLocator> loc;
    if (column == Column::kAuditByKey) {
      loc = layout::LocatorAtStart(v);
    } else {
      if (query.event_type && (v.size() != 1 || static_cast<int>(v[0]) != static_cast<int>(*query.event_type))) {
        return true;
      }
      loc = layout::LocatorAtEnd(k);
    }
    if (!loc) return true;
    if (page.records.size() == query.limit) {
      more = true;
      return false;
    }
    auto event = model.EventAt(*loc);
    if (!event.ok()) {
      inner = event.status();
      return false;
    }
    // The key index is not per team: a foreign key's events are simply not there for this team.
    if (event->team_id != query.team_id) return false;
    if (query.event_type && event->type() != *query.event_type) return true;
    if (!query.actor_id.empty() && event->actor.user_id != query.actor_id) return true;
    if (query.since_micros && event->occurred_at_micros < *query.since_micros) return true;
    if (query.until_micros && event->occurred_at_micros >= *query.until_micros) return true;
    AuditRecord record{std::move(*event), loc->partition, loc->offset, std::nullopt, {}};
    inner = cache.Fill(record);
    if (!inner.ok()) return false;
    page.records.push_back(std::move(record));
    last_key.assign(k);
    return true;
  }, newest);
  KL_RETURN_IF_ERROR(scan);
  KL_RETURN_IF_ERROR(inner);
  if (more) {
    std::string raw = last_key.substr(prefix.size());
    raw.resize(kCursorBytes, '\0');  // a key's index: the revision, then zeros
    page.next_cursor = common::HexEncode({reinterpret_cast<const std::uint8_t*>(raw.data()), raw.size()});
  }
  return page;
}

Status ExportTeam(const storage::Store& store, const std::string& team_id,
                  const std::function<bool(const AuditRecord&)>& visit) {
  AuditQuery query;
  query.team_id = team_id;
  query.order = AuditOrder::kOldestFirst;
  query.limit = 500;
  while (true) {
    KL_ASSIGN_OR_RETURN(AuditPage page, QueryAudit(store, query));
    for (const AuditRecord& r : page.records) {
      if (!visit(r)) return Status::Ok();
    }
    if (page.next_cursor.empty()) return Status::Ok();
    query.cursor = page.next_cursor;
  }
}

Result<std::optional<events::KeyState>> KeyAsOf(const storage::Store& store, const std::string& team_id,
                                                const std::string& key_id, const AsOf& as_of) {
  if (as_of.time_micros.has_value() == as_of.offset.has_value()) {
    return common::InvalidArgument("give exactly one of a time or an offset");
  }
  projector::ReadModel model(&store);
  KL_ASSIGN_OR_RETURN(auto history, model.KeyHistory(key_id));
  if (history.empty() || history.front().event.team_id != team_id) return std::optional<events::KeyState>();
  std::optional<events::KeyState> state;
  if (as_of.time_micros) {
    // "As of a time" is a prefix of the team's partition, so the events of other keys that come
    // earlier in the log but later in time also end the prefix: use the team fold's cut-off.
    KL_ASSIGN_OR_RETURN(auto keys, FoldTeam(model, team_id, as_of));
    if (auto it = keys.find(key_id); it != keys.end()) state = it->second;
    return state;
  }
  for (const auto& entry : history) {
    if (entry.locator.offset > *as_of.offset) break;
    KL_ASSIGN_OR_RETURN(events::KeyState next, events::Apply(state, entry.event));
    state = std::move(next);
  }
  return state;
}

bool CouldCall(const events::KeyState& key, const std::string& model, const std::string& source_vpc,
               const events::Catalog&) {
  if (key.deleted) return false;
  if (!key.vpc_uuid.empty() && key.vpc_uuid != source_vpc) return false;
  if (key.all_models) return true;
  return std::find(key.models.begin(), key.models.end(), model) != key.models.end();
}

Result<std::vector<events::KeyState>> CallableAsOf(const storage::Store& store, const std::string& team_id,
                                                   const std::string& model, const std::string& source_vpc,
                                                   const AsOf& as_of, const events::Catalog& catalog) {
  if (model.empty()) return common::InvalidArgument("model is required");
  projector::ReadModel read_model(&store);
  KL_ASSIGN_OR_RETURN(auto keys, FoldTeam(read_model, team_id, as_of));
  std::vector<events::KeyState> out;
  for (auto& [id, key] : keys) {
    if (CouldCall(key, model, source_vpc, catalog)) out.push_back(std::move(key));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return std::tie(b.created_at_micros, b.key_id) < std::tie(a.created_at_micros, a.key_id);
  });
  return out;
}

}  // namespace keyledger::replay
