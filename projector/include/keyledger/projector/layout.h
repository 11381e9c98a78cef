// The read-model store's byte layout: its column families and every key written into them, in
// one home (LevelDB's db/dbformat.h). The projector writes with these functions, and the read
// model, the audit queries, replay and verify read with them; nobody else builds or slices a
// store key. Integers are big-endian (common/coding.h), so byte order is numeric order.
//
//   keys                key_id                                        -> KeyRecord (records.h)
//   secret_lookup       SHA-256 of a live secret (32 bytes)           -> SecretRecord (never the secret)
//   view_mine           team \0 creator \0 ~created_at(be64) key_id   -> ""
//   view_legacy         team \0 ~created_at(be64) key_id              -> creator id
//   view_team           team \0 ~created_at(be64) key_id              -> creator id (non-legacy keys)
//   audit_by_key        key_id \0 revision(be64)                      -> locator, then (layout 3) the
//                                                                         KeyRecord after that event
//   audit_by_team_time  team \0 occurred_at(be64) locator             -> event type (1 byte)
//   audit_by_actor      team \0 actor \0 occurred_at(be64) locator    -> event type (1 byte)
//   events              locator                                       -> the record's bytes as in the log
//   meta                "offset" partition(be32)                      -> next offset (be64)
//                       "chain"  partition(be32)                      -> hash chain head (32 bytes)
//                       "alt"    partition(be32)                      -> alternative head after a skip
//                       "halt"   partition(be32)                      -> Halt (records.h)
//                       "skip"   partition(be32) offset(be64)         -> skip note (JSON)
//                       "count" 'm' team \0 creator \0                  -> keys in that My keys view (be64)
//                       "count" 'l' team \0                             -> keys in the legacy view (be64)
//                       "count" 't' team \0                             -> keys in view_team (be64; the
//                                                                         team view of a caller is this
//                                                                         less the caller's own)
//                       "layout_version"                              -> be32; absent: 1 (no counts),
//                                                                         2: the counts are kept,
//                                                                         3: and each revision's state
// where locator = partition(be32) offset(be64), 12 bytes.
// Thread: free functions and constants.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "keyledger/common/crypto.h"
#include "keyledger/common/status.h"
#include "keyledger/events/key_rules.h"
#include "keyledger/storage/store.h"

namespace keyledger::projector {

enum class Column : int {
  kKeys = 0,
  kSecretLookup,
  kViewMine,
  kViewLegacy,
  kViewTeam,
  kAuditByKey,
  kAuditByTeamTime,
  kAuditByActor,
  kEvents,
  kMeta,
};
inline constexpr std::array<std::string_view, 10> kColumnNames = {
    "keys",         "secret_lookup",      "view_mine",      "view_legacy", "view_team",
    "audit_by_key", "audit_by_team_time", "audit_by_actor", "events",      "meta"};
inline constexpr std::array<Column, 10> kAllColumns = {
    Column::kKeys,       Column::kSecretLookup,    Column::kViewMine,     Column::kViewLegacy, Column::kViewTeam,
    Column::kAuditByKey, Column::kAuditByTeamTime, Column::kAuditByActor, Column::kEvents,     Column::kMeta};
inline std::string_view ColumnName(Column c) { return kColumnNames[static_cast<size_t>(c)]; }

// Opens (or creates) a read-model store with this layout.
common::Result<std::unique_ptr<storage::Store>> OpenReadModelStore(const std::string& path,
                                                                   const storage::StoreOptions& options);

struct EventLocator {
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  friend bool operator==(const EventLocator&, const EventLocator&) = default;
};

namespace layout {

inline constexpr size_t kLocatorSize = 12;

std::string Locator(EventLocator locator);
// A 12-byte locator; nullopt for anything else.
std::optional<EventLocator> ParseLocator(std::string_view bytes);
// The locator that starts an audit_by_key value.
std::optional<EventLocator> LocatorAtStart(std::string_view value);
// The locator that ends an audit_by_team_time or audit_by_actor key.
std::optional<EventLocator> LocatorAtEnd(std::string_view index_key);

std::string SecretKey(const common::Sha256Digest& hash);

// Views. The prefix selects one view of one team (and creator); keys add the newest-first order.
std::string MineViewPrefix(std::string_view team_id, std::string_view creator_id);
std::string TeamViewPrefix(std::string_view team_id);  // view_legacy and view_team
std::string ViewKey(std::string_view prefix, const events::KeyState& key);
// The key id at the end of a view key with that prefix.
std::string_view KeyIdInViewKey(std::string_view view_key, size_t prefix_size);

// Audit indexes.
std::string AuditByKeyPrefix(std::string_view key_id);
std::string AuditByKeyKey(std::string_view key_id, std::uint64_t revision);
std::string AuditByTeamPrefix(std::string_view team_id);
std::string AuditByActorPrefix(std::string_view team_id, std::string_view actor_id);
// prefix + occurred_at: the bound of a time range within that prefix (times before the epoch
// count as the epoch).
std::string AuditTimeBound(std::string_view prefix, std::int64_t micros);
// prefix + occurred_at + locator.
std::string AuditTimeKey(std::string_view prefix, std::int64_t micros, EventLocator locator);

// Meta.
inline constexpr std::string_view kOffsetPrefix = "offset";
inline constexpr std::string_view kHaltPrefix = "halt";
inline constexpr std::string_view kSkipPrefix = "skip";
std::string OffsetKey(std::int32_t partition);
// The partition of an offset key; nullopt for any other key.
std::optional<std::int32_t> PartitionOfOffsetKey(std::string_view key);
std::string ChainKey(std::int32_t partition);
std::string AltChainKey(std::int32_t partition);
std::string HaltKey(std::int32_t partition);
std::string SkipKey(std::int32_t partition, std::int64_t offset);
std::string OffsetValue(std::int64_t next_offset);
// The count of a view's keys: `creator_id` only for kMine (for kTeam it counts every non-legacy
// key of the team).
std::string ViewCountKey(events::View view, std::string_view team_id, std::string_view creator_id = {});
std::string CountValue(std::int64_t count);
std::optional<std::int64_t> ParseCountValue(std::string_view value);
inline constexpr std::string_view kLayoutVersionKey = "layout_version";
// 2: the view counts are kept; 3: each audit_by_key value carries the key's state after that
// revision. A store from before is brought up to the current version by Projector::Load.
inline constexpr std::uint32_t kLayoutVersion = 3;
inline constexpr std::uint32_t kCountsLayoutVersion = 2;  // the first with the view counts
std::string LayoutVersionValue(std::uint32_t version);
std::optional<std::uint32_t> ParseLayoutVersionValue(std::string_view value);
std::optional<std::int64_t> ParseOffsetValue(std::string_view value);
std::string DigestValue(const common::Sha256Digest& digest);
std::optional<common::Sha256Digest> ParseDigestValue(std::string_view value);

}  // namespace layout
}  // namespace keyledger::projector
