// HTTP/1.1 server over Boost.Beast with C++20 coroutines, optional TLS (OpenSSL). It carries any
// handler: the admin API, the validator's check, or the bare reference server of the benchmarks.
//
// Limits: request bodies over `body_limit` are answered 413 and the connection closed; headers
// over 16 KiB are 431; a connection idle longer than `idle_timeout_ms` between requests or slower
// than `request_timeout_ms` within one is closed. Keep-alive follows HTTP/1.1.
//
// Threads: `threads` event-loop threads run the sessions; requests for which `needs_worker` is
// true run on a separate worker pool (they may block), the rest inline. Shutdown stops accepting,
// lets in-flight requests finish (up to `shutdown_grace_ms`), then stops the loops.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "keyledger/api/admin_api.h"
#include "keyledger/common/log.h"
#include "keyledger/common/status.h"

namespace keyledger::api {

struct HttpServerOptions {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8080;  // 0: any free port (see port())
  size_t body_limit = 64 * 1024;
  int idle_timeout_ms = 60000;
  int request_timeout_ms = 15000;
  int threads = 2;
  int worker_threads = 16;
  int shutdown_grace_ms = 10000;
  std::string tls_cert_file;  // PEM; TLS is on when both are set
  std::string tls_key_file;
};

using Handler = std::function<HttpResponse(const HttpRequest&)>;
using NeedsWorker = std::function<bool(const HttpRequest&)>;

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, Handler handler, NeedsWorker needs_worker,
             common::Logger* logger);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts serving. InvalidArgument for a bad address or TLS files, Unavailable when
  // the port is taken.
  common::Status Start();
  std::uint16_t port() const;
  void Shutdown();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace keyledger::api
