#include "keyledger/events/codec.h"

#include <capnp/message.h>
#include <kj/exception.h>

#include <cstdint>
#include <cstring>

#include "key_events.capnp.h"
#include "keyledger/common/crypto.h"

namespace keyledger::events {

using common::DataLoss;
using common::InvalidArgument;
using common::Result;
using common::Status;

namespace {

capnp::Text::Reader TextOf(const std::string& s) { return capnp::Text::Reader(s.c_str(), s.size()); }

capnp::Data::Reader DataOf(const common::Sha256Digest& d) {
  return capnp::Data::Reader(d.data(), d.size());
}

std::string StringOf(capnp::Text::Reader t) { return std::string(t.begin(), t.size()); }

Result<common::Sha256Digest> DigestOf(capnp::Data::Reader d, const char* field) {
  common::Sha256Digest out{};
  if (d.size() != out.size()) {
    return DataLoss(std::string(field) + " has " + std::to_string(d.size()) + " bytes, expected 32");
  }
  std::memcpy(out.data(), d.begin(), out.size());
  return out;
}

schema::Role ToSchema(Role r) {
  switch (r) {
    case Role::kOwner: return schema::Role::OWNER;
    case Role::kMember: return schema::Role::MEMBER;
    case Role::kOperator: return schema::Role::OPERATOR;
  }
  return schema::Role::UNSPECIFIED;
}

Result<Role> FromSchema(schema::Role r) {
  switch (r) {
    case schema::Role::OWNER: return Role::kOwner;
    case schema::Role::MEMBER: return Role::kMember;
    case schema::Role::OPERATOR: return Role::kOperator;
    default: break;
  }
  return DataLoss("actor.role " + std::to_string(static_cast<int>(r)) + " is not a known role");
}

Status CheckId(const std::string& value, const char* field, bool uuid) {
  if (value.empty()) return InvalidArgument(std::string(field) + " is empty");
  if (value.size() > 256) return InvalidArgument(std::string(field) + " is longer than 256 bytes");
  if (uuid && !common::IsUuid(value)) return InvalidArgument(std::string(field) + " is not a UUID");
  return Status::Ok();
}

Result<Event> DecodeRoot(schema::KeyEvent::Reader root) {
  Event e;
  e.event_id = StringOf(root.getEventId());
  e.schema_version = root.getSchemaVersion();
  e.team_id = StringOf(root.getTeamId());
  e.key_id = StringOf(root.getKeyId());
  e.key_revision = root.getKeyRevision();
  auto actor = root.getActor();
  e.actor.user_id = StringOf(actor.getUserId());
  e.actor.display_name = StringOf(actor.getDisplayName());
  KL_ASSIGN_OR_RETURN(e.actor.role, FromSchema(actor.getRole()));
  e.occurred_at_micros = root.getOccurredAtMicros();
  e.request_id = StringOf(root.getRequestId());
  e.idempotency_key = StringOf(root.getIdempotencyKey());
  e.correlation_id = StringOf(root.getCorrelationId());
  KL_ASSIGN_OR_RETURN(e.prev_hash, DigestOf(root.getPrevHash(), "prevHash"));

  auto payload = root.getPayload();
  switch (payload.which()) {
    case schema::KeyEvent::Payload::KEY_CREATED: {
      auto c = payload.getKeyCreated();
      KeyCreated p;
      p.name = StringOf(c.getName());
      p.creator_id = StringOf(c.getCreatorId());
      p.creator_name = StringOf(c.getCreatorName());
      p.created_at_micros = c.getCreatedAtMicros();
      p.all_models = c.getAllModels();
      for (auto m : c.getModels()) p.models.push_back(StringOf(m));
      p.batch_inference = c.getBatchInference();
      p.vpc_uuid = StringOf(c.getVpcUuid());
      p.legacy = c.getLegacy();
      KL_ASSIGN_OR_RETURN(p.secret_sha256, DigestOf(c.getSecretSha256(), "keyCreated.secretSha256"));
      p.secret_hint = StringOf(c.getSecretHint());
      p.expires_at_micros = c.getExpiresAtMicros();
      e.payload = std::move(p);
      break;
    }
    case schema::KeyEvent::Payload::KEY_RENAMED: {
      auto r = payload.getKeyRenamed();
      e.payload = KeyRenamed{StringOf(r.getOldName()), StringOf(r.getNewName())};
      break;
    }
    case schema::KeyEvent::Payload::KEY_REGENERATED: {
      auto r = payload.getKeyRegenerated();
      KeyRegenerated p;
      KL_ASSIGN_OR_RETURN(p.secret_sha256,
                          DigestOf(r.getSecretSha256(), "keyRegenerated.secretSha256"));
      p.secret_hint = StringOf(r.getSecretHint());
      e.payload = std::move(p);
      break;
    }
    case schema::KeyEvent::Payload::KEY_DELETED: {
      e.payload = KeyDeleted{StringOf(payload.getKeyDeleted().getName())};
      break;
    }
    case schema::KeyEvent::Payload::RECORD_SKIPPED: {
      auto r = payload.getRecordSkipped();
      RecordSkipped p;
      p.partition = r.getPartition();
      p.offset = r.getOffset();
      KL_ASSIGN_OR_RETURN(p.record_sha256, DigestOf(r.getRecordSha256(), "recordSkipped.recordSha256"));
      p.reason = StringOf(r.getReason());
      p.note = StringOf(r.getNote());
      e.payload = std::move(p);
      break;
    }
    default:
      return DataLoss("unknown event type (union tag " +
                      std::to_string(static_cast<unsigned>(payload.which())) + ")");
  }
  return e;
}

}  // namespace

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kOwner: return "owner";
    case Role::kMember: return "member";
    case Role::kOperator: return "operator";
  }
  return "unknown";
}

std::string_view EventTypeName(EventType type) {
  switch (type) {
    case EventType::kKeyCreated: return "key_created";
    case EventType::kKeyRenamed: return "key_renamed";
    case EventType::kKeyRegenerated: return "key_regenerated";
    case EventType::kKeyDeleted: return "key_deleted";
    case EventType::kRecordSkipped: return "record_skipped";
  }
  return "unknown";
}

std::optional<EventType> ParseEventTypeName(std::string_view name) {
  for (EventType t : {EventType::kKeyCreated, EventType::kKeyRenamed, EventType::kKeyRegenerated,
                      EventType::kKeyDeleted, EventType::kRecordSkipped}) {
    if (name == EventTypeName(t)) return t;
  }
  return std::nullopt;
}

// A control event names no team and no key, comes from an operator, and is outside the chain.
Status ValidateControlEvent(const Event& e, const RecordSkipped& s) {
  if (e.schema_version < 2) return InvalidArgument("record_skipped needs schema_version 2 or later");
  if (!e.team_id.empty() || !e.key_id.empty() || e.key_revision != 0) {
    return InvalidArgument("record_skipped names no team, no key and no revision");
  }
  if (e.actor.role != Role::kOperator) return InvalidArgument("record_skipped comes from an operator");
  if (e.prev_hash != common::Sha256Digest{}) return InvalidArgument("record_skipped is outside the hash chain");
  if (s.partition < 0 || s.offset < 0) return InvalidArgument("record_skipped names a negative partition or offset");
  if (s.note.size() > 1024 || s.reason.size() > 1024) {
    return InvalidArgument("record_skipped.note and reason are at most 1024 bytes");
  }
  return Status::Ok();
}

Status ValidateEvent(const Event& e) {
  KL_RETURN_IF_ERROR(CheckId(e.event_id, "event_id", true));
  KL_RETURN_IF_ERROR(CheckId(e.actor.user_id, "actor.user_id", false));
  if (const auto* skipped = std::get_if<RecordSkipped>(&e.payload)) return ValidateControlEvent(e, *skipped);
  KL_RETURN_IF_ERROR(CheckId(e.team_id, "team_id", false));
  KL_RETURN_IF_ERROR(CheckId(e.key_id, "key_id", true));
  if (e.schema_version == 0) return InvalidArgument("schema_version is 0");
  if (e.key_revision == 0) return InvalidArgument("key_revision is 0");
  if (const auto* c = std::get_if<KeyCreated>(&e.payload)) {
    if (e.key_revision != 1) return InvalidArgument("key_created must have key_revision 1");
    if (c->name.empty()) return InvalidArgument("key_created.name is empty");
    if (c->creator_id.empty()) return InvalidArgument("key_created.creator_id is empty");
    if (c->all_models && !c->models.empty()) {
      return InvalidArgument("key_created.models must be empty when all_models is set");
    }
    if (!c->all_models && c->models.empty()) {
      return InvalidArgument("key_created.models is empty and all_models is not set");
    }
    if (c->batch_inference && !c->all_models) {
      return InvalidArgument("key_created.batch_inference requires all_models");
    }
    if (c->legacy && (!c->all_models || c->batch_inference || !c->vpc_uuid.empty())) {
      return InvalidArgument("key_created: a legacy key has all models, no batch and no VPC");
    }
    if (c->secret_hint.size() > common::kSecretHintLength) {
      return InvalidArgument("key_created.secret_hint is longer than 4 characters");
    }
    if (c->expires_at_micros < 0) return InvalidArgument("key_created.expires_at is negative");
    if (c->expires_at_micros != 0 && e.schema_version < 2) {
      return InvalidArgument("key_created.expires_at needs schema_version 2 or later");
    }
  } else {
    if (e.key_revision < 2) return InvalidArgument(std::string(EventTypeName(e.type())) +
                                                   " must have key_revision >= 2");
    if (const auto* r = std::get_if<KeyRenamed>(&e.payload); r && r->new_name.empty()) {
      return InvalidArgument("key_renamed.new_name is empty");
    }
    if (const auto* g = std::get_if<KeyRegenerated>(&e.payload);
        g && g->secret_hint.size() > common::kSecretHintLength) {
      return InvalidArgument("key_regenerated.secret_hint is longer than 4 characters");
    }
  }
  return Status::Ok();
}

Result<std::string> Encode(const Event& e) {
  KL_RETURN_IF_ERROR(ValidateEvent(e));
  try {
    capnp::MallocMessageBuilder message(256);
    auto root = message.initRoot<schema::KeyEvent>();
    root.setEventId(TextOf(e.event_id));
    root.setSchemaVersion(e.schema_version);
    root.setTeamId(TextOf(e.team_id));
    root.setKeyId(TextOf(e.key_id));
    root.setKeyRevision(e.key_revision);
    auto actor = root.initActor();
    actor.setUserId(TextOf(e.actor.user_id));
    actor.setDisplayName(TextOf(e.actor.display_name));
    actor.setRole(ToSchema(e.actor.role));
    root.setOccurredAtMicros(e.occurred_at_micros);
    root.setRequestId(TextOf(e.request_id));
    root.setIdempotencyKey(TextOf(e.idempotency_key));
    root.setCorrelationId(TextOf(e.correlation_id));
    root.setPrevHash(DataOf(e.prev_hash));
    auto payload = root.initPayload();
    std::visit(
        [&payload](const auto& p) {
          using P = std::decay_t<decltype(p)>;
          if constexpr (std::is_same_v<P, KeyCreated>) {
            auto c = payload.initKeyCreated();
            c.setName(TextOf(p.name));
            c.setCreatorId(TextOf(p.creator_id));
            c.setCreatorName(TextOf(p.creator_name));
            c.setCreatedAtMicros(p.created_at_micros);
            c.setAllModels(p.all_models);
            auto models = c.initModels(static_cast<unsigned>(p.models.size()));
            for (unsigned i = 0; i < p.models.size(); ++i) models.set(i, TextOf(p.models[i]));
            c.setBatchInference(p.batch_inference);
            c.setVpcUuid(TextOf(p.vpc_uuid));
            c.setLegacy(p.legacy);
            c.setSecretSha256(DataOf(p.secret_sha256));
            c.setSecretHint(TextOf(p.secret_hint));
            c.setExpiresAtMicros(p.expires_at_micros);
          } else if constexpr (std::is_same_v<P, KeyRenamed>) {
            auto r = payload.initKeyRenamed();
            r.setOldName(TextOf(p.old_name));
            r.setNewName(TextOf(p.new_name));
          } else if constexpr (std::is_same_v<P, KeyRegenerated>) {
            auto r = payload.initKeyRegenerated();
            r.setSecretSha256(DataOf(p.secret_sha256));
            r.setSecretHint(TextOf(p.secret_hint));
          } else if constexpr (std::is_same_v<P, KeyDeleted>) {
            payload.initKeyDeleted().setName(TextOf(p.name));
          } else {
            auto r = payload.initRecordSkipped();
            r.setPartition(p.partition);
            r.setOffset(p.offset);
            r.setRecordSha256(DataOf(p.record_sha256));
            r.setReason(TextOf(p.reason));
            r.setNote(TextOf(p.note));
          }
        },
        e.payload);
    kj::Array<capnp::word> words = capnp::canonicalize(root.asReader());
    kj::ArrayPtr<const kj::byte> bytes = words.asBytes();
    if (bytes.size() > kMaxEncodedEventBytes) {
      return InvalidArgument("event encodes to " + std::to_string(bytes.size()) +
                             " bytes, more than the limit of " +
                             std::to_string(kMaxEncodedEventBytes));
    }
    return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
  } catch (const kj::Exception& ex) {
    return common::Internal(std::string("encoding event failed: ") + ex.getDescription().cStr());
  }
}

Result<Event> Decode(std::string_view bytes) {
  if (bytes.empty()) return DataLoss("event is empty");
  if (bytes.size() > kMaxEncodedEventBytes) {
    return DataLoss("event is " + std::to_string(bytes.size()) + " bytes, more than the limit of " +
                    std::to_string(kMaxEncodedEventBytes));
  }
  if (bytes.size() % sizeof(capnp::word) != 0) {
    return DataLoss("event is " + std::to_string(bytes.size()) +
                    " bytes, not a whole number of 8-byte words (truncated?)");
  }
  const size_t word_count = bytes.size() / sizeof(capnp::word);
  kj::Array<capnp::word> copy;
  kj::ArrayPtr<const capnp::word> words;
  if (reinterpret_cast<std::uintptr_t>(bytes.data()) % alignof(capnp::word) == 0) {
    words = kj::arrayPtr(reinterpret_cast<const capnp::word*>(bytes.data()), word_count);
  } else {
    copy = kj::heapArray<capnp::word>(word_count);
    std::memcpy(copy.begin(), bytes.data(), bytes.size());
    words = copy.asPtr();
  }
  try {
    capnp::ReaderOptions options;
    options.traversalLimitInWords = word_count * 2 + 64;
    options.nestingLimit = 8;
    kj::ArrayPtr<const capnp::word> segments[1] = {words};
    capnp::SegmentArrayMessageReader message(kj::arrayPtr(segments, 1), options);
    if (!message.isCanonical()) return DataLoss("event is not in canonical encoding");
    KL_ASSIGN_OR_RETURN(Event event, DecodeRoot(message.getRoot<schema::KeyEvent>()));
    Status valid = ValidateEvent(event);
    if (!valid.ok()) return DataLoss("invalid event: " + valid.message());
    return event;
  } catch (const kj::Exception& ex) {
    return DataLoss(std::string("malformed event: ") + ex.getDescription().cStr());
  } catch (const std::exception& ex) {
    return DataLoss(std::string("malformed event: ") + ex.what());
  }
}

}  // namespace keyledger::events
