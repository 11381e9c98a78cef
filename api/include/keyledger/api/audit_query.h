// Audit and point-in-time queries from named text parameters: one parser for the admin API (query
// string) and the CLI (flags of the same names), so both accept and refuse the same things.
// Thread: free functions.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "keyledger/common/status.h"
#include "keyledger/replay/audit.h"

namespace keyledger::api {

// The text of a parameter, or null when it is absent.
using ParamLookup = std::function<const std::string*(std::string_view name)>;

// The parameters of an audit query: key_id (UUID), actor_id, event_type (key_created,
// key_renamed, key_regenerated, key_deleted), since and until (RFC 3339), order (newest|oldest),
// limit (1 to 1000), cursor. InvalidArgument naming the parameter otherwise.
inline constexpr std::string_view kAuditQueryParams[] = {"key_id", "actor_id", "event_type", "since",
                                                         "until",  "order",    "limit",      "cursor"};
common::Result<replay::AuditQuery> ParseAuditQuery(const std::string& team_id, const ParamLookup& get);

// A point in time: exactly one of at (RFC 3339) and offset (a non-negative integer).
common::Result<replay::AsOf> ParseAsOf(const ParamLookup& get);

}  // namespace keyledger::api
