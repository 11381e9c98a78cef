// A small blocking HTTP/1.1 client for the command-line tools that talk to a running server
// (`keyledger skip`, `keyledger halts`): one connection per call, http:// or https:// (verified
// against the system's CA certificates, or `ca_file`), a deadline for the whole exchange.
// Thread: free functions; each call is independent.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "keyledger/common/status.h"

namespace keyledger::http {

struct ClientRequest {
  std::string method = "GET";
  std::string url;  // http://host:port/path?query or https://...
  std::map<std::string, std::string> headers;
  std::string body;  // sent with Content-Type: application/json unless headers name another
  int timeout_ms = 30000;
  std::string ca_file;  // https: trust these CA certificates instead of the system's
};

struct ClientResponse {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
};

// InvalidArgument for a URL that is not http(s)://host[:port][/path]; Unavailable when the
// server cannot be reached, the TLS handshake fails or the deadline passes.
common::Result<ClientResponse> Fetch(const ClientRequest& request);

}  // namespace keyledger::http
