// Beast's request parser with the server's limits, and its parsed request as a Request. Private
// to http/ (server.cc and raw_request.cc).
#pragma once

#include <boost/beast/http.hpp>

#include <algorithm>
#include <cctype>
#include <string>

#include "keyledger/http/message.h"
#include "keyledger/http/problem.h"
#include "keyledger/http/server.h"

namespace keyledger::http::internal {

using BeastRequest = boost::beast::http::request<boost::beast::http::string_body>;
using BeastRequestParser = boost::beast::http::request_parser<boost::beast::http::string_body>;

inline void LimitRequestParser(BeastRequestParser& parser, size_t body_limit) {
  parser.body_limit(body_limit);
  parser.header_limit(kRequestHeaderLimit);
}

// Header names lower-cased; repeated headers kept in order.
inline Request ToRequest(const BeastRequest& req) {
  Request r = Request::For(std::string(req.method_string()), std::string(req.target()));
  r.headers.reserve(8);
  for (const auto& field : req) {
    std::string name(field.name_string());
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    r.headers.emplace_back(std::move(name), std::string(field.value()));
  }
  r.body = req.body();
  return r;
}

// The answer to a request the parser refused.
inline Problem ParseProblem(const boost::beast::error_code& ec, size_t body_limit) {
  namespace bhttp = boost::beast::http;
  if (ec == bhttp::error::body_limit) {
    return {413, "request_entity_too_large", "request body is larger than " + std::to_string(body_limit) + " bytes", {}};
  }
  if (ec == bhttp::error::header_limit) {
    return {431, "request_header_fields_too_large", "request headers are too large", {}};
  }
  return Problem::BadRequest("malformed HTTP request: " + ec.message());
}

}  // namespace keyledger::http::internal
