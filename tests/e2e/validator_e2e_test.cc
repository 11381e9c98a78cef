// End-to-end: a validator process next to the API process, both on the real broker. Every
// allow/deny reason over HTTP, propagation of regenerate/delete, and restart from a snapshot
// with events that arrived while the validator was down.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "keyledger/api/jwt.h"
#include "keyledger/common/crypto.h"
#include "keyledger/common/secret.h"
#include "keyledger/storage/kafka.h"

#include "support/child_process.h"
#include "support/e2e.h"

namespace keyledger {
namespace {

namespace json = boost::json;
using testing::HttpCall;
using testing::HttpResult;
constexpr const char* kKeys = testing::kKeysPath;
constexpr const char* kVpc = testing::kAcmeVpc;

std::string OwnerToken() { return testing::TestToken("olga", "team-acme", "owner"); }

struct Key {
  std::string id, secret, name;
};

class ValidatorE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    bootstrap_ = testing::BrokerBootstrap();
    ASSERT_FALSE(bootstrap_.empty()) << "no Kafka broker (run through ctest)";
    topic_ = testing::UniqueTopic("keyledger.e2e.validator");
    // 12 partitions, as `serve` creates by default: the replica must not stall per partition.
    ASSERT_TRUE(storage::CreateTopic({bootstrap_, {}}, topic_, 12, {}, 30000).ok());
    api_ = std::make_unique<testing::ServerProcess>(bootstrap_, topic_, dir_.path());
    ASSERT_NE(api_->port(), 0) << api_->log();
    StartValidator();
  }
  void StartValidator() {
    validator_ = std::make_unique<testing::ServerProcess>(
        std::vector<std::string>{"validator", "--bootstrap", bootstrap_, "--topic", topic_, "--listen",
                                 "127.0.0.1:0", "--snapshot", dir_.path("validator.snapshot")},
        dir_.path(), "validator");
    ASSERT_NE(validator_->port(), 0) << validator_->log();
    ASSERT_TRUE(validator_->WaitReady(std::chrono::seconds(30))) << "validator never became ready";
  }
  Key Create(const std::string& name, const std::string& extra) {
    HttpResult r = HttpCall(api_->port(), "POST", kKeys, R"({"name": ")" + name + R"(", )" + extra + "}",
                            {{"Authorization", "Bearer " + token_}});
    EXPECT_EQ(r.status, 201) << r.body;
    auto info = json::parse(r.body).as_object()["api_key_info"].as_object();
    return {std::string(info["uuid"].as_string()), std::string(info["secret_key"].as_string()), name};
  }
  HttpResult Check(const std::string& secret, const std::string& model, const std::string& vpc = "",
                   bool batch = false) {
    std::map<std::string, std::string> h = {{"Authorization", "Bearer " + secret},
                                            {"X-Keyledger-Model", model}};
    if (!vpc.empty()) h["X-Keyledger-Source-Vpc"] = vpc;
    if (batch) h["X-Keyledger-Batch"] = "true";
    return HttpCall(validator_->port(), "POST", "/v1/chat/completions", "", h);
  }
  // Polls until the validator gives `status` (propagation), returns how long it took.
  std::chrono::milliseconds WaitFor(const std::string& secret, int status) {
    auto start = std::chrono::steady_clock::now();
    while (Check(secret, "openai-gpt-4o").status != status) {
      if (std::chrono::steady_clock::now() - start > std::chrono::seconds(10)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  }

  testing::TempDir dir_;
  std::string bootstrap_, topic_;
  std::string token_ = OwnerToken();
  std::unique_ptr<testing::ServerProcess> api_, validator_;
};

TEST_F(ValidatorE2E, EveryAllowAndDenyReasonOverHttp) {
  Key all = Create("all", R"("all_models": true, "batch_inference": true)");
  Key scoped = Create("scoped", R"("all_models": false, "models": ["alibaba-qwen3-32b"])");
  Key vpc = Create("vpc", R"("all_models": true, "vpc_uuid": ")" + std::string(kVpc) + "\"");
  WaitFor(vpc.secret, 403);

  HttpResult ok = Check(all.secret, "openai-gpt-4o");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.headers["X-Keyledger-Key-Id"], all.id);
  EXPECT_EQ(ok.headers["X-Keyledger-Team-Id"], "team-acme");
  EXPECT_EQ(Check(all.secret, "openai-gpt-4o", "", true).status, 200);
  EXPECT_EQ(Check(scoped.secret, "alibaba-qwen3-32b").status, 200);
  EXPECT_EQ(Check(vpc.secret, "openai-gpt-4o", kVpc).status, 200);

  struct Denial { std::string secret, model, vpc; bool batch; int status; std::string reason; };
  for (const Denial& d : {Denial{"", "openai-gpt-4o", "", false, 401, "malformed"},
                          Denial{all.secret.substr(0, 30), "openai-gpt-4o", "", false, 401, "malformed"},
                          Denial{"sk-do-v1-0123456789012345678901234567890123456789AB000000", "openai-gpt-4o", "", false, 401, "malformed"},
                          Denial{scoped.secret, "openai-gpt-4o", "", false, 403, "model_not_allowed"},
                          Denial{vpc.secret, "openai-gpt-4o", "", false, 403, "vpc_mismatch"},
                          Denial{scoped.secret, "alibaba-qwen3-32b", "", true, 403, "batch_not_allowed"},
                          Denial{all.secret, "llama3.3-70b-instruct", "", true, 403, "batch_not_allowed"}}) {
    HttpResult r = Check(d.secret, d.model, d.vpc, d.batch);
    EXPECT_EQ(r.status, d.status) << d.reason;
    EXPECT_EQ(r.headers["X-Keyledger-Deny-Reason"], d.reason);
  }
  // An unknown but well-formed secret: regenerate "all" and present the old one.
  HttpResult regen = HttpCall(api_->port(), "PUT", std::string(kKeys) + "/" + all.id + "/regenerate",
                              R"({"confirm_name": "all"})", {{"Authorization", "Bearer " + token_}});
  ASSERT_EQ(regen.status, 200);
  WaitFor(all.secret, 401);
  HttpResult unknown = Check(all.secret, "openai-gpt-4o");
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(unknown.headers["X-Keyledger-Deny-Reason"], "unknown");
  HttpResult metrics = HttpCall(validator_->admin_port(), "GET", "/metrics");
  const std::string counter = "keyledger_validator_checks_total{decision=\"deny\",reason=\"vpc_mismatch\"} ";
  size_t at = metrics.body.find(counter);
  ASSERT_NE(at, std::string::npos) << metrics.body;
  EXPECT_GE(std::stoll(metrics.body.substr(at + counter.size())), 1);
  EXPECT_NE(metrics.body.find("keyledger_validator_lag_events"), std::string::npos);
}

TEST_F(ValidatorE2E, RegenerateAndDeleteStopTheOldSecretAndRenameKeepsIt) {
  Key k = Create("propagation", R"("all_models": true)");
  WaitFor(k.secret, 200);
  std::map<std::string, std::string> auth = {{"Authorization", "Bearer " + token_}};
  ASSERT_EQ(HttpCall(api_->port(), "PUT", std::string(kKeys) + "/" + k.id, R"({"name": "renamed"})", auth).status, 200);
  EXPECT_EQ(Check(k.secret, "openai-gpt-4o").status, 200);
  HttpResult regen = HttpCall(api_->port(), "PUT", std::string(kKeys) + "/" + k.id + "/regenerate",
                              R"({"confirm_name": "renamed"})", auth);
  ASSERT_EQ(regen.status, 200);
  std::string fresh(json::parse(regen.body).as_object()["api_key_info"].as_object()["secret_key"].as_string());
  // Revocation is a correctness property here, not a benchmark: the old secret must stop as soon
  // as the replica has read the event. (A replica that queried watermarks once a second on
  // every partition stalled for about 1.1 s; that regression fails this bound.)
  auto took = WaitFor(k.secret, 401);
  EXPECT_EQ(Check(k.secret, "openai-gpt-4o").status, 401) << "old secret still accepted";
  EXPECT_LT(took, std::chrono::milliseconds(500)) << "revocation took " << took.count() << " ms";
  EXPECT_EQ(Check(fresh, "openai-gpt-4o").status, 200);
  ASSERT_EQ(HttpCall(api_->port(), "DELETE", std::string(kKeys) + "/" + k.id + "?confirm_name=renamed", "", auth).status, 200);
  WaitFor(fresh, 401);
  EXPECT_EQ(Check(fresh, "openai-gpt-4o").headers["X-Keyledger-Deny-Reason"], "unknown");
}

TEST_F(ValidatorE2E, RestartsFromItsSnapshotAndCatchesUpOnEventsMissedWhileDown) {
  Key before = Create("before", R"("all_models": true)");
  Key doomed = Create("doomed", R"("all_models": true)");
  WaitFor(doomed.secret, 200);
  ASSERT_EQ(validator_->Stop(), 0);  // writes the snapshot
  std::map<std::string, std::string> auth = {{"Authorization", "Bearer " + token_}};
  Key during = Create("during", R"("all_models": true)");
  ASSERT_EQ(HttpCall(api_->port(), "DELETE", std::string(kKeys) + "/" + doomed.id + "?confirm_name=doomed", "", auth).status, 200);
  StartValidator();
  std::ifstream log(validator_->log());
  std::stringstream text;
  text << log.rdbuf();
  EXPECT_NE(text.str().find("validator loaded its snapshot"), std::string::npos);
  EXPECT_EQ(Check(before.secret, "openai-gpt-4o").status, 200);
  EXPECT_EQ(Check(during.secret, "openai-gpt-4o").status, 200);
  EXPECT_EQ(Check(doomed.secret, "openai-gpt-4o").status, 401);
}

// Regression: `X-Keyledger-Batch: True` silently meant "not batch", a repeated Authorization or
// VPC header kept its last value, and /healthz, /readyz and /metrics answered 200 on the check
// port before any check (so a gateway forwarding the client's path let them through).
TEST_F(ValidatorE2E, CheckRequestsAreStrictAndEveryPathOnTheCheckPortIsACheck) {
  Key scoped = Create("strict", R"("all_models": false, "models": ["alibaba-qwen3-32b"])");
  Key all = Create("strict-all", R"("all_models": true, "batch_inference": true)");
  WaitFor(all.secret, 200);
  auto call = [&](std::vector<std::pair<std::string, std::string>> headers, const std::string& path = "/v1/chat/completions",
                  const std::string& body = "") {
    std::map<std::string, std::string> single;
    std::string raw;
    for (auto& [k, v] : headers) raw += k + ": " + v + "\r\n";
    return testing::RawHttpCall(validator_->port(), "POST " + path + " HTTP/1.1\r\nHost: v\r\n" + raw +
                                                        "Content-Length: " + std::to_string(body.size()) +
                                                        "\r\nConnection: close\r\n\r\n" + body);
  };
  const std::string bearer = "Bearer " + scoped.secret;
  // Batch values: true/false in any case, anything else is a malformed request.
  EXPECT_EQ(call({{"Authorization", bearer}, {"X-Keyledger-Model", "alibaba-qwen3-32b"}, {"X-Keyledger-Batch", "TRUE"}}).status, 403);
  EXPECT_EQ(call({{"Authorization", bearer}, {"X-Keyledger-Model", "alibaba-qwen3-32b"}, {"X-Keyledger-Batch", "False"}}).status, 200);
  for (const char* value : {"yes", "1", "on", "truee"}) {
    HttpResult r = call({{"Authorization", bearer}, {"X-Keyledger-Model", "alibaba-qwen3-32b"}, {"X-Keyledger-Batch", value}});
    EXPECT_EQ(r.status, 400) << value;
    EXPECT_EQ(r.headers["X-Keyledger-Deny-Reason"], "malformed_request") << value;
  }
  // A repeated check header is never read as its last value.
  for (const char* header : {"Authorization", "X-Keyledger-Model", "X-Keyledger-Source-Vpc", "X-Keyledger-Batch"}) {
    std::vector<std::pair<std::string, std::string>> headers = {{"Authorization", bearer},
                                                                {"X-Keyledger-Model", "alibaba-qwen3-32b"}};
    std::string first = std::string(header) == "Authorization" ? "Bearer " + all.secret
                        : std::string(header) == "X-Keyledger-Batch" ? "false"
                        : std::string(header) == "X-Keyledger-Source-Vpc" ? std::string(kVpc)
                                                                           : "alibaba-qwen3-32b";
    headers.insert(headers.begin(), {header, first});
    if (std::string(header) == "X-Keyledger-Source-Vpc" || std::string(header) == "X-Keyledger-Batch") {
      headers.push_back({header, first});
    }
    HttpResult r = call(headers);
    EXPECT_EQ(r.status, 400) << header;
    EXPECT_EQ(r.headers["X-Keyledger-Deny-Reason"], "malformed_request") << header;
  }
  // The model from an OpenAI-compatible JSON body when no model header is set.
  EXPECT_EQ(call({{"Authorization", bearer}, {"Content-Type", "application/json"}}, "/v1/chat/completions",
                 R"({"model": "alibaba-qwen3-32b", "messages": []})").status, 200);
  HttpResult wrong_model = call({{"Authorization", bearer}, {"Content-Type", "application/json"}}, "/v1/chat/completions",
                                R"({"model": "openai-gpt-4o", "messages": []})");
  EXPECT_EQ(wrong_model.headers["X-Keyledger-Deny-Reason"], "model_not_allowed");
  // Health, readiness and metrics are checks on the check port, and answered on the admin port.
  for (const char* path : {"/healthz", "/readyz", "/metrics", "/readyz?x=1"}) {
    HttpResult r = HttpCall(validator_->port(), "GET", path);
    EXPECT_EQ(r.status, 401) << path;
    EXPECT_EQ(r.headers["X-Keyledger-Deny-Reason"], "malformed") << path;
  }
  EXPECT_EQ(HttpCall(validator_->admin_port(), "GET", "/healthz").status, 200);
  HttpResult ready = HttpCall(validator_->admin_port(), "GET", "/readyz");
  EXPECT_EQ(ready.status, 200) << ready.body;
  EXPECT_NE(ready.body.find("\"halted_partitions\":[]"), std::string::npos) << ready.body;
  EXPECT_NE(HttpCall(validator_->admin_port(), "GET", "/metrics").body.find("keyledger_validator_staleness_seconds"),
            std::string::npos);
  EXPECT_EQ(HttpCall(validator_->admin_port(), "GET", "/v1/chat/completions").status, 404);
  // Every answer says how fresh it is.
  EXPECT_FALSE(Check(all.secret, "openai-gpt-4o").headers["X-Keyledger-Staleness-Ms"].empty());
}

// Regression: a legacy key imported by its SHA-256 only, whose plaintext is not an sk-do-v1-
// secret, was refused `malformed` before any lookup, so it never authenticated.
TEST(ValidatorLegacyE2E, AHashOnlyLegacyKeyWithAnotherSecretFormatAuthenticates) {
  const std::string bootstrap = testing::BrokerBootstrap();
  ASSERT_FALSE(bootstrap.empty()) << "no Kafka broker (run through ctest)";
  const std::string topic = testing::UniqueTopic("keyledger.e2e.legacy");
  ASSERT_TRUE(storage::CreateTopic({bootstrap, {}}, topic, 3, {}, 30000).ok());
  testing::TempDir dir;
  const std::string legacy = "dop_v1_9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
  {
    std::ofstream out(dir.path("legacy.jsonl"));
    out << R"({"team_id":"team-acme","creator_id":"olga","creator_name":"Olga","name":"from 2021",)"
        << R"("created_at":"2021-03-01T09:00:00Z","secret_sha256":")" << common::HexEncode(common::HashSecret(legacy))
        << R"(","secret_hint":"0a08"})" << "\n";
  }
  testing::ChildProcess import({KEYLEDGER_BINARY, "import-legacy", "--offline", dir.path("legacy.jsonl"), "--bootstrap", bootstrap,
                                "--topic", topic},
                               dir.path("import.log"));
  ASSERT_EQ(import.Wait(std::chrono::seconds(120)), 0) << import.LogText();
  testing::ServerProcess validator({"validator", "--bootstrap", bootstrap, "--topic", topic, "--listen", "127.0.0.1:0"},
                                   dir.path(), "validator");
  ASSERT_TRUE(validator.WaitReady(std::chrono::seconds(60))) << validator.LogText();
  HttpResult r = HttpCall(validator.port(), "POST", "/v1/chat/completions", "",
                          {{"Authorization", "Bearer " + legacy}, {"X-Keyledger-Model", "openai-gpt-4o"}});
  EXPECT_EQ(r.status, 200) << r.body << " " << r.headers["X-Keyledger-Deny-Reason"];
  EXPECT_EQ(r.headers["X-Keyledger-Team-Id"], "team-acme");
  HttpResult other = HttpCall(validator.port(), "POST", "/v1/chat/completions", "",
                              {{"Authorization", "Bearer " + legacy + "0"}, {"X-Keyledger-Model", "openai-gpt-4o"}});
  EXPECT_EQ(other.headers["X-Keyledger-Deny-Reason"], "unknown");
}

}  // namespace
}  // namespace keyledger
