// The server's request side without a socket: raw HTTP/1.1 bytes through Beast's parser with the
// server's body and header limits, then into a Request. For the fuzz targets and tests; the
// server itself reads from the connection with the same limits.
// Thread: free functions, thread-safe.
#pragma once

#include <cstddef>
#include <string_view>

#include "keyledger/http/message.h"
#include "keyledger/http/problem.h"

namespace keyledger::http {

// The first request in `bytes`; the Problem the server would answer (400, 413, 431) otherwise.
ProblemOr<Request> ParseRawRequest(std::string_view bytes, size_t body_limit);

}  // namespace keyledger::http
