#include "keyledger/replay/audit.h"

#include <algorithm>
#include <map>
#include <unordered_map>

#include "keyledger/common/clock.h"
#include "keyledger/common/crypto.h"
#include "keyledger/common/log.h"
#include "keyledger/events/codec.h"
#include "keyledger/projector/read_model.h"

namespace keyledger::replay {

using common::Result;
using common::Status;
using storage::Column;

namespace {

std::string Be64(std::uint64_t v) {
  std::string s;
  storage::AppendBigEndian64(s, v);
  return s;
}

// The last 12 bytes of an audit index key are the event locator (partition, offset).
projector::EventLocator LocatorAt(std::string_view index_key) {
  std::string_view loc = index_key.substr(index_key.size() - 12);
  return {static_cast<std::int32_t>(storage::ReadBigEndian32(loc.substr(0, 4))),
          static_cast<std::int64_t>(storage::ReadBigEndian64(loc.substr(4)))};
}

Result<events::Event> LoadEvent(const storage::Store& store, projector::EventLocator locator) {
  KL_ASSIGN_OR_RETURN(auto bytes, store.Get(Column::kEvents, projector::LocatorKey(locator)));
  if (!bytes) {
    return common::DataLoss("audit index points at partition " + std::to_string(locator.partition) +
                            " offset " + std::to_string(locator.offset) + ", which is not stored");
  }
  return events::Decode(*bytes);
}

// Every stored event of a key, oldest first, with its locator.
Result<std::vector<std::pair<projector::EventLocator, events::Event>>> KeyEvents(const storage::Store& store,
                                                                                const std::string& key_id) {
  std::vector<projector::EventLocator> locators;
  std::string prefix = key_id;
  prefix.push_back('\0');
  KL_RETURN_IF_ERROR(store.ScanPrefix(Column::kAuditByKey, prefix, [&](std::string_view, std::string_view v) {
    if (v.size() == 12) {
      locators.push_back({static_cast<std::int32_t>(storage::ReadBigEndian32(v.substr(0, 4))),
                          static_cast<std::int64_t>(storage::ReadBigEndian64(v.substr(4)))});
    }
    return true;
  }));
  std::vector<std::pair<projector::EventLocator, events::Event>> out;
  for (const auto& loc : locators) {
    KL_ASSIGN_OR_RETURN(events::Event e, LoadEvent(store, loc));
    out.emplace_back(loc, std::move(e));
  }
  return out;
}

// Fills before/after for records of one key from its full history (cached per request).
class StateCache {
 public:
  explicit StateCache(const storage::Store& store) : store_(store) {}
  Status Fill(AuditRecord& record) {
    auto it = states_.find(record.event.key_id);
    if (it == states_.end()) {
      KL_ASSIGN_OR_RETURN(auto history, KeyEvents(store_, record.event.key_id));
      std::vector<events::KeyState> states;  // states[i] = after revision i + 1
      std::optional<events::KeyState> current;
      for (const auto& [loc, e] : history) {
        KL_ASSIGN_OR_RETURN(events::KeyState next, events::Apply(current, e));
        states.push_back(next);
        current = std::move(next);
      }
      it = states_.emplace(record.event.key_id, std::move(states)).first;
    }
    std::uint64_t rev = record.event.key_revision;
    if (rev == 0 || rev > it->second.size()) {
      return common::DataLoss("history of key " + record.event.key_id + " has no revision " + std::to_string(rev));
    }
    record.after = it->second[rev - 1];
    if (rev > 1) record.before = it->second[rev - 2];
    return Status::Ok();
  }

 private:
  const storage::Store& store_;
  std::unordered_map<std::string, std::vector<events::KeyState>> states_;
};

constexpr char kCursorByKey = 'k';
constexpr char kCursorByActor = 'a';
constexpr char kCursorByTeam = 't';

// Fold of a team's events (one partition) in log order, up to as_of.
Result<std::map<std::string, events::KeyState>> FoldTeam(const storage::Store& store, const std::string& team_id,
                                                         const AsOf& as_of) {
  if (as_of.time_micros.has_value() == as_of.offset.has_value()) {
    return common::InvalidArgument("give exactly one of a time or an offset");
  }
  std::vector<projector::EventLocator> locators;
  std::string prefix = team_id;
  prefix.push_back('\0');
  KL_RETURN_IF_ERROR(store.ScanPrefix(Column::kAuditByTeamTime, prefix, [&](std::string_view k, std::string_view) {
    locators.push_back(LocatorAt(k));
    return true;
  }));
  std::sort(locators.begin(), locators.end(), [](const auto& a, const auto& b) {
    return std::pair(a.partition, a.offset) < std::pair(b.partition, b.offset);
  });
  std::map<std::string, events::KeyState> keys;
  for (const auto& loc : locators) {
    if (as_of.offset && loc.offset > *as_of.offset) break;
    KL_ASSIGN_OR_RETURN(events::Event e, LoadEvent(store, loc));
    if (as_of.time_micros && e.occurred_at_micros > *as_of.time_micros) break;
    std::optional<events::KeyState> current;
    if (auto it = keys.find(e.key_id); it != keys.end()) current = it->second;
    KL_ASSIGN_OR_RETURN(events::KeyState next, events::Apply(current, e));
    keys[e.key_id] = std::move(next);
  }
  return keys;
}

void AppendField(std::string& out, const char* name, std::string_view value, bool comma = true) {
  if (comma) out += ",";
  out += "\"";
  out += name;
  out += "\":";
  common::AppendJsonString(out, value);
}

}  // namespace

Result<AuditPage> QueryAudit(const storage::Store& store, const AuditQuery& query) {
  if (query.team_id.empty()) return common::InvalidArgument("team_id is required");
  if (query.limit == 0 || query.limit > 1000) return common::InvalidArgument("limit must be between 1 and 1000");
  if (query.since_micros && query.until_micros && *query.since_micros >= *query.until_micros) {
    return common::InvalidArgument("since must be before until");
  }
  const bool newest = query.order == AuditOrder::kNewestFirst;
  Column column;
  std::string prefix;
  char kind;
  std::string lower, upper;  // scan bounds [lower, upper)
  if (!query.key_id.empty()) {
    column = Column::kAuditByKey;
    kind = kCursorByKey;
    prefix = query.key_id;
    prefix.push_back('\0');
    lower = prefix;
    upper = prefix;
    upper.back() = '\1';
  } else {
    kind = query.actor_id.empty() ? kCursorByTeam : kCursorByActor;
    column = query.actor_id.empty() ? Column::kAuditByTeamTime : Column::kAuditByActor;
    prefix = query.team_id;
    prefix.push_back('\0');
    if (!query.actor_id.empty()) {
      prefix += query.actor_id;
      prefix.push_back('\0');
    }
    // Times are non-negative micros in big-endian: byte order is time order.
    lower = prefix + Be64(static_cast<std::uint64_t>(std::max<std::int64_t>(0, query.since_micros.value_or(0))));
    upper = query.until_micros ? prefix + Be64(static_cast<std::uint64_t>(std::max<std::int64_t>(0, *query.until_micros)))
                               : prefix.substr(0, prefix.size() - 1) + std::string(1, '\1');
  }
  if (!query.cursor.empty()) {
    std::string raw;
    if (query.cursor.size() % 2 != 0 || query.cursor.size() < 4) return common::InvalidArgument("cursor is malformed");
    for (size_t i = 0; i < query.cursor.size(); i += 2) {
      int v = 0;
      for (size_t j = i; j < i + 2; ++j) {
        char c = query.cursor[j];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0) return common::InvalidArgument("cursor is malformed");
        v = v * 16 + d;
      }
      raw.push_back(static_cast<char>(v));
    }
    if (raw[0] != kind || raw.compare(1, prefix.size(), prefix) != 0) {
      return common::InvalidArgument("cursor does not belong to this query");
    }
    std::string position = raw.substr(1);
    if (newest) {
      upper = std::min(upper, position);
    } else {
      position.push_back('\0');
      lower = std::max(lower, position);
    }
  }

  AuditPage page;
  StateCache cache(store);
  Status inner = Status::Ok();
  std::string last_key;
  bool more = false;
  Status scan = store.Scan(column, lower, upper, [&](std::string_view k, std::string_view v) {
    projector::EventLocator loc;
    if (column == Column::kAuditByKey) {
      if (v.size() != 12) return true;
      loc = {static_cast<std::int32_t>(storage::ReadBigEndian32(v.substr(0, 4))),
             static_cast<std::int64_t>(storage::ReadBigEndian64(v.substr(4)))};
    } else {
      if (query.event_type && (v.size() != 1 || static_cast<int>(v[0]) != static_cast<int>(*query.event_type))) {
        return true;
      }
      loc = LocatorAt(k);
    }
    if (page.records.size() == query.limit) {
      more = true;
      return false;
    }
    auto event = LoadEvent(store, loc);
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
    AuditRecord record{std::move(*event), loc.partition, loc.offset, std::nullopt, {}};
    inner = cache.Fill(record);
    if (!inner.ok()) return false;
    page.records.push_back(std::move(record));
    last_key.assign(k);
    return true;
  }, newest);
  KL_RETURN_IF_ERROR(scan);
  KL_RETURN_IF_ERROR(inner);
  if (more) {
    std::string raw(1, kind);
    raw += last_key;
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
  KL_ASSIGN_OR_RETURN(auto history, KeyEvents(store, key_id));
  if (history.empty() || history.front().second.team_id != team_id) return std::optional<events::KeyState>();
  std::optional<events::KeyState> state;
  if (as_of.time_micros) {
    // "As of a time" is a prefix of the team's partition, so the events of other keys that come
    // earlier in the log but later in time also end the prefix: use the team fold's cut-off.
    KL_ASSIGN_OR_RETURN(auto keys, FoldTeam(store, team_id, as_of));
    if (auto it = keys.find(key_id); it != keys.end()) state = it->second;
    return state;
  }
  for (const auto& [loc, e] : history) {
    if (loc.offset > *as_of.offset) break;
    KL_ASSIGN_OR_RETURN(events::KeyState next, events::Apply(state, e));
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
  KL_ASSIGN_OR_RETURN(auto keys, FoldTeam(store, team_id, as_of));
  std::vector<events::KeyState> out;
  for (auto& [id, key] : keys) {
    if (CouldCall(key, model, source_vpc, catalog)) out.push_back(std::move(key));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return std::tie(b.created_at_micros, b.key_id) < std::tie(a.created_at_micros, a.key_id);
  });
  return out;
}

std::string KeyStateJson(const events::KeyState& k) {
  std::string out = "{";
  AppendField(out, "uuid", k.key_id, false);
  AppendField(out, "name", k.name);
  AppendField(out, "created_at", common::FormatRfc3339(k.created_at_micros));
  AppendField(out, "created_by", k.creator_id);
  AppendField(out, "creator_name", k.creator_name);
  out += ",\"all_models\":";
  out += k.all_models ? "true" : "false";
  out += ",\"models\":[";
  for (size_t i = 0; i < k.models.size(); ++i) {
    if (i) out += ",";
    common::AppendJsonString(out, k.models[i]);
  }
  out += "],\"batch_inference\":";
  out += k.batch_inference ? "true" : "false";
  out += ",\"vpc_uuid\":";
  if (k.vpc_uuid.empty()) {
    out += "null";
  } else {
    common::AppendJsonString(out, k.vpc_uuid);
  }
  out += ",\"legacy\":";
  out += k.legacy ? "true" : "false";
  AppendField(out, "secret_hint", k.secret_hint);
  out += ",\"revision\":" + std::to_string(k.revision);
  out += ",\"deleted\":";
  out += k.deleted ? "true" : "false";
  out += "}";
  return out;
}

std::string AuditRecordJson(const AuditRecord& r) {
  const events::Event& e = r.event;
  std::string out = "{";
  AppendField(out, "event_id", e.event_id, false);
  AppendField(out, "event_type", events::EventTypeName(e.type()));
  AppendField(out, "occurred_at", common::FormatRfc3339(e.occurred_at_micros));
  AppendField(out, "team_id", e.team_id);
  AppendField(out, "key_id", e.key_id);
  out += ",\"revision\":" + std::to_string(e.key_revision);
  out += ",\"actor\":{";
  AppendField(out, "id", e.actor.user_id, false);
  AppendField(out, "name", e.actor.display_name);
  AppendField(out, "role", events::RoleName(e.actor.role));
  out += "}";
  AppendField(out, "request_id", e.request_id);
  AppendField(out, "correlation_id", e.correlation_id);
  out += ",\"partition\":" + std::to_string(r.partition);
  out += ",\"offset\":" + std::to_string(r.offset);
  out += ",\"before\":" + (r.before ? KeyStateJson(*r.before) : std::string("null"));
  out += ",\"after\":" + KeyStateJson(r.after);
  out += "}";
  return out;
}

std::string AuditPageJson(const AuditPage& page) {
  std::string out = "{\"audit_events\":[";
  for (size_t i = 0; i < page.records.size(); ++i) {
    if (i) out += ",";
    out += AuditRecordJson(page.records[i]);
  }
  out += "],\"next_cursor\":";
  if (page.next_cursor.empty()) {
    out += "null";
  } else {
    common::AppendJsonString(out, page.next_cursor);
  }
  out += "}";
  return out;
}

}  // namespace keyledger::replay
