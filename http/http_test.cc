#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <atomic>
#include <thread>

#include "keyledger/common/clock.h"
#include "keyledger/common/log.h"
#include "keyledger/http/json_body.h"
#include "keyledger/http/metrics.h"
#include "keyledger/http/query.h"
#include "keyledger/http/raw_request.h"
#include "keyledger/http/router.h"
#include "keyledger/http/server.h"
#include "support/http_client.h"

namespace keyledger::http {
namespace {

namespace json = boost::json;

Response Text(std::string body) {
  Response r;
  r.content_type = "text/plain";
  r.body = std::move(body);
  return r;
}

TEST(Router, MatchesLiteralsParametersAndTypedParameters) {
  Router router;
  EXPECT_EQ(router.Add("GET", "/keys"), 0u);
  EXPECT_EQ(router.Add("GET", "/keys/{id:uuid}"), 1u);
  router.Add("PUT", "/keys/{id:uuid}");
  router.Add("GET", "/keys/{id:uuid}/events");
  router.Add("GET", "/keys/special");
  router.Add("GET", "/healthz", {.public_route = true});

  auto m = router.Find("GET", "/keys/6f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f");
  ASSERT_NE(m.route, nullptr);
  EXPECT_TRUE(m.bad_param.empty());
  EXPECT_EQ(m.params.Get("id"), "6f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f");
  EXPECT_EQ(m.route->pattern, "/keys/{id:uuid}");
  EXPECT_EQ(m.route->index, 1u);
  EXPECT_FALSE(m.public_path);
  EXPECT_TRUE(router.Find("POST", "/healthz").public_path);

  auto literal = router.Find("GET", "/keys/special");
  ASSERT_NE(literal.route, nullptr);
  EXPECT_EQ(literal.route->pattern, "/keys/special");

  auto bad = router.Find("GET", "/keys/not-a-uuid/events");
  ASSERT_NE(bad.route, nullptr);
  EXPECT_EQ(bad.bad_param, "id");
  EXPECT_EQ(bad.bad_value, "not-a-uuid");

  auto wrong_method = router.Find("DELETE", "/keys/6f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f");
  EXPECT_EQ(wrong_method.route, nullptr);
  EXPECT_TRUE(wrong_method.path_known);
  EXPECT_EQ(wrong_method.allow, "GET, PUT");

  for (const char* unknown : {"/", "/keys/", "/keys//events", "/keys/a/b/c", "/other"}) {
    auto none = router.Find("GET", unknown);
    EXPECT_EQ(none.route, nullptr) << unknown;
    EXPECT_FALSE(none.path_known) << unknown;
  }
  EXPECT_EQ(router.NameOf("/keys/x/events"), "/keys/{id}/events");
  EXPECT_EQ(router.NameOf("/nope"), "");
}

TEST(Query, DecodesLooksUpAndTypesParameters) {
  Query q = Query::Parse("view=team&page=2&name=a%20b+c&empty=&page=3");
  EXPECT_EQ(q.Get("view"), "team");
  EXPECT_EQ(q.Get("name"), "a b c");
  EXPECT_EQ(q.Get("page"), "3");  // the last of a repeated parameter
  EXPECT_TRUE(q.Has("empty"));
  EXPECT_EQ(*q.Int("page", 1, 10, 1), 3);
  EXPECT_EQ(*q.Int("per_page", 1, 10, 7), 7);
  auto bad = Query::Parse("page=0").Int("page", 1, 10, 1);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.problem().message, "page must be an integer from 1 to 10");
  auto unknown = q.OnlyKnown({"view", "page", "name"});
  ASSERT_TRUE(unknown.has_value());
  EXPECT_EQ(unknown->message, "unknown query parameter empty");
}

TEST(JsonBody, RefusesWhatIsNotAKnownJsonObject) {
  Request r = Request::For("POST", "/x", R"({"name":"a","extra":1})");
  EXPECT_EQ(ParseJsonObject(r, {true, {"name"}}).problem().status, 415);
  r.headers.emplace_back("content-type", "application/json; charset=utf-8");
  auto unknown = ParseJsonObject(r, {true, {"name"}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.problem().message, "unknown field \"extra\"");
  EXPECT_TRUE(ParseJsonObject(r, {true, {"name", "extra"}}).ok());
  r.body = "[1]";
  EXPECT_EQ(ParseJsonObject(r, {true, {}}).problem().message, "request body must be a JSON object");
  r.body = std::string(40, '[') + std::string(40, ']');
  EXPECT_EQ(ParseJsonObject(r, {true, {}}).problem().message, "request body is nested too deeply");
  r.body = "";
  EXPECT_EQ(ParseJsonObject(r, {true, {}}).problem().message, "request body is required (a JSON object)");
  EXPECT_TRUE(ParseJsonObject(r, {false, {}}).ok());

  json::object body{{"name", 5}, {"flag", "yes"}};
  EXPECT_EQ(StringField(body, "name", true).problem().message, "name must be a string");
  EXPECT_EQ(StringField(body, "other", true).problem().message, "other is required");
  EXPECT_EQ(BoolField(body, "flag", false).problem().message, "flag must be true or false");
  EXPECT_TRUE(*BoolField(body, "absent", true));
}

TEST(ErrorResponse, QuotedRequestBytesThatAreNotUtf8StillMakeValidJson) {
  Response r = ErrorResponse(404, "not_found", "api key 12\xff\xc3-x not found");
  EXPECT_EQ(r.status, 404);
  boost::system::error_code ec;
  json::value body = json::parse(r.body, ec);
  ASSERT_FALSE(ec) << r.body;
  EXPECT_EQ(body.at("id").as_string(), "not_found");
  EXPECT_EQ(body.at("message").as_string(), "api key 12\xEF\xBF\xBD\xEF\xBF\xBD-x not found");
}

TEST(MetricsText, EveryFamilyHasHelpAndTypeAndLabelsAreEscaped) {
  MetricsText m;
  m.Counter("a_total", "A counter.", 3);
  m.Family("b", "gauge", "A gauge.");
  m.Sample("b", {{"path", "x\"y\\z\n"}}, 0.25);
  std::string text = m.Take();
  EXPECT_EQ(text,
            "# HELP a_total A counter.\n# TYPE a_total counter\na_total 3\n"
            "# HELP b A gauge.\n# TYPE b gauge\nb{path=\"x\\\"y\\\\z\\n\"} 0.25\n");
  EXPECT_EQ(FormatMetricValue(0.0005), "0.0005");
  EXPECT_EQ(FormatMetricValue(12345678901.0), "12345678901");
}

TEST(MetricsText, ProcessMetricsDescribeThisProcess) {
  MetricsText m;
  m.ProcessMetrics();
  std::string text = m.Take();
  for (const char* name : {"process_cpu_seconds_total", "process_resident_memory_bytes", "process_virtual_memory_bytes",
                           "process_open_fds", "process_max_fds", "process_start_time_seconds"}) {
    EXPECT_NE(text.find(std::string("# TYPE ") + name), std::string::npos) << name;
  }
  EXPECT_EQ(text.find("process_resident_memory_bytes 0\n"), std::string::npos) << text;
}

// Regression (found by fuzz_api_request): every distinct request method, which any client can
// choose freely (HTTP accepts any token), added series to the metrics, so requests could grow
// memory and /metrics without bound.
TEST(RequestMetrics, ClientChosenMethodsDoNotAddSeries) {
  RequestMetrics metrics;
  metrics.Observe("/healthz", "GET", 200, 0.001);
  for (int i = 0; i < 1000; ++i) metrics.Observe("/healthz", "GET" + std::to_string(i), 405, 0.001);
  MetricsText out;
  metrics.Render(out);
  std::string text = out.Take();
  EXPECT_NE(text.find(R"(keyledger_http_requests_total{route="/healthz",method="GET",status="200"} 1)"),
            std::string::npos) << text;
  EXPECT_NE(text.find(R"(keyledger_http_requests_total{route="/healthz",method="other",status="405"} 1000)"),
            std::string::npos) << text;
  EXPECT_LT(std::count(text.begin(), text.end(), '\n'), 40) << text;
}

TEST(RawRequest, ParsesWithTheServersLimitsAndKeepsRepeatedHeaders) {
  auto r = ParseRawRequest("GET /a?b=1 HTTP/1.1\r\nHost: x\r\nX-Dup: 1\r\nx-dup: 2\r\n\r\n", 1024);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->path, "/a");
  EXPECT_EQ(r->query, "b=1");
  EXPECT_EQ(r->HeaderCount("x-dup"), 2u);
  EXPECT_EQ(r->Header("x-dup"), "1");
  auto big = ParseRawRequest("POST / HTTP/1.1\r\nContent-Length: 2000\r\n\r\n" + std::string(2000, 'a'), 1024);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.problem().status, 413);
  EXPECT_EQ(ParseRawRequest("GARBAGE\r\n\r\n", 1024).problem().status, 400);
  EXPECT_EQ(ParseRawRequest("GET / HTTP/1.1\r\nX: " + std::string(20000, 'a') + "\r\n\r\n", 1024).problem().status, 431);
}

class ServerTest : public ::testing::Test {
 protected:
  void Start(ServerOptions options, Handler handler) {
    options.port = 0;
    server_ = std::make_unique<Server>(options, std::move(handler), [](const Request& r) { return r.path == "/slow"; },
                                       &logger_);
    ASSERT_TRUE(server_->Start().ok());
  }
  common::SystemClock clock_;
  common::Logger logger_{stderr, &clock_, common::LogLevel::kWarn};
  std::unique_ptr<Server> server_;
};

TEST_F(ServerTest, AnswersRequestsAndPassesRepeatedHeadersThrough) {
  Start({}, [](const Request& r) {
    Response res = Text(r.method + " " + r.path + " " + std::to_string(r.HeaderCount("x-dup")));
    res.headers.emplace_back("Set-Cookie", "a=1");
    res.headers.emplace_back("Set-Cookie", "b=2");
    return res;
  });
  auto r = testing::HttpCall(server_->port(), "GET", "/hello?x=1", "", {{"X-Dup", "1"}});
  EXPECT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.body, "GET /hello 1");
}

// Regression: a client that writes its whole (oversized) body before reading, as Python's
// urllib and many SDKs do, got a connection reset instead of the 413, because the server closed
// with unread data. The lingering close reads and drops the rest first.
TEST_F(ServerTest, AClientThatSendsAnOversizedBodyFirstStillReadsThe413) {
  ServerOptions options;
  options.body_limit = 1024;
  Start(options, [](const Request&) { return Text("never"); });
  auto r = testing::HttpCall(server_->port(), "POST", "/upload", std::string(8 << 20, 'a'),
                             {{"Content-Type", "application/json"}});
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.status, 413);
  EXPECT_NE(r.body.find("request_entity_too_large"), std::string::npos) << r.body;
}

TEST_F(ServerTest, ConnectionsBeyondTheCapAreAnswered503) {
  ServerOptions options;
  options.max_connections = 2;
  std::atomic<bool> release{false};
  Start(options, [&](const Request& r) {
    if (r.path == "/slow") {
      while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return Text("ok");
  });
  std::uint16_t port = server_->port();
  std::thread a([&] { testing::HttpCall(port, "GET", "/slow"); });
  std::thread b([&] { testing::HttpCall(port, "GET", "/slow"); });
  for (int i = 0; i < 200 && server_->open_connections() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(server_->open_connections(), 2);
  auto third = testing::HttpCall(port, "GET", "/fast");
  EXPECT_EQ(third.status, 503) << third.error;
  EXPECT_NE(third.body.find("too_many_connections"), std::string::npos);
  release = true;
  a.join();
  b.join();
  for (int i = 0; i < 200 && server_->open_connections() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(testing::HttpCall(port, "GET", "/fast").status, 200);
}

TEST(ListenAddress, NeedsHostAndPort) {
  ServerOptions o;
  EXPECT_TRUE(ParseListenAddress("127.0.0.1:0", "--listen", &o).ok());
  EXPECT_EQ(o.address, "127.0.0.1");
  EXPECT_EQ(o.port, 0);
  for (const char* bad : {"127.0.0.1", ":80", "127.0.0.1:x", "127.0.0.1:70000"}) {
    common::Status s = ParseListenAddress(bad, "--listen", &o);
    EXPECT_EQ(s.code(), common::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(s.message().find("--listen"), std::string::npos);
  }
}

}  // namespace
}  // namespace keyledger::http
