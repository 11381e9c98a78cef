#include "keyledger/api/render.h"

#include "keyledger/common/clock.h"

namespace keyledger::api {

namespace json = boost::json;

namespace {

json::value VpcValue(const std::string& vpc, const json::storage_ptr& sp = {}) {
  return vpc.empty() ? json::value(nullptr, sp) : json::value(vpc, sp);
}

json::object ActorJson(const events::Actor& actor) {
  return json::object{{"id", actor.user_id}, {"name", actor.display_name}, {"role", std::string(events::RoleName(actor.role))}};
}

// The fields every key shape has, with `models` given; allocated from `models`' storage.
json::object KeyFields(const events::KeyState& k, json::array models) {
  const json::storage_ptr sp = models.storage();
  json::object o(16, sp);
  o.emplace("uuid", k.key_id);
  o.emplace("name", k.name);
  o.emplace("created_at", common::FormatRfc3339(k.created_at_micros));
  o.emplace("created_by", k.creator_id);
  o.emplace("creator_name", k.creator_name);
  o.emplace("all_models", k.all_models);
  o.emplace("models", std::move(models));
  o.emplace("batch_inference", k.batch_inference);
  o.emplace("vpc_uuid", VpcValue(k.vpc_uuid, sp));
  o.emplace("legacy", k.legacy);
  o.emplace("secret_hint", k.secret_hint);
  o.emplace("revision", k.revision);
  if (k.expires_at_micros == 0) {
    o.emplace("expires_at", nullptr);
  } else {
    o.emplace("expires_at", common::FormatRfc3339(k.expires_at_micros));
  }
  return o;
}

json::value MinuteValue(const std::optional<projector::LastUse>& u, const json::storage_ptr& sp = {}) {
  return u ? json::value(common::FormatRfc3339(u->minute * 60'000000), sp) : json::value(nullptr, sp);
}

json::array ModelIds(const std::vector<std::string>& ids) {
  json::array out;
  for (const auto& m : ids) out.emplace_back(m);
  return out;
}

}  // namespace

json::object KeyInfoJson(const events::KeyState& k, const events::Catalog& catalog, std::int64_t now_micros,
                         const std::optional<projector::LastUse>& last_use, json::storage_ptr storage) {
  const std::vector<std::string> callable = events::CallableModels(k, catalog);
  json::array models(storage);
  models.reserve(callable.size() + (k.batch_inference ? 1 : 0));
  auto model = [&](std::string_view id, std::string_view name, std::string_view owned_by) {
    json::object m(3, storage);
    m.emplace("id", id);
    m.emplace("name", name);
    m.emplace("owned_by", owned_by);
    models.emplace_back(std::move(m));
  };
  for (const std::string& id : callable) {
    if (const events::Model* m = catalog.FindModel(id)) model(m->id, m->name, m->owned_by);
  }
  if (k.batch_inference) model("batch-inference", "Batch Inference", "platform");
  json::object o = KeyFields(k, std::move(models));
  o.emplace("expired", events::KeyExpired(k, now_micros));
  o.emplace("last_used_at", MinuteValue(last_use, storage));
  return o;
}

json::object UsageJson(const std::string& key_id, const std::optional<projector::LastUse>& last_use,
                       const std::vector<projector::DayUsage>& days, std::int64_t first_day, std::int64_t last_day) {
  json::array out;
  size_t next = 0;
  for (std::int64_t day = first_day; day <= last_day; ++day) {
    while (next < days.size() && days[next].day < day) ++next;
    std::uint64_t allowed = 0, denied = 0;
    if (next < days.size() && days[next].day == day) {
      allowed = days[next].allowed;
      denied = days[next].denied;
    }
    out.push_back(json::object{
        {"date", common::FormatRfc3339(day * 86400'000000).substr(0, 10)}, {"allowed", allowed}, {"denied", denied}});
  }
  json::object usage;
  usage["api_key_uuid"] = key_id;
  usage["last_used_at"] = MinuteValue(last_use);
  usage["last_used_model"] = last_use && !last_use->model.empty() ? json::value(last_use->model) : json::value(nullptr);
  usage["last_used_source_vpc"] =
      last_use && !last_use->source_vpc.empty() ? json::value(last_use->source_vpc) : json::value(nullptr);
  usage["days"] = std::move(out);
  return json::object{{"usage", std::move(usage)}};
}

json::object KeyStateJson(const events::KeyState& k) {
  json::object o = KeyFields(k, ModelIds(k.models));
  o["deleted"] = k.deleted;
  return o;
}

json::object HistoryEntryJson(const events::Event& e) {
  json::object item;
  item["event_id"] = e.event_id;
  item["event_type"] = std::string(events::EventTypeName(e.type()));
  item["revision"] = e.key_revision;
  item["occurred_at"] = common::FormatRfc3339(e.occurred_at_micros);
  item["actor"] = ActorJson(e.actor);
  item["request_id"] = e.request_id;
  item["correlation_id"] = e.correlation_id;
  json::object changes;
  std::visit(
      [&changes](const auto& p) {
        using P = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<P, events::KeyCreated>) {
          changes["name"] = p.name;
          changes["all_models"] = p.all_models;
          changes["models"] = ModelIds(p.models);
          changes["batch_inference"] = p.batch_inference;
          changes["vpc_uuid"] = VpcValue(p.vpc_uuid);
          changes["legacy"] = p.legacy;
          changes["secret_hint"] = p.secret_hint;
          if (p.expires_at_micros != 0) changes["expires_at"] = common::FormatRfc3339(p.expires_at_micros);
        } else if constexpr (std::is_same_v<P, events::KeyRenamed>) {
          changes["old_name"] = p.old_name;
          changes["new_name"] = p.new_name;
        } else if constexpr (std::is_same_v<P, events::KeyRegenerated>) {
          changes["secret_hint"] = p.secret_hint;
        } else if constexpr (std::is_same_v<P, events::KeyDeleted>) {
          changes["name"] = p.name;
        } else {
          static_assert(std::is_same_v<P, events::RecordSkipped>);
          changes["partition"] = p.partition;
          changes["offset"] = p.offset;
          changes["record_sha256"] = common::HexEncode(p.record_sha256);
          changes["note"] = p.note;
        }
      },
      e.payload);
  item["changes"] = std::move(changes);
  return item;
}

json::object AuditRecordJson(const replay::AuditRecord& r) {
  const events::Event& e = r.event;
  json::object o;
  o["event_id"] = e.event_id;
  o["event_type"] = std::string(events::EventTypeName(e.type()));
  o["occurred_at"] = common::FormatRfc3339(e.occurred_at_micros);
  o["team_id"] = e.team_id;
  o["key_id"] = e.key_id;
  o["revision"] = e.key_revision;
  o["actor"] = ActorJson(e.actor);
  o["request_id"] = e.request_id;
  o["correlation_id"] = e.correlation_id;
  o["partition"] = r.partition;
  o["offset"] = r.offset;
  o["before"] = r.before ? json::value(KeyStateJson(*r.before)) : json::value(nullptr);
  o["after"] = KeyStateJson(r.after);
  return o;
}

json::object AuditPageJson(const replay::AuditPage& page) {
  json::array records;
  for (const auto& r : page.records) records.push_back(AuditRecordJson(r));
  return json::object{{"audit_events", std::move(records)},
                      {"next_cursor", page.next_cursor.empty() ? json::value(nullptr) : json::value(page.next_cursor)}};
}

json::object CatalogJson(const events::Catalog& catalog) {
  json::array data;
  for (const auto& m : catalog.models()) {
    data.push_back(json::object{{"id", m.id},
                                {"object", "model"},
                                {"created", m.created},
                                {"owned_by", m.owned_by},
                                {"name", m.name},
                                {"batch_capable", m.batch_capable}});
  }
  return json::object{{"object", "list"}, {"data", std::move(data)}};
}

json::object ReceiptJson(const validator::Receipt& receipt) {
  json::array validators;
  for (const auto& r : receipt.replicas) {
    json::object v{{"replica_id", r.replica_id},
                   {"state", std::string(validator::ReceiptStateName(r.state))},
                   {"applied_offset", r.applied},
                   {"heard_ms_ago", r.heard_ms_ago}};
    if (r.took_ms) v["took_ms"] = *r.took_ms;
    validators.push_back(std::move(v));
  }
  const auto total = static_cast<std::int64_t>(receipt.replicas.size());
  const auto applied = static_cast<std::int64_t>(receipt.applied());
  return json::object{{"partition", receipt.partition},
                      {"offset", receipt.offset},
                      {"href", "/v2/gen-ai/revocations/" + std::to_string(receipt.partition) + "/" +
                                   std::to_string(receipt.offset)},
                      {"validators_total", total},
                      {"validators_applied", applied},
                      {"complete", receipt.complete()},
                      {"summary", "old secret denied on " + std::to_string(applied) + " of " + std::to_string(total) +
                                      " validators"},
                      {"validators", std::move(validators)}};
}

}  // namespace keyledger::api
