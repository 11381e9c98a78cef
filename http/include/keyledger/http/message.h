// HTTP requests and responses as plain values, independent of the transport (server.h carries
// them over HTTP/1.1). Nothing here knows what the handlers do.
// Thread: values.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace keyledger::http {

struct Request {
  std::string method;  // as sent; the standard methods are upper case
  std::string target;  // path and query as received
  std::string path;    // target before '?', not percent-decoded
  std::string query;   // target after '?', raw ("" if none)
  // Lower-case names in the order received; a repeated header appears once per occurrence.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // The first value of a header, "" if absent.
  std::string_view Header(std::string_view lower_name) const;
  size_t HeaderCount(std::string_view lower_name) const;
  bool HasHeader(std::string_view lower_name) const { return HeaderCount(lower_name) > 0; }

  // A request for `target` (path and query split as the server does).
  static Request For(std::string method, std::string target, std::string body = {});
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Set for a streamed (chunked) body, which replaces `body`: called until it returns false,
  // each call appending the next chunk to its argument (on a worker thread).
  std::function<bool(std::string&)> stream;
  // Close the connection after this response (and drain what the client is still sending).
  bool close = false;
  // The body holds a plaintext secret (shown once): the server wipes it once it is written.
  bool sensitive = false;

  // The first value of a response header, "" if absent (names compared case-insensitively).
  std::string_view Header(std::string_view name) const;
};

// Case-insensitive ASCII comparison of header names.
bool HeaderNameEquals(std::string_view a, std::string_view b);

}  // namespace keyledger::http
