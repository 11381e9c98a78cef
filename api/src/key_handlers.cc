// Keys: create, list, get, rename, regenerate, delete and a key's history (SPEC section 5), and
// how a command goes to the writer and comes back.
#include <boost/json.hpp>

#include <algorithm>

#include "errors.h"
#include "handlers.h"
#include "keyledger/api/render.h"
#include "keyledger/common/secret.h"
#include "keyledger/common/text.h"
#include "keyledger/http/json_body.h"
#include "keyledger/http/problem.h"
#include "keyledger/writer/idempotency.h"

namespace keyledger::api::internal {

namespace json = boost::json;
using common::Status;

namespace {

constexpr std::string_view kKeysPath = "/v2/gen-ai/models/api_keys";
constexpr std::int64_t kMaxPerPage = 200;
// The first block of a list answer's JSON arena (it grows by itself for longer pages), and the
// stack buffer of one key's answer (a key calling every model of the catalog fits).
constexpr size_t kAnswerArenaBytes = 64 * 1024;
constexpr size_t kKeyArenaBytes = 8 * 1024;
constexpr size_t kMaxUsageScan = 100000;         // keys of a view a usage filter or sort considers
constexpr std::int64_t kMaxHistoryPage = 1000;  // events of a key's history per page
constexpr size_t kMaxModels = 1000;
constexpr size_t kMaxHeaderId = 128;
constexpr size_t kMaxIdempotencyKey = 255;
// Where the secret goes in a serialised body: unique, because no JSON string value can hold an
// unescaped quote.
constexpr std::string_view kSecretSlot = R"("secret_key":"-")";

// A command body: a JSON object of `fields` whose uuid / api_key_uuid, when present, name the
// key in the path.
http::ProblemOr<json::object> ReadBody(const Context& ctx, const http::BodySpec& spec) {
  auto body = http::ParseJsonObject(ctx.request, spec);
  if (!body.ok()) return body;
  const std::string& key_id = ctx.params.Get("uuid");
  for (std::string_view id_field : {"uuid", "api_key_uuid"}) {
    auto id = http::StringField(*body, id_field, false);
    if (!id.ok()) return id.problem();
    if (!id->empty() && *id != key_id) {
      return http::Problem::BadRequest(std::string(id_field) + " does not match the key in the path");
    }
  }
  return body;
}

// The api key object as of now, with its last use (null when usage is not projected here, or
// cannot be read: usage is telemetry, and a key answer never fails for it).
json::object KeyJson(const Deps& deps, const events::KeyState& key, json::storage_ptr storage = {}) {
  std::optional<projector::LastUse> last;
  if (deps.options.usage != nullptr) {
    auto u = deps.options.usage->LastUsed(key.key_id);
    if (u.ok()) {
      last = std::move(*u);
    } else {
      deps.logger->Warn("cannot read a key's last use", {{"key_id", key.key_id}, {"error", u.status().ToString()}});
    }
  }
  return KeyInfoJson(key, *deps.catalog, deps.clock->NowMicros(), last, std::move(storage));
}

// Who may read a key of their team: its owners, its creator, and every member for legacy keys.
bool MayRead(const events::KeyState& key, const events::Caller& caller) {
  return caller.role == events::Role::kOwner || key.legacy || key.creator_id == caller.user_id;
}

// A key the caller may read: visible to them (their team's, not deleted) and MayRead.
Status CheckReadable(const std::optional<projector::KeyRecord>& record, const events::Caller& caller,
                     const std::string& key_id) {
  std::optional<events::KeyState> state;
  if (record) state = record->state;
  KL_RETURN_IF_ERROR(events::CheckVisible(state, caller, key_id));
  if (!MayRead(*state, caller)) return common::PermissionDenied("only team owners may see keys created by other members");
  return Status::Ok();
}

// A readable key of the caller's team (CheckReadable), from `view`.
common::Result<events::KeyState> ReadableKey(const Context& ctx, const replay::ReadView& view) {
  const std::string& key_id = ctx.params.Get("uuid");
  KL_ASSIGN_OR_RETURN(auto record, view.GetKey(key_id));
  KL_RETURN_IF_ERROR(CheckReadable(record, ctx.caller, key_id));
  return record->state;
}

// A key revision as an entity tag: GET answers it in ETag, commands take it in If-Match.
std::string EntityTag(std::uint64_t revision) { return "\"" + std::to_string(revision) + "\""; }

// The revision a rename, regenerate or delete expects, from If-Match (RFC 9110: one strong entity
// tag as GET's ETag gave it, or `*`; absent or `*`: whatever revision the key is at). A key at
// another revision refuses the command with 409 (SPEC: stale revision).
common::Result<std::optional<std::uint64_t>> ExpectedRevision(const Context& ctx) {
  const size_t count = ctx.request.HeaderCount("if-match");
  if (count == 0) return std::optional<std::uint64_t>{};
  if (count > 1) return common::InvalidArgument("If-Match is repeated; send it once");
  std::string_view v = ctx.request.Header("if-match");
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  if (v == "*") return std::optional<std::uint64_t>{};
  if (v.size() >= 3 && v.size() <= 22 && v.front() == '"' && v.back() == '"' && v[1] >= '1' && v[1] <= '9') {
    auto revision = common::ParseInt64(v.substr(1, v.size() - 2), 1, INT64_MAX);
    if (revision) return std::optional<std::uint64_t>(static_cast<std::uint64_t>(*revision));
  }
  return common::InvalidArgument(
      "If-Match must be one entity tag as ETag gave it, such as \"3\", or *; weak tags (W/) and lists are refused");
}

}  // namespace

common::Result<writer::CommandRequest> NewCommandRequest(const Context& ctx, events::Command command) {
  std::string idempotency_key(ctx.request.Header("idempotency-key"));
  if (idempotency_key.size() > kMaxIdempotencyKey) {
    return common::InvalidArgument("Idempotency-Key is longer than 255 characters");
  }
  if (idempotency_key.empty() && ctx.request.HasHeader("idempotency-key")) {
    return common::InvalidArgument("Idempotency-Key is empty; omit it or send 1 to 255 characters");
  }
  std::string request_id(ctx.request.Header("x-request-id"));
  if (request_id.size() > kMaxHeaderId) return common::InvalidArgument("X-Request-Id is longer than 128 characters");
  if (request_id.empty()) {
    KL_ASSIGN_OR_RETURN(request_id, common::NewUuidV4(*ctx.deps.random));
  }
  std::string correlation_id(ctx.request.Header("x-correlation-id"));
  if (correlation_id.size() > kMaxHeaderId) {
    return common::InvalidArgument("X-Correlation-Id is longer than 128 characters");
  }
  return writer::CommandRequest{ctx.caller, std::move(command), request_id, idempotency_key, correlation_id};
}

namespace {

// A fresh secret's hash and hint, with the secret itself (shown once).
struct NewSecret {
  NewSecret(std::string s, const common::SecretHash& h, std::string hi) : secret(std::move(s)), hash(h), hint(std::move(hi)) {}
  NewSecret(NewSecret&&) = default;
  NewSecret& operator=(NewSecret&&) = default;
  ~NewSecret() { common::Wipe(secret); }
  std::string secret;
  common::SecretHash hash;
  std::string hint;
};
common::Result<NewSecret> GenerateNewSecret(common::RandomSource& random) {
  KL_ASSIGN_OR_RETURN(std::string secret, common::GenerateSecret(random));
  const common::SecretHash hash = common::HashSecret(secret);
  std::string hint = common::SecretHint(secret);
  NewSecret s(std::move(secret), hash, std::move(hint));
  return s;
}

// Sends a command to the writer and answers with the key after it (and its secret, once).
// With a new secret (create, regenerate), an answer whose outcome is unknown (504) leaves the
// secret in the vault (secret_vault.h) for a retry with the same Idempotency-Key, which shows it
// if the command landed.
http::Response RunCommand(const Context& ctx, events::Command command, int success_status, const NewSecret* secret) {
  const Deps& deps = ctx.deps;
  Status allowed = deps.limiter.Allow(ctx.caller.team_id + "/" + ctx.caller.user_id);
  if (!allowed.ok()) {
    http::Response r = StatusResponse(allowed);
    r.headers.emplace_back("Retry-After", "1");
    return r;
  }
  auto request = NewCommandRequest(ctx, std::move(command));
  if (!request.ok()) return StatusResponse(request.status());
  const std::string request_id = request->request_id;
  const std::string scope =
      writer::IdempotencyScope(request->caller.team_id, request->caller.user_id, request->idempotency_key);
  const std::int64_t now = deps.clock->NowMicros();
  auto outcome = deps.commands->Submit(std::move(*request));
  if (!outcome.ok()) {
    if (secret == nullptr || outcome.status().code() != common::StatusCode::kDeadlineExceeded) {
      return StatusResponse(outcome.status());
    }
    if (scope.empty()) {
      return StatusResponse(common::DeadlineExceeded(
          outcome.status().message() +
          ". This request had no Idempotency-Key, so if it was written its secret cannot be shown again: look "
          "for the key in the list and regenerate it"));
    }
    deps.vault.Hold(scope, secret->hash, secret->secret, now);
    return StatusResponse(common::DeadlineExceeded(
        outcome.status().message() + ". If it was written, that retry also shows the new secret (held " +
        std::to_string(SecretVault::kHoldMicros / 60000000) + " minutes, in memory only)"));
  }
  // The secret this answer shows: the request's own, or, for a retry of one whose first answer
  // was 504, the secret of the attempt that landed.
  const std::string* shown = nullptr;
  SecretVault::Taken redelivered;
  if (secret != nullptr && !outcome->replayed) {
    shown = &secret->secret;
    if (!scope.empty()) deps.vault.Forget(scope, now);  // an earlier attempt did not land
  } else if (secret != nullptr && !scope.empty()) {
    redelivered = deps.vault.Take(scope, outcome->key_after.secret_sha256, now);
    if (!redelivered.secret.empty()) shown = &redelivered.secret;
  }
  struct WipeOnExit {
    std::string& s;
    ~WipeOnExit() { common::Wipe(s); }
  } wipe_redelivered{redelivered.secret};
  if (!outcome->replayed && outcome->offset >= 0) {
    // Read-your-writes: a GET right after this response must see the change.
    Status applied = deps.reads->Acquire()->WaitForOffset(outcome->partition, outcome->offset, deps.options.command_wait_ms);
    if (!applied.ok()) deps.logger->Warn("read model lags behind a command", {{"error", applied.message()}});
  }
  json::object info = KeyJson(deps, outcome->key_after);
  json::object body;
  if (outcome->replayed) {
    body["idempotent_replay"] = true;
    if (shown != nullptr) {
      body["message"] = "this request was carried out although its first answer said the outcome was unknown; this "
                        "is its secret, shown this once";
    } else if (redelivered.lapsed) {
      body["message"] = "this request was carried out, but its secret was never shown and is no longer held: "
                        "regenerate the key to get one";
    } else if (secret != nullptr) {
      body["message"] = "this request was already carried out; its secret was shown once, in the original response";
    }
  }
  if (shown != nullptr) {
    // A placeholder, replaced in the serialised body: the secret is never copied into a JSON
    // value (freed unwiped), only into the body, which the server wipes once written.
    info["secret_key"] = "-";
  }
  body["api_key_info"] = std::move(info);
  if (outcome->event.revokes_secret() && deps.options.replicas != nullptr && outcome->offset >= 0) {
    // Which validators already deny the old secret; GET .../revocation?wait= follows it to N of N.
    body["revocation"] = ReceiptJson(deps.options.replicas->ReceiptFor(outcome->partition, outcome->offset,
                                                                      outcome->event.occurred_at_micros / 1000));
  }
  http::Response r = http::JsonResponse(success_status, body);
  if (shown != nullptr) {
    size_t at = r.body.find(kSecretSlot);
    if (at == std::string::npos) return StatusResponse(common::Internal("the response lost the secret's slot"));
    const size_t value = at + kSecretSlot.size() - 2;  // the '-' between the quotes
    r.body.replace(value, 1, *shown);  // a secret's alphabet needs no JSON escaping
    r.sensitive = true;
  }
  r.headers.emplace_back("X-Request-Id", request_id);
  if (!outcome->key_after.deleted) r.headers.emplace_back("ETag", EntityTag(outcome->key_after.revision));
  return r;
}

}  // namespace

http::Response KeyNotFound(const std::string& key_id) {
  return http::ErrorResponse(404, "not_found", "api key " + key_id + " not found");
}

http::Response CreateKey(const Context& ctx) {
  auto body = ReadBody(ctx, {true, {"name", "all_models", "models", "batch_inference", "vpc_uuid", "expires_at"}});
  if (!body.ok()) return body.problem().ToResponse();
  events::CreateKeyCommand cmd;
  auto name = http::StringField(*body, "name", true);
  if (!name.ok()) return name.problem().ToResponse();
  cmd.name = *name;
  auto all = http::BoolField(*body, "all_models", false);
  if (!all.ok()) return all.problem().ToResponse();
  cmd.all_models = *all;
  if (const json::value* models = body->if_contains("models"); models && !models->is_null()) {
    if (!models->is_array()) return StatusResponse(common::InvalidArgument("models must be an array of model ids"));
    if (models->as_array().size() > kMaxModels) {
      return StatusResponse(common::InvalidArgument("models lists more than 1000 ids"));
    }
    for (const auto& m : models->as_array()) {
      if (!m.is_string()) return StatusResponse(common::InvalidArgument("models must be an array of model ids (strings)"));
      cmd.models.emplace_back(m.as_string());
    }
  }
  auto batch = http::BoolField(*body, "batch_inference", false);
  if (!batch.ok()) return batch.problem().ToResponse();
  cmd.batch_inference = *batch;
  auto vpc = http::StringField(*body, "vpc_uuid", false);
  if (!vpc.ok()) return vpc.problem().ToResponse();
  cmd.vpc_uuid = *vpc;
  if (!cmd.vpc_uuid.empty() && !common::IsUuid(cmd.vpc_uuid)) {
    return StatusResponse(common::InvalidArgument("vpc_uuid must be a VPC UUID or null"));
  }
  auto expires = http::StringField(*body, "expires_at", false);
  if (!expires.ok()) return expires.problem().ToResponse();
  if (!expires->empty()) {
    auto at = common::ParseRfc3339(*expires);
    if (!at.ok()) {
      return StatusResponse(common::InvalidArgument("expires_at must be an RFC 3339 date-time, such as 2027-01-31T00:00:00Z"));
    }
    const std::int64_t now = ctx.deps.clock->NowMicros();
    if (*at <= now) return StatusResponse(common::InvalidArgument("expires_at must be in the future"));
    const std::int64_t max_seconds = ctx.deps.options.max_key_lifetime_seconds;
    if (max_seconds > 0 && *at - now > max_seconds * 1000000) {
      return StatusResponse(common::InvalidArgument("expires_at is further ahead than this platform allows (at most " +
                                                    std::to_string(max_seconds / 86400) + " days, " +
                                                    std::to_string(max_seconds) + " s)"));
    }
    cmd.expires_at_micros = *at;
  } else if (ctx.deps.options.max_key_lifetime_seconds > 0) {
    // With a lifetime limit, no key lives longer: without expires_at it gets the limit.
    cmd.expires_at_micros = ctx.deps.clock->NowMicros() + ctx.deps.options.max_key_lifetime_seconds * 1000000;
  }
  auto secret = GenerateNewSecret(*ctx.deps.random);
  if (!secret.ok()) return StatusResponse(secret.status());
  cmd.secret_sha256 = secret->hash;
  cmd.secret_hint = secret->hint;
  return RunCommand(ctx, std::move(cmd), 201, &*secret);
}

http::Response ListKeys(const Context& ctx) {
  auto view = events::ParseView(ctx.query.Get("view", "mine"));
  if (!view.ok()) return StatusResponse(view.status());
  auto page = ctx.query.Int("page", 1, 1000000, 1);
  if (!page.ok()) return page.problem().ToResponse();
  auto per_page = ctx.query.Int("per_page", 1, kMaxPerPage, 20);
  if (!per_page.ok()) return per_page.problem().ToResponse();
  const std::string sort = ctx.query.Get("sort", "created_at");
  if (sort != "created_at" && sort != "last_used_at") {
    return StatusResponse(common::InvalidArgument("sort must be created_at or last_used_at"));
  }
  std::optional<std::int64_t> unused_for_days;
  if (ctx.query.Has("unused_for_days")) {
    auto days = ctx.query.Int("unused_for_days", 1, 3650, 1);
    if (!days.ok()) return days.problem().ToResponse();
    unused_for_days = *days;
  }
  const bool by_usage = sort == "last_used_at" || unused_for_days.has_value();
  // The answer's JSON is built in one monotonic resource, freed at once when it is sent: a page
  // of keys is a few thousand small strings and objects, which malloc and free one by one had
  // made the larger part of a page's cost.
  json::monotonic_resource arena(kAnswerArenaBytes);
  const json::storage_ptr sp(&arena);
  json::array infos(sp);
  std::int64_t total = 0;
  if (!by_usage) {
    auto result = ctx.deps.reads->Acquire()->ListView(ctx.caller, *view, static_cast<size_t>(*page),
                                                      static_cast<size_t>(*per_page));
    if (!result.ok()) return StatusResponse(result.status());
    infos.reserve(result->keys.size());
    for (const auto& k : result->keys) infos.emplace_back(KeyJson(ctx.deps, k, sp));
    total = static_cast<std::int64_t>(result->total);
  } else {
    // The stale-key report: the whole view (at most kMaxUsageScan keys), each key's last use,
    // filtered and ordered, then the page.
    if (ctx.deps.options.usage == nullptr) {
      return StatusResponse(common::Unavailable("key usage is not projected on this server"));
    }
    auto all = ctx.deps.reads->Acquire()->ListView(ctx.caller, *view, 1, kMaxUsageScan);
    if (!all.ok()) return StatusResponse(all.status());
    if (all->total > kMaxUsageScan) {
      return StatusResponse(common::InvalidArgument("the view has more than 100000 keys: too many to sort by use"));
    }
    const std::int64_t now = ctx.deps.clock->NowMicros();
    struct Row {
      const events::KeyState* key;
      std::optional<projector::LastUse> last;
    };
    std::vector<Row> rows;
    for (const auto& k : all->keys) {
      auto last = ctx.deps.options.usage->LastUsed(k.key_id);
      if (!last.ok()) return StatusResponse(last.status());
      if (unused_for_days && *last && (*last)->minute * 60'000000 > now - *unused_for_days * 86400'000000) continue;
      rows.push_back({&k, std::move(*last)});
    }
    if (sort == "last_used_at") {
      // Least recently used first; never used before all (newest first among them, as the view).
      std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
        const std::int64_t ma = a.last ? a.last->minute : -1, mb = b.last ? b.last->minute : -1;
        return ma < mb;
      });
    }
    total = static_cast<std::int64_t>(rows.size());
    const size_t from = static_cast<size_t>(*page - 1) * static_cast<size_t>(*per_page);
    for (size_t i = from; i < rows.size() && i < from + static_cast<size_t>(*per_page); ++i) {
      infos.emplace_back(KeyInfoJson(*rows[i].key, *ctx.deps.catalog, now, rows[i].last, sp));
    }
  }
  const std::int64_t last = std::max<std::int64_t>(1, (total + *per_page - 1) / *per_page);
  auto link = [&](std::int64_t p) {
    std::string href = std::string(kKeysPath) + "?view=" + std::string(events::ViewName(*view));
    if (unused_for_days) href += "&unused_for_days=" + std::to_string(*unused_for_days);
    if (sort != "created_at") href += "&sort=" + sort;
    return href + "&page=" + std::to_string(p) + "&per_page=" + std::to_string(*per_page);
  };
  json::object pages;
  pages["first"] = link(1);
  if (*page > 1) pages["prev"] = link(std::min(*page - 1, last));
  if (*page < last) pages["next"] = link(*page + 1);
  pages["last"] = link(last);
  json::object answer(3, sp);
  answer.emplace("api_key_infos", std::move(infos));
  answer.emplace("links", json::object{{"pages", std::move(pages)}});
  answer.emplace("meta", json::object{{"total", total}, {"page", *page}, {"pages", last}, {"per_page", *per_page}});
  return http::JsonResponse(200, json::value(std::move(answer)));
}

http::Response GetKey(const Context& ctx) {
  auto view = ctx.deps.reads->Acquire();
  auto key = ReadableKey(ctx, *view);
  if (!key.ok()) return StatusResponse(key.status());
  unsigned char buffer[kKeyArenaBytes];
  json::monotonic_resource arena(buffer, sizeof buffer);
  const json::storage_ptr sp(&arena);
  json::object answer(1, sp);
  answer.emplace("api_key_info", KeyJson(ctx.deps, *key, sp));
  http::Response r = http::JsonResponse(200, json::value(std::move(answer)));
  r.headers.emplace_back("ETag", EntityTag(key->revision));
  return r;
}

http::Response RenameKey(const Context& ctx) {
  static constexpr std::string_view kFixed[] = {"all_models", "models", "batch_inference", "vpc_uuid", "legacy"};
  auto body = ReadBody(ctx, {true, {"name", "uuid", "api_key_uuid", "all_models", "models", "batch_inference", "vpc_uuid", "legacy"}});
  if (!body.ok()) return body.problem().ToResponse();
  for (std::string_view fixed : kFixed) {
    if (body->contains(fixed)) {
      return StatusResponse(common::InvalidArgument(std::string(fixed) +
                                                    " cannot be changed: a key's model scope and VPC are fixed at creation"));
    }
  }
  auto name = http::StringField(*body, "name", true);
  if (!name.ok()) return name.problem().ToResponse();
  auto expected = ExpectedRevision(ctx);
  if (!expected.ok()) return StatusResponse(expected.status());
  return RunCommand(ctx, events::RenameKeyCommand{ctx.params.Get("uuid"), *name, *expected}, 200, nullptr);
}

http::Response RegenerateKey(const Context& ctx) {
  auto body = ReadBody(ctx, {true, {"confirm_name", "uuid", "api_key_uuid"}});
  if (!body.ok()) return body.problem().ToResponse();
  auto confirm = http::StringField(*body, "confirm_name", true);
  if (!confirm.ok()) return confirm.problem().ToResponse();
  auto expected = ExpectedRevision(ctx);
  if (!expected.ok()) return StatusResponse(expected.status());
  auto secret = GenerateNewSecret(*ctx.deps.random);
  if (!secret.ok()) return StatusResponse(secret.status());
  events::RegenerateKeyCommand cmd{ctx.params.Get("uuid"), *confirm, *expected, secret->hash, secret->hint};
  return RunCommand(ctx, std::move(cmd), 200, &*secret);
}

http::Response DeleteKey(const Context& ctx) {
  auto body = ReadBody(ctx, {false, {"confirm_name", "uuid", "api_key_uuid"}});
  if (!body.ok()) return body.problem().ToResponse();
  auto confirm = http::StringField(*body, "confirm_name", false);
  if (!confirm.ok()) return confirm.problem().ToResponse();
  std::string name = confirm->empty() ? ctx.query.Get("confirm_name") : *confirm;
  if (name.empty()) {
    return StatusResponse(
        common::InvalidArgument("confirm_name is required: send the key's current name in the body or the query"));
  }
  auto expected = ExpectedRevision(ctx);
  if (!expected.ok()) return StatusResponse(expected.status());
  return RunCommand(ctx, events::DeleteKeyCommand{ctx.params.Get("uuid"), name, *expected}, 200, nullptr);
}

http::Response KeyUsage(const Context& ctx) {
  auto days = ctx.query.Int("days", 1, 30, 30);
  if (!days.ok()) return days.problem().ToResponse();
  {
    auto view = ctx.deps.reads->Acquire();
    auto key = ReadableKey(ctx, *view);
    if (!key.ok()) return StatusResponse(key.status());
  }
  if (ctx.deps.options.usage == nullptr) {
    return StatusResponse(common::Unavailable("key usage is not projected on this server"));
  }
  const std::string& key_id = ctx.params.Get("uuid");
  auto last = ctx.deps.options.usage->LastUsed(key_id);
  if (!last.ok()) return StatusResponse(last.status());
  const std::int64_t today = ctx.deps.clock->NowMicros() / 86400'000000;
  const std::int64_t first = today - *days + 1;
  auto counts = ctx.deps.options.usage->Days(key_id, first, today);
  if (!counts.ok()) return StatusResponse(counts.status());
  return http::JsonResponse(200, UsageJson(key_id, *last, *counts, first, today));
}

http::Response KeyHistory(const Context& ctx) {
  auto view = ctx.deps.reads->Acquire();
  // Like the key itself, its history answers 404 once the key is deleted; the events stay in the
  // log and in the audit indexes for audit queries.
  auto key = ReadableKey(ctx, *view);
  if (!key.ok()) return StatusResponse(key.status());
  // Cursor-paginated, oldest first: the cursor is the revision the next page starts at.
  auto limit = ctx.query.Int("limit", 1, kMaxHistoryPage, 100);
  if (!limit.ok()) return limit.problem().ToResponse();
  std::uint64_t from = 1;
  if (ctx.query.Has("cursor")) {
    auto cursor = common::ParseInt64(ctx.query.Get("cursor"), 1, INT64_MAX);
    if (!cursor) return StatusResponse(common::InvalidArgument("cursor must be a next_cursor of this key's history"));
    from = static_cast<std::uint64_t>(*cursor);
  }
  auto history = view->KeyHistory(key->key_id, from, static_cast<size_t>(*limit) + 1, false);
  if (!history.ok()) return StatusResponse(history.status());
  json::array out;
  json::value next = nullptr;
  for (const auto& entry : *history) {
    if (out.size() == static_cast<size_t>(*limit)) {
      next = json::value(std::to_string(entry.event.key_revision));
      break;
    }
    out.push_back(HistoryEntryJson(entry.event));
  }
  return http::JsonResponse(200, json::object{{"events", std::move(out)}, {"next_cursor", std::move(next)}});
}

namespace {

constexpr std::int64_t kMaxWaitSeconds = 30;

// ?wait=N (0 to 30 s).
common::Result<std::int64_t> WaitSeconds(const Context& ctx) {
  std::string wait = ctx.query.Get("wait");
  if (wait.empty()) return std::int64_t{0};
  auto parsed = common::ParseInt64(wait, 0, kMaxWaitSeconds);
  if (!parsed) return common::InvalidArgument("wait must be a whole number of seconds from 0 to 30");
  return *parsed;
}

// The receipt of the revoking `event` at `where`, after waiting up to `wait_s` for it to be
// complete (at most max_revocation_waiters requests wait at once; the others answer at once).
http::Response AnswerReceipt(const Context& ctx, const events::Event& event, projector::EventLocator where,
                             std::int64_t wait_s) {
  validator::ReplicaBoard& board = *ctx.deps.options.replicas;
  const std::int64_t event_ms = event.occurred_at_micros / 1000;
  bool skipped = false;
  validator::Receipt receipt = board.ReceiptFor(where.partition, where.offset, event_ms);
  if (wait_s > 0 && !receipt.complete()) {
    if (ctx.deps.revocation_waiters.fetch_add(1) < ctx.deps.options.max_revocation_waiters) {
      receipt = board.WaitForReceipt(where.partition, where.offset, event_ms, static_cast<int>(wait_s * 1000));
    } else {
      skipped = true;
    }
    ctx.deps.revocation_waiters.fetch_sub(1);
  }
  http::Response response =
      http::JsonResponse(200, json::object{{"api_key_uuid", event.key_id},
                                           {"event_type", std::string(events::EventTypeName(event.type()))},
                                           {"occurred_at", common::FormatRfc3339(event.occurred_at_micros)},
                                           {"revocation", ReceiptJson(receipt)}});
  if (skipped) response.headers.emplace_back("X-Keyledger-Wait", "skipped");
  return response;
}

http::Response NoReplicaBoard() {
  return http::ErrorResponse(404, "not_found", "this server has no view of the validators (no replica status topic)");
}

}  // namespace

http::Response KeyRevocation(const Context& ctx) {
  if (ctx.deps.options.replicas == nullptr) return NoReplicaBoard();
  auto wait_s = WaitSeconds(ctx);
  if (!wait_s.ok()) return StatusResponse(wait_s.status());
  // The key's last regenerate; like the key itself this answers 404 once the key is deleted (the
  // delete's receipt is at /v2/gen-ai/revocations/{partition}/{offset}, which its answer gives).
  auto view = ctx.deps.reads->Acquire();
  auto key = ReadableKey(ctx, *view);
  if (!key.ok()) return StatusResponse(key.status());
  // Newest first, a page at a time, until the last regenerate (a key renamed many times since is
  // the only long walk).
  std::optional<projector::ReadModel::HistoryEntry> last;
  for (std::uint64_t from = UINT64_MAX; !last && from > 0;) {
    auto page = view->KeyHistory(key->key_id, from, 100, true);
    if (!page.ok()) return StatusResponse(page.status());
    for (auto& entry : *page) {
      if (entry.event.revokes_secret()) {
        last = std::move(entry);
        break;
      }
    }
    if (page->size() < 100) break;
    from = page->back().event.key_revision - 1;
  }
  if (!last) {
    return http::ErrorResponse(404, "not_found", "api key " + key->key_id + " was never regenerated");
  }
  const events::Event event = last->event;
  const projector::EventLocator where = last->locator;
  view.reset();  // a long poll holds no read-model generation
  return AnswerReceipt(ctx, event, where, *wait_s);
}

http::Response EventRevocation(const Context& ctx) {
  if (ctx.deps.options.replicas == nullptr) return NoReplicaBoard();
  auto partition = common::ParseInt64(ctx.params.Get("partition"), 0, INT32_MAX);
  if (!partition) return StatusResponse(common::InvalidArgument("partition must be a whole number from 0"));
  auto offset = common::ParseInt64(ctx.params.Get("offset"), 0, INT64_MAX);
  if (!offset) return StatusResponse(common::InvalidArgument("offset must be a whole number from 0"));
  auto wait_s = WaitSeconds(ctx);
  if (!wait_s.ok()) return StatusResponse(wait_s.status());
  const projector::EventLocator where{static_cast<std::int32_t>(*partition), *offset};
  auto view = ctx.deps.reads->Acquire();
  auto found = view->FindEvent(where);
  if (!found.ok()) return StatusResponse(found.status());
  // Another team's event, or one that revoked nothing, is as absent as no event at all.
  const std::string what = "no regenerate or delete of your team at partition " + std::to_string(*partition) +
                           " offset " + std::to_string(*offset);
  if (!*found || (*found)->team_id != ctx.caller.team_id || !(*found)->revokes_secret()) {
    return http::ErrorResponse(404, "not_found", what);
  }
  const events::Event event = std::move(**found);
  // Who may see it: as for the key (owners, its creator, every member for legacy keys), judged by
  // the key as of this event, since a deleted key is gone from the views.
  if (ctx.caller.role != events::Role::kOwner) {
    auto state = view->KeyAsOf(event.team_id, event.key_id, replay::AsOf{std::nullopt, where.offset});
    if (!state.ok()) return StatusResponse(state.status());
    if (!*state || !MayRead(**state, ctx.caller)) {
      return StatusResponse(common::PermissionDenied("only team owners may see keys created by other members"));
    }
  }
  view.reset();  // a long poll holds no read-model generation
  return AnswerReceipt(ctx, event, where, *wait_s);
}

}  // namespace keyledger::api::internal
