#include "keyledger/api/http_server.h"

#include <boost/asio.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <chrono>
#include <optional>
#include <thread>
#include <vector>

#include "http_request.h"

namespace keyledger::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;
constexpr auto kTuple = asio::as_tuple(use_awaitable);

namespace {

// A plain coroutine function (not a capturing lambda): its arguments live in its own frame.
awaitable<HttpResponse> CallHandler(const Handler* handler, HttpRequest request) {
  co_return (*handler)(request);
}

awaitable<bool> NextChunk(const std::function<bool(std::string&)>* stream, std::string* chunk) {
  co_return (*stream)(*chunk);
}

}  // namespace

struct HttpServer::Impl {
  HttpServerOptions options;
  Handler handler;
  NeedsWorker needs_worker;
  common::Logger* logger;
  asio::io_context ioc;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  asio::thread_pool workers;
  std::optional<tcp::acceptor> acceptor;
  std::optional<ssl::context> tls;
  std::vector<std::thread> threads;
  std::atomic<int> in_flight{0};
  std::atomic<bool> stopping{false};
  std::uint16_t bound_port = 0;

  Impl(HttpServerOptions o, Handler h, NeedsWorker n, common::Logger* l)
      : options(std::move(o)), handler(std::move(h)), needs_worker(std::move(n)), logger(l),
        workers(static_cast<size_t>(std::max(1, options.worker_threads))) {}

  static http::response<http::string_body> ToBeast(const HttpResponse& res, unsigned version, bool keep_alive) {
    http::response<http::string_body> out{static_cast<http::status>(res.status), version};
    out.set(http::field::server, "keyledger");
    out.set(http::field::content_type, res.content_type);
    for (const auto& [k, v] : res.headers) out.set(k, v);
    out.keep_alive(keep_alive);
    out.body() = res.body;
    out.prepare_payload();
    return out;
  }

  awaitable<HttpResponse> Run(HttpRequest request) {
    if (needs_worker && needs_worker(request)) {
      // Blocking work runs on the worker pool; this coroutine resumes on its own executor.
      co_return co_await asio::co_spawn(workers, CallHandler(&handler, std::move(request)),
                                        use_awaitable);
    }
    co_return handler(request);
  }

  // A chunked response whose chunks are produced on the worker pool, one at a time, so a long
  // export neither blocks an event-loop thread nor sits in memory whole.
  template <class Stream>
  awaitable<bool> WriteStream(Stream& stream, HttpResponse& response, unsigned version, bool keep_alive) {
    http::response<http::empty_body> head{static_cast<http::status>(response.status), version};
    head.set(http::field::server, "keyledger");
    head.set(http::field::content_type, response.content_type);
    for (const auto& [k, v] : response.headers) head.set(k, v);
    head.keep_alive(keep_alive);
    head.chunked(true);
    http::response_serializer<http::empty_body> serializer{head};
    auto& lowest = beast::get_lowest_layer(stream);
    lowest.expires_after(std::chrono::milliseconds(options.request_timeout_ms));
    auto [hec, hn] = co_await http::async_write_header(stream, serializer, kTuple);
    if (hec) co_return false;
    while (true) {
      std::string chunk;
      bool more = co_await asio::co_spawn(workers, NextChunk(&response.stream, &chunk), use_awaitable);
      if (!chunk.empty()) {
        lowest.expires_after(std::chrono::milliseconds(options.request_timeout_ms));
        auto [cec, cn] = co_await asio::async_write(stream, http::make_chunk(asio::buffer(chunk)), kTuple);
        if (cec) co_return false;
      }
      if (!more) break;
    }
    auto [lec, ln] = co_await asio::async_write(stream, http::make_chunk_last(), kTuple);
    co_return !lec;
  }

  template <class Stream>
  awaitable<void> Serve(Stream& stream) {
    beast::flat_buffer buffer;
    auto& lowest = beast::get_lowest_layer(stream);
    while (!stopping) {
      http::request_parser<http::string_body> parser;
      LimitRequestParser(parser, options.body_limit);
      lowest.expires_after(std::chrono::milliseconds(options.idle_timeout_ms));
      auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, kTuple);
      if (!ec) {
        lowest.expires_after(std::chrono::milliseconds(options.request_timeout_ms));
        std::tie(ec, n) = co_await http::async_read(stream, buffer, parser, kTuple);
      }
      if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
          ec == asio::error::connection_reset || ec == asio::error::eof ||
          ec == asio::error::operation_aborted) {
        break;
      }
      if (ec) {
        int status = ec == http::error::body_limit ? 413 : ec == http::error::header_limit ? 431 : 400;
        std::string id = status == 413 ? "request_entity_too_large" : status == 431 ? "request_header_fields_too_large" : "bad_request";
        std::string message = status == 413 ? "request body is larger than " + std::to_string(options.body_limit) + " bytes"
                            : status == 431 ? "request headers are too large" : "malformed HTTP request: " + ec.message();
        HttpResponse error = ErrorResponse(status, id, message);
        auto res = ToBeast(error, 11, false);
        lowest.expires_after(std::chrono::seconds(5));
        co_await http::async_write(stream, res, kTuple);
        break;
      }
      http::request<http::string_body> req = parser.release();
      ++in_flight;
      HttpResponse response = co_await Run(ToHttpRequest(req));
      bool keep_alive = req.keep_alive() && !stopping;
      if (response.stream) {
        bool written = co_await WriteStream(stream, response, req.version(), keep_alive);
        --in_flight;
        if (!written || !keep_alive) break;
        continue;
      }
      auto res = ToBeast(response, req.version(), keep_alive);
      lowest.expires_after(std::chrono::milliseconds(options.request_timeout_ms));
      auto [wec, wn] = co_await http::async_write(stream, res, kTuple);
      --in_flight;
      if (wec || !keep_alive) break;
    }
  }

  awaitable<void> Session(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    if (tls) {
      beast::ssl_stream<beast::tcp_stream> secure(std::move(stream), *tls);
      beast::get_lowest_layer(secure).expires_after(std::chrono::milliseconds(options.request_timeout_ms));
      auto [ec] = co_await secure.async_handshake(ssl::stream_base::server, kTuple);
      if (ec) co_return;
      co_await Serve(secure);
      beast::get_lowest_layer(secure).expires_after(std::chrono::seconds(2));
      co_await secure.async_shutdown(kTuple);
    } else {
      co_await Serve(stream);
      beast::error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    }
  }

  awaitable<void> Accept() {
    while (acceptor && acceptor->is_open()) {
      // Each connection gets its own strand: the io_context runs on several threads, and a
      // session's reads, writes and timer callbacks must never run concurrently.
      auto [ec, socket] = co_await acceptor->async_accept(asio::make_strand(ioc), kTuple);
      if (ec) {
        if (ec == asio::error::operation_aborted || stopping) co_return;
        continue;
      }
      auto executor = socket.get_executor();
      asio::co_spawn(executor, Session(std::move(socket)), asio::detached);
    }
  }
};

HttpServer::HttpServer(HttpServerOptions options, Handler handler, NeedsWorker needs_worker,
                       common::Logger* logger)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler), std::move(needs_worker), logger)) {}

HttpServer::~HttpServer() { Shutdown(); }

common::Status HttpServer::Start() {
  Impl& s = *impl_;
  boost::system::error_code ec;
  auto address = asio::ip::make_address(s.options.address, ec);
  if (ec) return common::InvalidArgument("listen address " + s.options.address + " is not an IP address");
  if (!s.options.tls_cert_file.empty() || !s.options.tls_key_file.empty()) {
    s.tls.emplace(ssl::context::tls_server);
    s.tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    s.tls->use_certificate_chain_file(s.options.tls_cert_file, ec);
    if (ec) return common::InvalidArgument("TLS certificate " + s.options.tls_cert_file + ": " + ec.message());
    s.tls->use_private_key_file(s.options.tls_key_file, ssl::context::pem, ec);
    if (ec) return common::InvalidArgument("TLS key " + s.options.tls_key_file + ": " + ec.message());
  }
  s.acceptor.emplace(s.ioc);
  tcp::endpoint endpoint(address, s.options.port);
  s.acceptor->open(endpoint.protocol(), ec);
  if (!ec) s.acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) s.acceptor->bind(endpoint, ec);
  if (!ec) s.acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return common::Unavailable("cannot listen on " + s.options.address + ":" + std::to_string(s.options.port) + ": " + ec.message());
  s.bound_port = s.acceptor->local_endpoint().port();
  s.work.emplace(s.ioc.get_executor());
  asio::co_spawn(s.ioc, s.Accept(), asio::detached);
  for (int i = 0; i < std::max(1, s.options.threads); ++i) {
    s.threads.emplace_back([&s] { s.ioc.run(); });
  }
  return common::Status::Ok();
}

std::uint16_t HttpServer::port() const { return impl_->bound_port; }

void HttpServer::Shutdown() {
  Impl& s = *impl_;
  if (s.threads.empty()) return;
  s.stopping = true;
  asio::post(s.ioc, [&s] {
    boost::system::error_code ignored;
    if (s.acceptor) s.acceptor->close(ignored);
  });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(s.options.shutdown_grace_ms);
  while (s.in_flight > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  s.work.reset();
  s.ioc.stop();
  for (auto& t : s.threads) t.join();
  s.threads.clear();
  s.workers.join();
}

}  // namespace keyledger::api
