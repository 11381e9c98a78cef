// Every JSON shape keyledger answers, rendered in one place for the admin API and the CLI alike
// (the CLI prints the same objects the API returns). Field names follow the platform's public API
// (SPEC section 5); api/openapi.yaml describes each shape.
// Thread: free functions.
#pragma once

#include <boost/json.hpp>

#include "keyledger/validator/replica_status.h"

#include <string>

#include "keyledger/events/catalog.h"
#include "keyledger/events/event.h"
#include "keyledger/events/key_rules.h"
#include "keyledger/projector/usage.h"
#include "keyledger/replay/audit.h"

namespace keyledger::api {

// The api key object: {uuid, name, created_at, created_by, creator_name, all_models, models
// (objects {id, name, owned_by} of every model it can call today, plus Batch Inference for batch
// keys), batch_inference, vpc_uuid, legacy, secret_hint, revision, expires_at (null: never),
// expired (at `now_micros`), last_used_at (the minute of `last_use`; null: never used)}.
// Every value of it is allocated from `storage` (a list page passes one monotonic resource for
// the whole answer; the default is the heap).
boost::json::object KeyInfoJson(const events::KeyState& key, const events::Catalog& catalog, std::int64_t now_micros,
                                const std::optional<projector::LastUse>& last_use,
                                boost::json::storage_ptr storage = {});
// {"usage": {api_key_uuid, last_used_at, last_used_model, last_used_source_vpc, days: [{date,
// allowed, denied}]}}: one entry per day from `first_day` to `last_day` (days since the epoch),
// zeros where `days` (oldest first) has none.
boost::json::object UsageJson(const std::string& key_id, const std::optional<projector::LastUse>& last_use,
                              const std::vector<projector::DayUsage>& days, std::int64_t first_day,
                              std::int64_t last_day);
// A key as of a point in time (as-of queries, audit before/after): the same fields, with the
// model ids of its scope instead of objects, expires_at, and `deleted`.
boost::json::object KeyStateJson(const events::KeyState& key);
// One entry of a key's history: {event_id, event_type, revision, occurred_at, actor, request_id,
// correlation_id, changes}.
boost::json::object HistoryEntryJson(const events::Event& event);
// One audit record: the event with partition/offset and the key before and after it.
boost::json::object AuditRecordJson(const replay::AuditRecord& record);
// {"audit_events": [...], "next_cursor": "..." | null}
boost::json::object AuditPageJson(const replay::AuditPage& page);
// The model catalog in the OpenAI list shape {"object": "list", "data": [...]}.
boost::json::object CatalogJson(const events::Catalog& catalog);

// {"partition", "offset", "href" (where to ask again), "validators_total", "validators_applied", "complete", "summary",
//  "validators": [{"replica_id", "state", "applied_offset", "took_ms"?, "heard_ms_ago"}]}
boost::json::object ReceiptJson(const validator::Receipt& receipt);

}  // namespace keyledger::api
