// Key usage, as validator replicas report it on the usage topic (SPEC section 6; issue 17): one
// record per (replica, key, UTC minute) with that replica's counts of the key's checks in that
// minute so far. Counts are cumulative within the minute, so a replica may send the same
// aggregate again (a retry, a re-sent backlog) or a newer one, and a reader keeps the largest:
// a re-sent record is counted once. The key-event log stays the only source of key state; usage
// is a second, lossy-by-design stream (a replica that cannot publish drops and counts).
//
// Wire form (the Kafka record value): a version byte, then fields through common/coding.h.
// The record key is the team id, so a team's usage stays in one partition.
// Thread: values and free functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "keyledger/common/status.h"

namespace keyledger::events {

struct UsageRecord {
  std::string replica_id;
  std::string key_id;
  std::string team_id;
  std::int64_t minute = 0;      // minutes since the Unix epoch, UTC
  std::uint64_t allowed = 0;    // allowed checks of the key on this replica in this minute, so far
  std::uint64_t denied = 0;     // denied checks of the key (wrong model, VPC, expired, ...)
  std::string last_model;       // of the minute's last allowed check ("" when none was allowed)
  std::string last_source_vpc;  // of the same check ("" for the public internet)
  friend bool operator==(const UsageRecord&, const UsageRecord&) = default;
};

inline constexpr size_t kMaxUsageFieldBytes = 512;

std::string EncodeUsageRecord(const UsageRecord& record);
// DataLoss for another version, truncated or trailing bytes, an empty replica or key id, or a
// field longer than kMaxUsageFieldBytes.
common::Result<UsageRecord> DecodeUsageRecord(std::string_view bytes);

// The usage topic beside a key-event topic: "keyledger.key-events" -> "keyledger.key-usage"; any
// other name gets ".key-usage" appended.
std::string UsageTopicFor(std::string_view event_topic);

}  // namespace keyledger::events
