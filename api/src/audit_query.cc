#include "keyledger/api/audit_query.h"

#include "keyledger/common/clock.h"
#include "keyledger/common/crypto.h"
#include "keyledger/common/text.h"

namespace keyledger::api {

common::Result<replay::AuditQuery> ParseAuditQuery(const std::string& team_id, const ParamLookup& get) {
  replay::AuditQuery q;
  q.team_id = team_id;
  if (const std::string* v = get("key_id")) {
    if (!common::IsUuid(*v)) return common::InvalidArgument("key_id must be a UUID");
    q.key_id = *v;
  }
  if (const std::string* v = get("actor_id")) {
    if (v->empty()) return common::InvalidArgument("actor_id must not be empty");
    q.actor_id = *v;
  }
  if (const std::string* v = get("event_type")) {
    q.event_type = events::ParseEventTypeName(*v);
    if (!q.event_type) {
      return common::InvalidArgument("event_type must be key_created, key_renamed, key_regenerated or key_deleted");
    }
  }
  for (std::string_view bound : {"since", "until"}) {
    if (const std::string* v = get(bound)) {
      auto t = common::ParseRfc3339(*v);
      if (!t.ok()) return common::InvalidArgument(std::string(bound) + ": " + t.status().message());
      (bound == "since" ? q.since_micros : q.until_micros) = *t;
    }
  }
  if (const std::string* v = get("order")) {
    if (*v == "newest") {
      q.order = replay::AuditOrder::kNewestFirst;
    } else if (*v == "oldest") {
      q.order = replay::AuditOrder::kOldestFirst;
    } else {
      return common::InvalidArgument("order must be newest or oldest");
    }
  }
  if (const std::string* v = get("limit")) {
    auto limit = common::ParseInt64(*v, 1, 1000);
    if (!limit) return common::InvalidArgument("limit must be an integer from 1 to 1000");
    q.limit = static_cast<size_t>(*limit);
  }
  if (const std::string* v = get("cursor")) q.cursor = *v;
  return q;
}

common::Result<replay::AsOf> ParseAsOf(const ParamLookup& get) {
  const std::string* at = get("at");
  const std::string* offset = get("offset");
  if ((at == nullptr) == (offset == nullptr)) {
    return common::InvalidArgument("give exactly one of at (RFC 3339 time) and offset");
  }
  replay::AsOf as_of;
  if (at != nullptr) {
    KL_ASSIGN_OR_RETURN(as_of.time_micros, common::ParseRfc3339(*at));
  } else {
    auto parsed = common::ParseInt64(*offset, 0, INT64_MAX);
    if (!parsed) return common::InvalidArgument("offset must be a non-negative integer");
    as_of.offset = *parsed;
  }
  return as_of;
}

}  // namespace keyledger::api
