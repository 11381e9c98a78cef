#include "keyledger/events/key_rules.h"

#include <algorithm>
#include <unordered_set>

namespace keyledger::events {

using common::Conflict;
using common::DataLoss;
using common::InvalidArgument;
using common::NotFound;
using common::PermissionDenied;
using common::Result;
using common::Status;

namespace {

// Decodes one UTF-8 code point at `i`; returns false for invalid, overlong or surrogate input.
bool NextCodePoint(std::string_view s, size_t& i, char32_t& cp) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  int len;
  char32_t min;
  if (c < 0x80) {
    cp = c;
    ++i;
    return true;
  } else if ((c & 0xE0) == 0xC0) {
    len = 2, cp = c & 0x1F, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3, cp = c & 0x0F, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4, cp = c & 0x07, min = 0x10000;
  } else {
    return false;
  }
  if (i + static_cast<size_t>(len) > s.size()) return false;
  for (int k = 1; k < len; ++k) {
    unsigned char cc = static_cast<unsigned char>(s[i + static_cast<size_t>(k)]);
    if ((cc & 0xC0) != 0x80) return false;
    cp = (cp << 6) | (cc & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
  i += static_cast<size_t>(len);
  return true;
}

bool IsControlOrInvisible(char32_t cp) {
  if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F)) return true;  // C0, DEL, C1
  if (cp >= 0x200B && cp <= 0x200F) return true;  // zero-width and direction marks
  if (cp >= 0x2028 && cp <= 0x202E) return true;  // line/paragraph separators, bidi embeddings
  if (cp >= 0x2060 && cp <= 0x206F) return true;  // word joiner, bidi isolates, deprecated formats
  if (cp == 0xFEFF) return true;                  // byte order mark
  if (cp >= 0xFFF9 && cp <= 0xFFFB) return true;  // interlinear annotations
  return false;
}

Event MakeEnvelope(const Caller& caller, const std::string& team_id, const std::string& key_id,
                   std::uint64_t revision, const CommandContext& context) {
  Event e;
  e.event_id = context.event_id;
  e.schema_version = kCurrentSchemaVersion;
  e.team_id = team_id;
  e.key_id = key_id;
  e.key_revision = revision;
  e.actor = Actor{caller.user_id, caller.display_name, caller.role};
  e.occurred_at_micros = context.now_micros;
  e.request_id = context.request_id;
  e.idempotency_key = context.idempotency_key;
  e.correlation_id = context.correlation_id;
  return e;
}

Status CheckCaller(const Caller& caller) {
  if (caller.user_id.empty()) return common::Unauthenticated("caller has no user id");
  if (caller.team_id.empty()) return common::Unauthenticated("caller has no team id");
  return Status::Ok();
}

Status CheckRevision(const KeyState& key, const std::optional<std::uint64_t>& expected) {
  if (expected && *expected != key.revision) {
    return Conflict("api key " + key.key_id + " is at revision " + std::to_string(key.revision) +
                    ", not the expected revision " + std::to_string(*expected));
  }
  return Status::Ok();
}

Status CheckConfirmation(const KeyState& key, std::string_view confirm_name) {
  std::string_view trimmed = confirm_name;
  while (!trimmed.empty() && trimmed.front() == ' ') trimmed.remove_prefix(1);
  while (!trimmed.empty() && trimmed.back() == ' ') trimmed.remove_suffix(1);
  if (trimmed.empty()) return InvalidArgument("confirm_name is required: send the key's current name");
  if (trimmed != key.name) {
    return Conflict("confirm_name does not match the current name of api key " + key.key_id);
  }
  return Status::Ok();
}

}  // namespace

const std::string& CommandKeyId(const Command& command) {
  static const std::string kNoKey;
  return std::visit(
      [](const auto& c) -> const std::string& {
        if constexpr (std::is_same_v<std::decay_t<decltype(c)>, SkipRecordCommand>) {
          return kNoKey;
        } else {
          return c.key_id;
        }
      },
      command);
}

Result<std::string> NormalizeKeyName(std::string_view raw, std::string_view field) {
  std::string f(field);
  size_t begin = 0, end = raw.size();
  while (begin < end && raw[begin] == ' ') ++begin;
  while (end > begin && raw[end - 1] == ' ') --end;
  std::string_view name = raw.substr(begin, end - begin);
  if (name.empty()) return InvalidArgument(f + " must not be empty");
  size_t count = 0;
  for (size_t i = 0; i < name.size();) {
    char32_t cp;
    if (!NextCodePoint(name, i, cp)) return InvalidArgument(f + " is not valid UTF-8");
    if (IsControlOrInvisible(cp)) {
      return InvalidArgument(f + " contains a control or invisible formatting character");
    }
    ++count;
  }
  if (count > kMaxKeyNameLength) {
    return InvalidArgument(f + " has " + std::to_string(count) + " characters, at most " +
                           std::to_string(kMaxKeyNameLength) + " are allowed");
  }
  return std::string(name);
}

Status CheckVisible(const std::optional<KeyState>& key, const Caller& caller,
                    std::string_view key_id) {
  if (!key || key->team_id != caller.team_id) {
    return NotFound("api key " + std::string(key_id) + " not found");
  }
  if (key->deleted) return NotFound("api key " + std::string(key_id) + " was deleted");
  return Status::Ok();
}

Status CheckManageable(const std::optional<KeyState>& key, const Caller& caller,
                       std::string_view key_id) {
  KL_RETURN_IF_ERROR(CheckVisible(key, caller, key_id));
  if (caller.role == Role::kOwner || caller.role == Role::kOperator) return Status::Ok();
  if (key->creator_id != caller.user_id) {
    return PermissionDenied("only a team owner or the key's creator may change api key " +
                            std::string(key_id));
  }
  return Status::Ok();
}

namespace {

// What a new key may do: set once, at creation, and never changed.
struct Scope {
  bool all_models = false;
  std::vector<std::string> models;
  bool batch_inference = false;
  std::string vpc_uuid;
  bool legacy = false;
  std::int64_t expires_at_micros = 0;
};

// The one place a KeyCreated event is built, for both kinds of creation.
Event CreatedEvent(const Caller& actor, const std::string& team_id, const std::string& key_id, std::string name,
                   const std::string& creator_id, const std::string& creator_name, std::int64_t created_at_micros,
                   Scope scope, const common::SecretHash& secret_sha256, const std::string& secret_hint,
                   const CommandContext& context) {
  KeyCreated created;
  created.name = std::move(name);
  created.creator_id = creator_id;
  created.creator_name = creator_name;
  created.created_at_micros = created_at_micros;
  created.all_models = scope.all_models;
  created.models = std::move(scope.models);
  created.batch_inference = scope.batch_inference;
  created.vpc_uuid = std::move(scope.vpc_uuid);
  created.legacy = scope.legacy;
  created.secret_sha256 = secret_sha256;
  created.secret_hint = secret_hint;
  created.expires_at_micros = scope.expires_at_micros;
  Event e = MakeEnvelope(actor, team_id, key_id, 1, context);
  e.payload = std::move(created);
  return e;
}

}  // namespace

Result<Event> DecideCreate(const std::optional<KeyState>& current, const Caller& caller,
                           const CreateKeyCommand& command, const Catalog& catalog,
                           const CommandContext& context) {
  KL_RETURN_IF_ERROR(CheckCaller(caller));
  if (current) return Conflict("api key id " + command.key_id + " is already taken");
  KL_ASSIGN_OR_RETURN(std::string name, NormalizeKeyName(command.name));
  Scope scope;
  scope.all_models = command.all_models;
  if (command.all_models) {
    if (!command.models.empty()) {
      return InvalidArgument("models must be omitted or empty when all_models is true");
    }
  } else {
    if (command.models.empty()) {
      return InvalidArgument("models must list at least one model id when all_models is false");
    }
    std::unordered_set<std::string> seen;
    for (const std::string& id : command.models) {
      if (catalog.FindModel(id) == nullptr) {
        return InvalidArgument("models: unknown model id \"" + id + "\"");
      }
      if (seen.insert(id).second) scope.models.push_back(id);
    }
  }
  if (command.batch_inference && !command.all_models) {
    return InvalidArgument("batch_inference can only be enabled together with all_models");
  }
  if (!command.vpc_uuid.empty() && !catalog.TeamHasVpc(caller.team_id, command.vpc_uuid)) {
    return InvalidArgument("vpc_uuid: \"" + command.vpc_uuid + "\" is not a VPC of your team");
  }
  if (command.expires_at_micros < 0) return InvalidArgument("expires_at must not be before 1970");
  if (command.expires_at_micros != 0 && command.expires_at_micros <= context.now_micros) {
    return InvalidArgument("expires_at must be in the future");
  }
  scope.expires_at_micros = command.expires_at_micros;
  scope.batch_inference = command.batch_inference;
  scope.vpc_uuid = command.vpc_uuid;
  std::transform(scope.vpc_uuid.begin(), scope.vpc_uuid.end(), scope.vpc_uuid.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return CreatedEvent(caller, caller.team_id, command.key_id, std::move(name), caller.user_id, caller.display_name,
                      context.now_micros, std::move(scope), command.secret_sha256, command.secret_hint, context);
}

Result<Event> DecideImportLegacy(const std::optional<KeyState>& current, const Caller& caller,
                                 const ImportLegacyKeyCommand& command,
                                 const CommandContext& context) {
  if (caller.role != Role::kOperator) {
    return PermissionDenied("only an operator may import legacy keys");
  }
  if (caller.user_id.empty()) return common::Unauthenticated("caller has no user id");
  if (current) return Conflict("api key id " + command.key_id + " is already taken");
  if (command.team_id.empty()) return InvalidArgument("team_id must not be empty");
  if (command.creator_id.empty()) return InvalidArgument("creator_id must not be empty");
  KL_ASSIGN_OR_RETURN(std::string name, NormalizeKeyName(command.name));
  Scope legacy;  // created before scoping existed: all models, no VPC, no batch
  legacy.all_models = true;
  legacy.legacy = true;
  if (command.expires_at_micros < 0) return InvalidArgument("expires_at must not be before 1970");
  legacy.expires_at_micros = command.expires_at_micros;  // legacy keys never expire unless imported so
  return CreatedEvent(caller, command.team_id, command.key_id, std::move(name), command.creator_id,
                      command.creator_name, command.created_at_micros, std::move(legacy), command.secret_sha256,
                      command.secret_hint, context);
}

Result<Event> DecideRename(const std::optional<KeyState>& current, const Caller& caller,
                           const RenameKeyCommand& command, const CommandContext& context) {
  KL_RETURN_IF_ERROR(CheckCaller(caller));
  KL_RETURN_IF_ERROR(CheckManageable(current, caller, command.key_id));
  KL_RETURN_IF_ERROR(CheckRevision(*current, command.expected_revision));
  KL_ASSIGN_OR_RETURN(std::string new_name, NormalizeKeyName(command.new_name));
  Event e = MakeEnvelope(caller, current->team_id, current->key_id, current->revision + 1, context);
  e.payload = KeyRenamed{current->name, std::move(new_name)};
  return e;
}

Result<Event> DecideRegenerate(const std::optional<KeyState>& current, const Caller& caller,
                               const RegenerateKeyCommand& command,
                               const CommandContext& context) {
  KL_RETURN_IF_ERROR(CheckCaller(caller));
  KL_RETURN_IF_ERROR(CheckManageable(current, caller, command.key_id));
  KL_RETURN_IF_ERROR(CheckRevision(*current, command.expected_revision));
  KL_RETURN_IF_ERROR(CheckConfirmation(*current, command.confirm_name));
  if (command.secret_sha256 == current->secret_sha256) {
    return common::Internal("regenerated secret hash equals the current one");
  }
  Event e = MakeEnvelope(caller, current->team_id, current->key_id, current->revision + 1, context);
  e.payload = KeyRegenerated{command.secret_sha256, command.secret_hint};
  return e;
}

Result<Event> DecideDelete(const std::optional<KeyState>& current, const Caller& caller,
                           const DeleteKeyCommand& command, const CommandContext& context) {
  KL_RETURN_IF_ERROR(CheckCaller(caller));
  KL_RETURN_IF_ERROR(CheckManageable(current, caller, command.key_id));
  KL_RETURN_IF_ERROR(CheckRevision(*current, command.expected_revision));
  KL_RETURN_IF_ERROR(CheckConfirmation(*current, command.confirm_name));
  Event e = MakeEnvelope(caller, current->team_id, current->key_id, current->revision + 1, context);
  e.payload = KeyDeleted{current->name};
  return e;
}

Result<Event> Decide(const std::optional<KeyState>& current, const Caller& caller,
                     const Command& command, const Catalog& catalog,
                     const CommandContext& context) {
  return std::visit(
      [&](const auto& c) -> Result<Event> {
        using C = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<C, CreateKeyCommand>) {
          return DecideCreate(current, caller, c, catalog, context);
        } else if constexpr (std::is_same_v<C, ImportLegacyKeyCommand>) {
          return DecideImportLegacy(current, caller, c, context);
        } else if constexpr (std::is_same_v<C, RenameKeyCommand>) {
          return DecideRename(current, caller, c, context);
        } else if constexpr (std::is_same_v<C, RegenerateKeyCommand>) {
          return DecideRegenerate(current, caller, c, context);
        } else if constexpr (std::is_same_v<C, DeleteKeyCommand>) {
          return DecideDelete(current, caller, c, context);
        } else {
          return DecideSkip(caller, c.skip, context);
        }
      },
      command);
}

Result<Event> DecideSkip(const Caller& caller, const RecordSkipped& skip, const CommandContext& context) {
  if (caller.role != Role::kOperator) return PermissionDenied("only an operator may skip a record");
  if (caller.user_id.empty()) return common::Unauthenticated("caller has no user id");
  if (skip.partition < 0 || skip.offset < 0) return InvalidArgument("partition and offset must not be negative");
  if (skip.note.empty()) return InvalidArgument("note is required: say why the record is skipped");
  if (skip.note.size() > 1024) return InvalidArgument("note is longer than 1024 bytes");
  Event e = MakeEnvelope(caller, "", "", 0, context);
  e.payload = skip;
  return e;
}

Result<KeyState> Apply(const std::optional<KeyState>& current, const Event& event) {
  if (!event.is_key_event()) {
    return DataLoss(std::string(EventTypeName(event.type())) + " " + event.event_id + " is not a key event");
  }
  auto where = [&event] {
    return std::string(EventTypeName(event.type())) + " " + event.event_id + " for key " +
           event.key_id;
  };
  if (const auto* c = std::get_if<KeyCreated>(&event.payload)) {
    if (current) return DataLoss(where() + ": the key already exists");
    if (event.key_revision != 1) return DataLoss(where() + ": creation must be revision 1");
    KeyState s;
    s.key_id = event.key_id;
    s.team_id = event.team_id;
    s.name = c->name;
    s.creator_id = c->creator_id;
    s.creator_name = c->creator_name;
    s.created_at_micros = c->created_at_micros;
    s.all_models = c->all_models;
    s.models = c->models;
    s.batch_inference = c->batch_inference;
    s.vpc_uuid = c->vpc_uuid;
    s.legacy = c->legacy;
    s.secret_sha256 = c->secret_sha256;
    s.secret_hint = c->secret_hint;
    s.expires_at_micros = c->expires_at_micros;
    s.revision = 1;
    s.updated_at_micros = event.occurred_at_micros;
    return s;
  }
  if (!current) return DataLoss(where() + ": the key does not exist");
  if (current->deleted) return DataLoss(where() + ": the key was deleted");
  if (current->team_id != event.team_id) return DataLoss(where() + ": the key belongs to another team");
  if (event.key_revision != current->revision + 1) {
    return DataLoss(where() + ": revision " + std::to_string(event.key_revision) +
                    " does not follow " + std::to_string(current->revision));
  }
  KeyState next = *current;
  next.revision = event.key_revision;
  next.updated_at_micros = event.occurred_at_micros;
  if (const auto* r = std::get_if<KeyRenamed>(&event.payload)) {
    if (r->old_name != current->name) return DataLoss(where() + ": old name does not match");
    next.name = r->new_name;
  } else if (const auto* g = std::get_if<KeyRegenerated>(&event.payload)) {
    next.secret_sha256 = g->secret_sha256;
    next.secret_hint = g->secret_hint;
  } else {
    next.deleted = true;
  }
  return next;
}

std::string_view ViewName(View view) {
  switch (view) {
    case View::kMine: return "mine";
    case View::kLegacy: return "legacy";
    case View::kTeam: return "team";
  }
  return "mine";
}

Result<View> ParseView(std::string_view text) {
  if (text == "mine") return View::kMine;
  if (text == "legacy") return View::kLegacy;
  if (text == "team") return View::kTeam;
  return InvalidArgument("view must be one of mine, legacy, team");
}

Status CheckViewAllowed(View view, const Caller& caller) {
  if (view == View::kTeam && caller.role != Role::kOwner) {
    return PermissionDenied("only team owners may list the team's keys (view=team)");
  }
  return Status::Ok();
}

bool KeyInView(const KeyState& key, View view, const Caller& caller) {
  if (key.deleted || key.team_id != caller.team_id) return false;
  switch (view) {
    case View::kMine: return !key.legacy && key.creator_id == caller.user_id;
    case View::kLegacy: return key.legacy;
    case View::kTeam:
      return caller.role == Role::kOwner && !key.legacy && key.creator_id != caller.user_id;
  }
  return false;
}

std::vector<std::string> CallableModels(const KeyState& key, const Catalog& catalog) {
  std::vector<std::string> out;
  if (key.all_models) {
    for (const Model& m : catalog.models()) out.push_back(m.id);
  } else {
    for (const std::string& id : key.models) {
      if (catalog.FindModel(id) != nullptr) out.push_back(id);
    }
  }
  return out;
}

}  // namespace keyledger::events
