#include "keyledger/http/server.h"

#include "keyledger/common/secret.h"

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

#include <sys/socket.h>

#include "beast_request.h"
#include "keyledger/common/files.h"
#include "keyledger/common/text.h"

namespace keyledger::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;
constexpr auto kTuple = asio::as_tuple(use_awaitable);

namespace {

// At most this much of what a client still sends after an error answer is read and dropped.
constexpr size_t kMaxLingerBytes = 64u << 20;

// A plain coroutine function (not a capturing lambda): its arguments live in its own frame.
awaitable<Response> CallHandler(const Handler* handler, Request request) { co_return (*handler)(request); }

awaitable<bool> NextChunk(const std::function<bool(std::string&)>* stream, std::string* chunk) {
  co_return (*stream)(*chunk);
}

template <class Message>
void SetHeaders(Message& out, const Response& res, bool keep_alive) {
  out.set(bhttp::field::server, "keyledger");
  out.set(bhttp::field::content_type, res.content_type);
  for (const auto& [k, v] : res.headers) out.insert(k, v);
  out.keep_alive(keep_alive);
}

// Takes the body over (no copy of a secret is left behind in `res`).
bhttp::response<bhttp::string_body> ToBeast(Response& res, unsigned version, bool keep_alive) {
  bhttp::response<bhttp::string_body> out{static_cast<bhttp::status>(res.status), version};
  SetHeaders(out, res, keep_alive);
  out.body() = std::move(res.body);
  out.prepare_payload();
  return out;
}

// Half-closes a plain connection once its last answer is written. Through the system call:
// g++ 12 with -fsanitize=address,undefined mistakes the shutdown type for `this` in
// basic_socket::shutdown (UBSan: "member access within misaligned address 0x1").
void ShutdownSend(beast::tcp_stream& stream) {
  if (stream.socket().is_open()) ::shutdown(stream.socket().native_handle(), SHUT_WR);
}

}  // namespace

struct Server::Impl {
  ServerOptions options;
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
  std::atomic<int> connections{0};
  std::atomic<bool> stopping{false};
  std::uint16_t bound_port = 0;

  Impl(ServerOptions o, Handler h, NeedsWorker n, common::Logger* l)
      : options(std::move(o)), handler(std::move(h)), needs_worker(std::move(n)), logger(l),
        workers(static_cast<size_t>(std::max(1, options.worker_threads))) {}

  awaitable<Response> Run(Request request) {
    if (needs_worker && needs_worker(request)) {
      // Blocking work runs on the worker pool; this coroutine resumes on its own executor.
      co_return co_await asio::co_spawn(workers, CallHandler(&handler, std::move(request)), use_awaitable);
    }
    co_return handler(request);
  }

  // A chunked response whose chunks are produced on the worker pool, one at a time, so a long
  // export neither blocks an event-loop thread nor sits in memory whole.
  template <class Stream>
  awaitable<bool> WriteStream(Stream& stream, Response& response, unsigned version, bool keep_alive) {
    bhttp::response<bhttp::empty_body> head{static_cast<bhttp::status>(response.status), version};
    SetHeaders(head, response, keep_alive);
    head.chunked(true);
    bhttp::response_serializer<bhttp::empty_body> serializer{head};
    auto& lowest = beast::get_lowest_layer(stream);
    lowest.expires_after(std::chrono::milliseconds(options.request_timeout_ms));
    auto [hec, hn] = co_await bhttp::async_write_header(stream, serializer, kTuple);
    if (hec) co_return false;
    while (true) {
      std::string chunk;
      bool more = co_await asio::co_spawn(workers, NextChunk(&response.stream, &chunk), use_awaitable);
      if (!chunk.empty()) {
        lowest.expires_after(std::chrono::milliseconds(options.request_timeout_ms));
        auto [cec, cn] = co_await asio::async_write(stream, bhttp::make_chunk(asio::buffer(chunk)), kTuple);
        if (cec) co_return false;
      }
      if (!more) break;
    }
    auto [lec, ln] = co_await asio::async_write(stream, bhttp::make_chunk_last(), kTuple);
    co_return !lec;
  }

  // Lingering close: reads and drops what the client still sends (up to linger_ms and
  // kMaxLingerBytes), so that it reads our answer instead of a reset from unread data.
  template <class Stream>
  awaitable<void> Linger(Stream& stream) {
    auto& lowest = beast::get_lowest_layer(stream);
    lowest.expires_after(std::chrono::milliseconds(options.linger_ms));
    std::vector<char> sink(64 * 1024);
    size_t drained = 0;
    while (drained < kMaxLingerBytes) {
      auto [ec, n] = co_await stream.async_read_some(asio::buffer(sink), kTuple);
      if (ec) break;
      drained += n;
    }
  }

  template <class Stream>
  awaitable<void> WriteError(Stream& stream, Response error) {
    auto res = ToBeast(error, 11, false);
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(5));
    auto [ec, n] = co_await bhttp::async_write(stream, res, kTuple);
    if (!ec) co_await Linger(stream);
  }

  template <class Stream>
  awaitable<void> Serve(Stream& stream) {
    beast::flat_buffer buffer;
    auto& lowest = beast::get_lowest_layer(stream);
    bool first = true;
    while (!stopping) {
      internal::BeastRequestParser parser;
      internal::LimitRequestParser(parser, options.body_limit);
      // The first request's headers must come within header_timeout_ms; later ones may wait
      // idle_timeout_ms for the client to send anything.
      lowest.expires_after(std::chrono::milliseconds(first ? options.header_timeout_ms : options.idle_timeout_ms));
      first = false;
      auto [ec, n] = co_await bhttp::async_read_header(stream, buffer, parser, kTuple);
      if (!ec) {
        lowest.expires_after(std::chrono::milliseconds(options.request_timeout_ms));
        std::tie(ec, n) = co_await bhttp::async_read(stream, buffer, parser, kTuple);
      }
      if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
          ec == asio::error::connection_reset || ec == asio::error::eof ||
          ec == asio::error::operation_aborted) {
        break;
      }
      if (ec) {
        co_await WriteError(stream, internal::ParseProblem(ec, options.body_limit).ToResponse());
        break;
      }
      internal::BeastRequest req = parser.release();
      ++in_flight;
      Response response = co_await Run(internal::ToRequest(req));
      bool keep_alive = req.keep_alive() && !stopping && !response.close;
      if (response.stream) {
        bool written = co_await WriteStream(stream, response, req.version(), keep_alive);
        --in_flight;
        if (!written || !keep_alive) break;
        continue;
      }
      auto res = ToBeast(response, req.version(), keep_alive);
      lowest.expires_after(std::chrono::milliseconds(options.request_timeout_ms));
      auto [wec, wn] = co_await bhttp::async_write(stream, res, kTuple);
      // A secret shown once is not left in freed memory (the TLS layer's copy is OpenSSL's,
      // which frees its record buffers cleansed).
      if (response.sensitive) common::Wipe(res.body());
      --in_flight;
      if (wec) break;
      if (response.close) {
        co_await Linger(stream);
        break;
      }
      if (!keep_alive) break;
    }
  }

  awaitable<void> Session(tcp::socket socket) {
    struct Count {
      std::atomic<int>& n;
      ~Count() { --n; }
    } count{connections};
    beast::tcp_stream stream(std::move(socket));
    if (connections.load() > options.max_connections) {
      Response busy = ErrorResponse(503, "too_many_connections",
                                    "the server is at its limit of " + std::to_string(options.max_connections) +
                                        " connections; retry");
      busy.headers.emplace_back("Retry-After", "1");
      if (!tls) co_await WriteError(stream, busy);
      co_return;
    }
    if (tls) {
      beast::ssl_stream<beast::tcp_stream> secure(std::move(stream), *tls);
      beast::get_lowest_layer(secure).expires_after(std::chrono::milliseconds(options.header_timeout_ms));
      auto [ec] = co_await secure.async_handshake(ssl::stream_base::server, kTuple);
      if (ec) co_return;
      co_await Serve(secure);
      beast::get_lowest_layer(secure).expires_after(std::chrono::seconds(2));
      co_await secure.async_shutdown(kTuple);
    } else {
      co_await Serve(stream);
      ShutdownSend(stream);
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
      ++connections;
      auto executor = socket.get_executor();
      asio::co_spawn(executor, Session(std::move(socket)), asio::detached);
    }
  }
};

Server::Server(ServerOptions options, Handler handler, NeedsWorker needs_worker, common::Logger* logger)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler), std::move(needs_worker), logger)) {}

Server::~Server() { Shutdown(); }

common::Status Server::Start() {
  Impl& s = *impl_;
  boost::system::error_code ec;
  auto address = asio::ip::make_address(s.options.address, ec);
  if (ec) return common::InvalidArgument("listen address " + s.options.address + " is not an IP address");
  if (!s.options.tls_cert_file.empty() || !s.options.tls_key_file.empty()) {
    s.tls.emplace(ssl::context::tls_server);
    s.tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                       ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
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
  if (ec) {
    return common::Unavailable("cannot listen on " + s.options.address + ":" + std::to_string(s.options.port) +
                               ": " + ec.message());
  }
  s.bound_port = s.acceptor->local_endpoint().port();
  s.work.emplace(s.ioc.get_executor());
  asio::co_spawn(s.ioc, s.Accept(), asio::detached);
  for (int i = 0; i < std::max(1, s.options.threads); ++i) {
    s.threads.emplace_back([&s] { s.ioc.run(); });
  }
  return common::Status::Ok();
}

std::uint16_t Server::port() const { return impl_->bound_port; }

int Server::open_connections() const { return impl_->connections.load(); }

void Server::Shutdown() {
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

common::Status ParseListenAddress(std::string_view text, std::string_view flag, ServerOptions* options) {
  size_t colon = text.rfind(':');
  auto port = colon == std::string_view::npos ? std::nullopt : common::ParseInt64(text.substr(colon + 1), 0, 65535);
  if (colon == 0 || !port) {
    return common::InvalidArgument(std::string(flag) + " takes HOST:PORT (port 0 to 65535), not '" +
                                   std::string(text) + "'");
  }
  options->address = std::string(text.substr(0, colon));
  options->port = static_cast<std::uint16_t>(*port);
  return common::Status::Ok();
}

common::Status WritePortFile(const std::string& path, std::uint16_t port) {
  return common::DefaultFileSystem()->WriteFileDurably(path, std::to_string(port) + "\n");
}

}  // namespace keyledger::http
