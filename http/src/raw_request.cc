#include "keyledger/http/raw_request.h"

#include <boost/asio/buffer.hpp>

#include "beast_request.h"

namespace keyledger::http {

ProblemOr<Request> ParseRawRequest(std::string_view bytes, size_t body_limit) {
  namespace bhttp = boost::beast::http;
  internal::BeastRequestParser parser;
  internal::LimitRequestParser(parser, body_limit);
  boost::beast::error_code ec;
  // Fed the way http::read feeds it when the client has sent `bytes` and closed: the unconsumed
  // bytes while the parser makes progress; at need_more the stream is at its end, so put_eof.
  // (Resuming after need_more with fewer new bytes than Beast expects trips an assertion in
  // Boost 1.81's chunk parser, boostorg/beast#2861; that needs a client sending in pieces.)
  while (!parser.is_done()) {
    size_t n = parser.put(boost::asio::buffer(bytes.data(), bytes.size()), ec);
    bytes.remove_prefix(n);
    if (!ec && n > 0) continue;
    if (ec && ec != bhttp::error::need_more) return internal::ParseProblem(ec, body_limit);
    if (!parser.got_some()) return Problem::BadRequest("malformed HTTP request: no request");
    ec = {};
    parser.put_eof(ec);
    if (ec) return internal::ParseProblem(ec, body_limit);
    if (!parser.is_done()) return Problem::BadRequest("malformed HTTP request: incomplete");
  }
  return internal::ToRequest(parser.get());
}

}  // namespace keyledger::http
