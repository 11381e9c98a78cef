// Audit and point-in-time queries on a read-model store (SPEC section 7).
//
// Audit queries read the audit indexes the projector keeps (by key, by team and time, by actor)
// and the stored events; each record carries the actor, request id, time, event type and the
// key's attributes before and after the event (never a secret: the store holds none). These
// functions return values; the admin API's renderer (api/src/render.h) turns them into JSON for
// the API and the CLI alike.
//
// Point in time: "as of" a time means after applying, in log order, every event of the team's
// partition up to the first one that occurred later than that time; "as of" an offset means after
// applying every event of the team's partition at or before that offset. A key that did not exist
// yet is absent; a deleted key is returned with deleted = true.
//
// Thread: all functions are thread-safe (they only read the Store).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "keyledger/common/status.h"
#include "keyledger/events/catalog.h"
#include "keyledger/events/event.h"
#include "keyledger/events/key_rules.h"
#include "keyledger/storage/store.h"

namespace keyledger::replay {

struct AuditRecord {
  events::Event event;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::optional<events::KeyState> before;  // absent for a creation
  events::KeyState after;
};

enum class AuditOrder { kNewestFirst, kOldestFirst };

struct AuditQuery {
  std::string team_id;                        // required: queries never cross teams
  std::string key_id;                         // optional filters
  std::string actor_id;
  std::optional<events::EventType> event_type;
  std::optional<std::int64_t> since_micros;   // inclusive
  std::optional<std::int64_t> until_micros;   // exclusive
  AuditOrder order = AuditOrder::kNewestFirst;
  size_t limit = 50;
  std::string cursor;                         // from a previous page; empty for the first
};

struct AuditPage {
  std::vector<AuditRecord> records;
  std::string next_cursor;  // empty when there is nothing more
};

// One page. InvalidArgument for a cursor that does not belong to this query.
common::Result<AuditPage> QueryAudit(const storage::Store& store, const AuditQuery& query);

// Every event of a team, oldest first, handed to `visit` one at a time (for streaming exports);
// `visit` returns false to stop.
common::Status ExportTeam(const storage::Store& store, const std::string& team_id,
                          const std::function<bool(const AuditRecord&)>& visit);

struct AsOf {
  std::optional<std::int64_t> time_micros;  // exactly one of the two
  std::optional<std::int64_t> offset;
};

// The key's state as of `as_of`; nullopt if it did not exist then (or belongs to another team).
common::Result<std::optional<events::KeyState>> KeyAsOf(const storage::Store& store,
                                                        const std::string& team_id,
                                                        const std::string& key_id, const AsOf& as_of);

// The team's keys that could call `model` (non-batch) from `source_vpc` ("" = the public
// internet, where only keys without a VPC work) as of `as_of`, newest first.
common::Result<std::vector<events::KeyState>> CallableAsOf(const storage::Store& store,
                                                           const std::string& team_id,
                                                           const std::string& model,
                                                           const std::string& source_vpc,
                                                           const AsOf& as_of,
                                                           const events::Catalog& catalog);

// Whether `key` (live) could call `model` (non-batch) from `source_vpc` by the validator's rules.
bool CouldCall(const events::KeyState& key, const std::string& model, const std::string& source_vpc,
               const events::Catalog& catalog);

}  // namespace keyledger::replay
