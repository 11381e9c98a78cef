#include "keyledger/api/admin_api.h"

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "keyledger/common/secret.h"
#include "keyledger/replay/audit.h"

namespace keyledger::api {

using common::Result;
using common::Status;
namespace json = boost::json;

namespace {

constexpr std::string_view kKeysPath = "/v2/gen-ai/models/api_keys";
constexpr std::string_view kModelsPath = "/v2/gen-ai/models";
constexpr std::string_view kAuditEventsPath = "/v2/gen-ai/audit/events";
constexpr std::string_view kAuditExportPath = "/v2/gen-ai/audit/export";
constexpr std::string_view kAuditKeysPath = "/v2/gen-ai/audit/keys";
constexpr std::string_view kAuditCallablePath = "/v2/gen-ai/audit/callable";
constexpr size_t kMaxPerPage = 200;
constexpr double kLatencyBuckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};

std::string ErrorId(int status) {
  switch (status) {
    case 400: return "bad_request";
    case 401: return "unauthorized";
    case 403: return "forbidden";
    case 404: return "not_found";
    case 405: return "method_not_allowed";
    case 409: return "conflict";
    case 410: return "gone";
    case 413: return "request_entity_too_large";
    case 415: return "unsupported_media_type";
    case 429: return "too_many_requests";
    case 503: return "service_unavailable";
    default: return "server_error";
  }
}

HttpResponse JsonResponse(int status, const json::value& body) {
  HttpResponse r;
  r.status = status;
  r.body = json::serialize(body);
  return r;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// Parses a JSON object body: 415 without a JSON content type, 400 for malformed or deep JSON.
Result<json::object> ParseBody(const HttpRequest& request, bool required) {
  if (request.body.empty()) {
    if (required) return common::InvalidArgument("request body is required (a JSON object)");
    return json::object();
  }
  std::string type = request.Header("content-type");
  std::transform(type.begin(), type.end(), type.begin(), [](unsigned char c) { return std::tolower(c); });
  if (type.rfind("application/json", 0) != 0) {
    return Status(common::StatusCode::kUnsupportedMediaType,
                  "Content-Type must be application/json");
  }
  json::parse_options options;
  options.max_depth = 16;
  boost::system::error_code ec;
  json::value v = json::parse(request.body, ec, {}, options);
  if (ec == json::error::too_deep) return common::InvalidArgument("request body is nested too deeply");
  if (ec) return common::InvalidArgument("request body is not valid JSON: " + ec.message());
  if (!v.is_object()) return common::InvalidArgument("request body must be a JSON object");
  return std::move(v.as_object());
}

Status CheckKnownFields(const json::object& body, std::initializer_list<std::string_view> known) {
  for (const auto& field : body) {
    if (std::find(known.begin(), known.end(), field.key()) == known.end()) {
      return common::InvalidArgument("unknown field \"" + std::string(field.key()) + "\"");
    }
  }
  return Status::Ok();
}

Result<std::string> StringField(const json::object& body, std::string_view field, bool required) {
  const json::value* v = body.if_contains(field);
  if (v == nullptr || v->is_null()) {
    if (required) return common::InvalidArgument(std::string(field) + " is required");
    return std::string();
  }
  if (!v->is_string()) return common::InvalidArgument(std::string(field) + " must be a string");
  return std::string(v->as_string());
}

Result<bool> BoolField(const json::object& body, std::string_view field, bool fallback) {
  const json::value* v = body.if_contains(field);
  if (v == nullptr || v->is_null()) return fallback;
  if (!v->is_bool()) return common::InvalidArgument(std::string(field) + " must be true or false");
  return v->as_bool();
}

Status CheckBodyIds(const json::object& body, const std::string& key_id) {
  for (const char* id_field : {"uuid", "api_key_uuid"}) {
    auto id = StringField(body, id_field, false);
    if (!id.ok()) return id.status();
    if (!id->empty() && *id != key_id) {
      return common::InvalidArgument(std::string(id_field) + " does not match the key in the path");
    }
  }
  return Status::Ok();
}

json::object ModelEntry(const events::Model& m) {
  return json::object{{"id", m.id}, {"name", m.name}, {"owned_by", m.owned_by}};
}

}  // namespace

struct AdminApi::Parsed {
  std::string path;
  std::map<std::string, std::string> query;
};

HttpResponse ErrorResponse(int http_status, const std::string& id, const std::string& message) {
  // Messages quote paths, query parameters and field names from the request, which need not be
  // UTF-8; JSON must be.
  return JsonResponse(http_status, json::object{{"id", id}, {"message", common::ToValidUtf8(message)}});
}

HttpResponse ErrorResponse(const Status& status) {
  int http = common::HttpStatusFor(status.code());
  // Internal details stay in the log; clients get a stable message.
  std::string message = http >= 500 && http != 503 ? "internal error" : status.message();
  return ErrorResponse(http, ErrorId(http), message);
}

void Metrics::Observe(const std::string& route, const std::string& method, int status, double seconds) {
  // The method comes from the client, and any token is a method to HTTP: a label per distinct
  // method would let requests grow the maps and /metrics without bound.
  static constexpr std::string_view kMethods[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"};
  bool known = std::find(std::begin(kMethods), std::end(kMethods), method) != std::end(kMethods);
  std::lock_guard lock(mu_);
  ++requests_[route + "|" + (known ? method : "other") + "|" + std::to_string(status)];
  Series& s = latency_[route];
  if (s.buckets.empty()) s.buckets.assign(std::size(kLatencyBuckets), 0);
  ++s.count;
  s.sum += seconds;
  for (size_t i = 0; i < std::size(kLatencyBuckets); ++i) {
    if (seconds <= kLatencyBuckets[i]) ++s.buckets[i];
  }
}

std::string Metrics::Render() const {
  std::lock_guard lock(mu_);
  std::string out = "# HELP keyledger_http_requests_total HTTP requests by route, method and status.\n"
                    "# TYPE keyledger_http_requests_total counter\n";
  for (const auto& [k, v] : requests_) {
    size_t a = k.find('|'), b = k.rfind('|');
    out += "keyledger_http_requests_total{route=\"" + k.substr(0, a) + "\",method=\"" +
           k.substr(a + 1, b - a - 1) + "\",status=\"" + k.substr(b + 1) + "\"} " + std::to_string(v) + "\n";
  }
  out += "# HELP keyledger_http_request_duration_seconds HTTP request latency by route.\n"
         "# TYPE keyledger_http_request_duration_seconds histogram\n";
  for (const auto& [route, s] : latency_) {
    for (size_t i = 0; i < std::size(kLatencyBuckets); ++i) {
      char le[32];
      std::snprintf(le, sizeof le, "%g", kLatencyBuckets[i]);
      out += "keyledger_http_request_duration_seconds_bucket{route=\"" + route + "\",le=\"" + le +
             "\"} " + std::to_string(s.buckets[i]) + "\n";
    }
    out += "keyledger_http_request_duration_seconds_bucket{route=\"" + route + "\",le=\"+Inf\"} " +
           std::to_string(s.count) + "\n";
    out += "keyledger_http_request_duration_seconds_sum{route=\"" + route + "\"} " + std::to_string(s.sum) + "\n";
    out += "keyledger_http_request_duration_seconds_count{route=\"" + route + "\"} " + std::to_string(s.count) + "\n";
  }
  return out;
}

AdminApi::AdminApi(AdminApiOptions options, writer::Writer* writer, replay::LiveStore* live,
                   const events::Catalog* catalog, const JwtVerifier* jwt,
                   const common::Clock* clock, common::RandomSource* random,
                   common::Logger* logger, Metrics* metrics)
    : options_(options), writer_(writer), live_(live), catalog_(catalog), jwt_(jwt),
      clock_(clock), random_(random), logger_(logger), metrics_(metrics) {}

bool AdminApi::NeedsWorker(const HttpRequest& request) {
  // Audit queries fold and page through many stored events, and /readyz may wait up to a second
  // for the projector to catch up: not on an event-loop thread.
  std::string_view path = std::string_view(request.target).substr(0, request.target.find('?'));
  return request.method == "POST" || request.method == "PUT" || request.method == "DELETE" ||
         path.rfind("/v2/gen-ai/audit/", 0) == 0 || path == "/readyz";
}

std::string AdminApi::RouteOf(const std::string& method, const std::string& path) {
  (void)method;
  if (path == "/healthz" || path == "/readyz" || path == "/metrics") return path;
  if (path == kModelsPath) return std::string(kModelsPath);
  if (path == kKeysPath) return std::string(kKeysPath);
  if (path == kAuditEventsPath || path == kAuditExportPath || path == kAuditCallablePath) return path;
  if (path.rfind(std::string(kAuditKeysPath) + "/", 0) == 0 &&
      path.find('/', kAuditKeysPath.size() + 1) == std::string::npos) {
    return std::string(kAuditKeysPath) + "/{uuid}";
  }
  if (path.rfind(std::string(kKeysPath) + "/", 0) == 0) {
    std::string rest = path.substr(kKeysPath.size() + 1);
    if (rest.find('/') == std::string::npos) return std::string(kKeysPath) + "/{uuid}";
    if (rest.size() > 11 && rest.substr(rest.size() - 11) == "/regenerate") {
      return std::string(kKeysPath) + "/{uuid}/regenerate";
    }
    if (rest.size() > 7 && rest.substr(rest.size() - 7) == "/events") {
      return std::string(kKeysPath) + "/{uuid}/events";
    }
  }
  return "unmatched";
}

bool AdminApi::Ready(std::string* why) const {
  auto ws = writer_->stats();
  if (ws.state != writer::WriterState::kReady) {
    *why = "writer is " + std::string(writer::WriterStateName(ws.state));
    return false;
  }
  auto committed = writer_->CommittedOffsets();
  auto generation = live_->Acquire();
  auto ps = generation->projector().stats();
  if (!ps.failure.empty()) {
    *why = "projector stopped: " + ps.failure;
    return false;
  }
  if (ps.halts > 0) {
    *why = "projection halted on " + std::to_string(ps.halts) + " partition(s)";
    return false;
  }
  // Under load the projector is always a batch or two behind what the writer has just committed,
  // for milliseconds: being behind counts only if it does not catch up within a short grace, or a
  // load balancer would take a busy, healthy server out of rotation.
  constexpr auto kCatchUpGrace = std::chrono::milliseconds(1000);
  const auto deadline = std::chrono::steady_clock::now() + kCatchUpGrace;
  for (const auto& [p, offset] : committed) {
    auto it = ps.next_offsets.find(p);
    std::int64_t applied = it == ps.next_offsets.end() ? 0 : it->second;
    if (applied >= offset) continue;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 ||
        !generation->projector().WaitForOffset(p, offset - 1, static_cast<int>(left.count())).ok()) {
      *why = "projector is behind on partition " + std::to_string(p);
      return false;
    }
  }
  return true;
}

HttpResponse AdminApi::Handle(const HttpRequest& request) {
  auto start = std::chrono::steady_clock::now();
  Parsed parsed;
  size_t q = request.target.find('?');
  parsed.path = request.target.substr(0, q);
  if (q != std::string::npos) {
    std::string_view query = std::string_view(request.target).substr(q + 1);
    while (!query.empty()) {
      size_t amp = query.find('&');
      std::string_view pair = query.substr(0, amp);
      size_t eq = pair.find('=');
      std::string key = PercentDecode(pair.substr(0, eq));
      std::string value = eq == std::string_view::npos ? "" : PercentDecode(pair.substr(eq + 1));
      if (!key.empty()) parsed.query[key] = value;
      if (amp == std::string_view::npos) break;
      query.remove_prefix(amp + 1);
    }
  }
  HttpResponse response;
  try {
    response = Dispatch(request, parsed);
  } catch (const std::exception& e) {
    logger_->Error("request failed", {{"path", parsed.path}, {"error", e.what()}});
    response = ErrorResponse(500, "server_error", "internal error");
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  metrics_->Observe(RouteOf(request.method, parsed.path), request.method, response.status, seconds);
  return response;
}

HttpResponse AdminApi::Dispatch(const HttpRequest& request, Parsed& parsed) {
  const std::string& path = parsed.path;
  const std::string& method = request.method;
  auto method_not_allowed = [&](const char* allow) {
    HttpResponse r = ErrorResponse(405, "method_not_allowed", method + " is not allowed on " + path);
    r.headers.emplace_back("Allow", allow);
    return r;
  };
  if (path == "/healthz") {
    if (method != "GET") return method_not_allowed("GET");
    return JsonResponse(200, json::object{{"status", "ok"}});
  }
  if (path == "/readyz") {
    if (method != "GET") return method_not_allowed("GET");
    std::string why;
    if (!Ready(&why)) return JsonResponse(503, json::object{{"status", "not_ready"}, {"reason", why}});
    return JsonResponse(200, json::object{{"status", "ready"}});
  }
  if (path == "/metrics") {
    if (method != "GET") return method_not_allowed("GET");
    return MetricsText();
  }

  std::string route = RouteOf(method, path);
  if (route == "unmatched") return ErrorResponse(404, "not_found", "no such route: " + path);

  auto caller = jwt_->Verify(request.Header("authorization"));
  if (!caller.ok()) {
    HttpResponse r = ErrorResponse(caller.status());
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
    return r;
  }

  if (route == kModelsPath) {
    if (method != "GET") return method_not_allowed("GET");
    return Models();
  }
  if (route.rfind("/v2/gen-ai/audit/", 0) == 0) {
    if (method != "GET") return method_not_allowed("GET");
    // Audit and point-in-time queries cover every key of the team, including other members':
    // owners only, like the team view.
    if (caller->role != events::Role::kOwner) {
      return ErrorResponse(403, "forbidden", "audit queries are for team owners");
    }
    if (route == kAuditEventsPath) return AuditEvents(parsed, *caller);
    if (route == kAuditExportPath) return AuditExport(*caller);
    if (route == kAuditCallablePath) return CallableAt(parsed, *caller);
    std::string id = path.substr(kAuditKeysPath.size() + 1);
    if (!common::IsUuid(id)) return ErrorResponse(404, "not_found", "api key " + id + " not found");
    return KeyAt(parsed, id, *caller);
  }
  if (route == kKeysPath) {
    if (method == "POST") return Create(request, *caller);
    if (method == "GET") return List(parsed, *caller);
    return method_not_allowed("GET, POST");
  }
  std::string rest = path.substr(kKeysPath.size() + 1);
  std::string key_id = rest.substr(0, rest.find('/'));
  auto not_found = [&] { return ErrorResponse(404, "not_found", "api key " + key_id + " not found"); };
  if (route == std::string(kKeysPath) + "/{uuid}") {
    if (method != "GET" && method != "PUT" && method != "DELETE") return method_not_allowed("GET, PUT, DELETE");
    if (!common::IsUuid(key_id)) return not_found();
    if (method == "GET") return GetOne(key_id, *caller);
    if (method == "PUT") return Rename(request, key_id, *caller);
    return Delete(request, parsed, key_id, *caller);
  }
  if (route == std::string(kKeysPath) + "/{uuid}/regenerate") {
    if (method != "PUT") return method_not_allowed("PUT");
    if (!common::IsUuid(key_id)) return not_found();
    return Regenerate(request, key_id, *caller);
  }
  if (method != "GET") return method_not_allowed("GET");
  if (!common::IsUuid(key_id)) return not_found();
  return History(key_id, *caller);
}

namespace {

json::object KeyInfo(const events::KeyState& k, const events::Catalog& catalog) {
  json::array models;
  for (const std::string& id : events::CallableModels(k, catalog)) {
    if (const events::Model* m = catalog.FindModel(id)) models.push_back(ModelEntry(*m));
  }
  if (k.batch_inference) {
    models.push_back(json::object{{"id", "batch-inference"}, {"name", "Batch Inference"}, {"owned_by", "platform"}});
  }
  json::object o;
  o["uuid"] = k.key_id;
  o["name"] = k.name;
  o["created_at"] = common::FormatRfc3339(k.created_at_micros);
  o["created_by"] = k.creator_id;
  o["creator_name"] = k.creator_name;
  o["all_models"] = k.all_models;
  o["models"] = std::move(models);
  o["batch_inference"] = k.batch_inference;
  o["vpc_uuid"] = k.vpc_uuid.empty() ? json::value(nullptr) : json::value(k.vpc_uuid);
  o["legacy"] = k.legacy;
  o["secret_hint"] = k.secret_hint;
  o["revision"] = k.revision;
  return o;
}

}  // namespace

Status AdminApi::AllowCommand(const events::Caller& caller) {
  const double rate = options_.commands_per_second_per_user;
  if (rate <= 0) return Status::Ok();
  std::lock_guard lock(limiter_mu_);
  Bucket& b = buckets_[caller.team_id + "/" + caller.user_id];
  std::int64_t now = clock_->NowMicros();
  if (b.refreshed_micros == 0) b.tokens = 2 * rate;
  b.tokens = std::min(2 * rate, b.tokens + (now - b.refreshed_micros) / 1e6 * rate);
  b.refreshed_micros = now;
  if (b.tokens < 1) {
    return Status(common::StatusCode::kResourceExhausted,
                  "too many commands: at most " + std::to_string(static_cast<int>(rate)) +
                      " per second per user");
  }
  b.tokens -= 1;
  return Status::Ok();
}

HttpResponse AdminApi::RunCommand(const HttpRequest& request, const events::Caller& caller,
                                  events::Command command, int success_status,
                                  const std::string* secret) {
  Status allowed = AllowCommand(caller);
  if (!allowed.ok()) {
    HttpResponse r = ErrorResponse(allowed);
    r.headers.emplace_back("Retry-After", "1");
    return r;
  }
  std::string idempotency_key = request.Header("idempotency-key");
  if (idempotency_key.size() > 255) return ErrorResponse(common::InvalidArgument("Idempotency-Key is longer than 255 characters"));
  if (idempotency_key.empty() && request.headers.count("idempotency-key")) {
    return ErrorResponse(common::InvalidArgument("Idempotency-Key is empty; omit it or send 1 to 255 characters"));
  }
  std::string request_id = request.Header("x-request-id");
  if (request_id.size() > 128) return ErrorResponse(common::InvalidArgument("X-Request-Id is longer than 128 characters"));
  if (request_id.empty()) request_id = common::NewUuidV4(*random_).value();
  std::string correlation_id = request.Header("x-correlation-id");
  if (correlation_id.size() > 128) return ErrorResponse(common::InvalidArgument("X-Correlation-Id is longer than 128 characters"));
  auto outcome = writer_->Submit(writer::CommandRequest{caller, std::move(command), request_id,
                                                        idempotency_key, correlation_id});
  if (!outcome.ok()) {
    HttpResponse r = ErrorResponse(outcome.status());
    if (r.status == 503) r.headers.emplace_back("Retry-After", "1");
    return r;
  }
  if (!outcome->replayed && outcome->offset >= 0) {
    // Read-your-writes: a GET right after this response must see the change.
    Status applied = live_->Acquire()->projector().WaitForOffset(outcome->partition, outcome->offset, options_.command_wait_ms);
    if (!applied.ok()) logger_->Warn("read model lags behind a command", {{"error", applied.message()}});
  }
  json::object info = KeyInfo(outcome->key_after, *catalog_);
  json::object body;
  if (outcome->replayed) {
    body["idempotent_replay"] = true;
    if (secret != nullptr) {
      body["message"] = "this request was already carried out; its secret was shown once, in the original response";
    }
  } else if (secret != nullptr) {
    info["secret_key"] = *secret;
  }
  body["api_key_info"] = std::move(info);
  HttpResponse r = JsonResponse(success_status, body);
  r.headers.emplace_back("X-Request-Id", request_id);
  return r;
}

HttpResponse AdminApi::Create(const HttpRequest& request, const events::Caller& caller) {
  auto body = ParseBody(request, true);
  if (!body.ok()) return ErrorResponse(body.status());
  Status known = CheckKnownFields(*body, {"name", "all_models", "models", "batch_inference", "vpc_uuid"});
  if (!known.ok()) return ErrorResponse(known);
  events::CreateKeyCommand cmd;
  auto name = StringField(*body, "name", true);
  if (!name.ok()) return ErrorResponse(name.status());
  cmd.name = *name;
  auto all = BoolField(*body, "all_models", false);
  if (!all.ok()) return ErrorResponse(all.status());
  cmd.all_models = *all;
  if (const json::value* models = body->if_contains("models"); models && !models->is_null()) {
    if (!models->is_array()) return ErrorResponse(common::InvalidArgument("models must be an array of model ids"));
    if (models->as_array().size() > 1000) return ErrorResponse(common::InvalidArgument("models lists more than 1000 ids"));
    for (const auto& m : models->as_array()) {
      if (!m.is_string()) return ErrorResponse(common::InvalidArgument("models must be an array of model ids (strings)"));
      cmd.models.emplace_back(m.as_string());
    }
  }
  auto batch = BoolField(*body, "batch_inference", false);
  if (!batch.ok()) return ErrorResponse(batch.status());
  cmd.batch_inference = *batch;
  auto vpc = StringField(*body, "vpc_uuid", false);
  if (!vpc.ok()) return ErrorResponse(vpc.status());
  cmd.vpc_uuid = *vpc;
  if (!cmd.vpc_uuid.empty() && !common::IsUuid(cmd.vpc_uuid)) {
    return ErrorResponse(common::InvalidArgument("vpc_uuid must be a VPC UUID or null"));
  }
  auto secret = common::GenerateSecret(*random_);
  if (!secret.ok()) return ErrorResponse(secret.status());
  cmd.secret_sha256 = common::HashSecret(*secret);
  cmd.secret_hint = common::SecretHint(*secret);
  return RunCommand(request, caller, std::move(cmd), 201, &*secret);
}

HttpResponse AdminApi::List(const Parsed& parsed, const events::Caller& caller) {
  auto get = [&](const char* k, const char* fallback) {
    auto it = parsed.query.find(k);
    return it == parsed.query.end() ? std::string(fallback) : it->second;
  };
  auto view = events::ParseView(get("view", "mine"));
  if (!view.ok()) return ErrorResponse(view.status());
  auto number = [](const std::string& s, const char* field, size_t max) -> Result<size_t> {
    if (s.empty() || s.size() > 9 || !std::all_of(s.begin(), s.end(), ::isdigit)) {
      return common::InvalidArgument(std::string(field) + " must be a positive integer");
    }
    size_t v = std::stoul(s);
    if (v < 1 || v > max) {
      return common::InvalidArgument(std::string(field) + " must be between 1 and " + std::to_string(max));
    }
    return v;
  };
  auto page = number(get("page", "1"), "page", 1000000);
  if (!page.ok()) return ErrorResponse(page.status());
  auto per_page = number(get("per_page", "20"), "per_page", kMaxPerPage);
  if (!per_page.ok()) return ErrorResponse(per_page.status());
  auto result = live_->Acquire()->projector().read_model().ListView(caller, *view, *page, *per_page);
  if (!result.ok()) return ErrorResponse(result.status());
  json::array infos;
  for (const auto& k : result->keys) infos.push_back(KeyInfo(k, *catalog_));
  size_t last = std::max<size_t>(1, (result->total + *per_page - 1) / *per_page);
  auto link = [&](size_t p) {
    return std::string(kKeysPath) + "?view=" + std::string(events::ViewName(*view)) +
           "&page=" + std::to_string(p) + "&per_page=" + std::to_string(*per_page);
  };
  json::object pages;
  pages["first"] = link(1);
  if (*page > 1) pages["prev"] = link(std::min(*page - 1, last));
  if (*page < last) pages["next"] = link(*page + 1);
  pages["last"] = link(last);
  return JsonResponse(200, json::object{{"api_key_infos", std::move(infos)},
                                        {"links", json::object{{"pages", std::move(pages)}}},
                                        {"meta", json::object{{"total", result->total},
                                                              {"page", *page},
                                                              {"per_page", *per_page}}}});
}

namespace {

// Who may read a key: its team's owners, its creator, and every member for legacy keys.
Status CheckReadable(const std::optional<projector::KeyRecord>& record, const events::Caller& caller,
                     const std::string& key_id) {
  std::optional<events::KeyState> state;
  if (record) state = record->state;
  KL_RETURN_IF_ERROR(events::CheckVisible(state, caller, key_id));
  if (caller.role != events::Role::kOwner && !state->legacy && state->creator_id != caller.user_id) {
    return common::PermissionDenied("only team owners may see keys created by other members");
  }
  return Status::Ok();
}

}  // namespace

HttpResponse AdminApi::GetOne(const std::string& key_id, const events::Caller& caller) {
  auto record = live_->Acquire()->projector().read_model().GetKey(key_id);
  if (!record.ok()) return ErrorResponse(record.status());
  Status readable = CheckReadable(*record, caller, key_id);
  if (!readable.ok()) return ErrorResponse(readable);
  return JsonResponse(200, json::object{{"api_key_info", KeyInfo((*record)->state, *catalog_)}});
}

HttpResponse AdminApi::Rename(const HttpRequest& request, const std::string& key_id,
                              const events::Caller& caller) {
  auto body = ParseBody(request, true);
  if (!body.ok()) return ErrorResponse(body.status());
  for (const char* fixed : {"all_models", "models", "batch_inference", "vpc_uuid", "legacy"}) {
    if (body->contains(fixed)) {
      return ErrorResponse(common::InvalidArgument(
          std::string(fixed) + " cannot be changed: a key's model scope and VPC are fixed at creation"));
    }
  }
  Status known = CheckKnownFields(*body, {"name", "uuid", "api_key_uuid"});
  if (!known.ok()) return ErrorResponse(known);
  Status ids = CheckBodyIds(*body, key_id);
  if (!ids.ok()) return ErrorResponse(ids);
  auto name = StringField(*body, "name", true);
  if (!name.ok()) return ErrorResponse(name.status());
  return RunCommand(request, caller, events::RenameKeyCommand{key_id, *name, {}}, 200, nullptr);
}

HttpResponse AdminApi::Regenerate(const HttpRequest& request, const std::string& key_id,
                                  const events::Caller& caller) {
  auto body = ParseBody(request, true);
  if (!body.ok()) return ErrorResponse(body.status());
  Status known = CheckKnownFields(*body, {"confirm_name", "uuid", "api_key_uuid"});
  if (!known.ok()) return ErrorResponse(known);
  Status ids = CheckBodyIds(*body, key_id);
  if (!ids.ok()) return ErrorResponse(ids);
  auto confirm = StringField(*body, "confirm_name", true);
  if (!confirm.ok()) return ErrorResponse(confirm.status());
  auto secret = common::GenerateSecret(*random_);
  if (!secret.ok()) return ErrorResponse(secret.status());
  events::RegenerateKeyCommand cmd{key_id, *confirm, {}, common::HashSecret(*secret),
                                   common::SecretHint(*secret)};
  return RunCommand(request, caller, std::move(cmd), 200, &*secret);
}

HttpResponse AdminApi::Delete(const HttpRequest& request, const Parsed& parsed,
                              const std::string& key_id, const events::Caller& caller) {
  std::string confirm;
  if (!request.body.empty()) {
    auto body = ParseBody(request, false);
    if (!body.ok()) return ErrorResponse(body.status());
    Status known = CheckKnownFields(*body, {"confirm_name", "uuid", "api_key_uuid"});
    if (!known.ok()) return ErrorResponse(known);
    Status ids = CheckBodyIds(*body, key_id);
    if (!ids.ok()) return ErrorResponse(ids);
    auto c = StringField(*body, "confirm_name", false);
    if (!c.ok()) return ErrorResponse(c.status());
    confirm = *c;
  }
  if (confirm.empty()) {
    auto it = parsed.query.find("confirm_name");
    if (it != parsed.query.end()) confirm = it->second;
  }
  if (confirm.empty()) {
    return ErrorResponse(common::InvalidArgument(
        "confirm_name is required: send the key's current name in the body or the query"));
  }
  return RunCommand(request, caller, events::DeleteKeyCommand{key_id, confirm, {}}, 200, nullptr);
}

HttpResponse AdminApi::History(const std::string& key_id, const events::Caller& caller) {
  auto generation = live_->Acquire();
  auto record = generation->projector().read_model().GetKey(key_id);
  if (!record.ok()) return ErrorResponse(record.status());
  // Like the key itself, its history answers 404 once the key is deleted; the events stay in the
  // log and in the audit indexes for audit queries.
  Status readable = CheckReadable(*record, caller, key_id);
  if (!readable.ok()) return ErrorResponse(readable);
  auto history = generation->projector().read_model().KeyHistory(key_id);
  if (!history.ok()) return ErrorResponse(history.status());
  json::array out;
  for (const events::Event& e : *history) {
    json::object item;
    item["event_id"] = e.event_id;
    item["event_type"] = std::string(events::EventTypeName(e.type()));
    item["revision"] = e.key_revision;
    item["occurred_at"] = common::FormatRfc3339(e.occurred_at_micros);
    item["actor"] = json::object{{"id", e.actor.user_id}, {"name", e.actor.display_name},
                                 {"role", std::string(events::RoleName(e.actor.role))}};
    item["request_id"] = e.request_id;
    item["correlation_id"] = e.correlation_id;
    json::object changes;
    std::visit(
        [&changes](const auto& p) {
          using P = std::decay_t<decltype(p)>;
          if constexpr (std::is_same_v<P, events::KeyCreated>) {
            changes["name"] = p.name;
            changes["all_models"] = p.all_models;
            json::array models;
            for (const auto& m : p.models) models.push_back(json::value(m));
            changes["models"] = std::move(models);
            changes["batch_inference"] = p.batch_inference;
            changes["vpc_uuid"] = p.vpc_uuid.empty() ? json::value(nullptr) : json::value(p.vpc_uuid);
            changes["legacy"] = p.legacy;
            changes["secret_hint"] = p.secret_hint;
          } else if constexpr (std::is_same_v<P, events::KeyRenamed>) {
            changes["old_name"] = p.old_name;
            changes["new_name"] = p.new_name;
          } else if constexpr (std::is_same_v<P, events::KeyRegenerated>) {
            changes["secret_hint"] = p.secret_hint;
          } else {
            changes["name"] = p.name;
          }
        },
        e.payload);
    item["changes"] = std::move(changes);
    out.push_back(std::move(item));
  }
  return JsonResponse(200, json::object{{"events", std::move(out)}});
}

HttpResponse AdminApi::Models() const {
  json::array data;
  for (const auto& m : catalog_->models()) {
    data.push_back(json::object{{"id", m.id}, {"object", "model"}, {"created", m.created},
                                {"owned_by", m.owned_by}, {"name", m.name},
                                {"batch_capable", m.batch_capable}});
  }
  return JsonResponse(200, json::object{{"object", "list"}, {"data", std::move(data)}});
}

namespace {

json::value ParsedJson(const std::string& text) { return json::parse(text); }

// ?at=RFC3339 or ?offset=N (exactly one).
Result<replay::AsOf> ParseAsOf(const std::map<std::string, std::string>& query) {
  auto at = query.find("at");
  auto offset = query.find("offset");
  if ((at == query.end()) == (offset == query.end())) {
    return common::InvalidArgument("give exactly one of at (RFC 3339 time) and offset");
  }
  replay::AsOf as_of;
  if (at != query.end()) {
    KL_ASSIGN_OR_RETURN(as_of.time_micros, common::ParseRfc3339(at->second));
  } else {
    const std::string& text = offset->second;
    if (text.empty() || text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos) {
      return common::InvalidArgument("offset must be a non-negative integer");
    }
    as_of.offset = std::stoll(text);
  }
  return as_of;
}

}  // namespace

HttpResponse AdminApi::AuditEvents(const Parsed& parsed, const events::Caller& caller) {
  static const char* kKnown[] = {"key_id", "actor_id", "event_type", "since", "until", "order", "limit", "cursor"};
  for (const auto& [k, v] : parsed.query) {
    if (std::find(std::begin(kKnown), std::end(kKnown), std::string_view(k)) == std::end(kKnown)) {
      return ErrorResponse(common::InvalidArgument("unknown query parameter " + k));
    }
  }
  auto get = [&](const char* k) {
    auto it = parsed.query.find(k);
    return it == parsed.query.end() ? std::optional<std::string>() : std::optional<std::string>(it->second);
  };
  replay::AuditQuery q;
  q.team_id = caller.team_id;
  if (auto v = get("key_id")) {
    if (!common::IsUuid(*v)) return ErrorResponse(common::InvalidArgument("key_id must be a UUID"));
    q.key_id = *v;
  }
  if (auto v = get("actor_id")) {
    if (v->empty()) return ErrorResponse(common::InvalidArgument("actor_id must not be empty"));
    q.actor_id = *v;
  }
  if (auto v = get("event_type")) {
    q.event_type = events::ParseEventTypeName(*v);
    if (!q.event_type) {
      return ErrorResponse(common::InvalidArgument(
          "event_type must be key_created, key_renamed, key_regenerated or key_deleted"));
    }
  }
  for (const char* bound : {"since", "until"}) {
    if (auto v = get(bound)) {
      auto t = common::ParseRfc3339(*v);
      if (!t.ok()) return ErrorResponse(common::InvalidArgument(std::string(bound) + ": " + t.status().message()));
      (std::string(bound) == "since" ? q.since_micros : q.until_micros) = *t;
    }
  }
  if (auto v = get("order")) {
    if (*v == "newest") {
      q.order = replay::AuditOrder::kNewestFirst;
    } else if (*v == "oldest") {
      q.order = replay::AuditOrder::kOldestFirst;
    } else {
      return ErrorResponse(common::InvalidArgument("order must be newest or oldest"));
    }
  }
  if (auto v = get("limit")) {
    if (v->empty() || v->size() > 4 || v->find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(*v) < 1 || std::stoi(*v) > 1000) {
      return ErrorResponse(common::InvalidArgument("limit must be an integer from 1 to 1000"));
    }
    q.limit = static_cast<size_t>(std::stoi(*v));
  }
  if (auto v = get("cursor")) q.cursor = *v;
  auto generation = live_->Acquire();
  auto page = replay::QueryAudit(generation->store(), q);
  if (!page.ok()) return ErrorResponse(page.status());
  HttpResponse r;
  r.body = replay::AuditPageJson(*page);
  return r;
}

HttpResponse AdminApi::AuditExport(const events::Caller& caller) {
  HttpResponse r;
  r.content_type = "application/x-ndjson";
  r.headers.emplace_back("Content-Disposition", "attachment; filename=\"keyledger-audit.jsonl\"");
  // Pages of the team's history, oldest first, from one generation of the store.
  struct State {
    std::shared_ptr<replay::Generation> generation;
    replay::AuditQuery query;
    bool done = false;
  };
  auto state = std::make_shared<State>();
  state->generation = live_->Acquire();
  state->query.team_id = caller.team_id;
  state->query.order = replay::AuditOrder::kOldestFirst;
  state->query.limit = 500;
  common::Logger* logger = logger_;
  r.stream = [state, logger](std::string& chunk) {
    if (state->done) return false;
    auto page = replay::QueryAudit(state->generation->store(), state->query);
    if (!page.ok()) {
      // Headers are gone already: end the stream with an error line a reader can recognise.
      logger->Error("audit export failed", {{"error", page.status().message()}});
      chunk += "{\"error\":";
      common::AppendJsonString(chunk, page.status().message());
      chunk += "}\n";
      state->done = true;
      return true;
    }
    for (const auto& record : page->records) {
      chunk += replay::AuditRecordJson(record);
      chunk += "\n";
    }
    state->query.cursor = page->next_cursor;
    state->done = page->next_cursor.empty();
    return true;
  };
  return r;
}

HttpResponse AdminApi::KeyAt(const Parsed& parsed, const std::string& key_id, const events::Caller& caller) {
  for (const auto& [k, v] : parsed.query) {
    if (k != "at" && k != "offset") return ErrorResponse(common::InvalidArgument("unknown query parameter " + k));
  }
  auto as_of = ParseAsOf(parsed.query);
  if (!as_of.ok()) return ErrorResponse(as_of.status());
  auto generation = live_->Acquire();
  auto state = replay::KeyAsOf(generation->store(), caller.team_id, key_id, *as_of);
  if (!state.ok()) return ErrorResponse(state.status());
  if (!*state) return ErrorResponse(404, "not_found", "api key " + key_id + " did not exist at that point");
  return JsonResponse(200, json::object{{"api_key", ParsedJson(replay::KeyStateJson(**state))}});
}

HttpResponse AdminApi::CallableAt(const Parsed& parsed, const events::Caller& caller) {
  for (const auto& [k, v] : parsed.query) {
    if (k != "at" && k != "offset" && k != "model" && k != "vpc_uuid") {
      return ErrorResponse(common::InvalidArgument("unknown query parameter " + k));
    }
  }
  auto model = parsed.query.find("model");
  if (model == parsed.query.end() || model->second.empty()) {
    return ErrorResponse(common::InvalidArgument("model is required"));
  }
  std::string vpc;
  if (auto it = parsed.query.find("vpc_uuid"); it != parsed.query.end()) {
    if (!common::IsUuid(it->second)) return ErrorResponse(common::InvalidArgument("vpc_uuid must be a UUID"));
    vpc = it->second;
  }
  auto as_of = ParseAsOf(parsed.query);
  if (!as_of.ok()) return ErrorResponse(as_of.status());
  auto generation = live_->Acquire();
  auto keys = replay::CallableAsOf(generation->store(), caller.team_id, model->second, vpc, *as_of, *catalog_);
  if (!keys.ok()) return ErrorResponse(keys.status());
  json::array out;
  for (const auto& k : *keys) out.push_back(ParsedJson(replay::KeyStateJson(k)));
  return JsonResponse(200, json::object{{"api_keys", std::move(out)}});
}

HttpResponse AdminApi::MetricsText() const {
  HttpResponse r;
  r.content_type = "text/plain; version=0.0.4";
  r.body = metrics_->Render();
  auto ws = writer_->stats();
  auto ps = live_->Acquire()->projector().stats();
  r.body += "# HELP keyledger_writer_state Writer state (1 for the current one).\n# TYPE keyledger_writer_state gauge\n";
  for (auto s : {writer::WriterState::kStarting, writer::WriterState::kReady, writer::WriterState::kRecovering,
                 writer::WriterState::kFenced, writer::WriterState::kStopped}) {
    r.body += "keyledger_writer_state{state=\"" + std::string(writer::WriterStateName(s)) + "\"} " +
              (s == ws.state ? "1" : "0") + "\n";
  }
  r.body += "# TYPE keyledger_writer_fenced gauge\nkeyledger_writer_fenced " +
            std::string(ws.state == writer::WriterState::kFenced ? "1" : "0") + "\n";
  r.body += "# TYPE keyledger_writer_commands_total counter\n";
  r.body += "keyledger_writer_commands_total{outcome=\"acknowledged\"} " + std::to_string(ws.commands_acknowledged) + "\n";
  r.body += "keyledger_writer_commands_total{outcome=\"rejected\"} " + std::to_string(ws.commands_rejected) + "\n";
  r.body += "keyledger_writer_commands_total{outcome=\"unavailable\"} " + std::to_string(ws.commands_unavailable) + "\n";
  r.body += "# TYPE keyledger_writer_transactions_total counter\n";
  r.body += "keyledger_writer_transactions_total{outcome=\"committed\"} " + std::to_string(ws.transactions_committed) + "\n";
  r.body += "keyledger_writer_transactions_total{outcome=\"failed\"} " + std::to_string(ws.transactions_failed) + "\n";
  r.body += "# TYPE keyledger_projector_events_applied_total counter\nkeyledger_projector_events_applied_total " +
            std::to_string(ps.events_applied) + "\n";
  r.body += "# TYPE keyledger_projector_halted_partitions gauge\nkeyledger_projector_halted_partitions " +
            std::to_string(ps.halts) + "\n";
  r.body += "# TYPE keyledger_projector_undecodable_events_total counter\nkeyledger_projector_undecodable_events_total " +
            std::to_string(ps.decode_errors) + "\n";
  r.body += "# HELP keyledger_projector_lag_events Events the writer committed that the projector has not applied.\n"
            "# TYPE keyledger_projector_lag_events gauge\n";
  auto committed = writer_->CommittedOffsets();
  for (const auto& [p, offset] : committed) {
    auto it = ps.next_offsets.find(p);
    std::int64_t applied = it == ps.next_offsets.end() ? 0 : it->second;
    r.body += "keyledger_projector_lag_events{partition=\"" + std::to_string(p) + "\"} " +
              std::to_string(std::max<std::int64_t>(0, offset - applied)) + "\n";
  }
  return r;
}

}  // namespace keyledger::api
