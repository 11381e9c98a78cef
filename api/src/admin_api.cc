// The admin API's front: match the route, authenticate, dispatch to the handler, count the
// request. The handlers are in key_handlers.cc, audit_handlers.cc and ops_handlers.cc.
#include "keyledger/api/admin_api.h"

#include "errors.h"
#include "handlers.h"
#include "keyledger/common/text.h"
#include "keyledger/http/problem.h"

namespace keyledger::api {

namespace {

// The value of the session cookie among the request's Cookie headers ("" if none).
std::string SessionCookieOf(const http::Request& request) {
  const std::string_view name = kSessionCookie;
  for (const auto& [k, v] : request.headers) {
    if (!http::HeaderNameEquals(k, "cookie")) continue;
    std::string_view rest = v;
    while (!rest.empty()) {
      size_t end = rest.find(';');
      std::string_view pair = common::TrimSpaces(rest.substr(0, end));
      rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
      if (pair.size() > name.size() && pair.substr(0, name.size()) == name && pair[name.size()] == '=') {
        return std::string(pair.substr(name.size() + 1));
      }
    }
  }
  return "";
}

}  // namespace

struct AdminApi::Impl {
  internal::Deps deps;
  http::Router router;
  std::vector<internal::Handler> handlers;  // by route index
};

AdminApi::AdminApi(AdminApiOptions options, writer::CommandSink* commands, replay::ReadSide* reads,
                   const events::Catalog* catalog, const JwtVerifier* jwt, const common::Clock* clock,
                   common::RandomSource* random, common::Logger* logger, http::RequestMetrics* metrics)
    : impl_(new Impl{internal::Deps{options, commands, reads, catalog, jwt, clock, random, logger, metrics,
                                    RateLimiter(options.commands_per_second_per_user, clock)},
                     {},
                     {}}) {
  for (const internal::RouteSpec& spec : internal::Routes()) {
    impl_->router.Add(spec.method, spec.pattern, spec.options);
    impl_->handlers.push_back(spec.handler);
  }
}

AdminApi::~AdminApi() = default;

bool AdminApi::NeedsWorker(const http::Request& request) const {
  auto match = impl_->router.Find(request.method, request.path);
  if (match.route == nullptr) return false;
  if (match.route->options.blocking) return true;
  if (request.path != "/v2/gen-ai/models/api_keys") return false;
  // A list page is one count and `per_page` reads after skipping the pages before it: inline
  // while that skip is short, on a worker beyond it. The stale-key report (sort=, unused_for_days=)
  // reads the whole view and each key's last use: always on a worker. Malformed values are
  // answered 400 by the handler, inline.
  const http::Query query = http::Query::Parse(request.query);
  if (query.Has("sort") || query.Has("unused_for_days")) return true;
  auto page = query.Int("page", 1, 1000000, 1);
  auto per_page = query.Int("per_page", 1, 1000000, 20);
  if (!page.ok() || !per_page.ok()) return false;
  return (*page - 1) * *per_page >= internal::kInlineListSkip;
}

bool AdminApi::Ready(std::string* why) const { return internal::Ready(impl_->deps, why); }

void AdminApi::Sweep() { impl_->deps.vault.Sweep(impl_->deps.clock->NowMicros()); }

http::Response AdminApi::Handle(const http::Request& request) {
  const internal::Deps& deps = impl_->deps;
  const std::int64_t start = deps.clock->MonotonicMicros();
  if (internal::IsConsolePath(deps, request.path)) {
    http::Response response = internal::HandleConsole(deps, request);
    deps.metrics->Observe("/console", request.method, response.status,
                          static_cast<double>(deps.clock->MonotonicMicros() - start) / 1e6);
    return response;
  }
  http::Router::Match match = impl_->router.Find(request.method, request.path);
  http::Response response;
  std::string route = match.path_known ? impl_->router.NameOf(request.path) : "unmatched";
  try {
    if (request.path.empty() || request.path.front() != '/') {
      // Only the origin form is served: "readyz" is not "/readyz".
      response = http::ErrorResponse(400, "bad_request", "the request target must be a path starting with /");
    } else if (request.HeaderCount("authorization") > 1) {
      response = http::ErrorResponse(400, "bad_request", "the Authorization header is repeated");
    } else if (!match.path_known) {
      response = http::ErrorResponse(404, "not_found", "no such route: " + request.path);
    } else {
      events::Caller caller;
      common::Status authenticated = common::Status::Ok();
      bool csrf_missing = false;
      if (match.route != nullptr && match.route->options.operator_route) {
        auto verified = deps.options.operators.Verify(request.Header("authorization"));
        if (verified.ok()) {
          caller = std::move(*verified);
        } else {
          authenticated = verified.status();
        }
      } else if (!match.public_path) {
        // The Authorization header, or else the console's session cookie; a command authenticated
        // by the cookie must prove it comes from the page (a custom header no other site's form
        // or script can send without CORS, which this server never grants).
        std::string from_cookie;
        std::string_view authorization = request.Header("authorization");
        if (authorization.empty()) {
          from_cookie = SessionCookieOf(request);
          if (!from_cookie.empty()) from_cookie = "Bearer " + from_cookie;
          authorization = from_cookie;
        }
        auto verified = deps.jwt->Verify(authorization);
        if (verified.ok()) {
          caller = std::move(*verified);
        } else {
          authenticated = verified.status();
        }
        const bool safe = request.method == "GET" || request.method == "HEAD" || request.method == "OPTIONS";
        csrf_missing = authenticated.ok() && !from_cookie.empty() && !safe && request.Header(kCsrfHeader) != "1";
      }
      if (csrf_missing) {
        response = http::ErrorResponse(403, "csrf_required",
                                       "a command signed in by the session cookie needs the X-Keyledger-Csrf: 1 header");
      } else if (!authenticated.ok()) {
        response = StatusResponse(authenticated);
      } else if (match.route == nullptr) {
        response = http::ErrorResponse(405, "method_not_allowed", request.method + " is not allowed on " + request.path);
        response.headers.emplace_back("Allow", match.allow);
      } else if (!match.bad_param.empty()) {
        response = internal::KeyNotFound(match.bad_value);
      } else {
        http::Query query = http::Query::Parse(request.query);
        internal::Context ctx{deps, request, match.params, caller, query};
        response = impl_->handlers[match.route->index](ctx);
      }
    }
  } catch (const std::exception& e) {
    deps.logger->Error("request failed", {{"path", request.path}, {"error", e.what()}});
    response = http::ErrorResponse(500, "server_error", "internal error");
  }
  double seconds = static_cast<double>(deps.clock->MonotonicMicros() - start) / 1e6;
  deps.metrics->Observe(route, request.method, response.status, seconds);
  return response;
}

}  // namespace keyledger::api
