#include "keyledger/writer/idempotency.h"

#include <algorithm>

namespace keyledger::writer {

std::string_view CommandKindName(CommandKind kind) {
  switch (kind) {
    case CommandKind::kCreate: return "create";
    case CommandKind::kImport: return "import";
    case CommandKind::kRename: return "rename";
    case CommandKind::kRegenerate: return "regenerate";
    case CommandKind::kDelete: return "delete";
    case CommandKind::kSkip: return "skip";
  }
  return "unknown";
}

CommandKind KindOf(const events::Command& command) {
  return std::visit(
      [](const auto& c) {
        using C = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<C, events::CreateKeyCommand>) return CommandKind::kCreate;
        if constexpr (std::is_same_v<C, events::ImportLegacyKeyCommand>) return CommandKind::kImport;
        if constexpr (std::is_same_v<C, events::RenameKeyCommand>) return CommandKind::kRename;
        if constexpr (std::is_same_v<C, events::RegenerateKeyCommand>) return CommandKind::kRegenerate;
        if constexpr (std::is_same_v<C, events::DeleteKeyCommand>) return CommandKind::kDelete;
        return CommandKind::kSkip;
      },
      command);
}

CommandKind KindOf(const events::Event& e) {
  switch (e.type()) {
    case events::EventType::kKeyCreated:
      return e.actor.role == events::Role::kOperator ? CommandKind::kImport : CommandKind::kCreate;
    case events::EventType::kKeyRenamed: return CommandKind::kRename;
    case events::EventType::kKeyRegenerated: return CommandKind::kRegenerate;
    case events::EventType::kKeyDeleted: return CommandKind::kDelete;
    case events::EventType::kRecordSkipped: return CommandKind::kSkip;
  }
  return CommandKind::kCreate;
}

namespace {

// A create's fields as the rules store them; nullopt if the name does not normalise.
struct CreateFields {
  std::string name;
  bool all_models;
  std::vector<std::string> models;
  bool batch_inference;
  std::string vpc_uuid;
  std::int64_t expires_at_micros;
  bool operator==(const CreateFields&) const = default;
};

std::optional<CreateFields> Normalised(const events::CreateKeyCommand& c) {
  auto name = events::NormalizeKeyName(c.name);
  if (!name.ok()) return std::nullopt;
  CreateFields f{*name, c.all_models, {}, c.batch_inference, c.vpc_uuid, c.expires_at_micros};
  for (const std::string& m : c.models) {
    if (std::find(f.models.begin(), f.models.end(), m) == f.models.end()) f.models.push_back(m);
  }
  std::transform(f.vpc_uuid.begin(), f.vpc_uuid.end(), f.vpc_uuid.begin(), [](unsigned char ch) { return std::tolower(ch); });
  return f;
}

}  // namespace

bool SameRequest(const events::Command& retry, const IdempotencyRecord& record, const events::KeyState& key) {
  if (const auto* create = std::get_if<events::CreateKeyCommand>(&retry)) {
    auto f = Normalised(*create);
    if (!f) return false;
    CreateFields made{key.name, key.all_models, key.models, key.batch_inference, key.vpc_uuid, key.expires_at_micros};
    if (key.revision > 1) made.name = f->name;  // renamed (or changed) since: the name is not comparable
    return *f == made;
  }
  if (const auto* rename = std::get_if<events::RenameKeyCommand>(&retry)) {
    if (key.revision != record.revision) return true;
    auto name = events::NormalizeKeyName(rename->new_name);
    return name.ok() && *name == key.name;
  }
  return true;
}

bool SameRequest(const events::Command& a, const events::Command& b) {
  if (a.index() != b.index()) return false;
  if (const auto* ca = std::get_if<events::CreateKeyCommand>(&a)) {
    return Normalised(*ca) == Normalised(std::get<events::CreateKeyCommand>(b));
  }
  if (const auto* ra = std::get_if<events::RenameKeyCommand>(&a)) {
    const auto& rb = std::get<events::RenameKeyCommand>(b);
    auto na = events::NormalizeKeyName(ra->new_name), nb = events::NormalizeKeyName(rb.new_name);
    return ra->key_id == rb.key_id && na.ok() && nb.ok() && *na == *nb;
  }
  return events::CommandKeyId(a) == events::CommandKeyId(b);
}

std::string IdempotencyScope(std::string_view team_id, std::string_view user_id, std::string_view idempotency_key) {
  if (idempotency_key.empty()) return "";
  std::string s(team_id);
  s.push_back('\0');
  s += user_id;
  s.push_back('\0');
  s += idempotency_key;
  return s;
}

IdempotencyTable::Lookup IdempotencyTable::Check(const std::string& scope, CommandKind kind,
                                                 const std::string& key_id, std::int64_t now_micros) {
  Lookup out;
  auto it = records_.find(scope);
  if (it == records_.end()) return out;
  if (it->second.at_micros <= now_micros - kIdempotencyWindowMicros) return out;  // ExpireBefore drops it
  out.record = it->second;
  // A create names no key (the writer picks the id); every other command must target the same key.
  bool same = out.record.kind == kind && (kind == CommandKind::kCreate || kind == CommandKind::kImport ||
                                          kind == CommandKind::kSkip || out.record.key_id == key_id);
  out.verdict = same ? Verdict::kReplay : Verdict::kConflict;
  return out;
}

void IdempotencyTable::Remember(const std::string& scope, IdempotencyRecord record) {
  const std::int64_t at = record.at_micros;
  records_[scope] = std::move(record);
  order_.push_back({scope, at});
  while (records_.size() > max_records_ && !order_.empty()) {
    if (Forget(order_.front())) ++evicted_;
    order_.pop_front();
  }
}

bool IdempotencyTable::Forget(const Made& made) {
  auto it = records_.find(made.scope);
  if (it == records_.end() || it->second.at_micros != made.at_micros) return false;
  records_.erase(it);
  return true;
}

size_t IdempotencyTable::ExpireBefore(std::int64_t now_micros) {
  size_t n = 0;
  while (!order_.empty() && order_.front().at_micros <= now_micros - kIdempotencyWindowMicros) {
    if (Forget(order_.front())) ++n;
    order_.pop_front();
  }
  expired_ += n;
  return n;
}

}  // namespace keyledger::writer
