// The admin API's front: match the route, authenticate, dispatch to the handler, count the
// request. The handlers are in key_handlers.cc, audit_handlers.cc and ops_handlers.cc.
#include "keyledger/api/admin_api.h"

#include "errors.h"
#include "handlers.h"
#include "keyledger/http/problem.h"

namespace keyledger::api {

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
  return match.route != nullptr && match.route->options.blocking;
}

bool AdminApi::Ready(std::string* why) const { return internal::Ready(impl_->deps, why); }

http::Response AdminApi::Handle(const http::Request& request) {
  const internal::Deps& deps = impl_->deps;
  const std::int64_t start = deps.clock->MonotonicMicros();
  http::Router::Match match = impl_->router.Find(request.method, request.path);
  http::Response response;
  std::string route = match.path_known ? impl_->router.NameOf(request.path) : "unmatched";
  try {
    if (!match.path_known) {
      response = http::ErrorResponse(404, "not_found", "no such route: " + request.path);
    } else {
      events::Caller caller;
      common::Status authenticated = common::Status::Ok();
      if (match.route != nullptr && match.route->options.operator_route) {
        auto verified = deps.options.operators.Verify(request.Header("authorization"));
        if (verified.ok()) {
          caller = std::move(*verified);
        } else {
          authenticated = verified.status();
        }
      } else if (!match.public_path) {
        auto verified = deps.jwt->Verify(request.Header("authorization"));
        if (verified.ok()) {
          caller = std::move(*verified);
        } else {
          authenticated = verified.status();
        }
      }
      if (!authenticated.ok()) {
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
