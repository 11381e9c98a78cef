// Audit and point-in-time queries of the caller's team (SPEC section 7): owners only, like the
// team view, since they cover every key of the team.
#include <boost/json.hpp>

#include "errors.h"
#include "handlers.h"
#include "keyledger/api/audit_query.h"
#include "keyledger/api/render.h"
#include "keyledger/common/crypto.h"
#include "keyledger/http/json_body.h"
#include "keyledger/http/problem.h"

namespace keyledger::api::internal {

namespace json = boost::json;

namespace {

std::optional<http::Response> OwnersOnly(const Context& ctx) {
  if (ctx.caller.role == events::Role::kOwner) return std::nullopt;
  return http::ErrorResponse(403, "forbidden", "audit queries are for team owners");
}

ParamLookup FromQuery(const http::Query& query) {
  return [&query](std::string_view name) { return query.Find(name); };
}

// Refuses parameters outside `known`.
std::optional<http::Response> OnlyParams(const Context& ctx, std::initializer_list<std::string_view> known) {
  if (auto problem = ctx.query.OnlyKnown(known)) return problem->ToResponse();
  return std::nullopt;
}

}  // namespace

http::Response AuditEvents(const Context& ctx) {
  if (auto refused = OwnersOnly(ctx)) return *refused;
  if (auto unknown = OnlyParams(ctx, {"key_id", "actor_id", "event_type", "since", "until", "order", "limit", "cursor"})) {
    return *unknown;
  }
  if (ctx.query.Has("cursor") && ctx.query.Get("cursor").empty()) {
    return StatusResponse(common::InvalidArgument("cursor must be 40 hex digits, a next_cursor (omit it for the first page)"));
  }
  auto query = ParseAuditQuery(ctx.caller.team_id, FromQuery(ctx.query));
  if (!query.ok()) return StatusResponse(query.status());
  auto page = ctx.deps.reads->Acquire()->QueryAudit(*query);
  if (!page.ok()) return StatusResponse(page.status());
  return http::JsonResponse(200, AuditPageJson(*page));
}

http::Response AuditExport(const Context& ctx) {
  if (auto refused = OwnersOnly(ctx)) return *refused;
  http::Response r;
  r.content_type = "application/x-ndjson";
  r.headers.emplace_back("Content-Disposition", "attachment; filename=\"keyledger-audit.jsonl\"");
  // Pages of the team's history, oldest first, from one view of the store.
  struct State {
    std::shared_ptr<replay::ReadView> view;
    replay::AuditQuery query;
    bool done = false;
  };
  auto state = std::make_shared<State>();
  state->view = ctx.deps.reads->Acquire();
  state->query.team_id = ctx.caller.team_id;
  state->query.order = replay::AuditOrder::kOldestFirst;
  state->query.limit = 500;
  common::Logger* logger = ctx.deps.logger;
  r.stream = [state, logger](std::string& chunk) {
    if (state->done) return false;
    auto page = state->view->QueryAudit(state->query);
    if (!page.ok()) {
      // Headers are gone already: end the stream with an error line a reader can recognise.
      logger->Error("audit export failed", {{"error", page.status().message()}});
      chunk += json::serialize(json::object{{"error", page.status().message()}});
      chunk += "\n";
      state->done = true;
      return true;
    }
    for (const auto& record : page->records) {
      chunk += json::serialize(AuditRecordJson(record));
      chunk += "\n";
    }
    state->query.cursor = page->next_cursor;
    state->done = page->next_cursor.empty();
    return true;
  };
  return r;
}

http::Response KeyAt(const Context& ctx) {
  if (auto refused = OwnersOnly(ctx)) return *refused;
  if (auto unknown = OnlyParams(ctx, {"at", "offset"})) return *unknown;
  auto as_of = ParseAsOf(FromQuery(ctx.query));
  if (!as_of.ok()) return StatusResponse(as_of.status());
  const std::string& key_id = ctx.params.Get("uuid");
  auto state = ctx.deps.reads->Acquire()->KeyAsOf(ctx.caller.team_id, key_id, *as_of);
  if (!state.ok()) return StatusResponse(state.status());
  if (!*state) return http::ErrorResponse(404, "not_found", "api key " + key_id + " did not exist at that point");
  return http::JsonResponse(200, json::object{{"api_key", KeyStateJson(**state)}});
}

http::Response CallableAt(const Context& ctx) {
  if (auto refused = OwnersOnly(ctx)) return *refused;
  if (auto unknown = OnlyParams(ctx, {"at", "offset", "model", "vpc_uuid"})) return *unknown;
  std::string model = ctx.query.Get("model");
  if (model.empty()) return StatusResponse(common::InvalidArgument("model is required"));
  std::string vpc = ctx.query.Get("vpc_uuid");
  if (ctx.query.Has("vpc_uuid") && !common::IsUuid(vpc)) {
    return StatusResponse(common::InvalidArgument("vpc_uuid must be a UUID"));
  }
  auto as_of = ParseAsOf(FromQuery(ctx.query));
  if (!as_of.ok()) return StatusResponse(as_of.status());
  auto keys = ctx.deps.reads->Acquire()->CallableAsOf(ctx.caller.team_id, model, vpc, *as_of, *ctx.deps.catalog);
  if (!keys.ok()) return StatusResponse(keys.status());
  json::array out;
  for (const auto& k : *keys) out.push_back(KeyStateJson(k));
  return http::JsonResponse(200, json::object{{"api_keys", std::move(out)}});
}

}  // namespace keyledger::api::internal
