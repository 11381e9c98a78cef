// End-to-end: a validator cut off from its brokers (a TCP proxy the test owns in front of a
// private broker's CUT listener) while an owner deletes a key through the API, which still
// reaches the broker. Within --max-staleness + 1 s the replica stops vouching: it denies the
// deleted secret (deny mode, reason `stale`) or reports not ready (allow mode); once the proxy is
// back it catches up, denies the old secret and allows the others.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <chrono>
#include <thread>

#include "support/e2e.h"
#include "support/private_broker.h"
#include "support/tcp_proxy.h"

namespace keyledger {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using testing::HttpCall;
using testing::HttpResult;

constexpr int kMaxStalenessMs = 2000;

struct Key {
  std::string id, secret;
};

class PartitionedValidator : public ::testing::Test {
 protected:
  void SetUp() override {
    proxy_port_ = testing::TcpProxy::FreePort();
    broker_ = std::make_unique<testing::PrivateBroker>("127.0.0.1:" + std::to_string(proxy_port_));
    ASSERT_TRUE(broker_->ok() && broker_->cut_port() != 0) << "the private broker did not start";
    proxy_ = std::make_unique<testing::TcpProxy>(proxy_port_, broker_->cut_port());
    ASSERT_TRUE(proxy_->listening()) << "the proxy cannot listen on port " << proxy_port_;
    api_ = std::make_unique<testing::ServerProcess>(broker_->bootstrap(), "keyledger.key-events", dir_.path());
    ASSERT_TRUE(api_->WaitReady(60s)) << api_->LogText();
  }
  std::unique_ptr<testing::ServerProcess> StartValidator(const std::string& name, const std::string& when_stale) {
    auto v = std::make_unique<testing::ServerProcess>(
        std::vector<std::string>{"validator", "--bootstrap", "127.0.0.1:" + std::to_string(proxy_port_),
                                 "--listen", "127.0.0.1:0", "--max-staleness", std::to_string(kMaxStalenessMs),
                                 "--when-stale", when_stale},
        dir_.path(), name);
    EXPECT_TRUE(v->WaitReady(60s)) << v->LogText();
    return v;
  }
  Key Create(const std::string& name) {
    HttpResult r = HttpCall(api_->port(), "POST", testing::kKeysPath, R"({"name": ")" + name + R"(", "all_models": true})",
                            {{"Authorization", "Bearer " + token_}});
    EXPECT_EQ(r.status, 201) << r.body;
    auto info = json::parse(r.body).as_object()["api_key_info"].as_object();
    return {std::string(info["uuid"].as_string()), std::string(info["secret_key"].as_string())};
  }
  void Delete(const Key& k, const std::string& name) {
    HttpResult r = HttpCall(api_->port(), "DELETE", std::string(testing::kKeysPath) + "/" + k.id + "?confirm_name=" + name,
                            "", {{"Authorization", "Bearer " + token_}});
    ASSERT_EQ(r.status, 200) << r.body;
  }
  static HttpResult Check(const testing::ServerProcess& v, const std::string& secret) {
    return HttpCall(v.port(), "POST", "/v1/chat/completions", "",
                    {{"Authorization", "Bearer " + secret}, {"X-Keyledger-Model", "openai-gpt-4o"}});
  }
  // Polls until `done` or `limit` passes; returns how long it took (or limit + 1 ms).
  template <typename Done>
  static std::chrono::milliseconds Until(std::chrono::milliseconds limit, Done done) {
    auto start = std::chrono::steady_clock::now();
    while (!done()) {
      auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
      if (took > limit) return limit + 1ms;
      std::this_thread::sleep_for(20ms);
    }
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  }

  testing::TempDir dir_;
  std::uint16_t proxy_port_ = 0;
  std::unique_ptr<testing::PrivateBroker> broker_;
  std::unique_ptr<testing::TcpProxy> proxy_;
  std::unique_ptr<testing::ServerProcess> api_;
  std::string token_ = testing::TestToken("olga", "team-acme", "owner");
};

TEST_F(PartitionedValidator, DeniesWithinMaxStalenessPlusASecondAndCatchesUpAfterReconnecting) {
  auto deny = StartValidator("deny", "deny");
  auto allow = StartValidator("allow", "allow");
  Key doomed = Create("doomed"), kept = Create("kept");
  for (auto* v : {deny.get(), allow.get()}) {
    ASSERT_LT(Until(10s, [&] { return Check(*v, doomed.secret).status == 200 && Check(*v, kept.secret).status == 200; }),
              10s + 1ms)
        << "the validators never allowed the new keys";
  }

  proxy_->Cut();
  const auto cut_at = std::chrono::steady_clock::now();
  Delete(doomed, "doomed");
  const auto bound = std::chrono::milliseconds(kMaxStalenessMs + 1000);
  // Deny mode: the deleted secret is refused (stale, 503) within the bound, counted from the cut.
  EXPECT_LE(Until(bound, [&] { return Check(*deny, doomed.secret).status != 200; }), bound);
  auto since_cut = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - cut_at);
  EXPECT_LE(since_cut, bound) << "the cut-off validator still allowed the deleted secret " << since_cut.count() << " ms after the cut";
  HttpResult stale = Check(*deny, doomed.secret);
  EXPECT_EQ(stale.status, 503) << stale.body;
  EXPECT_EQ(stale.headers["X-Keyledger-Deny-Reason"], "stale");
  EXPECT_GE(std::stoll(stale.headers["X-Keyledger-Staleness-Ms"]), kMaxStalenessMs);
  EXPECT_EQ(Check(*deny, kept.secret).status, 503);  // it vouches for nothing now
  EXPECT_EQ(HttpCall(deny->admin_port(), "GET", "/readyz").status, 503);
  HttpResult metrics = HttpCall(deny->admin_port(), "GET", "/metrics");
  EXPECT_NE(metrics.body.find("keyledger_validator_probe_errors_total"), std::string::npos);
  // Allow mode: checks go on (the operator's choice), but the replica says it is not ready.
  EXPECT_LE(Until(bound, [&] { return HttpCall(allow->admin_port(), "GET", "/readyz").status == 503; }), bound);
  HttpResult why = HttpCall(allow->admin_port(), "GET", "/readyz");
  EXPECT_NE(why.body.find("max-staleness"), std::string::npos) << why.body;

  ASSERT_TRUE(proxy_->Restore()) << "the proxy cannot listen on its port again";
  for (auto* v : {deny.get(), allow.get()}) {
    EXPECT_LT(Until(30s, [&] { return HttpCall(v->admin_port(), "GET", "/readyz").status == 200; }), 30s + 1ms)
        << v->LogText();
    HttpResult old = Check(*v, doomed.secret);
    EXPECT_EQ(old.status, 401) << old.body;
    EXPECT_EQ(old.headers["X-Keyledger-Deny-Reason"], "unknown");
    EXPECT_EQ(Check(*v, kept.secret).status, 200);
  }
}

}  // namespace
}  // namespace keyledger
