#include "keyledger/http/json_body.h"

#include <algorithm>
#include <cctype>

namespace keyledger::http {

namespace json = boost::json;

ProblemOr<json::object> ParseJsonObject(const Request& request, const BodySpec& spec) {
  if (request.body.empty()) {
    if (spec.required) return Problem::BadRequest("request body is required (a JSON object)");
    return json::object();
  }
  std::string type(request.Header("content-type"));
  std::transform(type.begin(), type.end(), type.begin(), [](unsigned char c) { return std::tolower(c); });
  if (type.rfind("application/json", 0) != 0) {
    return Problem{415, "unsupported_media_type", "Content-Type must be application/json", {}};
  }
  json::parse_options options;
  options.max_depth = 16;
  boost::system::error_code ec;
  json::value v = json::parse(request.body, ec, {}, options);
  if (ec == json::error::too_deep) return Problem::BadRequest("request body is nested too deeply");
  if (ec) return Problem::BadRequest("request body is not valid JSON: " + ec.message());
  if (!v.is_object()) return Problem::BadRequest("request body must be a JSON object");
  for (const auto& field : v.as_object()) {
    if (std::find(spec.fields.begin(), spec.fields.end(), field.key()) == spec.fields.end()) {
      return Problem::BadRequest("unknown field \"" + std::string(field.key()) + "\"");
    }
  }
  return std::move(v.as_object());
}

ProblemOr<std::string> StringField(const json::object& body, std::string_view field, bool required) {
  const json::value* v = body.if_contains(field);
  if (v == nullptr || v->is_null()) {
    if (required) return Problem::BadRequest(std::string(field) + " is required");
    return std::string();
  }
  if (!v->is_string()) return Problem::BadRequest(std::string(field) + " must be a string");
  return std::string(v->as_string());
}

ProblemOr<std::int64_t> IntField(const json::object& body, std::string_view field, std::int64_t min, std::int64_t max) {
  const json::value* v = body.if_contains(field);
  if (v == nullptr || v->is_null()) return Problem::BadRequest(std::string(field) + " is required");
  const std::string range = " from " + std::to_string(min) + " to " + std::to_string(max);
  std::int64_t n = 0;
  if (v->is_int64()) {
    n = v->as_int64();
  } else if (v->is_uint64() && v->as_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    n = static_cast<std::int64_t>(v->as_uint64());
  } else {
    return Problem::BadRequest(std::string(field) + " must be an integer" + range);
  }
  if (n < min || n > max) return Problem::BadRequest(std::string(field) + " must be an integer" + range);
  return n;
}

ProblemOr<bool> BoolField(const json::object& body, std::string_view field, bool fallback) {
  const json::value* v = body.if_contains(field);
  if (v == nullptr || v->is_null()) return fallback;
  if (!v->is_bool()) return Problem::BadRequest(std::string(field) + " must be true or false");
  return v->as_bool();
}

Response JsonResponse(int status, const json::value& body) {
  Response r;
  r.status = status;
  r.body = json::serialize(body);
  return r;
}

}  // namespace keyledger::http
