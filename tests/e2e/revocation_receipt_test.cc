// End-to-end: revocation receipts with three validator replicas on a private broker, one of them
// reaching it only through a TCP proxy the test can cut (as in the freshness tests). A regenerate's
// receipt reaches 3 of 3; with the third cut off it says 2 of 3 and names the third as behind or
// silent; after it reconnects, 3 of 3. A receipt never claims a replica applied an offset its own
// /metrics does not show.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <chrono>
#include <regex>
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

class RevocationReceipts : public ::testing::Test {
 protected:
  void SetUp() override {
    proxy_port_ = testing::TcpProxy::FreePort();
    broker_ = std::make_unique<testing::PrivateBroker>("127.0.0.1:" + std::to_string(proxy_port_));
    ASSERT_TRUE(broker_->ok() && broker_->cut_port() != 0) << "the private broker did not start";
    proxy_ = std::make_unique<testing::TcpProxy>(proxy_port_, broker_->cut_port());
    ASSERT_TRUE(proxy_->listening());
    api_ = std::make_unique<testing::ServerProcess>(broker_->bootstrap(), "keyledger.key-events", dir_.path());
    ASSERT_TRUE(api_->WaitReady(60s)) << api_->LogText();
    for (int i = 1; i <= 3; ++i) {
      const std::string bootstrap = i == 3 ? "127.0.0.1:" + std::to_string(proxy_port_) : broker_->bootstrap();
      validators_.push_back(std::make_unique<testing::ServerProcess>(
          std::vector<std::string>{"validator", "--bootstrap", bootstrap, "--listen", "127.0.0.1:0", "--replica-id",
                                   "replica-" + std::to_string(i), "--max-staleness", "2000"},
          dir_.path(), "validator-" + std::to_string(i)));
      ASSERT_TRUE(validators_.back()->WaitReady(60s)) << validators_.back()->LogText();
    }
  }
  json::object Command(const std::string& method, const std::string& path, const std::string& body) {
    HttpResult r = HttpCall(api_->port(), method, path, body, {{"Authorization", "Bearer " + token_}});
    EXPECT_TRUE(r.status == 200 || r.status == 201) << r.status << " " << r.body;
    return json::parse(r.body).as_object();
  }
  json::object Receipt(const std::string& key, int wait_s) {
    HttpResult r = HttpCall(api_->port(), "GET",
                            std::string(testing::kKeysPath) + "/" + key + "/revocation?wait=" + std::to_string(wait_s), "",
                            {{"Authorization", "Bearer " + token_}});
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body).as_object().at("revocation").as_object();
  }
  // The replica's own view: keyledger_validator_applied_offset{partition="P"}.
  std::int64_t AppliedOnReplica(int i, std::int64_t partition) {
    HttpResult m = HttpCall(validators_[static_cast<size_t>(i)]->admin_port(), "GET", "/metrics");
    std::smatch match;
    std::regex line("keyledger_validator_applied_offset\\{partition=\"" + std::to_string(partition) + "\"\\} ([0-9]+)");
    return std::regex_search(m.body, match, line) ? std::stoll(match[1]) : -1;
  }
  // No replica the receipt calls applied is behind on its own /metrics.
  void ExpectReceiptHonest(const json::object& receipt) {
    const std::int64_t partition = receipt.at("partition").as_int64(), offset = receipt.at("offset").as_int64();
    for (const json::value& v : receipt.at("validators").as_array()) {
      const std::string id(v.at("replica_id").as_string());
      const int i = id.back() - '1';
      if (v.at("state").as_string() == "applied") {
        EXPECT_GT(AppliedOnReplica(i, partition), offset) << id << " is called applied but its /metrics disagree";
      }
    }
  }
  std::string StateOf(const json::object& receipt, const std::string& id) {
    for (const json::value& v : receipt.at("validators").as_array()) {
      if (v.at("replica_id").as_string() == id) return std::string(v.at("state").as_string());
    }
    return "missing";
  }

  testing::TempDir dir_;
  std::uint16_t proxy_port_ = 0;
  std::unique_ptr<testing::PrivateBroker> broker_;
  std::unique_ptr<testing::TcpProxy> proxy_;
  std::unique_ptr<testing::ServerProcess> api_;
  std::vector<std::unique_ptr<testing::ServerProcess>> validators_;
  std::string token_ = testing::TestToken("olga", "team-acme", "owner");
};

TEST_F(RevocationReceipts, ThreeOfThreeThenTwoOfThreeWithOneCutOffThenThreeOfThreeAgain) {
  json::object created = Command("POST", testing::kKeysPath, R"({"name": "receipt", "all_models": true})");
  const std::string key(created.at("api_key_info").at("uuid").as_string());
  const std::string path = std::string(testing::kKeysPath) + "/" + key;

  // All three apply the regenerate; the answer already carries the command's position.
  json::object regenerated = Command("PUT", path + "/regenerate", R"({"confirm_name": "receipt"})");
  ASSERT_TRUE(regenerated.contains("revocation")) << json::serialize(regenerated);
  const auto answered = std::chrono::steady_clock::now();
  json::object full = Receipt(key, 10);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - answered);
  EXPECT_EQ(full.at("summary").as_string(), "old secret denied on 3 of 3 validators") << json::serialize(full);
  EXPECT_TRUE(full.at("complete").as_bool());
  EXPECT_LT(took, 2000ms) << "3 of 3 took " << took.count() << " ms after the API answered";
  EXPECT_EQ(full.at("offset"), regenerated.at("revocation").at("offset"));
  ExpectReceiptHonest(full);

  // The third replica loses its brokers (and so its heartbeats stop reaching them).
  proxy_->Cut();
  Command("PUT", path + "/regenerate", R"({"confirm_name": "receipt"})");
  json::object partial = Receipt(key, 5);
  EXPECT_EQ(partial.at("validators_applied").as_int64(), 2) << json::serialize(partial);
  EXPECT_EQ(partial.at("summary").as_string(), "old secret denied on 2 of 3 validators");
  const std::string third = StateOf(partial, "replica-3");
  EXPECT_TRUE(third == "behind" || third == "silent") << third;
  ExpectReceiptHonest(partial);
  EXPECT_LE(AppliedOnReplica(2, partial.at("partition").as_int64()), partial.at("offset").as_int64());

  ASSERT_TRUE(proxy_->Restore());
  json::object healed = Receipt(key, 30);
  EXPECT_EQ(healed.at("summary").as_string(), "old secret denied on 3 of 3 validators") << json::serialize(healed);
  ExpectReceiptHonest(healed);
  // The API's metrics show every replica without scraping them.
  const std::string metrics = HttpCall(api_->port(), "GET", "/metrics").body;
  for (const char* id : {"replica-1", "replica-2", "replica-3"}) {
    EXPECT_NE(metrics.find(std::string("keyledger_replica_silent{replica=\"") + id + "\"}"), std::string::npos) << id;
  }
}

}  // namespace
}  // namespace keyledger
