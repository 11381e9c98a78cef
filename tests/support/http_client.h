// A small blocking HTTP/1.1 client (Boost.Beast) for end-to-end tests: one connection per call.
#pragma once

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <functional>
#include <map>
#include <string>

namespace keyledger::testing {

struct HttpResult {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;
  std::string error;  // transport error, empty when a response arrived
};

// Connects to 127.0.0.1:port, lets `send` write the request, reads one response.
inline HttpResult HttpExchange(std::uint16_t port, const std::function<void(boost::beast::tcp_stream&)>& send) {
  namespace beast = boost::beast;
  namespace http = beast::http;
  HttpResult out;
  try {
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::resolver resolver(ioc);
    beast::tcp_stream stream(ioc);
    stream.expires_after(std::chrono::seconds(30));
    stream.connect(resolver.resolve("127.0.0.1", std::to_string(port)));
    send(stream);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    http::read(stream, buffer, parser);
    auto res = parser.release();
    out.status = static_cast<int>(res.result_int());
    out.body = res.body();
    for (const auto& f : res) out.headers[std::string(f.name_string())] = std::string(f.value());
    beast::error_code ec;
    stream.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
  } catch (const std::exception& e) {
    out.error = e.what();
  }
  return out;
}

inline HttpResult HttpCall(std::uint16_t port, const std::string& method, const std::string& target,
                           const std::string& body = "",
                           const std::map<std::string, std::string>& headers = {}) {
  namespace http = boost::beast::http;
  return HttpExchange(port, [&](boost::beast::tcp_stream& stream) {
    http::request<http::string_body> req{http::string_to_verb(method), target, 11};
    req.set(http::field::host, "127.0.0.1");
    for (const auto& [k, v] : headers) req.set(k, v);
    if (!body.empty() && headers.find("Content-Type") == headers.end()) {
      req.set(http::field::content_type, "application/json");
    }
    req.body() = body;
    req.prepare_payload();
    http::write(stream, req);
  });
}

// Sends `raw` (a whole HTTP/1.1 request, as bytes: repeated headers and all) and reads one
// response.
inline HttpResult RawHttpCall(std::uint16_t port, const std::string& raw) {
  return HttpExchange(port, [&](boost::beast::tcp_stream& stream) { boost::asio::write(stream, boost::asio::buffer(raw)); });
}

}  // namespace keyledger::testing
