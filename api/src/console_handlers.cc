// The console's routes, outside the API's route table: its static files under /console/, the
// development sign-in and sign-out. Every answer carries the console's security headers.
#include <boost/json.hpp>

#include <array>

#include "errors.h"
#include "handlers.h"
#include "keyledger/api/jwt.h"
#include "keyledger/http/json_body.h"
#include "keyledger/http/problem.h"

namespace keyledger::api::internal {

namespace json = boost::json;

namespace {

constexpr std::int64_t kDevSessionSeconds = 8 * 3600;

// The demo users of the development sign-in (SPEC's examples: one team with two owners and a
// member, and an owner of another team).
struct DevUser {
  const char* id;
  const char* name;
  const char* team;
  const char* role;
};
constexpr std::array<DevUser, 4> kDevUsers = {{
    {"user-olga", "Olga Owner", "team-acme", "owner"},
    {"user-mia", "Mia Member", "team-acme", "member"},
    {"user-omar", "Omar Owner", "team-acme", "owner"},
    {"user-gina", "Gina Globex", "team-globex", "owner"},
}};

void SecurityHeaders(http::Response& r) {
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                         "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; "
                         "frame-ancestors 'none'");
  r.headers.emplace_back("X-Frame-Options", "DENY");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
}

std::string SessionCookie(const std::string& value, std::int64_t max_age, bool secure) {
  return std::string(kSessionCookie) + "=" + value + "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" +
         std::to_string(max_age) + (secure ? "; Secure" : "");
}

http::Response NoContent() {
  http::Response r;
  r.status = 204;
  r.content_type.clear();
  return r;
}

http::Response DevSignIn(const Deps& deps, const http::Request& request) {
  const ConsoleOptions& console = deps.options.console;
  if (!console.dev_sign_in) return http::ErrorResponse(404, "not_found", "development sign-in is off");
  if (request.method == "GET") {
    json::array users;
    for (const DevUser& u : kDevUsers) {
      users.push_back(json::object{{"user_id", u.id}, {"name", u.name}, {"team_id", u.team}, {"role", u.role}});
    }
    return http::JsonResponse(200, json::object{{"users", std::move(users)}});
  }
  if (request.method != "POST") {
    http::Response r = http::ErrorResponse(405, "method_not_allowed", request.method + " is not allowed on " + request.path);
    r.headers.emplace_back("Allow", "GET, POST");
    return r;
  }
  if (request.Header(kCsrfHeader) != "1") {
    return http::ErrorResponse(403, "csrf_required", "send X-Keyledger-Csrf: 1 with this request");
  }
  auto body = http::ParseJsonObject(request, {true, {"user_id"}});
  if (!body.ok()) return body.problem().ToResponse();
  auto user_id = http::StringField(*body, "user_id", true);
  if (!user_id.ok()) return user_id.problem().ToResponse();
  for (const DevUser& u : kDevUsers) {
    if (*user_id != u.id) continue;
    TokenClaims claims{u.id, u.name, u.team, u.role, deps.clock->NowMicros() / 1000000 + kDevSessionSeconds, "", ""};
    http::Response r = NoContent();
    r.headers.emplace_back("Set-Cookie", SessionCookie(MintHs256(claims, console.dev_jwt_secret), kDevSessionSeconds,
                                                       console.secure_cookie));
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
  }
  return StatusResponse(common::InvalidArgument("user_id is not one of the development users"));
}

}  // namespace

bool IsConsolePath(const Deps& deps, std::string_view path) {
  if (!deps.options.console.files) return false;
  return path == "/" || path == "/console" || path.substr(0, 9) == "/console/";
}

http::Response HandleConsole(const Deps& deps, const http::Request& request) {
  const std::string& path = request.path;
  http::Response r;
  if (path == "/" || path == "/console") {
    r.status = 308;
    r.content_type.clear();
    r.headers.emplace_back("Location", "/console/");
  } else if (path == "/console/dev-sign-in") {
    r = DevSignIn(deps, request);
  } else if (path == "/console/sign-out") {
    if (request.method != "POST") {
      r = http::ErrorResponse(405, "method_not_allowed", request.method + " is not allowed on " + path);
      r.headers.emplace_back("Allow", "POST");
    } else {
      r = NoContent();
      r.headers.emplace_back("Set-Cookie", SessionCookie("", 0, deps.options.console.secure_cookie));
    }
  } else if (request.method != "GET" && request.method != "HEAD") {
    r = http::ErrorResponse(405, "method_not_allowed", request.method + " is not allowed on " + path);
    r.headers.emplace_back("Allow", "GET, HEAD");
  } else if (const http::StaticFile* file = deps.options.console.files->Find(std::string_view(path).substr(9))) {
    r.content_type = file->content_type;
    r.body = file->content;
    // Vite names every asset by its content's hash: cache those for good, the page never.
    const bool hashed = path.substr(0, 16) == "/console/assets/";
    r.headers.emplace_back("Cache-Control", hashed ? "public, max-age=31536000, immutable" : "no-cache");
  } else {
    r = http::ErrorResponse(404, "not_found", "no such file in the console: " + path);
  }
  SecurityHeaders(r);
  return r;
}

http::Response Me(const Context& ctx) {
  const events::Caller& c = ctx.caller;
  return http::JsonResponse(200, json::object{{"user_id", c.user_id},
                                              {"name", c.display_name},
                                              {"team_id", c.team_id},
                                              {"role", c.role == events::Role::kOwner ? "owner" : "member"}});
}

http::Response Vpcs(const Context& ctx) {
  json::array vpcs;
  for (const events::Vpc& v : ctx.deps.catalog->TeamVpcList(ctx.caller.team_id)) {
    vpcs.push_back(json::object{{"id", v.id}, {"name", v.name}, {"region", v.region}});
  }
  const auto total = static_cast<std::int64_t>(vpcs.size());
  return http::JsonResponse(200, json::object{{"vpcs", std::move(vpcs)}, {"links", json::object{}},
                                              {"meta", json::object{{"total", total}}}});
}

}  // namespace keyledger::api::internal
