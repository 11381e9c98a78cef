#include "keyledger/api/admin_api.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include <boost/json.hpp>

namespace keyledger::api {
namespace {

// Regression (found by fuzz_api_request): a path with raw bytes that are not UTF-8 (Beast's parser
// accepts them) or a query parameter name such as %FF was quoted into the error message as it
// was, and the response body was not valid JSON.
TEST(ErrorResponse, QuotedRequestBytesThatAreNotUtf8StillMakeValidJson) {
  HttpResponse r = ErrorResponse(404, "not_found", "api key 12\xff\xc3-x not found");
  EXPECT_EQ(r.status, 404);
  boost::system::error_code ec;
  boost::json::value body = boost::json::parse(r.body, ec);
  ASSERT_FALSE(ec) << r.body;
  EXPECT_EQ(body.at("id").as_string(), "not_found");
  EXPECT_EQ(body.at("message").as_string(), "api key 12\xEF\xBF\xBD\xEF\xBF\xBD-x not found");

  HttpResponse from_status = ErrorResponse(common::InvalidArgument("unknown query parameter \x80"));
  body = boost::json::parse(from_status.body, ec);
  ASSERT_FALSE(ec) << from_status.body;
  EXPECT_EQ(body.at("message").as_string(), "unknown query parameter \xEF\xBF\xBD");
}

// Regression (found by fuzz_api_request): every distinct request method, which any client can
// choose freely (HTTP accepts any token), added series to the metrics, so requests could grow
// memory and /metrics without bound.
TEST(Metrics, ClientChosenMethodsDoNotAddSeries) {
  Metrics metrics;
  metrics.Observe("/healthz", "GET", 200, 0.001);
  for (int i = 0; i < 1000; ++i) metrics.Observe("/healthz", "GET" + std::to_string(i), 405, 0.001);
  std::string text = metrics.Render();
  EXPECT_NE(text.find(R"(keyledger_http_requests_total{route="/healthz",method="GET",status="200"} 1)"),
            std::string::npos) << text;
  EXPECT_NE(text.find(R"(keyledger_http_requests_total{route="/healthz",method="other",status="405"} 1000)"),
            std::string::npos) << text;
  EXPECT_LT(std::count(text.begin(), text.end(), '\n'), 40) << text;
}

TEST(AdminApiThreads, BlockingRequestsRunOnWorkersAndPlainReadsOnTheEventLoop) {
  auto request = [](std::string method, std::string target) {
    HttpRequest r;
    r.method = std::move(method);
    r.target = std::move(target);
    return r;
  };
  // Commands wait for the log and the projector; /readyz may wait up to a second for the
  // projector; audit queries page through many events.
  EXPECT_TRUE(AdminApi::NeedsWorker(request("POST", "/v2/gen-ai/models/api_keys")));
  EXPECT_TRUE(AdminApi::NeedsWorker(request("DELETE", "/v2/gen-ai/models/api_keys/k")));
  EXPECT_TRUE(AdminApi::NeedsWorker(request("GET", "/readyz")));
  EXPECT_TRUE(AdminApi::NeedsWorker(request("GET", "/readyz?verbose=1")));
  EXPECT_TRUE(AdminApi::NeedsWorker(request("GET", "/v2/gen-ai/audit/events?team=t")));
  EXPECT_FALSE(AdminApi::NeedsWorker(request("GET", "/healthz")));
  EXPECT_FALSE(AdminApi::NeedsWorker(request("GET", "/metrics")));
  EXPECT_FALSE(AdminApi::NeedsWorker(request("GET", "/readyzz")));
  EXPECT_FALSE(AdminApi::NeedsWorker(request("GET", "/v2/gen-ai/models/api_keys/k")));
}

}  // namespace
}  // namespace keyledger::api
