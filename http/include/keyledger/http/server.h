// HTTP/1.1 server over Boost.Beast with C++20 coroutines, optional TLS (OpenSSL). It carries any
// handler: the admin API, the validator's check and admin listeners, or the bare reference server
// of the benchmarks.
//
// Limits: request bodies over `body_limit` are answered 413, headers over 16 KiB 431, and the
// connection is then closed with a lingering close (the rest of what the client sends is read
// and dropped for up to `linger_ms`, so a client that writes its whole body before reading still
// reads the answer instead of a reset). A connection idle longer than `idle_timeout_ms` between
// requests, slower than `header_timeout_ms` to send its headers or `request_timeout_ms` for the
// whole request, is closed. At most `max_connections` are open at once; one more is accepted,
// answered 503 and closed. Keep-alive follows HTTP/1.1.
//
// Threads: `threads` event-loop threads run the sessions; requests for which `needs_worker` is
// true run on a pool of `worker_threads` (they may block), the rest inline. Shutdown stops
// accepting, lets in-flight requests finish (up to `shutdown_grace_ms`), then stops the loops.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "keyledger/common/log.h"
#include "keyledger/common/status.h"
#include "keyledger/http/message.h"

namespace keyledger::http {

// Headers over this are answered 431.
inline constexpr size_t kRequestHeaderLimit = 16 * 1024;

struct ServerOptions {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8080;  // 0: any free port (see port())
  size_t body_limit = 64 * 1024;
  int idle_timeout_ms = 60000;
  int header_timeout_ms = 10000;
  int request_timeout_ms = 15000;
  int linger_ms = 2000;
  int max_connections = 1024;
  int threads = 2;
  int worker_threads = 16;
  int shutdown_grace_ms = 10000;
  std::string tls_cert_file;  // PEM; TLS is on when both are set
  std::string tls_key_file;
};

using Handler = std::function<Response(const Request&)>;
using NeedsWorker = std::function<bool(const Request&)>;

class Server {
 public:
  Server(ServerOptions options, Handler handler, NeedsWorker needs_worker, common::Logger* logger);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts serving. InvalidArgument for a bad address or TLS files, Unavailable when
  // the port is taken.
  common::Status Start();
  std::uint16_t port() const;
  // Connections open now (for metrics).
  int open_connections() const;
  void Shutdown();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// "HOST:PORT" -> (host, port); InvalidArgument naming `flag` otherwise.
common::Status ParseListenAddress(std::string_view text, std::string_view flag, ServerOptions* options);

// Writes the bound port to `path` (durably, for scripts waiting on it).
common::Status WritePortFile(const std::string& path, std::uint16_t port);

}  // namespace keyledger::http
