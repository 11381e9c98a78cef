// The request side of http_server.cc, shared with the fuzz target that feeds raw bytes through
// it (fuzz_api_request.cc): the limits every request parser gets and the conversion of a parsed
// Beast request to the transport-independent HttpRequest. Private to api/.
// Thread: free functions, thread-safe.
#pragma once

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <string>

#include <boost/beast/http.hpp>

#include "keyledger/api/admin_api.h"

namespace keyledger::api {

// Headers over this are answered 431.
inline constexpr size_t kRequestHeaderLimit = 16 * 1024;

using BeastRequest = boost::beast::http::request<boost::beast::http::string_body>;
using BeastRequestParser = boost::beast::http::request_parser<boost::beast::http::string_body>;

// Bodies over `body_limit` are answered 413 (HttpServerOptions::body_limit).
inline void LimitRequestParser(BeastRequestParser& parser, size_t body_limit) {
  parser.body_limit(body_limit);
  parser.header_limit(kRequestHeaderLimit);
}

// Header names lower-cased; a repeated header keeps its last value.
inline HttpRequest ToHttpRequest(const BeastRequest& req) {
  HttpRequest r;
  r.method = std::string(req.method_string());
  r.target = std::string(req.target());
  for (const auto& field : req) {
    std::string name(field.name_string());
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    r.headers[name] = std::string(field.value());
  }
  r.body = req.body();
  return r;
}

}  // namespace keyledger::api
