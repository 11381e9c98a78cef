// End-to-end (issue 17): usage and expiry through the real binary on the real broker. Two validator
// replicas report their checks; the API shows `last_used_at` within 60 s plus the projector's lag,
// the two replicas' counts add up in the key's usage by day, and the stale-key report is one
// request. A key with expires_at is allowed one second before it and denied `expired` one second
// after, in real time, with no event in between.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <chrono>
#include <thread>

#include "keyledger/common/clock.h"
#include "keyledger/storage/kafka.h"
#include "support/e2e.h"

namespace keyledger {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using testing::HttpCall;
using testing::HttpResult;
constexpr const char* kKeys = testing::kKeysPath;

class UsageE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    bootstrap_ = testing::BrokerBootstrap();
    ASSERT_FALSE(bootstrap_.empty()) << "no Kafka broker (run through ctest)";
    topic_ = testing::UniqueTopic("keyledger.e2e.usage");
    ASSERT_TRUE(storage::CreateTopic({bootstrap_, {}}, topic_, 4, {}, 30000).ok());
    // serve creates the usage topic (TOPIC.key-usage) and projects it.
    api_ = std::make_unique<testing::ServerProcess>(bootstrap_, topic_, dir_.path(),
                                                    std::vector<std::string>{"--max-key-lifetime", "30"});
    ASSERT_TRUE(api_->WaitReady(60s)) << api_->log();
    for (int i = 1; i <= 2; ++i) {
      validators_.push_back(std::make_unique<testing::ServerProcess>(
          std::vector<std::string>{"validator", "--bootstrap", bootstrap_, "--topic", topic_, "--listen", "127.0.0.1:0",
                                   "--replica-id", "usage-" + std::to_string(i), "--usage-flush-ms", "500"},
          dir_.path(), "validator-" + std::to_string(i)));
      ASSERT_TRUE(validators_.back()->WaitReady(60s)) << validators_.back()->log();
    }
  }
  HttpResult Api(const std::string& method, const std::string& path, const std::string& body = "") {
    return HttpCall(api_->port(), method, path, body, {{"Authorization", "Bearer " + token_}});
  }
  json::object Create(const std::string& body) {
    HttpResult r = Api("POST", kKeys, body);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? json::parse(r.body).as_object().at("api_key_info").as_object() : json::object{};
  }
  HttpResult Check(int replica, const std::string& secret, const std::string& model) {
    return HttpCall(validators_[static_cast<size_t>(replica)]->port(), "POST", "/v1/chat/completions", "",
                    {{"Authorization", "Bearer " + secret}, {"X-Keyledger-Model", model}});
  }
  // The replica allows the new key once it has read its KeyCreated.
  void WaitAllowed(int replica, const std::string& secret, const std::string& model) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (Check(replica, secret, model).status != 200 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(5ms);
    }
  }
  json::object Usage(const std::string& key) {
    HttpResult r = Api("GET", std::string(kKeys) + "/" + key + "/usage?days=2");
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body).as_object().at("usage").as_object();
  }
  std::vector<std::string> ListIds(const std::string& query) {
    HttpResult r = Api("GET", std::string(kKeys) + "?" + query);
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<std::string> ids;
    const json::value list = json::parse(r.body);
    for (const auto& k : list.at("api_key_infos").as_array()) {
      ids.emplace_back(k.at("uuid").as_string());
    }
    return ids;
  }

  testing::TempDir dir_;
  std::string bootstrap_, topic_;
  std::unique_ptr<testing::ServerProcess> api_;
  std::vector<std::unique_ptr<testing::ServerProcess>> validators_;
  std::string token_ = testing::TestToken("olga", "team-acme", "owner");
};

TEST_F(UsageE2E, ChecksOnTwoReplicasShowAsLastUsedAndAddUpInTheKeysUsage) {
  json::object unused = Create(R"({"name": "never used", "all_models": true})");
  json::object key = Create(R"({"name": "used", "models": ["openai-gpt-4o"]})");
  const std::string id(key.at("uuid").as_string()), secret(key.at("secret_key").as_string());
  EXPECT_TRUE(key.at("last_used_at").is_null());
  WaitAllowed(0, secret, "openai-gpt-4o");
  WaitAllowed(1, secret, "openai-gpt-4o");
  // The waits above were allowed checks too: count from the usage the API shows at the end.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Check(0, secret, "openai-gpt-4o").status, 200);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(Check(1, secret, "openai-gpt-4o").status, 200);
  EXPECT_EQ(Check(1, secret, "alibaba-qwen3-32b").status, 403);  // denied: counted, not a use
  const auto checked = std::chrono::steady_clock::now();

  // last_used_at appears within 60 s (flushes every 0.5 s here, so it is much sooner).
  std::string last_used;
  while (std::chrono::steady_clock::now() - checked < 60s) {
    HttpResult r = Api("GET", std::string(kKeys) + "/" + id);
    ASSERT_EQ(r.status, 200);
    const json::value got = json::parse(r.body);
    const json::value& v = got.at("api_key_info").at("last_used_at");
    if (!v.is_null()) {
      last_used = std::string(v.as_string());
      break;
    }
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_FALSE(last_used.empty()) << "no last_used_at 60 s after the checks";
  auto at = common::ParseRfc3339(last_used);
  ASSERT_TRUE(at.ok());
  EXPECT_EQ(*at % 60'000000, 0) << "to the minute: " << last_used;
  EXPECT_LE(*at, common::SystemClock().NowMicros());
  EXPECT_GT(*at, common::SystemClock().NowMicros() - 180'000000);

  // Both replicas' counts add up (each sent at least its 3 and 4 allowed checks, and the denial).
  std::uint64_t allowed = 0, denied = 0;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  json::object usage;
  while (std::chrono::steady_clock::now() < deadline) {
    usage = Usage(id);
    allowed = denied = 0;
    for (const auto& d : usage.at("days").as_array()) {
      allowed += d.at("allowed").to_number<std::uint64_t>();
      denied += d.at("denied").to_number<std::uint64_t>();
    }
    if (allowed >= 9 && denied >= 1) break;  // 3 + 4 + both waits' one allowed check at least
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_GE(allowed, 9u) << json::serialize(usage);
  EXPECT_EQ(denied, 1u) << json::serialize(usage);
  EXPECT_EQ(usage.at("last_used_model").as_string(), "openai-gpt-4o");
  EXPECT_TRUE(usage.at("last_used_source_vpc").is_null());
  // Once the replicas are idle, the total is stable: every check counted once, none twice.
  std::this_thread::sleep_for(1500ms);
  std::uint64_t again = 0;
  const json::object later = Usage(id);
  for (const auto& d : later.at("days").as_array()) again += d.at("allowed").to_number<std::uint64_t>();
  EXPECT_EQ(again, allowed);
  EXPECT_LE(allowed, 7u + 2u * 200u);  // the waits' checks were at most a few hundred, never doubled past that

  // What the projection read, and what each replica sent, is in /metrics.
  const std::string metrics = HttpCall(api_->port(), "GET", "/metrics").body;
  EXPECT_NE(metrics.find("keyledger_usage_records_total{outcome=\"folded\"}"), std::string::npos);
  for (const auto& v : validators_) {
    const std::string vm = HttpCall(v->admin_port(), "GET", "/metrics").body;
    EXPECT_NE(vm.find("keyledger_validator_usage_records_delivered_total "), std::string::npos);
    EXPECT_EQ(vm.find("keyledger_validator_usage_records_delivered_total 0\n"), std::string::npos) << "nothing delivered";
  }

  // The stale-key report: keys not used for a day (the never-used one), and least recently used first.
  const std::string unused_id(unused.at("uuid").as_string());
  EXPECT_EQ(ListIds("unused_for_days=1"), std::vector<std::string>{unused_id});
  EXPECT_EQ(ListIds("sort=last_used_at"), (std::vector<std::string>{unused_id, id}));
  EXPECT_EQ(Api("GET", std::string(kKeys) + "?unused_for_days=0").status, 400);
  EXPECT_EQ(Api("GET", std::string(kKeys) + "?sort=name").status, 400);
}

TEST_F(UsageE2E, AKeyIsAllowedASecondBeforeItsExpiryAndDeniedExpiredASecondAfter) {
  const std::int64_t now = common::SystemClock().NowMicros();
  const std::int64_t expires = (now / 1000000 + 4) * 1000000;  // a whole second, 3 to 4 s ahead
  json::object key = Create(R"({"name": "short-lived", "all_models": true, "expires_at": ")" +
                            common::FormatRfc3339(expires) + "\"}");
  const std::string id(key.at("uuid").as_string()), secret(key.at("secret_key").as_string());
  EXPECT_EQ(key.at("expires_at").as_string(), common::FormatRfc3339(expires));
  EXPECT_FALSE(key.at("expired").as_bool());
  WaitAllowed(0, secret, "openai-gpt-4o");
  auto sleep_until = [](std::int64_t micros) {
    const std::int64_t left = micros - common::SystemClock().NowMicros();
    if (left > 0) std::this_thread::sleep_for(std::chrono::microseconds(left));
  };
  sleep_until(expires - 1'000000);
  HttpResult before = Check(0, secret, "openai-gpt-4o");
  ASSERT_LT(common::SystemClock().NowMicros(), expires) << "the check a second before came too late to count";
  EXPECT_EQ(before.status, 200) << before.body;
  sleep_until(expires + 1'000000);
  HttpResult after = Check(0, secret, "openai-gpt-4o");
  EXPECT_EQ(after.status, 401);
  EXPECT_EQ(after.headers["X-Keyledger-Deny-Reason"], "expired");
  HttpResult shown = Api("GET", std::string(kKeys) + "/" + id);
  EXPECT_TRUE(json::parse(shown.body).as_object().at("api_key_info").at("expired").as_bool()) << shown.body;

  // Bad expiries are refused with the reason, and nothing is created.
  const std::string far = common::FormatRfc3339(now + 31LL * 86400 * 1000000);
  for (const auto& [body, message] : std::vector<std::pair<std::string, std::string>>{
           {R"({"name": "past", "all_models": true, "expires_at": "2020-01-01T00:00:00Z"})", "expires_at must be in the future"},
           {R"({"name": "far", "all_models": true, "expires_at": ")" + far + "\"}", "further ahead than this platform allows"},
           {R"({"name": "bad", "all_models": true, "expires_at": "next week"})", "RFC 3339"}}) {
    HttpResult r = Api("POST", kKeys, body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_NE(r.body.find(message), std::string::npos) << r.body;
  }
  // With --max-key-lifetime 30, a key created without expires_at expires in 30 days.
  json::object capped = Create(R"({"name": "capped", "all_models": true})");
  auto capped_at = common::ParseRfc3339(std::string(capped.at("expires_at").as_string()));
  ASSERT_TRUE(capped_at.ok());
  EXPECT_NEAR(static_cast<double>(*capped_at - now) / 86400e6, 30.0, 0.01);
  EXPECT_EQ(ListIds("per_page=200").size(), 2u);  // short-lived and capped; the refused ones were never created
}

}  // namespace
}  // namespace keyledger
