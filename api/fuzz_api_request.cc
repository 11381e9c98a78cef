// libFuzzer target: the admin API's request handling (admin_api.h) in process, without a network
// or a broker. Bytes go through the server's own request side (http/raw_request.h: Beast's parser
// with the server's body and header limits) or are read as a plain "METHOD TARGET / header lines /
// blank line / body" text that puts the fuzzer straight onto paths, query strings and JSON
// bodies. AdminApi::Handle then routes, authenticates, parses the query and body and validates
// them, on the in-memory fakes of its two interfaces (testing/fakes.h): the read side is empty,
// and the command sink is a writer that is not running, so a command that passes validation is
// answered 503 and nothing past the parse and validation layer runs.
// Byte 0 picks the caller whose valid token is put into Authorization (bits 0-1: team owner,
// team member, another team's owner, or the header as sent) and the input form (bit 2: raw HTTP
// or plain text). Invariants, each a __builtin_trap when broken: Handle never crashes and never
// answers 500 (an exception or an internal error caused by input); every JSON response parses
// and every error carries string "id" and "message"; no command succeeds; no response echoes the
// caller's token; a streamed body ends.
// Build with the `fuzz` preset; run: build/fuzz/api/fuzz_api_request
// build/fuzz/fuzz-corpus/fuzz_api_request (the build tree's copy of tests/fuzz/api_request).
#include <boost/json.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "keyledger/api/admin_api.h"
#include "keyledger/api/jwt.h"
#include "keyledger/common/clock.h"
#include "keyledger/common/crypto.h"
#include "keyledger/common/log.h"
#include "keyledger/events/catalog.h"
#include "keyledger/http/metrics.h"
#include "keyledger/http/raw_request.h"
#include "keyledger/http/server.h"
#include "testing/fakes.h"

namespace {

namespace api = keyledger::api;
namespace common = keyledger::common;
namespace http = keyledger::http;

constexpr std::int64_t kNow = 1800000000;
constexpr char kJwtSecret[] = "fuzz-api-hs256-secret-0123456789abcdef";
// 15 routes (with "unmatched") x 8 methods x 13 statuses of request counts, plus 16 histogram
// lines per route, with room to spare.
constexpr size_t kMaxMetricsLines = 2500;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

struct Harness {
  common::ManualClock clock{kNow * 1000000};
  common::SeededRandom random{7};
  std::FILE* log_sink = std::fopen("/dev/null", "w");
  common::Logger logger{log_sink, &clock, common::LogLevel::kError};
  keyledger::events::Catalog catalog = keyledger::events::Catalog::Default();
  std::unique_ptr<api::JwtVerifier> jwt;
  api::testing::FakeLedger ledger{&catalog, &clock, &random};
  http::RequestMetrics metrics;
  std::unique_ptr<api::AdminApi> admin;
  std::string tokens[3];
  size_t body_limit = http::ServerOptions{}.body_limit;

  Harness() {
    auto verifier = api::JwtVerifier::Create(api::JwtConfig{kJwtSecret, "", "", "", 30}, &clock);
    Check(verifier.ok());
    jwt = std::move(*verifier);
    ledger.SetWriterState(keyledger::writer::WriterState::kStopped);
    api::AdminApiOptions options;
    options.command_wait_ms = 0;
    options.commands_per_second_per_user = 0;  // no rate limit: every input reaches validation
    admin = std::make_unique<api::AdminApi>(options, &ledger, &ledger, &catalog, jwt.get(), &clock, &random, &logger,
                                            &metrics);
    const char* roles[3][3] = {{"u-owner", "team-a", "owner"}, {"u-member", "team-a", "member"},
                               {"u-other", "team-b", "owner"}};
    for (int i = 0; i < 3; ++i) {
      api::TokenClaims claims{roles[i][0], roles[i][0], roles[i][1], roles[i][2], kNow + 3600, "", ""};
      tokens[i] = api::MintHs256(claims, kJwtSecret);
    }
  }

  static Harness& Get() {
    static Harness* harness = new Harness();
    return *harness;
  }
};

// "METHOD TARGET\nname: value\n...\n\nbody"
http::Request ParsePlain(std::string_view text) {
  http::Request request;
  auto line = [&text]() {
    size_t nl = text.find('\n');
    std::string_view l = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    return l;
  };
  std::string_view first = line();
  size_t space = first.find(' ');
  request = http::Request::For(std::string(first.substr(0, space)),
                               space == std::string_view::npos ? "" : std::string(first.substr(space + 1)));
  while (!text.empty()) {
    std::string_view header = line();
    if (header.empty()) break;
    size_t colon = header.find(':');
    std::string name(header.substr(0, colon));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view value = colon == std::string_view::npos ? "" : header.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    request.headers.emplace_back(name, std::string(value));
  }
  request.body = std::string(text);
  return request;
}

// Prints the exchange (what a finding needs for triage) and stops.
[[noreturn]] void Fail(const char* broken, const http::Request& request, const http::Response& response) {
  std::fprintf(stderr, "fuzz_api_request: %s\nrequest: %s %s\n", broken, request.method.c_str(),
               request.target.c_str());
  for (const auto& [name, value] : request.headers) {
    std::fprintf(stderr, "  %s: %s\n", name.c_str(), value.c_str());
  }
  std::fprintf(stderr, "body: %s\nresponse: %d %s\n%s\n", request.body.c_str(), response.status,
               response.content_type.c_str(), response.body.c_str());
  __builtin_trap();
}

void CheckResponse(const http::Request& request, http::Response& response, const std::string* token) {
  switch (response.status) {
    case 200: case 400: case 401: case 403: case 404: case 405: case 409: case 410: case 413:
    case 415: case 429: case 503:
      break;
    default:
      Fail("unexpected status (500: an exception or internal error caused by input)", request,
           response);
  }
  bool command = request.method == "POST" || request.method == "PUT" || request.method == "DELETE";
  if (command && response.status == 200) {
    Fail("a command succeeded without a writer", request, response);
  }
  if (response.stream) {
    std::string all;
    int chunks = 0;
    while (response.stream(all)) {
      if (++chunks > 1000) Fail("the streamed body does not end", request, response);
    }
    response.body = all;
  }
  if (token != nullptr && response.body.find(*token) != std::string::npos) {
    Fail("the response echoes the caller's token", request, response);
  }
  if (response.content_type == "application/json") {
    boost::system::error_code ec;
    boost::json::value body = boost::json::parse(response.body, ec);
    if (ec || !body.is_object()) Fail("the JSON response is not a JSON object", request, response);
    // /readyz answers 503 with its own {"status","reason"} body, by design.
    if (response.status >= 400 && request.target.rfind("/readyz", 0) != 0) {
      const auto* id = body.as_object().if_contains("id");
      const auto* message = body.as_object().if_contains("message");
      if (!id || !id->is_string() || !message || !message->is_string()) {
        Fail("the error response lacks a string id and message", request, response);
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Harness& h = Harness::Get();
  if (size < 1) return 0;
  std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::optional<http::Request> request;
  if (data[0] & 4) {
    request = ParsePlain(bytes);
  } else {
    auto raw = http::ParseRawRequest(bytes, h.body_limit);
    if (!raw.ok()) return 0;  // the server answers these itself (400, 413, 431)
    request = std::move(*raw);
  }
  const std::string* token = nullptr;
  if ((data[0] & 3) != 3) {
    token = &h.tokens[data[0] & 3];
    std::erase_if(request->headers, [](const auto& header) { return header.first == "authorization"; });
    request->headers.emplace_back("authorization", "Bearer " + *token);
  }
  (void)h.admin->NeedsWorker(*request);
  http::Response response = h.admin->Handle(*request);
  // FUZZ_API_REQUEST_TRACE=1 prints each exchange, to see where the seeds lead.
  static const bool trace = std::getenv("FUZZ_API_REQUEST_TRACE") != nullptr;
  if (trace) {
    std::fprintf(stderr, "%s %s -> %d %s\n", request->method.c_str(), request->target.c_str(),
                 response.status, response.body.substr(0, 160).c_str());
  }
  CheckResponse(*request, response, token);
  // The metrics stay bounded whatever the requests: routes, methods and statuses are few.
  static std::uint64_t handled = 0;
  if (++handled % 512 == 0) {
    http::MetricsText rendered;
    h.metrics.Render(rendered);
    std::string text = rendered.Take();
    size_t lines = static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
    if (lines > kMaxMetricsLines) {
      std::fprintf(stderr, "fuzz_api_request: %zu lines of metrics after %llu requests\n%s\n", lines,
                   static_cast<unsigned long long>(handled), text.substr(0, 4000).c_str());
      __builtin_trap();
    }
  }
  return 0;
}
