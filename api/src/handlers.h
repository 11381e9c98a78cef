// The admin API's handlers and what they share. Private to api/:
//   routes.cc          the route table (method, pattern, options, handler)
//   key_handlers.cc    keys: create, list, get, rename, regenerate, delete, history; commands
//   audit_handlers.cc  audit queries, export, point in time
//   ops_handlers.cc    health, readiness, metrics, the model catalog
//   operator_handlers.cc  operators: skip a bad record, list halts and skips
//   console_handlers.cc   the console's files and sign-in, /v2/gen-ai/me, /v2/vpcs
// Thread: handlers are thread-safe; what they share is immutable or thread-safe.
#pragma once

#include <atomic>
#include <cstdint>

#include <string>

#include "keyledger/api/admin_api.h"
#include "keyledger/events/key_rules.h"
#include "keyledger/http/message.h"
#include "keyledger/http/query.h"
#include "keyledger/http/router.h"
#include "rate_limiter.h"
#include "secret_vault.h"

namespace keyledger::api::internal {

// A list page that skips at least this many view entries runs on a worker (AdminApi::NeedsWorker).
inline constexpr std::int64_t kInlineListSkip = 1000;

struct Deps {
  AdminApiOptions options;
  writer::CommandSink* commands;
  replay::ReadSide* reads;
  const events::Catalog* catalog;
  const JwtVerifier* jwt;
  const common::Clock* clock;
  common::RandomSource* random;
  common::Logger* logger;
  http::RequestMetrics* metrics;
  mutable RateLimiter limiter;
  mutable std::atomic<int> revocation_waiters{0};  // GET .../revocation requests waiting now
  mutable SecretVault vault{};                       // secrets of 504 answers, for their retry
};

// One request on its way through a handler.
struct Context {
  const Deps& deps;
  const http::Request& request;
  const http::PathParams& params;
  const events::Caller& caller;  // empty for public routes
  const http::Query& query;
};

using Handler = http::Response (*)(const Context&);

struct RouteSpec {
  const char* method;
  const char* pattern;
  http::RouteOptions options;
  Handler handler;
};
// Every route of the admin API, in the order they are matched.
const std::vector<RouteSpec>& Routes();

// key_handlers.cc
http::Response CreateKey(const Context& ctx);
http::Response ListKeys(const Context& ctx);
http::Response GetKey(const Context& ctx);
http::Response RenameKey(const Context& ctx);
http::Response RegenerateKey(const Context& ctx);
http::Response DeleteKey(const Context& ctx);
http::Response KeyHistory(const Context& ctx);
http::Response KeyUsage(const Context& ctx);
http::Response KeyRevocation(const Context& ctx);
http::Response EventRevocation(const Context& ctx);
// audit_handlers.cc (owners only)
http::Response AuditEvents(const Context& ctx);
http::Response AuditExport(const Context& ctx);
http::Response KeyAt(const Context& ctx);
http::Response CallableAt(const Context& ctx);
// ops_handlers.cc
http::Response Health(const Context& ctx);
http::Response Readiness(const Context& ctx);
http::Response Metrics(const Context& ctx);
http::Response Models(const Context& ctx);
bool Ready(const Deps& deps, std::string* why);

// console_handlers.cc: the console's files and sign-in (outside the route table), who the caller
// is, the team's VPCs
bool IsConsolePath(const Deps& deps, std::string_view path);
http::Response HandleConsole(const Deps& deps, const http::Request& request);
http::Response Me(const Context& ctx);
http::Response Vpcs(const Context& ctx);
// operator_handlers.cc (operators only)
http::Response PostSkip(const Context& ctx);
http::Response ListHalts(const Context& ctx);
http::Response PostLegacyImport(const Context& ctx);

// The command request for `command`: the caller, and the Idempotency-Key, X-Request-Id (made up
// when absent) and X-Correlation-Id headers, checked. (key_handlers.cc)
common::Result<writer::CommandRequest> NewCommandRequest(const Context& ctx, events::Command command);

// "api key <id> not found".
http::Response KeyNotFound(const std::string& key_id);

}  // namespace keyledger::api::internal
