// Key events as plain C++ values (SPEC section 3). The Cap'n Proto schema in
// events/schema/key_events.capnp is the wire form; codec.h converts between the two.
// Thread: values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "keyledger/common/crypto.h"
#include "keyledger/common/secret.h"

namespace keyledger::events {

// Version 2 added KeyCreated.expires_at_micros and RecordSkipped; version 1 events decode
// forever (events/testdata/v1).
inline constexpr std::uint16_t kCurrentSchemaVersion = 2;

enum class Role { kOwner, kMember, kOperator };
std::string_view RoleName(Role role);

enum class EventType { kKeyCreated, kKeyRenamed, kKeyRegenerated, kKeyDeleted, kRecordSkipped };
std::string_view EventTypeName(EventType type);  // "key_created", ...
// The inverse of EventTypeName; nullopt for anything else.
std::optional<EventType> ParseEventTypeName(std::string_view name);

struct Actor {
  std::string user_id;
  std::string display_name;
  Role role = Role::kMember;
  friend bool operator==(const Actor&, const Actor&) = default;
};

struct KeyCreated {
  std::string name;
  std::string creator_id;
  std::string creator_name;
  std::int64_t created_at_micros = 0;
  bool all_models = false;
  std::vector<std::string> models;  // Empty when all_models.
  bool batch_inference = false;
  std::string vpc_uuid;             // Empty: no VPC restriction.
  bool legacy = false;
  common::SecretHash secret_sha256{};
  std::string secret_hint;
  std::int64_t expires_at_micros = 0;  // 0: never (version 1 events never expire)
  friend bool operator==(const KeyCreated&, const KeyCreated&) = default;
};

struct KeyRenamed {
  std::string old_name;
  std::string new_name;
  friend bool operator==(const KeyRenamed&, const KeyRenamed&) = default;
};

struct KeyRegenerated {
  common::SecretHash secret_sha256{};
  std::string secret_hint;
  friend bool operator==(const KeyRegenerated&, const KeyRegenerated&) = default;
};

struct KeyDeleted {
  std::string name;
  friend bool operator==(const KeyDeleted&, const KeyDeleted&) = default;
};

// A control event: every consumer passes over the record at (partition, offset) with this
// SHA-256 (events/partition_guard.h). Not a key event: no team, no key, outside the hash chain.
struct RecordSkipped {
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  common::Sha256Digest record_sha256{};
  std::string reason;
  std::string note;
  friend bool operator==(const RecordSkipped&, const RecordSkipped&) = default;
};

using Payload = std::variant<KeyCreated, KeyRenamed, KeyRegenerated, KeyDeleted, RecordSkipped>;

struct Event {
  std::string event_id;
  std::uint16_t schema_version = kCurrentSchemaVersion;
  std::string team_id;
  std::string key_id;
  std::uint64_t key_revision = 0;
  Actor actor;
  std::int64_t occurred_at_micros = 0;
  std::string request_id;
  std::string idempotency_key;
  std::string correlation_id;
  common::Sha256Digest prev_hash{};
  Payload payload;

  EventType type() const { return static_cast<EventType>(payload.index()); }
  // A key event (created, renamed, regenerated, deleted), as opposed to a control event.
  bool is_key_event() const { return type() != EventType::kRecordSkipped; }
  // A regenerate or a delete: the key's secret stops working (what revocation receipts are of).
  bool revokes_secret() const { return type() == EventType::kKeyRegenerated || type() == EventType::kKeyDeleted; }
  friend bool operator==(const Event&, const Event&) = default;
};

}  // namespace keyledger::events
