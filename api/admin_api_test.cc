// Every admin route against fakes of the API's two interfaces (testing/fakes.h): the success and
// the error answers a client relies on, without a broker or a store.
#include "keyledger/api/admin_api.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include <boost/json.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "keyledger/common/crypto.h"
#include "keyledger/common/secret.h"
#include "keyledger/http/client.h"
#include "keyledger/http/server.h"
#include "src/secret_vault.h"
#include "testing/fakes.h"

namespace keyledger::api {
namespace {

namespace json = boost::json;
using http::Request;
using http::Response;

constexpr std::int64_t kNow = 1795384512;
constexpr char kSecret[] = "0123456789abcdef0123456789abcdef-admin-test";
constexpr char kKeys[] = "/v2/gen-ai/models/api_keys";
constexpr char kAcmeVpc[] = "5f0c8e3a-2b7d-4c1e-9a6f-1d2e3f4a5b6c";
constexpr char kUnknownKey[] = "00000000-0000-4000-8000-00000000dead";

class AdminApiTest : public ::testing::Test {
 protected:
  AdminApiTest() {
    auto v = JwtVerifier::Create({kSecret, "", "", "", 30}, &clock_);
    EXPECT_TRUE(v.ok());
    jwt_ = std::move(*v);
    MakeApi(50);
  }
  void MakeApi(std::uint32_t rate, OperatorAuth operators = {}, ConsoleOptions console = {},
               validator::ReplicaBoard* replicas = nullptr) {
    AdminApiOptions options;
    options.console = std::move(console);
    options.replicas = replicas;
    options.command_wait_ms = 0;
    options.commands_per_second_per_user = rate;
    options.operators = std::move(operators);
    api_ = std::make_unique<AdminApi>(options, &ledger_, &ledger_, &catalog_, jwt_.get(), &clock_, &random_, &logger_,
                                      &metrics_);
  }
  std::string Token(const std::string& user, const std::string& team, const std::string& role) {
    return "Bearer " + MintHs256({user, user + " Name", team, role, kNow + 3600, "", ""}, kSecret);
  }
  std::string Owner() { return Token("user-olga", "team-acme", "owner"); }
  std::string Member() { return Token("user-mia", "team-acme", "member"); }
  std::string Stranger() { return Token("user-gina", "team-globex", "owner"); }

  Response Call(const std::string& method, const std::string& target, const std::string& auth, const std::string& body = "",
                std::vector<std::pair<std::string, std::string>> headers = {}) {
    Request r = Request::For(method, target, body);
    if (!auth.empty()) r.headers.emplace_back("authorization", auth);
    if (!body.empty()) r.headers.emplace_back("content-type", "application/json");
    for (auto& h : headers) r.headers.push_back(std::move(h));
    return api_->Handle(r);
  }
  static json::value Body(const Response& r) {
    boost::system::error_code ec;
    json::value v = json::parse(r.body, ec);
    EXPECT_FALSE(ec) << r.body;
    return v;
  }
  static std::string Id(const Response& r) {
    json::value v = Body(r);
    return v.is_object() && v.as_object().contains("id") ? std::string(v.at("id").as_string()) : "";
  }
  // Creates a key as `auth`; returns its uuid and secret.
  std::pair<std::string, std::string> Create(const std::string& auth, const std::string& name,
                                             const std::string& extra = R"("all_models":true)") {
    Response r = Call("POST", kKeys, auth, R"({"name":")" + name + "\"," + extra + "}");
    EXPECT_EQ(r.status, 201) << r.body;
    json::value v = Body(r);
    return {std::string(v.at("api_key_info").at("uuid").as_string()),
            std::string(v.at("api_key_info").at("secret_key").as_string())};
  }

  common::ManualClock clock_{kNow * 1000000};
  common::SeededRandom random_{3};
  common::Logger logger_{stderr, &clock_, common::LogLevel::kError};
  events::Catalog catalog_ = events::Catalog::Default();
  testing::FakeLedger ledger_{&catalog_, &clock_, &random_};
  std::unique_ptr<JwtVerifier> jwt_;
  http::RequestMetrics metrics_;
  std::unique_ptr<AdminApi> api_;
};

TEST_F(AdminApiTest, UnknownRoutesAre404WithoutCredentialsAndWrongMethods405WithAllow) {
  EXPECT_EQ(Call("GET", "/nope", "").status, 404);
  EXPECT_EQ(Call("GET", std::string(kKeys) + "/a/b/c", "").status, 404);
  Response wrong = Call("PATCH", kKeys, Owner());
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(wrong.Header("Allow"), "POST, GET");
  EXPECT_EQ(Call("POST", "/healthz", "").status, 405);
}

TEST_F(AdminApiTest, EveryKeyRouteNeedsAValidToken) {
  for (auto [method, target] : std::vector<std::pair<std::string, std::string>>{
           {"GET", kKeys}, {"POST", kKeys}, {"GET", std::string(kKeys) + "/" + kUnknownKey},
           {"GET", "/v2/gen-ai/models"}, {"GET", "/v2/gen-ai/audit/events"}}) {
    Response r = Call(method, target, "");
    EXPECT_EQ(r.status, 401) << method << " " << target;
    EXPECT_EQ(r.Header("WWW-Authenticate"), "Bearer");
    EXPECT_EQ(Call(method, target, "Bearer not-a-token").status, 401);
  }
}

TEST_F(AdminApiTest, HealthReadinessMetricsAndTheCatalog) {
  EXPECT_EQ(Call("GET", "/healthz", "").status, 200);
  EXPECT_EQ(Call("GET", "/readyz", "").status, 200);
  ledger_.SetProjectorBehind(true);
  Create(Owner(), "k");
  Response behind = Call("GET", "/readyz", "");
  EXPECT_EQ(behind.status, 503);
  EXPECT_NE(behind.body.find("projector is behind"), std::string::npos) << behind.body;
  ledger_.SetProjectorBehind(false);
  ledger_.SetWriterState(writer::WriterState::kFenced);
  Response fenced = Call("GET", "/readyz", "");
  EXPECT_EQ(fenced.status, 503);
  EXPECT_NE(fenced.body.find("writer is fenced"), std::string::npos);

  Response metrics = Call("GET", "/metrics", "");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("# TYPE keyledger_writer_state gauge"), std::string::npos);
  EXPECT_NE(metrics.body.find("keyledger_writer_fenced 1"), std::string::npos);
  EXPECT_NE(metrics.body.find("process_resident_memory_bytes"), std::string::npos);
  EXPECT_NE(metrics.body.find(R"(keyledger_http_requests_total{route="/readyz",method="GET",status="503"} 2)"),
            std::string::npos) << metrics.body;

  Response models = Call("GET", "/v2/gen-ai/models", Member());
  ASSERT_EQ(models.status, 200);
  EXPECT_EQ(Body(models).at("object").as_string(), "list");
  EXPECT_EQ(Body(models).at("data").as_array().size(), catalog_.models().size());
}

TEST_F(AdminApiTest, CreateShowsTheSecretOnceAndRefusesBadBodies) {
  Response r = Call("POST", kKeys, Owner(), R"({"name":"first","all_models":true,"batch_inference":true})");
  ASSERT_EQ(r.status, 201) << r.body;
  json::value info = Body(r).at("api_key_info");
  std::string secret(info.at("secret_key").as_string());
  EXPECT_TRUE(common::CheckSecretFormat(secret).ok());
  EXPECT_EQ(info.at("secret_hint").as_string(), common::SecretHint(secret));
  EXPECT_FALSE(r.Header("X-Request-Id").empty());
  // The answer that shows the secret is marked for wiping once written; no other is.
  EXPECT_TRUE(r.sensitive);
  // The secret is in no other answer.
  std::string uuid(info.at("uuid").as_string());
  Response read = Call("GET", std::string(kKeys) + "/" + uuid, Owner());
  EXPECT_EQ(read.body.find(secret), std::string::npos);
  EXPECT_FALSE(read.sensitive);
  // A name that looks like the secret's slot in the body does not attract the secret.
  Response tricky = Call("POST", kKeys, Owner(), R"({"name":"\"secret_key\":\"-\"","all_models":true})");
  ASSERT_EQ(tricky.status, 201) << tricky.body;
  EXPECT_EQ(Body(tricky).at("api_key_info").at("name").as_string(), "\"secret_key\":\"-\"");
  EXPECT_TRUE(common::CheckSecretFormat(Body(tricky).at("api_key_info").at("secret_key").as_string()).ok());

  struct Bad {
    std::string body;
    int status;
    std::string words;
  };
  for (const Bad& bad : std::vector<Bad>{
           {"{", 400, "not valid JSON"},
           {"[]", 400, "must be a JSON object"},
           {R"({"name":"x","all_models":true,"color":"red"})", 400, "unknown field \"color\""},
           {R"({"name":"x","all_models":false})", 400, "at least one model"},
           {R"({"name":"x","models":["no-such-model"]})", 400, "no-such-model"},
           {R"({"name":"x","models":["openai-gpt-4o"],"batch_inference":true})", 400, "batch_inference"},
           {R"({"name":"x","all_models":true,"vpc_uuid":"c0ffee00-1234-4abc-8def-0123456789ab"})", 400, "not a VPC of your team"},
           {R"({"name":"x","all_models":"yes"})", 400, "all_models must be true or false"},
           {R"({"all_models":true})", 400, "name is required"},
       }) {
    Response refused = Call("POST", kKeys, Owner(), bad.body);
    EXPECT_EQ(refused.status, bad.status) << bad.body << " -> " << refused.body;
    std::string message(Body(refused).at("message").as_string());
    EXPECT_NE(message.find(bad.words), std::string::npos) << message;
  }
  Request no_type = Request::For("POST", kKeys, R"({"name":"x","all_models":true})");
  no_type.headers.emplace_back("authorization", Owner());
  EXPECT_EQ(api_->Handle(no_type).status, 415);
  EXPECT_EQ(ledger_.event_count(), 2u);  // nothing half-written by the refusals
}

TEST_F(AdminApiTest, AnIdempotentRetryAnswersWithoutTheSecret) {
  std::vector<std::pair<std::string, std::string>> key{{"idempotency-key", "retry-1"}};
  Response first = Call("POST", kKeys, Owner(), R"({"name":"once","all_models":true})", key);
  ASSERT_EQ(first.status, 201);
  Response again = Call("POST", kKeys, Owner(), R"({"name":"once","all_models":true})", key);
  ASSERT_EQ(again.status, 201);
  EXPECT_TRUE(Body(again).at("idempotent_replay").as_bool());
  EXPECT_FALSE(Body(again).at("api_key_info").as_object().contains("secret_key"));
  EXPECT_FALSE(again.sensitive);
  EXPECT_EQ(Body(again).at("api_key_info").at("uuid"), Body(first).at("api_key_info").at("uuid"));
  EXPECT_EQ(Call("POST", kKeys, Owner(), R"({"name":"x","all_models":true})", {{"idempotency-key", ""}}).status, 400);
  EXPECT_EQ(Call("POST", kKeys, Owner(), R"({"name":"x","all_models":true})",
                 {{"idempotency-key", std::string(256, 'k')}}).status, 400);
}

TEST_F(AdminApiTest, CommandsBeyondTheRateAre429AndAnUnavailableLogIs503) {
  MakeApi(1);  // one a second, bursts of two
  EXPECT_EQ(Call("POST", kKeys, Owner(), R"({"name":"a","all_models":true})").status, 201);
  EXPECT_EQ(Call("POST", kKeys, Owner(), R"({"name":"b","all_models":true})").status, 201);
  Response limited = Call("POST", kKeys, Owner(), R"({"name":"c","all_models":true})");
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.Header("Retry-After"), "1");
  clock_.Advance(2'000'000);
  ledger_.FailNextCommand(common::Unavailable("the event log is unavailable"));
  Response unavailable = Call("POST", kKeys, Owner(), R"({"name":"d","all_models":true})");
  EXPECT_EQ(unavailable.status, 503);
  EXPECT_EQ(unavailable.Header("Retry-After"), "1");
  EXPECT_EQ(Id(unavailable), "service_unavailable");
}

// A commit whose outcome could not be confirmed is 504 outcome_unknown, never the 503 that means
// "not written"; the new secret waits in memory for the retry with the same Idempotency-Key,
// which shows it (once) if the command landed.
TEST_F(AdminApiTest, AnUnknownOutcomeIs504AndTheRetryShowsTheSecretOfTheCreateThatLanded) {
  const std::string body = R"({"name":"in-doubt","all_models":true})";
  ledger_.LandNextCommandUnconfirmed(common::DeadlineExceeded("the event log went away while committing"));
  Response unknown = Call("POST", kKeys, Owner(), body, {{"idempotency-key", "create-1"}});
  EXPECT_EQ(unknown.status, 504) << unknown.body;
  EXPECT_EQ(Id(unknown), "outcome_unknown");
  EXPECT_EQ(unknown.Header("Retry-After"), "1");
  EXPECT_EQ(unknown.body.find("secret_key"), std::string::npos);
  EXPECT_NE(unknown.body.find("that retry also shows the new secret"), std::string::npos) << unknown.body;
  EXPECT_NE(Call("GET", "/metrics", "").body.find("keyledger_api_undelivered_secrets 1\n"), std::string::npos);
  EXPECT_EQ(ledger_.event_count(), 1u);

  Response retry = Call("POST", kKeys, Owner(), body, {{"idempotency-key", "create-1"}});
  ASSERT_EQ(retry.status, 201) << retry.body;
  EXPECT_TRUE(retry.sensitive);
  json::value v = Body(retry);
  EXPECT_TRUE(v.at("idempotent_replay").as_bool());
  const std::string secret(v.at("api_key_info").at("secret_key").as_string());
  EXPECT_EQ(common::SecretHint(secret), v.at("api_key_info").at("secret_hint").as_string())
      << "the secret shown is the one of the key that landed";
  EXPECT_EQ(ledger_.event_count(), 1u) << "the retry wrote nothing";

  Response third = Call("POST", kKeys, Owner(), body, {{"idempotency-key", "create-1"}});
  EXPECT_EQ(third.status, 201);
  EXPECT_EQ(third.body.find("secret_key"), std::string::npos) << "shown once";
  EXPECT_NE(third.body.find("shown once, in the original response"), std::string::npos);
  const std::string metrics = Call("GET", "/metrics", "").body;
  EXPECT_NE(metrics.find("keyledger_api_undelivered_secrets 0\n"), std::string::npos);
  EXPECT_NE(metrics.find("keyledger_api_undelivered_secrets_shown_total 1\n"), std::string::npos);
  EXPECT_NE(metrics.find("keyledger_writer_commands_total{outcome=\"outcome_unknown\"}"), std::string::npos);
}

TEST_F(AdminApiTest, AnUnknownOutcomeThatDidNotLandIsCarriedOutByTheRetryWithItsOwnSecret) {
  const std::string body = R"({"name":"lost","all_models":true})";
  ledger_.FailNextCommand(common::DeadlineExceeded("the event log went away while committing"));
  EXPECT_EQ(Call("POST", kKeys, Owner(), body, {{"idempotency-key", "create-2"}}).status, 504);
  EXPECT_EQ(ledger_.event_count(), 0u);
  Response retry = Call("POST", kKeys, Owner(), body, {{"idempotency-key", "create-2"}});
  ASSERT_EQ(retry.status, 201) << retry.body;
  EXPECT_FALSE(Body(retry).as_object().contains("idempotent_replay"));
  EXPECT_TRUE(Body(retry).at("api_key_info").as_object().contains("secret_key"));
  EXPECT_NE(Call("GET", "/metrics", "").body.find("keyledger_api_undelivered_secrets 0\n"), std::string::npos)
      << "the first attempt's secret is wiped";

  // Without an Idempotency-Key there is nothing to retry by, and the answer says what to do.
  ledger_.LandNextCommandUnconfirmed(common::DeadlineExceeded("the event log went away while committing"));
  Response bare = Call("POST", kKeys, Owner(), R"({"name":"bare","all_models":true})");
  EXPECT_EQ(bare.status, 504);
  EXPECT_NE(bare.body.find("no Idempotency-Key"), std::string::npos) << bare.body;
  EXPECT_NE(bare.body.find("regenerate it"), std::string::npos) << bare.body;
}

TEST_F(AdminApiTest, AHeldSecretLapsesAfterTenMinutesAndTheRetrySaysToRegenerate) {
  auto [id, secret] = Create(Owner(), "prod");
  const std::string path = std::string(kKeys) + "/" + id + "/regenerate";
  ledger_.LandNextCommandUnconfirmed(common::DeadlineExceeded("the event log went away while committing"));
  EXPECT_EQ(Call("PUT", path, Owner(), R"({"confirm_name":"prod"})", {{"idempotency-key", "regen-1"}}).status, 504);
  clock_.Advance(internal::SecretVault::kHoldMicros + 1);
  api_->Sweep();
  const std::string metrics = Call("GET", "/metrics", "").body;
  EXPECT_NE(metrics.find("keyledger_api_undelivered_secrets 0\n"), std::string::npos);
  EXPECT_NE(metrics.find("keyledger_api_undelivered_secrets_lapsed_total 1\n"), std::string::npos);
  Response late = Call("PUT", path, Owner(), R"({"confirm_name":"prod"})", {{"idempotency-key", "regen-1"}});
  ASSERT_EQ(late.status, 200) << late.body;
  EXPECT_EQ(late.body.find("secret_key"), std::string::npos);
  EXPECT_NE(late.body.find("never shown and is no longer held: regenerate the key"), std::string::npos) << late.body;

  // A regenerate that landed is shown to its retry within the ten minutes.
  ledger_.LandNextCommandUnconfirmed(common::DeadlineExceeded("the event log went away while committing"));
  EXPECT_EQ(Call("PUT", path, Owner(), R"({"confirm_name":"prod"})", {{"idempotency-key", "regen-2"}}).status, 504);
  clock_.Advance(internal::SecretVault::kHoldMicros - 1000000);
  Response retry = Call("PUT", path, Owner(), R"({"confirm_name":"prod"})", {{"idempotency-key", "regen-2"}});
  ASSERT_EQ(retry.status, 200) << retry.body;
  const std::string shown(Body(retry).at("api_key_info").at("secret_key").as_string());
  EXPECT_EQ(common::SecretHint(shown), Body(retry).at("api_key_info").at("secret_hint").as_string());
  EXPECT_NE(shown, secret);
}

TEST_F(AdminApiTest, ViewsListNewestFirstWithPagesAndTheTeamViewIsForOwners) {
  Create(Owner(), "one");
  clock_.Advance(1000);
  Create(Owner(), "two");
  Create(Member(), "members");
  Response mine = Call("GET", std::string(kKeys) + "?view=mine&per_page=1", Owner());
  ASSERT_EQ(mine.status, 200);
  json::value body = Body(mine);
  EXPECT_EQ(body.at("api_key_infos").as_array()[0].at("name").as_string(), "two");
  EXPECT_EQ(body.at("meta").at("total").as_int64(), 2);
  EXPECT_EQ(body.at("meta").at("pages").as_int64(), 2);
  EXPECT_EQ(body.at("links").at("pages").at("next").as_string(), "/v2/gen-ai/models/api_keys?view=mine&page=2&per_page=1");
  Response team = Call("GET", std::string(kKeys) + "?view=team", Owner());
  ASSERT_EQ(team.status, 200);
  ASSERT_EQ(Body(team).at("api_key_infos").as_array().size(), 1u);
  EXPECT_EQ(Body(team).at("api_key_infos").as_array()[0].at("creator_name").as_string(), "user-mia Name");
  EXPECT_EQ(Call("GET", std::string(kKeys) + "?view=team", Member()).status, 403);
  EXPECT_EQ(Call("GET", std::string(kKeys) + "?view=everything", Owner()).status, 400);
  Response bad_page = Call("GET", std::string(kKeys) + "?page=0", Owner());
  EXPECT_EQ(bad_page.status, 400);
  EXPECT_NE(bad_page.body.find("page must be an integer from 1 to 1000000"), std::string::npos);
  EXPECT_EQ(Call("GET", std::string(kKeys) + "?per_page=201", Owner()).status, 400);
}

TEST_F(AdminApiTest, OneKeyIsReadableByOwnersAndItsCreatorAndHiddenFromOtherTeams) {
  auto [owners_key, secret] = Create(Owner(), "owners");
  auto [members_key, member_secret] = Create(Member(), "members");
  EXPECT_EQ(Call("GET", std::string(kKeys) + "/" + owners_key, Owner()).status, 200);
  EXPECT_EQ(Call("GET", std::string(kKeys) + "/" + members_key, Owner()).status, 200);
  EXPECT_EQ(Call("GET", std::string(kKeys) + "/" + owners_key, Member()).status, 403);
  EXPECT_EQ(Call("GET", std::string(kKeys) + "/" + owners_key, Stranger()).status, 404);
  EXPECT_EQ(Call("GET", std::string(kKeys) + "/" + kUnknownKey, Owner()).status, 404);
  Response malformed = Call("GET", std::string(kKeys) + "/not-a-uuid", Owner());
  EXPECT_EQ(malformed.status, 404);
  EXPECT_NE(malformed.body.find("api key not-a-uuid not found"), std::string::npos);
}

TEST_F(AdminApiTest, RenameChangesTheNameOnlyAndScopeCannotBeChanged) {
  auto [key, secret] = Create(Owner(), "old", R"("models":["openai-gpt-4o"],"vpc_uuid":")" + std::string(kAcmeVpc) + "\"");
  std::string path = std::string(kKeys) + "/" + key;
  Response renamed = Call("PUT", path, Owner(), R"({"name":"new"})");
  ASSERT_EQ(renamed.status, 200) << renamed.body;
  EXPECT_EQ(Body(renamed).at("api_key_info").at("name").as_string(), "new");
  EXPECT_EQ(Body(renamed).at("api_key_info").at("vpc_uuid").as_string(), kAcmeVpc);
  Response scope = Call("PUT", path, Owner(), R"({"name":"x","all_models":true})");
  EXPECT_EQ(scope.status, 400);
  EXPECT_NE(scope.body.find("all_models cannot be changed"), std::string::npos);
  Response other_id = Call("PUT", path, Owner(), R"({"name":"x","uuid":")" + std::string(kUnknownKey) + "\"}");
  EXPECT_EQ(other_id.status, 400);
  EXPECT_NE(other_id.body.find("does not match the key in the path"), std::string::npos);
  EXPECT_EQ(Call("PUT", path, Member(), R"({"name":"x"})").status, 403);
  EXPECT_EQ(Call("PUT", std::string(kKeys) + "/" + kUnknownKey, Owner(), R"({"name":"x"})").status, 404);
  EXPECT_EQ(Call("PUT", path, Owner(), R"({"name":"   "})").status, 400);
}

TEST_F(AdminApiTest, RegenerateAndDeleteNeedTheCurrentName) {
  auto [key, secret] = Create(Owner(), "prod");
  std::string path = std::string(kKeys) + "/" + key;
  EXPECT_EQ(Call("PUT", path + "/regenerate", Owner(), R"({"confirm_name":"wrong"})").status, 409);
  EXPECT_EQ(Call("PUT", path + "/regenerate", Owner(), R"({})").status, 400);
  Response regenerated = Call("PUT", path + "/regenerate", Owner(), R"({"confirm_name":"prod"})");
  ASSERT_EQ(regenerated.status, 200);
  std::string fresh(Body(regenerated).at("api_key_info").at("secret_key").as_string());
  EXPECT_NE(fresh, secret);
  EXPECT_TRUE(regenerated.sensitive);
  EXPECT_EQ(Body(regenerated).at("api_key_info").at("revision").as_int64(), 2);

  EXPECT_EQ(Call("DELETE", path, Owner()).status, 400);
  EXPECT_EQ(Call("DELETE", path + "?confirm_name=wrong", Owner()).status, 409);
  EXPECT_EQ(Call("DELETE", path + "?confirm_name=prod", Owner()).status, 200);
  EXPECT_EQ(Call("GET", path, Owner()).status, 404);
  EXPECT_EQ(Call("GET", path + "/events", Owner()).status, 404);
  auto [other, other_secret] = Create(Owner(), "by body");
  EXPECT_EQ(Call("DELETE", std::string(kKeys) + "/" + other, Owner(), R"({"confirm_name":"by body"})").status, 200);
}

TEST_F(AdminApiTest, AKeysHistoryListsItsEventsOldestFirst) {
  auto [key, secret] = Create(Owner(), "k");
  ASSERT_EQ(Call("PUT", std::string(kKeys) + "/" + key, Owner(), R"({"name":"k2"})").status, 200);
  Response history = Call("GET", std::string(kKeys) + "/" + key + "/events", Owner());
  ASSERT_EQ(history.status, 200);
  json::value body = Body(history);
  const auto& events = body.at("events").as_array();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].at("event_type").as_string(), "key_created");
  EXPECT_EQ(events[1].at("changes").at("new_name").as_string(), "k2");
  EXPECT_EQ(history.body.find(secret), std::string::npos);
  EXPECT_EQ(Call("GET", std::string(kKeys) + "/" + key + "/events", Member()).status, 403);
  EXPECT_TRUE(body.at("next_cursor").is_null());
}

// A long history is read a page at a time: next_cursor until the end, each event once.
TEST_F(AdminApiTest, AKeysHistoryIsCursorPaginated) {
  auto [key, secret] = Create(Owner(), "k0");
  for (int i = 1; i <= 6; ++i) {
    ASSERT_EQ(Call("PUT", std::string(kKeys) + "/" + key, Owner(), R"({"name":"k)" + std::to_string(i) + "\"}").status, 200);
  }
  std::vector<std::int64_t> revisions;
  std::string cursor;
  int pages = 0;
  do {
    Response r = Call("GET", std::string(kKeys) + "/" + key + "/events?limit=3" + (cursor.empty() ? "" : "&cursor=" + cursor),
                      Owner());
    ASSERT_EQ(r.status, 200) << r.body;
    json::value body = Body(r);
    for (const auto& e : body.at("events").as_array()) revisions.push_back(e.at("revision").as_int64());
    cursor = body.at("next_cursor").is_null() ? "" : std::string(body.at("next_cursor").as_string());
    ++pages;
  } while (!cursor.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(revisions, (std::vector<std::int64_t>{1, 2, 3, 4, 5, 6, 7}));
  for (const char* bad : {"limit=0", "limit=1001", "cursor=abc", "cursor=0"}) {
    EXPECT_EQ(Call("GET", std::string(kKeys) + "/" + key + "/events?" + bad, Owner()).status, 400) << bad;
  }
}

TEST_F(AdminApiTest, AuditQueriesAreForOwnersAndCheckTheirParameters) {
  auto [key, secret] = Create(Owner(), "audited");
  const std::string audit = "/v2/gen-ai/audit";
  Response events = Call("GET", audit + "/events?key_id=" + key, Owner());
  ASSERT_EQ(events.status, 200) << events.body;
  ASSERT_EQ(Body(events).at("audit_events").as_array().size(), 1u);
  EXPECT_TRUE(Body(events).at("next_cursor").is_null());
  EXPECT_EQ(Call("GET", audit + "/events", Member()).status, 403);
  EXPECT_EQ(Call("GET", audit + "/events?color=red", Owner()).status, 400);
  EXPECT_EQ(Call("GET", audit + "/events?event_type=key_exploded", Owner()).status, 400);
  EXPECT_EQ(Call("GET", audit + "/events?limit=0", Owner()).status, 400);
  EXPECT_EQ(Call("GET", audit + "/events?cursor=", Owner()).status, 400);
  EXPECT_EQ(Call("GET", audit + "/events?key_id=nope", Owner()).status, 400);
  // An empty time range is well-formed and holds nothing.
  Response empty = Call("GET", audit + "/events?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z", Owner());
  ASSERT_EQ(empty.status, 200) << empty.body;
  EXPECT_TRUE(Body(empty).at("audit_events").as_array().empty());

  Response exported = Call("GET", audit + "/export", Owner());
  ASSERT_EQ(exported.status, 200);
  ASSERT_TRUE(exported.stream);
  std::string lines;
  while (exported.stream(lines)) {
  }
  EXPECT_EQ(std::count(lines.begin(), lines.end(), '\n'), 1);
  EXPECT_EQ(Call("GET", audit + "/export", Member()).status, 403);

  Response at = Call("GET", audit + "/keys/" + key + "?offset=0", Owner());
  ASSERT_EQ(at.status, 200) << at.body;
  EXPECT_EQ(Body(at).at("api_key").at("name").as_string(), "audited");
  EXPECT_EQ(Call("GET", audit + "/keys/" + key, Owner()).status, 400);
  EXPECT_EQ(Call("GET", audit + "/keys/" + key + "?offset=0&at=2026-01-01T00:00:00Z", Owner()).status, 400);
  EXPECT_EQ(Call("GET", audit + "/keys/" + std::string(kUnknownKey) + "?offset=0", Owner()).status, 404);

  Response callable = Call("GET", audit + "/callable?model=openai-gpt-4o&offset=0", Owner());
  ASSERT_EQ(callable.status, 200) << callable.body;
  EXPECT_EQ(Body(callable).at("api_keys").as_array().size(), 1u);
  EXPECT_EQ(Call("GET", audit + "/callable?offset=0", Owner()).status, 400);
  EXPECT_EQ(Call("GET", audit + "/callable?model=m&vpc_uuid=x&offset=0", Owner()).status, 400);
}

// Found by fuzzing: "readyz" was routed as "/readyz".
TEST_F(AdminApiTest, ATargetThatIsNotAnOriginFormPathIs400) {
  for (const char* target : {"readyz", "v2/gen-ai/models/api_keys", "", "*"}) {
    Response r = Call("GET", target, Owner());
    EXPECT_EQ(r.status, 400) << target;
    EXPECT_EQ(Body(r).at("id").as_string(), "bad_request") << target;
    EXPECT_NE(r.body.find("must be a path starting with /"), std::string::npos) << r.body;
  }
  EXPECT_EQ(Call("GET", "/readyz", "").status, 200);
}

TEST_F(AdminApiTest, AReadSideFailureIs500WithoutItsDetails) {
  auto [key, secret] = Create(Owner(), "k");
  ledger_.FailReads(common::DataLoss("key record is malformed at /var/lib/keyledger/gen-000001"));
  Response r = Call("GET", std::string(kKeys) + "/" + key, Owner());
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(Body(r).at("message").as_string(), "internal error");
  ledger_.FailReads(common::Unavailable("the store is closing"));
  EXPECT_EQ(Call("GET", kKeys, Owner()).status, 503);
}

TEST_F(AdminApiTest, CommandsAndHeavyReadsRunOnWorkersAndPlainReadsOnTheEventLoop) {
  auto worker = [&](const std::string& method, const std::string& target) {
    return api_->NeedsWorker(Request::For(method, target));
  };
  EXPECT_TRUE(worker("POST", kKeys));
  EXPECT_TRUE(worker("DELETE", std::string(kKeys) + "/" + kUnknownKey));
  EXPECT_TRUE(worker("GET", "/readyz"));
  EXPECT_TRUE(worker("GET", "/readyz?verbose=1"));
  EXPECT_TRUE(worker("GET", "/v2/gen-ai/audit/events?team=t"));
  EXPECT_FALSE(worker("GET", "/healthz"));
  EXPECT_FALSE(worker("GET", "/metrics"));
  EXPECT_FALSE(worker("GET", "/readyzz"));
  EXPECT_FALSE(worker("GET", std::string(kKeys) + "/" + kUnknownKey));
  EXPECT_FALSE(worker("GET", std::string(kKeys) + "?view=mine&page=2"));
  EXPECT_FALSE(worker("GET", std::string(kKeys) + "?view=team&page=50&per_page=20"));  // skips 980
  EXPECT_TRUE(worker("GET", std::string(kKeys) + "?view=team&page=51&per_page=20"));   // skips 1,000
  EXPECT_TRUE(worker("GET", std::string(kKeys) + "?per_page=200&page=6"));
  EXPECT_FALSE(worker("GET", std::string(kKeys) + "?page=oops"));  // a 400, answered inline
  EXPECT_TRUE(worker("GET", std::string(kKeys) + "/" + kUnknownKey + "/events?limit=1000"));
  EXPECT_TRUE(worker("GET", std::string(kKeys) + "/" + kUnknownKey + "/usage"));
  EXPECT_TRUE(worker("GET", std::string(kKeys) + "?unused_for_days=30"));  // the stale-key report
  EXPECT_TRUE(worker("GET", std::string(kKeys) + "?view=team&sort=last_used_at"));
}

// Heavy reads (deep list pages, history pages, audit queries) run on workers, so the event loops
// stay free: /healthz answers within 100 ms at p99 while eight clients keep heavy reads going
// through the real HTTP server. Each heavy read takes 150 ms here; on an event loop, every one
// would hold up whatever else that loop serves by up to that long.
TEST_F(AdminApiTest, HealthStaysFastWhileHeavyReadsRun) {
  auto [key, secret] = Create(Owner(), "busy");
  http::ServerOptions options;
  options.port = 0;
  options.threads = 2;  // serve's default event loops
  http::Server server(
      options, [this](const Request& r) { return api_->Handle(r); },
      [this](const Request& r) { return api_->NeedsWorker(r); }, &logger_);
  ASSERT_TRUE(server.Start().ok());
  const std::string base = "http://127.0.0.1:" + std::to_string(server.port());
  ledger_.SetHeavyReadMillis(150);
  const std::vector<std::string> heavy = {
      std::string(kKeys) + "?view=team&page=60&per_page=20",
      std::string(kKeys) + "/" + key + "/events?limit=1000",
      "/v2/gen-ai/audit/events?key_id=" + key,
  };
  std::atomic<bool> stop{false};
  std::atomic<int> heavy_done{0}, heavy_failed{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 8; ++i) {
    readers.emplace_back([&, i] {
      while (!stop.load()) {
        http::ClientRequest r;
        r.url = base + heavy[static_cast<size_t>(i) % heavy.size()];
        r.headers["authorization"] = Owner();
        auto got = http::Fetch(r);
        if (got.ok() && got->status == 200) {
          heavy_done.fetch_add(1);
        } else {
          heavy_failed.fetch_add(1);
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the heavy reads are under way
  std::vector<double> millis;
  for (int i = 0; i < 100; ++i) {
    const auto start = std::chrono::steady_clock::now();
    http::ClientRequest health;
    health.url = base + "/healthz";
    auto got = http::Fetch(health);
    millis.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    ASSERT_TRUE(got.ok() && got->status == 200);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  stop = true;
  for (auto& t : readers) t.join();
  server.Shutdown();
  std::sort(millis.begin(), millis.end());
  const double p99 = millis[98];
  EXPECT_LT(p99, 100.0) << "healthz p99 " << p99 << " ms, max " << millis.back() << " ms";
  EXPECT_GT(heavy_done.load(), 16) << "the heavy reads did not run";
  EXPECT_EQ(heavy_failed.load(), 0);
}

constexpr char kOperatorToken[] = "op-token-0123456789abcdef0123456789abcdef";

TEST_F(AdminApiTest, OperatorRoutesTakeOperatorTokensOnlyAndAreOffWithoutThem) {
  const std::string halts = "/v2/gen-ai/operator/halts";
  EXPECT_EQ(Call("GET", halts, "Bearer " + std::string(kOperatorToken)).status, 403);  // none configured
  MakeApi(50, OperatorAuth(std::vector<OperatorCredential>{{"op-ivan", kOperatorToken}}));
  EXPECT_EQ(Call("GET", halts, "Bearer " + std::string(kOperatorToken)).status, 200);
  EXPECT_EQ(Call("GET", halts, "").status, 401);
  EXPECT_EQ(Call("GET", halts, "Bearer " + std::string(kOperatorToken) + "x").status, 401);
  EXPECT_EQ(Call("GET", halts, Owner()).status, 401);  // a user's JWT is no operator token
  EXPECT_EQ(Call("GET", kKeys, "Bearer " + std::string(kOperatorToken)).status, 401);  // nor the other way round
  Response refused = Call("GET", halts, "Bearer wrong-token-of-the-right-length-0123456789");
  EXPECT_EQ(Body(refused).at("message").as_string().find("wrong-token"), std::string::npos);  // never echoed
}

// The legacy import's route: operators only; every line checked (each bad one named), then every
// line against the writer's keys (each conflict named), nothing appended unless all pass;
// check_only appends nothing; a second run finds every key already present. Plain secrets are
// refused: import-legacy sends only their hashes.
TEST_F(AdminApiTest, TheLegacyImportRouteChecksEveryLineBeforeAppendingAndIsIdempotent) {
  const std::string path = "/v2/gen-ai/operator/legacy-imports";
  const std::string op = "Bearer " + std::string(kOperatorToken);
  MakeApi(50, OperatorAuth(std::vector<OperatorCredential>{{"op-ivan", kOperatorToken}}));
  auto line = [](const std::string& team, char hash, const std::string& name) {
    return R"({"team_id":")" + team + R"(","creator_id":"u-old","creator_name":"Old","name":")" + name +
           R"(","created_at":"2021-03-04T05:06:07Z","secret_sha256":")" + std::string(64, hash) + R"("})";
  };
  const std::string two = "[" + line("team-acme", 'a', "one") + "," + line("team-acme", 'b', "two") + "]";
  EXPECT_EQ(Call("POST", path, Owner(), R"({"first_line":1,"lines":)" + two + "}").status, 401);
  EXPECT_EQ(Call("POST", path, "", R"({"first_line":1,"lines":)" + two + "}").status, 401);

  Response bad = Call("POST", path, op,
                      R"({"first_line":7,"lines":[)" + line("team-acme", 'c', "ok") +
                          R"(,{"team_id":"team-acme"},{"team_id":"team-acme","creator_id":"u","creator_name":"n","name":"x","created_at":"2021-03-04T05:06:07Z","secret":"sk-do-v1-)" +
                          std::string(64, '1') + R"("}]})");
  ASSERT_EQ(bad.status, 400) << bad.body;
  const std::string errors = json::serialize(Body(bad).at("errors"));
  EXPECT_NE(errors.find("line 8: "), std::string::npos) << errors;
  EXPECT_NE(errors.find("line 9: send secret_sha256"), std::string::npos) << errors;
  EXPECT_EQ(bad.body.find(std::string(64, '1')), std::string::npos) << "a secret echoed";
  EXPECT_EQ(ledger_.event_count(), 0u);
  EXPECT_EQ(Call("POST", path, op, R"({"first_line":0,"lines":)" + two + "}").status, 400);
  // Line numbers are only names: a chunk far into a file costs no more than one at its start.
  Response far = Call("POST", path, op, R"({"first_line":2000000000,"lines":[{"team_id":"t"}]})");
  ASSERT_EQ(far.status, 400) << far.body;
  EXPECT_NE(json::serialize(Body(far).at("errors")).find("line 2000000000: "), std::string::npos) << far.body;
  EXPECT_EQ(Call("POST", path, op, R"({"first_line":2147483647,"lines":)" + two + "}").status, 400);
  EXPECT_EQ(Call("POST", path, op, R"({"first_line":1,"lines":[]})").status, 400);
  EXPECT_EQ(Call("POST", path, op, R"({"first_line":1,"lines":)" + two + R"(,"dry":true})").status, 400);

  Response checked = Call("POST", path, op, R"({"first_line":1,"check_only":true,"lines":)" + two + "}");
  ASSERT_EQ(checked.status, 200) << checked.body;
  EXPECT_EQ(Body(checked).at("to_import").as_int64(), 2);
  EXPECT_EQ(ledger_.event_count(), 0u);
  Response imported = Call("POST", path, op, R"({"first_line":1,"lines":)" + two + "}");
  ASSERT_EQ(imported.status, 200) << imported.body;
  EXPECT_EQ(Body(imported).at("imported").as_int64(), 2);
  EXPECT_EQ(ledger_.event_count(), 2u);
  Response again = Call("POST", path, op, R"({"first_line":1,"lines":)" + two + "}");
  ASSERT_EQ(again.status, 200);
  EXPECT_EQ(Body(again).at("imported").as_int64(), 0);
  EXPECT_EQ(Body(again).at("already_present").as_int64(), 2);

  // Another team's line with a secret a live key holds: 409 naming it, and the fresh line beside
  // it is not appended either.
  Response clash = Call("POST", path, op,
                        R"({"first_line":1,"lines":[)" + line("team-globex", 'd', "fresh") + "," +
                            line("team-globex", 'a', "taken") + "]}");
  ASSERT_EQ(clash.status, 409) << clash.body;
  EXPECT_NE(json::serialize(Body(clash).at("errors")).find("line 2: the secret is already in use"), std::string::npos)
      << clash.body;
  EXPECT_EQ(ledger_.event_count(), 2u);
  // A secret twice within one request: a conflict between the lines, nothing appended.
  Response twice = Call("POST", path, op,
                        R"({"first_line":1,"lines":[)" + line("team-globex", 'e', "x") + "," +
                            line("team-initech", 'e', "y") + "]}");
  ASSERT_EQ(twice.status, 409) << twice.body;
  EXPECT_NE(json::serialize(Body(twice).at("errors")).find("line 2: the same secret as line 1"), std::string::npos)
      << twice.body;
  // Ids with control characters would corrupt the store's keys: refused, naming the field.
  Response control = Call("POST", path, op, R"({"first_line":1,"lines":[)" + line("team\\u0000x", 'f', "z") + "]}");
  ASSERT_EQ(control.status, 400) << control.body;
  EXPECT_NE(control.body.find("team_id must be at most 1024 bytes without control characters"), std::string::npos)
      << control.body;
  EXPECT_EQ(ledger_.event_count(), 2u);
}

TEST_F(AdminApiTest, AHaltedPartitionRefusesItsTeamNamingItUntilTheOperatorSkipsTheRecord) {
  MakeApi(50, OperatorAuth(std::vector<OperatorCredential>{{"op-ivan", kOperatorToken}}));
  const std::string op = "Bearer " + std::string(kOperatorToken);
  const common::Sha256Digest sha = common::Sha256Of("garbage");
  ledger_.SetHalt({7, sha, "undecodable event"});
  // Ready (other teams are served), with the halt listed; this team's commands are refused.
  Response ready = Call("GET", "/readyz", "");
  EXPECT_EQ(ready.status, 200) << ready.body;
  EXPECT_EQ(Body(ready).at("halted_partitions").as_array().size(), 1u);
  Response refused = Call("POST", kKeys, Owner(), R"({"name":"k","all_models":true})");
  EXPECT_EQ(refused.status, 503);
  EXPECT_NE(Body(refused).at("message").as_string().find("partition 0 is halted at offset 7"), std::string::npos)
      << refused.body;
  Response listed = Call("GET", "/v2/gen-ai/operator/halts", op);
  ASSERT_EQ(listed.status, 200);
  json::value halt = Body(listed).at("halts").at(0);
  EXPECT_EQ(halt.at("offset").as_int64(), 7);
  EXPECT_EQ(halt.at("record_sha256").as_string(), common::HexEncode(sha));

  const std::string skips = "/v2/gen-ai/operator/skips";
  auto body = [&](const std::string& partition, const std::string& offset, const std::string& hex,
                  const std::string& note) {
    return R"({"partition":)" + partition + R"(,"offset":)" + offset + R"(,"record_sha256":")" + hex +
           R"(","note":")" + note + R"("})";
  };
  const std::string hex = common::HexEncode(sha);
  for (const auto& [bad, words] : std::vector<std::pair<std::string, std::string>>{
           {body("-1", "7", hex, "n"), "partition must be an integer"},
           {body("0", "7.5", hex, "n"), "offset must be an integer"},
           {body("0", "7", "abc", "n"), "record_sha256"},
           {body("0", "7", hex, ""), "note"},
           {R"({"partition":0,"offset":7,"record_sha256":")" + hex + R"("})", "note is required"},
       }) {
    Response r = Call("POST", skips, op, bad);
    EXPECT_EQ(r.status, 400) << bad << " -> " << r.body;
    EXPECT_NE(Body(r).at("message").as_string().find(words), std::string::npos) << r.body;
  }
  common::Sha256Digest other = sha;
  other[0] ^= 1;
  EXPECT_EQ(Call("POST", skips, op, body("0", "7", common::HexEncode(other), "wrong record")).status, 409);
  EXPECT_EQ(Call("POST", skips, Owner(), body("0", "7", hex, "an owner")).status, 401);
  Response skipped = Call("POST", skips, op, body("0", "7", hex, "INC-7 garbage"));
  ASSERT_EQ(skipped.status, 201) << skipped.body;
  EXPECT_EQ(Body(skipped).at("skip").at("operator").as_string(), "op-ivan");
  EXPECT_EQ(Body(skipped).at("skip").at("projector").as_string(), "passed");
  EXPECT_EQ(Call("POST", kKeys, Owner(), R"({"name":"k","all_models":true})").status, 201);
  EXPECT_EQ(Body(Call("GET", "/v2/gen-ai/operator/halts", op)).at("skips").as_array().size(), 1u);
}

TEST(OperatorTokens, TheFileFormatIsCheckedNamingTheLineWithoutEchoingTokens) {
  auto ok = ParseOperatorTokens("# operators\n\nop-ivan " + std::string(40, 'a') + "\nops@example " +
                                std::string(32, 'b') + "\n");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->size(), 2u);
  EXPECT_EQ((*ok)[1].id, "ops@example");
  for (const auto& [bad, words] : std::vector<std::pair<std::string, std::string>>{
           {"op-ivan short-token", "line 1: the token must be one word of at least 32 characters"},
           {"justonefield", "line 1: expected"},
           {"\nbad/id " + std::string(32, 'c'), "line 2: the operator id"},
           {"a " + std::string(32, 'c') + "\na " + std::string(32, 'd'), "listed twice"},
           {"# nothing", "lists no operator"},
       }) {
    auto parsed = ParseOperatorTokens(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_NE(parsed.status().message().find(words), std::string::npos) << parsed.status().message();
    EXPECT_EQ(parsed.status().message().find("short-token"), std::string::npos);
  }
}

TEST_F(AdminApiTest, WhoTheCallerIsAndTheTeamsVpcsByName) {
  Response me = Call("GET", "/v2/gen-ai/me", Member());
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(Body(me), json::parse(R"({"user_id":"user-mia","name":"user-mia Name","team_id":"team-acme","role":"member"})"));
  EXPECT_EQ(Call("GET", "/v2/gen-ai/me", "").status, 401);
  Response vpcs = Call("GET", "/v2/vpcs", Owner());
  ASSERT_EQ(vpcs.status, 200);
  EXPECT_EQ(Body(vpcs).at("meta").at("total").as_int64(), 2);
  EXPECT_EQ(Body(vpcs).at("vpcs").at(0), json::parse(R"({"id":"5f0c8e3a-2b7d-4c1e-9a6f-1d2e3f4a5b6c","name":"acme-prod-nyc3","region":"nyc3"})"));
  EXPECT_EQ(Body(vpcs).at("vpcs").at(1).at("name").as_string(), "acme-staging-sfo3");
  EXPECT_EQ(Body(Call("GET", "/v2/vpcs", Stranger())).at("vpcs").as_array().size(), 1u);  // another team's only
}

TEST_F(AdminApiTest, TheSessionCookieAuthenticatesAndCommandsByItNeedTheCsrfHeader) {
  const std::string jwt = Owner().substr(7);
  const std::vector<std::pair<std::string, std::string>> cookie = {{"cookie", "theme=dark; keyledger_session=" + jwt + "; x=y"}};
  EXPECT_EQ(Call("GET", kKeys, "", "", cookie).status, 200);
  Response no_csrf = Call("POST", kKeys, "", R"({"name":"by cookie","all_models":true})", cookie);
  EXPECT_EQ(no_csrf.status, 403);
  EXPECT_EQ(Id(no_csrf), "csrf_required");
  EXPECT_EQ(ledger_.event_count(), 0u);  // nothing written
  auto with_csrf = cookie;
  with_csrf.emplace_back("x-keyledger-csrf", "1");
  EXPECT_EQ(Call("POST", kKeys, "", R"({"name":"by cookie","all_models":true})", with_csrf).status, 201);
  // The Authorization header needs no CSRF header (no browser sends it by itself).
  EXPECT_EQ(Call("POST", kKeys, Owner(), R"({"name":"by header","all_models":true})").status, 201);
  // A forged cookie is a 401 like a forged header; a repeated Authorization header is a 400.
  EXPECT_EQ(Call("GET", kKeys, "", "", {{"cookie", "keyledger_session=" + jwt + "x"}}).status, 401);
  EXPECT_EQ(Call("GET", kKeys, Owner(), "", {{"authorization", Member()}}).status, 400);
  // Operator routes never take the cookie.
  MakeApi(50, OperatorAuth(std::vector<OperatorCredential>{{"op-ivan", kOperatorToken}}));
  EXPECT_EQ(Call("GET", "/v2/gen-ai/operator/halts", "", "", {{"cookie", std::string("keyledger_session=") + kOperatorToken}}).status, 401);
}

class ConsoleTest : public AdminApiTest {
 protected:
  ConsoleTest() {
    dir_ = std::filesystem::temp_directory_path() / ("kl-console-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_ / "assets");
    std::ofstream(dir_ / "index.html") << "<!doctype html><title>Manage Model Access Keys</title>";
    std::ofstream(dir_ / "assets" / "index-1a2b3c.js") << "console.log('hi')";
  }
  ~ConsoleTest() override { std::filesystem::remove_all(dir_); }
  void WithConsole(bool dev_sign_in) {
    ConsoleOptions console;
    auto files = http::StaticFiles::Load(dir_.string());
    ASSERT_TRUE(files.ok()) << files.status().ToString();
    console.files = *files;
    console.dev_sign_in = dev_sign_in;
    console.dev_jwt_secret = kSecret;
    MakeApi(50, {}, console);
  }
  std::filesystem::path dir_;
};

TEST_F(ConsoleTest, ServesItsFilesWithAStrictPolicyAndNothingOutsideThem) {
  EXPECT_EQ(Call("GET", "/console/", "").status, 404);  // no console configured
  WithConsole(false);
  Response page = Call("GET", "/console/", "");
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("Manage Model Access Keys"), std::string::npos);
  EXPECT_EQ(page.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(page.Header("X-Frame-Options"), "DENY");
  EXPECT_EQ(page.Header("Cache-Control"), "no-cache");
  const std::string csp(page.Header("Content-Security-Policy"));
  for (const char* part : {"default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'"}) {
    EXPECT_NE(csp.find(part), std::string::npos) << part;
  }
  EXPECT_EQ(csp.find("unsafe"), std::string::npos);
  Response script = Call("GET", "/console/assets/index-1a2b3c.js", "");
  EXPECT_EQ(script.status, 200);
  EXPECT_EQ(script.content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(script.Header("Cache-Control"), "public, max-age=31536000, immutable");
  for (const char* outside : {"/console/../api/openapi.yaml", "/console/assets/../../etc/passwd", "/console/nope.js",
                              "/console//index.html"}) {
    EXPECT_EQ(Call("GET", outside, "").status, 404) << outside;
  }
  EXPECT_EQ(Call("GET", "/console", "").status, 308);
  EXPECT_EQ(Call("GET", "/console", "").Header("Location"), "/console/");
  EXPECT_EQ(Call("POST", "/console/", "").status, 405);
  EXPECT_EQ(Call("GET", "/console/dev-sign-in", "").status, 404);  // development sign-in is off
}

TEST_F(ConsoleTest, TheDevelopmentSignInSetsAStrictHttpOnlySessionCookie) {
  WithConsole(true);
  Response users = Call("GET", "/console/dev-sign-in", "");
  ASSERT_EQ(users.status, 200);
  EXPECT_EQ(Body(users).at("users").as_array().size(), 4u);
  EXPECT_EQ(Call("POST", "/console/dev-sign-in", "", R"({"user_id":"user-mia"})").status, 403);  // no CSRF header
  const std::vector<std::pair<std::string, std::string>> csrf = {{"x-keyledger-csrf", "1"}};
  EXPECT_EQ(Call("POST", "/console/dev-sign-in", "", R"({"user_id":"user-nobody"})", csrf).status, 400);
  Response signed_in = Call("POST", "/console/dev-sign-in", "", R"({"user_id":"user-mia"})", csrf);
  ASSERT_EQ(signed_in.status, 204);
  const std::string cookie(signed_in.Header("Set-Cookie"));
  for (const char* part : {"keyledger_session=", "HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=28800"}) {
    EXPECT_NE(cookie.find(part), std::string::npos) << part << " in " << cookie;
  }
  const std::string value = cookie.substr(0, cookie.find(';'));
  Response me = Call("GET", "/v2/gen-ai/me", "", "", {{"cookie", value}});
  ASSERT_EQ(me.status, 200);
  EXPECT_EQ(Body(me).at("role").as_string(), "member");
  Response out = Call("POST", "/console/sign-out", "");
  EXPECT_EQ(out.status, 204);
  EXPECT_NE(std::string(out.Header("Set-Cookie")).find("Max-Age=0"), std::string::npos);
}

validator::ReplicaHeartbeat Beat(const std::string& id, std::int64_t applied, std::int64_t at_ms = kNow * 1000) {
  validator::ReplicaHeartbeat h;
  h.replica_id = id;
  h.at_ms = at_ms;
  h.ready = true;
  h.partitions = {{0, applied, 10, false}};
  return h;
}

TEST_F(AdminApiTest, RegenerateAndDeleteAnswerWithWhichValidatorsAlreadyDenyTheOldSecret) {
  validator::ReplicaBoard board({}, &logger_, &clock_);
  MakeApi(50, {}, {}, &board);
  auto [key, secret] = Create(Owner(), "revoked");
  board.Receive(Beat("replica-a", 1));
  board.Receive(Beat("replica-b", 1));
  Response regenerated = Call("PUT", std::string(kKeys) + "/" + key + "/regenerate", Owner(), R"({"confirm_name":"revoked"})");
  ASSERT_EQ(regenerated.status, 200);
  json::value revocation = Body(regenerated).at("revocation");
  EXPECT_EQ(revocation.at("partition").as_int64(), 0);
  EXPECT_EQ(revocation.at("offset").as_int64(), 1);  // the fake ledger's second event
  EXPECT_EQ(revocation.at("validators_total").as_int64(), 2);
  EXPECT_EQ(revocation.at("validators_applied").as_int64(), 0);
  EXPECT_EQ(revocation.at("summary").as_string(), "old secret denied on 0 of 2 validators");
  // One replica applies it; the receipt says so, and which one is behind.
  board.Receive(Beat("replica-a", 2));
  const std::string path = std::string(kKeys) + "/" + key + "/revocation";
  Response now = Call("GET", path, Owner());
  ASSERT_EQ(now.status, 200) << now.body;
  EXPECT_EQ(Body(now).at("event_type").as_string(), "key_regenerated");
  json::value receipt = Body(now).at("revocation");
  EXPECT_EQ(receipt.at("summary").as_string(), "old secret denied on 1 of 2 validators");
  EXPECT_EQ(receipt.at("validators").at(0).at("state").as_string(), "applied");
  EXPECT_EQ(receipt.at("validators").at(1).at("state").as_string(), "behind");
  EXPECT_FALSE(receipt.at("complete").as_bool());
  board.Receive(Beat("replica-b", 2));
  EXPECT_TRUE(Body(Call("GET", path + "?wait=1", Owner())).at("revocation").at("complete").as_bool());
  // Checked like the key itself; wait is bounded.
  EXPECT_EQ(Call("GET", path, Stranger()).status, 404);
  EXPECT_EQ(Call("GET", path + "?wait=31", Owner()).status, 400);
  EXPECT_EQ(Call("GET", path + "?wait=x", Owner()).status, 400);
  // Every receipt is also at the revoking event's own address, which the answer gives.
  EXPECT_EQ(revocation.at("href").as_string(), "/v2/gen-ai/revocations/0/1");
  EXPECT_EQ(Body(Call("GET", "/v2/gen-ai/revocations/0/1", Owner())).at("revocation").at("complete"), true);
  // A delete: the key and everything under it answer 404 (as any deleted resource), its receipt
  // stays at the event's address.
  Response deleting = Call("DELETE", std::string(kKeys) + "/" + key + "?confirm_name=revoked", Owner());
  ASSERT_EQ(deleting.status, 200);
  const std::string href(Body(deleting).at("revocation").at("href").as_string());
  EXPECT_EQ(href, "/v2/gen-ai/revocations/0/2");
  EXPECT_EQ(Call("GET", path, Owner()).status, 404);
  Response deleted = Call("GET", href + "?wait=0", Owner());
  ASSERT_EQ(deleted.status, 200) << deleted.body;
  EXPECT_EQ(Body(deleted).at("event_type").as_string(), "key_deleted");
  EXPECT_EQ(Body(deleted).at("api_key_uuid").as_string(), key);
  EXPECT_EQ(Body(deleted).at("revocation").at("summary").as_string(), "old secret denied on 0 of 2 validators");
  // Not a revoking event, no event, another team's, a member who may not see the key, bad numbers.
  EXPECT_EQ(Call("GET", "/v2/gen-ai/revocations/0/0", Owner()).status, 404);  // the create
  EXPECT_EQ(Call("GET", "/v2/gen-ai/revocations/0/99", Owner()).status, 404);
  EXPECT_EQ(Call("GET", href, Stranger()).status, 404);
  EXPECT_EQ(Call("GET", href, Member()).status, 403);
  EXPECT_EQ(Call("GET", "/v2/gen-ai/revocations/x/2", Owner()).status, 400);
  EXPECT_EQ(Call("GET", "/v2/gen-ai/revocations/0/-1", Owner()).status, 400);
  EXPECT_EQ(Call("GET", href + "?wait=31", Owner()).status, 400);
  auto [fresh, fresh_secret] = Create(Owner(), "never revoked");
  EXPECT_EQ(Call("GET", std::string(kKeys) + "/" + fresh + "/revocation", Owner()).status, 404);
  // The API's metrics show each replica, its applied offsets and lag.
  const std::string metrics = Call("GET", "/metrics", "").body;
  EXPECT_NE(metrics.find("keyledger_replica_applied_offset{replica=\"replica-a\",partition=\"0\"} 2"), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("keyledger_replica_silent{replica=\"replica-b\"} 0"), std::string::npos);
}

TEST_F(AdminApiTest, GetAnswersTheRevisionAsETagAndCommandsWithIfMatchRefuseAStaleOne) {
  auto [key, secret] = Create(Owner(), "tagged");
  const std::string path = std::string(kKeys) + "/" + key;
  Response got = Call("GET", path, Owner());
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.Header("etag"), "\"1\"");
  // The matching revision: renamed, and the answer carries the new tag.
  Response renamed = Call("PUT", path, Owner(), R"({"name":"tagged 2"})", {{"if-match", "\"1\""}});
  ASSERT_EQ(renamed.status, 200) << renamed.body;
  EXPECT_EQ(renamed.Header("etag"), "\"2\"");
  // A second client still holding "1" loses: 409 naming both revisions, nothing written.
  const size_t events = ledger_.event_count();
  Response stale = Call("PUT", path, Owner(), R"({"name":"tagged 3"})", {{"if-match", "\"1\""}});
  EXPECT_EQ(stale.status, 409) << stale.body;
  EXPECT_NE(stale.body.find("revision 2, not the expected revision 1"), std::string::npos) << stale.body;
  EXPECT_EQ(Call("PUT", path + "/regenerate", Owner(), R"({"confirm_name":"tagged 2"})", {{"if-match", "\"1\""}}).status,
            409);
  EXPECT_EQ(Call("DELETE", path + "?confirm_name=tagged%202", Owner(), "", {{"if-match", "\"1\""}}).status, 409);
  EXPECT_EQ(ledger_.event_count(), events);
  // What is not one strong tag is a 400 naming If-Match.
  for (const std::string bad : {"W/\"2\"", "2", "\"2\", \"3\"", "\"02\"", "\"\"", "\"0\""}) {
    Response r = Call("PUT", path, Owner(), R"({"name":"tagged 3"})", {{"if-match", bad}});
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_NE(r.body.find("If-Match"), std::string::npos) << r.body;
  }
  EXPECT_EQ(Call("PUT", path, Owner(), R"({"name":"tagged 3"})", {{"if-match", "\"2\""}, {"if-match", "\"2\""}}).status,
            400);
  EXPECT_EQ(ledger_.event_count(), events);
  // * and no If-Match: whatever revision the key is at.
  EXPECT_EQ(Call("PUT", path + "/regenerate", Owner(), R"({"confirm_name":"tagged 2"})", {{"if-match", "*"}}).status, 200);
  Response deleted = Call("DELETE", path + "?confirm_name=tagged%202", Owner(), "", {{"if-match", "\"3\""}});
  EXPECT_EQ(deleted.status, 200) << deleted.body;
  EXPECT_EQ(deleted.Header("etag"), "");  // nothing left to tag
}

TEST_F(AdminApiTest, LongPollsForReceiptsAreCappedSoTheyCannotTakeTheWorkersCommandsNeed) {
  common::SystemClock real_clock;  // the waits below time out for real
  validator::ReplicaBoard board({}, &logger_, &real_clock);
  MakeApi(50, {}, {}, &board);
  auto [key, secret] = Create(Owner(), "polled");
  board.Receive(Beat("replica-a", 1, real_clock.NowMicros() / 1000));
  ASSERT_EQ(Call("PUT", std::string(kKeys) + "/" + key + "/regenerate", Owner(), R"({"confirm_name":"polled"})").status,
            200);
  const std::string path = std::string(kKeys) + "/" + key + "/revocation?wait=5";
  std::vector<std::thread> waiting;
  std::vector<Response> answers(AdminApiOptions{}.max_revocation_waiters);
  for (auto& answer : answers) waiting.emplace_back([&, this] { answer = Call("GET", path, Owner()); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  // One more than the cap: answered at once with the receipt as it stands, saying it did not wait.
  const auto start = std::chrono::steady_clock::now();
  Response over = Call("GET", path, Owner());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  ASSERT_EQ(over.status, 200) << over.body;
  EXPECT_EQ(over.Header("x-keyledger-wait"), "skipped");
  EXPECT_FALSE(Body(over).at("revocation").at("complete").as_bool());
  // Commands are not held up meanwhile; the replica applying the event ends every wait.
  EXPECT_EQ(Call("PUT", std::string(kKeys) + "/" + key, Owner(), R"({"name":"polled"})").status, 200);
  board.Receive(Beat("replica-a", 2, real_clock.NowMicros() / 1000));
  for (auto& t : waiting) t.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  for (const Response& answer : answers) {
    EXPECT_TRUE(Body(answer).at("revocation").at("complete").as_bool()) << answer.body;
    EXPECT_EQ(answer.Header("x-keyledger-wait"), "");
  }
}

}  // namespace
}  // namespace keyledger::api
