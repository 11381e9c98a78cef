#include "keyledger/http/client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <cctype>
#include <chrono>

#include "keyledger/common/text.h"

namespace keyledger::http {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;

constexpr size_t kMaxResponseBody = 64 << 20;

struct Url {
  bool tls = false;
  std::string host;
  std::string port;
  std::string target;
};

common::Result<Url> ParseUrl(std::string_view url) {
  Url out;
  if (common::StartsWithIgnoringCase(url, "https://")) {
    out.tls = true;
    url.remove_prefix(8);
  } else if (common::StartsWithIgnoringCase(url, "http://")) {
    url.remove_prefix(7);
  } else {
    return common::InvalidArgument("the URL must start with http:// or https://");
  }
  size_t slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  out.target = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  // host:port, [v6]:port, host, [v6]
  size_t bracket = authority.find(']');
  size_t colon = authority.rfind(':');
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
    out.host = std::string(authority.substr(0, colon));
    out.port = std::string(authority.substr(colon + 1));
  } else {
    out.host = std::string(authority);
    out.port = out.tls ? "443" : "80";
  }
  if (out.host.size() > 2 && out.host.front() == '[' && out.host.back() == ']') out.host = out.host.substr(1, out.host.size() - 2);
  if (out.host.empty() || !common::ParseInt64(out.port, 1, 65535)) {
    return common::InvalidArgument("the URL must name a host and a port from 1 to 65535");
  }
  return out;
}

template <typename Stream>
common::Result<ClientResponse> Exchange(Stream& stream, const Url& url, const ClientRequest& request) {
  bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(request.method), url.target, 11};
  req.set(bhttp::field::host, url.host);
  req.set(bhttp::field::user_agent, "keyledger");
  bool has_type = false;
  for (const auto& [k, v] : request.headers) {
    req.set(k, v);
    has_type = has_type || common::EqualsIgnoringCase(k, "content-type");
  }
  if (!request.body.empty() && !has_type) req.set(bhttp::field::content_type, "application/json");
  req.body() = request.body;
  req.prepare_payload();
  bhttp::write(stream, req);
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(kMaxResponseBody);
  bhttp::read(stream, buffer, parser);
  auto res = parser.release();
  ClientResponse out;
  out.status = static_cast<int>(res.result_int());
  out.body = std::move(res.body());
  for (const auto& f : res) {
    std::string name(f.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers[name] = std::string(f.value());
  }
  return out;
}

}  // namespace

common::Result<ClientResponse> Fetch(const ClientRequest& request) {
  KL_ASSIGN_OR_RETURN(Url url, ParseUrl(request.url));
  try {
    asio::io_context ioc;
    asio::ip::tcp::resolver resolver(ioc);
    auto endpoints = resolver.resolve(url.host, url.port);
    const auto timeout = std::chrono::milliseconds(request.timeout_ms);
    if (!url.tls) {
      beast::tcp_stream stream(ioc);
      stream.expires_after(timeout);
      stream.connect(endpoints);
      auto out = Exchange(stream, url, request);
      beast::error_code ec;
      stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
      return out;
    }
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    ctx.set_verify_mode(asio::ssl::verify_peer);
    if (request.ca_file.empty()) {
      ctx.set_default_verify_paths();
    } else {
      ctx.load_verify_file(request.ca_file);
    }
    beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
    if (!SSL_set_tlsext_host_name(stream.native_handle(), url.host.c_str())) {
      return common::Unavailable("cannot set the TLS server name " + url.host);
    }
    stream.set_verify_callback(asio::ssl::host_name_verification(url.host));
    beast::get_lowest_layer(stream).expires_after(timeout);
    beast::get_lowest_layer(stream).connect(endpoints);
    stream.handshake(asio::ssl::stream_base::client);
    auto out = Exchange(stream, url, request);
    beast::error_code ec;
    stream.shutdown(ec);
    return out;
  } catch (const std::exception& e) {
    return common::Unavailable(request.method + " " + url.host + ":" + url.port + url.target + ": " + e.what());
  }
}

}  // namespace keyledger::http
