// JSON request bodies: one parser for every handler that takes a JSON object, and typed field
// readers. Problems: 415 without a JSON content type, 400 for malformed or deeply nested JSON, a
// body that is not an object, an unknown field, or a field of the wrong type (each naming the
// field).
// Thread: free functions and values.
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "keyledger/http/message.h"
#include "keyledger/http/problem.h"

namespace keyledger::http {

struct BodySpec {
  bool required = true;  // false: an empty body is an empty object
  std::initializer_list<std::string_view> fields;  // every field the body may have
};

ProblemOr<boost::json::object> ParseJsonObject(const Request& request, const BodySpec& spec);

// Field readers: absent or null gives the fallback (or, when `required`, a 400 "<field> is
// required"); a value of another type is a 400 "<field> must be ...".
ProblemOr<std::string> StringField(const boost::json::object& body, std::string_view field, bool required);
ProblemOr<bool> BoolField(const boost::json::object& body, std::string_view field, bool fallback);
// A required integer in [min, max] (a JSON number without fraction or exponent).
ProblemOr<std::int64_t> IntField(const boost::json::object& body, std::string_view field, std::int64_t min,
                                 std::int64_t max);

// A response with `status` and `body` serialised.
Response JsonResponse(int status, const boost::json::value& body);

}  // namespace keyledger::http
