// The key rules of SPEC section 1 as pure functions.
//
// Decide*: given the key's current state (nullopt when the key id is unknown), the caller and a
// command, return the one event to append or the precise error:
//   InvalidArgument (400)  bad name, unknown model, foreign VPC, batch without all models, ...
//   PermissionDenied (403) a member acting on a key they did not create
//   NotFound (404)         no such key in the caller's team (a foreign key is never a 403), or
//                          the key was deleted
//   Conflict (409)         expected revision is stale; confirm_name is not the current name
// The returned event has every envelope field set except prev_hash, which its writer fills in.
//
// Apply: given a state and an event of that key, the next state; DataLoss when the event does
// not follow from the state (wrong revision, key already deleted, ...), which means the log is
// corrupt. Scope (all_models, models, batch) and VPC are set once by KeyCreated and no event
// changes them.
// Thread: free functions, thread-safe; the Catalog is read only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "keyledger/common/secret.h"
#include "keyledger/common/status.h"
#include "keyledger/events/catalog.h"
#include "keyledger/events/event.h"

namespace keyledger::events {

inline constexpr size_t kMaxKeyNameLength = 128;  // In Unicode code points, after trimming.

// The authenticated caller (from the JWT, or an operator tool).
struct Caller {
  std::string user_id;
  std::string display_name;
  std::string team_id;
  Role role = Role::kMember;
};

struct KeyState {
  std::string key_id;
  std::string team_id;
  std::string name;
  std::string creator_id;
  std::string creator_name;
  std::int64_t created_at_micros = 0;
  bool all_models = false;
  std::vector<std::string> models;
  bool batch_inference = false;
  std::string vpc_uuid;
  bool legacy = false;
  common::SecretHash secret_sha256{};
  std::string secret_hint;
  std::int64_t expires_at_micros = 0;  // 0: never expires
  std::uint64_t revision = 0;
  bool deleted = false;
  std::int64_t updated_at_micros = 0;
  friend bool operator==(const KeyState&, const KeyState&) = default;
};

// Envelope values chosen by the writer for the event a command produces.
struct CommandContext {
  std::string event_id;
  std::int64_t now_micros = 0;
  std::string request_id;
  std::string idempotency_key;
  std::string correlation_id;
};

struct CreateKeyCommand {
  std::string key_id;  // A fresh UUID chosen by the writer.
  std::string name;
  bool all_models = false;
  std::vector<std::string> models;
  bool batch_inference = false;
  std::string vpc_uuid;  // Empty: no VPC.
  common::SecretHash secret_sha256{};
  std::string secret_hint;
  std::int64_t expires_at_micros = 0;  // 0: never; otherwise after the command's now (InvalidArgument if not)
};

// A key created before scoping existed: all models, no VPC, no batch.
struct ImportLegacyKeyCommand {
  std::string key_id;
  std::string team_id;
  std::string creator_id;
  std::string creator_name;
  std::string name;
  std::int64_t created_at_micros = 0;
  common::SecretHash secret_sha256{};
  std::string secret_hint;
  std::int64_t expires_at_micros = 0;  // 0: never (a legacy key expires only if imported with an expiry)
};

struct RenameKeyCommand {
  std::string key_id;
  std::string new_name;
  std::optional<std::uint64_t> expected_revision;
};

struct RegenerateKeyCommand {
  std::string key_id;
  std::string confirm_name;
  std::optional<std::uint64_t> expected_revision;
  common::SecretHash secret_sha256{};  // Of the new secret.
  std::string secret_hint;
};

struct DeleteKeyCommand {
  std::string key_id;
  std::string confirm_name;
  std::optional<std::uint64_t> expected_revision;
};

// An operator's skip of a record consumers halted at (events/partition_guard.h).
struct SkipRecordCommand {
  RecordSkipped skip;
};

using Command = std::variant<CreateKeyCommand, ImportLegacyKeyCommand, RenameKeyCommand,
                             RegenerateKeyCommand, DeleteKeyCommand, SkipRecordCommand>;

// The key id a command acts on ("" for a skip).
const std::string& CommandKeyId(const Command& command);

// Trims spaces and checks a key name: valid UTF-8, 1..128 code points, no control or invisible
// formatting characters. Returns the trimmed name or InvalidArgument naming `field`.
common::Result<std::string> NormalizeKeyName(std::string_view raw, std::string_view field = "name");

common::Result<Event> DecideCreate(const std::optional<KeyState>& current, const Caller& caller,
                                   const CreateKeyCommand& command, const Catalog& catalog,
                                   const CommandContext& context);
common::Result<Event> DecideImportLegacy(const std::optional<KeyState>& current,
                                         const Caller& caller,
                                         const ImportLegacyKeyCommand& command,
                                         const CommandContext& context);
common::Result<Event> DecideRename(const std::optional<KeyState>& current, const Caller& caller,
                                   const RenameKeyCommand& command, const CommandContext& context);
common::Result<Event> DecideRegenerate(const std::optional<KeyState>& current,
                                       const Caller& caller, const RegenerateKeyCommand& command,
                                       const CommandContext& context);
common::Result<Event> DecideDelete(const std::optional<KeyState>& current, const Caller& caller,
                                   const DeleteKeyCommand& command, const CommandContext& context);

// An operator's skip of a record consumers halted at: the RecordSkipped control event to append
// (events/partition_guard.h says who honours it). PermissionDenied for a non-operator,
// InvalidArgument without a note.
common::Result<Event> DecideSkip(const Caller& caller, const RecordSkipped& skip, const CommandContext& context);

// Dispatches to the Decide* function of the command's type.
common::Result<Event> Decide(const std::optional<KeyState>& current, const Caller& caller,
                             const Command& command, const Catalog& catalog,
                             const CommandContext& context);

common::Result<KeyState> Apply(const std::optional<KeyState>& current, const Event& event);

// Whether `caller` may see the key at all (same team, not deleted). Foreign keys: NotFound.
common::Status CheckVisible(const std::optional<KeyState>& key, const Caller& caller,
                            std::string_view key_id);
// Whether `caller` may rename, regenerate or delete it: owners any key of the team, members
// only keys they created. Includes CheckVisible.
common::Status CheckManageable(const std::optional<KeyState>& key, const Caller& caller,
                               std::string_view key_id);

// The three list views of SPEC section 1.
//   kMine:   non-legacy keys the caller created (also those created from the team view);
//   kLegacy: the team's legacy keys, for every member;
//   kTeam:   owners only; non-legacy keys created by other members of the team.
// Deleted keys are in no view.
enum class View { kMine, kLegacy, kTeam };
std::string_view ViewName(View view);
common::Result<View> ParseView(std::string_view text);  // "mine" | "legacy" | "team"
// PermissionDenied when a non-owner asks for the team view.
common::Status CheckViewAllowed(View view, const Caller& caller);
bool KeyInView(const KeyState& key, View view, const Caller& caller);

// Whether the key has expired at `now_micros` (expiry is an instant: expired from it on).
inline bool KeyExpired(const KeyState& key, std::int64_t now_micros) {
  return key.expires_at_micros != 0 && now_micros >= key.expires_at_micros;
}

// The models the key can call today: the whole catalog for all-models keys, otherwise its
// selected models that are still in the catalog.
std::vector<std::string> CallableModels(const KeyState& key, const Catalog& catalog);

}  // namespace keyledger::events
