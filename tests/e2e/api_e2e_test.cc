// End-to-end: the keyledger binary serving the admin API over real HTTP, on the real broker.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "keyledger/api/jwt.h"
#include "keyledger/common/secret.h"
#include "keyledger/events/codec.h"
#include "keyledger/writer/writer.h"
#include "support/private_broker.h"

#include "support/e2e.h"

namespace keyledger {
namespace {

namespace json = boost::json;
using testing::HttpCall;
using testing::HttpResult;
using testing::kAcmeVpc;
using testing::kGlobexVpc;
constexpr const char* kKeys = testing::kKeysPath;

std::string Token(const std::string& sub, const std::string& team, const std::string& role,
                  std::int64_t ttl = 3600) {
  return testing::TestToken(sub, team, role, ttl);
}

json::value Json(const HttpResult& r) { return testing::JsonBody(r); }

// Events appended to a topic so far (every partition, read_committed).
size_t CountEvents(const std::string& bootstrap, const std::string& topic, int partitions = 3) {
  std::map<std::int32_t, std::int64_t> start;
  for (int p = 0; p < partitions; ++p) start[p] = 0;
  auto reader = storage::LogReader::Create({bootstrap, {}}, topic, start);
  EXPECT_TRUE(reader.ok());
  size_t n = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!(*reader)->AtEnd() && std::chrono::steady_clock::now() < deadline) {
    auto batch = (*reader)->Poll(200, 10000);
    if (!batch.ok()) break;
    n += batch->size();
  }
  return n;
}

class ApiE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    bootstrap_ = testing::BrokerBootstrap();
    if (bootstrap_.empty()) return;
    dir_ = new testing::TempDir();
    topic_ = testing::UniqueTopic("keyledger.e2e.api");
    ASSERT_TRUE(storage::CreateTopic({bootstrap_, {}}, topic_, 3, {}, 30000).ok());
    // A legacy key imported while the API is down, through the same writer identity.
    {
      events::Catalog catalog = events::Catalog::Default();
      common::SystemClock clock;
      common::OsRandom random;
      common::Logger logger(stderr, &clock, common::LogLevel::kWarn);
      writer::WriterOptions o;
      o.kafka.bootstrap_servers = bootstrap_;
      o.topic = topic_;
      writer::Writer w(o, &catalog, &clock, &random, &logger);
      ASSERT_TRUE(w.Start(30000).ok());
      legacy_secret_ = *common::GenerateSecret(random);
      events::ImportLegacyKeyCommand imp{"", "team-acme", "mia", "mia name", "legacy integration",
                                         1600000000000000, common::HashSecret(legacy_secret_),
                                         common::SecretHint(legacy_secret_)};
      auto r = w.Submit({{"ops", "importer", "", events::Role::kOperator}, imp, "req", "", ""});
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      legacy_id_ = r->key_after.key_id;
      w.Stop();
    }
    server_ = new testing::ServerProcess(bootstrap_, topic_, dir_->path());
  }
  static void TearDownTestSuite() {
    delete server_;
    delete dir_;
    server_ = nullptr;
    dir_ = nullptr;
  }
  void SetUp() override {
    ASSERT_FALSE(bootstrap_.empty()) << "no Kafka broker (run through ctest)";
    ASSERT_NE(server_->port(), 0) << "server did not start; see " << server_->log();
  }

  HttpResult Call(const std::string& method, const std::string& target, const std::string& token,
                  const std::string& body = "", std::map<std::string, std::string> headers = {}) {
    if (!token.empty()) headers["Authorization"] = "Bearer " + token;
    return HttpCall(server_->port(), method, target, body, headers);
  }
  // Creates a key; returns (uuid, secret).
  std::pair<std::string, std::string> Create(const std::string& token, const std::string& name,
                                             const std::string& extra = R"("all_models": true)") {
    HttpResult r = Call("POST", kKeys, token, R"({"name": ")" + name + R"(", )" + extra + "}");
    EXPECT_EQ(r.status, 201) << r.body;
    if (r.status != 201) return {};
    auto info = Json(r).as_object()["api_key_info"].as_object();
    return {std::string(info["uuid"].as_string()), std::string(info["secret_key"].as_string())};
  }

  static std::string bootstrap_, topic_, legacy_id_, legacy_secret_;
  static testing::TempDir* dir_;
  static testing::ServerProcess* server_;
  const std::string owner_ = Token("olga", "team-acme", "owner");
  const std::string mia_ = Token("mia", "team-acme", "member");
  const std::string max_ = Token("max", "team-acme", "member");
  const std::string globex_ = Token("gus", "team-globex", "owner");
};

std::string ApiE2E::bootstrap_, ApiE2E::topic_, ApiE2E::legacy_id_, ApiE2E::legacy_secret_;
testing::TempDir* ApiE2E::dir_ = nullptr;
testing::ServerProcess* ApiE2E::server_ = nullptr;

TEST_F(ApiE2E, AuthorizationMatrixAcrossRolesViewsAndOperations) {
  auto [owner_key, s1] = Create(owner_, "owner key");
  auto [mia_key, s2] = Create(mia_, "mia key");
  auto ids = [&](const std::string& token, const std::string& view) {
    HttpResult r = Call("GET", std::string(kKeys) + "?view=" + view + "&per_page=200", token);
    std::set<std::string> out;
    if (r.status != 200) return std::make_pair(r.status, out);
    json::value page = Json(r);
    for (const auto& k : page.as_object()["api_key_infos"].as_array()) {
      out.insert(std::string(k.as_object().at("uuid").as_string()));
    }
    return std::make_pair(r.status, out);
  };
  // Views.
  EXPECT_TRUE(ids(owner_, "mine").second.count(owner_key));
  EXPECT_FALSE(ids(owner_, "mine").second.count(mia_key));
  EXPECT_TRUE(ids(mia_, "mine").second.count(mia_key));
  EXPECT_FALSE(ids(mia_, "mine").second.count(owner_key));
  EXPECT_FALSE(ids(mia_, "mine").second.count(legacy_id_));
  EXPECT_TRUE(ids(mia_, "legacy").second.count(legacy_id_));
  EXPECT_TRUE(ids(max_, "legacy").second.count(legacy_id_));
  EXPECT_TRUE(ids(owner_, "legacy").second.count(legacy_id_));
  EXPECT_TRUE(ids(owner_, "team").second.count(mia_key));
  EXPECT_FALSE(ids(owner_, "team").second.count(owner_key));
  EXPECT_EQ(ids(mia_, "team").first, 403);
  for (const char* view : {"mine", "legacy", "team"}) {
    auto [status, seen] = ids(globex_, view);
    EXPECT_EQ(status, 200);
    EXPECT_FALSE(seen.count(owner_key) || seen.count(mia_key) || seen.count(legacy_id_)) << view;
  }
  EXPECT_EQ(Call("GET", std::string(kKeys) + "?view=everything", owner_).status, 400);

  // Reading one key.
  EXPECT_EQ(Call("GET", std::string(kKeys) + "/" + mia_key, owner_).status, 200);
  EXPECT_EQ(Call("GET", std::string(kKeys) + "/" + mia_key, mia_).status, 200);
  EXPECT_EQ(Call("GET", std::string(kKeys) + "/" + mia_key, max_).status, 403);
  EXPECT_EQ(Call("GET", std::string(kKeys) + "/" + legacy_id_, max_).status, 200);
  EXPECT_EQ(Call("GET", std::string(kKeys) + "/" + mia_key, globex_).status, 404);

  // Operations: who may rename / regenerate / delete whose key.
  auto rename = [&](const std::string& token, const std::string& id, const std::string& name) {
    return Call("PUT", std::string(kKeys) + "/" + id, token, R"({"name": ")" + name + R"("})").status;
  };
  EXPECT_EQ(rename(max_, mia_key, "x"), 403);
  EXPECT_EQ(rename(globex_, mia_key, "x"), 404);
  EXPECT_EQ(rename(mia_, owner_key, "x"), 403);
  EXPECT_EQ(rename(mia_, mia_key, "mia renamed"), 200);
  EXPECT_EQ(rename(owner_, mia_key, "owner renamed it"), 200);
  EXPECT_EQ(rename(max_, legacy_id_, "x"), 403);   // legacy keys: their creator or an owner
  EXPECT_EQ(rename(mia_, legacy_id_, "legacy renamed"), 200);
  auto regenerate = [&](const std::string& token, const std::string& id, const std::string& confirm) {
    return Call("PUT", std::string(kKeys) + "/" + id + "/regenerate", token,
                R"({"confirm_name": ")" + confirm + R"("})").status;
  };
  EXPECT_EQ(regenerate(max_, mia_key, "owner renamed it"), 403);
  EXPECT_EQ(regenerate(globex_, mia_key, "owner renamed it"), 404);
  EXPECT_EQ(regenerate(owner_, mia_key, "owner renamed it"), 200);
  auto del = [&](const std::string& token, const std::string& id, const std::string& confirm) {
    return Call("DELETE", std::string(kKeys) + "/" + id, token, R"({"confirm_name": ")" + confirm + R"("})").status;
  };
  EXPECT_EQ(del(globex_, owner_key, "owner key"), 404);
  EXPECT_EQ(del(mia_, owner_key, "owner key"), 403);
  EXPECT_EQ(del(owner_, mia_key, "owner renamed it"), 200);
  EXPECT_EQ(Call("GET", std::string(kKeys) + "/" + mia_key, owner_).status, 404);
  EXPECT_EQ(rename(owner_, mia_key, "after delete"), 404);
}

TEST_F(ApiE2E, SecretIsShownOnceAndRegenerateAndDeleteNeedTheCurrentName) {
  auto [id, secret] = Create(owner_, "shown once");
  // A body naming another key than the path is refused.
  EXPECT_EQ(Call("PUT", std::string(kKeys) + "/" + id + "/regenerate", owner_,
                 R"({"confirm_name": "shown once", "uuid": "00000000-0000-4000-8000-000000000000"})").status, 400);
  ASSERT_TRUE(common::CheckSecretFormat(secret).ok());
  const std::string body_of_secret = secret.substr(9, 30);
  for (const std::string& target : {std::string(kKeys) + "/" + id, std::string(kKeys) + "?per_page=200",
                                    std::string(kKeys) + "/" + id + "/events", std::string("/metrics")}) {
    HttpResult r = Call("GET", target, owner_);
    EXPECT_EQ(r.status, 200) << target;
    EXPECT_EQ(r.body.find(body_of_secret), std::string::npos) << "secret leaked by GET " << target;
    EXPECT_EQ(r.body.find("secret_key"), std::string::npos) << target;
  }
  // Rename keeps the secret (same hint, revision 2).
  HttpResult renamed = Call("PUT", std::string(kKeys) + "/" + id, owner_, R"({"name": "renamed once"})");
  ASSERT_EQ(renamed.status, 200);
  auto info = Json(renamed).as_object()["api_key_info"].as_object();
  EXPECT_EQ(info["secret_hint"].as_string(), common::SecretHint(secret));
  EXPECT_EQ(info["revision"].as_int64(), 2);
  EXPECT_FALSE(info.contains("secret_key"));

  // Regenerate: the old name, a missing name, then the current name.
  std::string regen = std::string(kKeys) + "/" + id + "/regenerate";
  HttpResult stale = Call("PUT", regen, owner_, R"({"confirm_name": "shown once"})");
  EXPECT_EQ(stale.status, 409);
  EXPECT_EQ(Json(stale).as_object()["id"].as_string(), "conflict");
  EXPECT_EQ(Call("PUT", regen, owner_, "{}").status, 400);
  HttpResult fresh = Call("PUT", regen, owner_, R"({"confirm_name": "renamed once"})");
  ASSERT_EQ(fresh.status, 200) << fresh.body;
  std::string new_secret(Json(fresh).as_object()["api_key_info"].as_object()["secret_key"].as_string());
  EXPECT_NE(new_secret, secret);
  EXPECT_TRUE(common::CheckSecretFormat(new_secret).ok());

  // Delete: wrong name 409; confirmation by query parameter for clients without DELETE bodies.
  EXPECT_EQ(Call("DELETE", std::string(kKeys) + "/" + id, owner_, R"({"confirm_name": "nope"})").status, 409);
  EXPECT_EQ(Call("DELETE", std::string(kKeys) + "/" + id, owner_).status, 400);
  EXPECT_EQ(Call("DELETE", std::string(kKeys) + "/" + id + "?confirm_name=renamed%20once", owner_).status, 200);
  EXPECT_EQ(Call("GET", std::string(kKeys) + "/" + id, owner_).status, 404);
  // A deleted key's history answers 404 like the key (the events stay in the log).
  EXPECT_EQ(Call("GET", std::string(kKeys) + "/" + id + "/events", owner_).status, 404);
}

TEST_F(ApiE2E, ScopeAndVpcCannotBeChangedAndCreateValidatesThem) {
  auto [id, secret] = Create(owner_, "scoped", R"("all_models": false, "models": ["openai-gpt-4o"], "vpc_uuid": ")" +
                                                  std::string(kAcmeVpc) + "\"");
  for (const char* change : {R"({"name": "x", "all_models": true})", R"({"models": ["alibaba-qwen3-32b"]})",
                                    R"({"vpc_uuid": null})", R"({"batch_inference": true})"}) {
    HttpResult r = Call("PUT", std::string(kKeys) + "/" + id, owner_, change);
    EXPECT_EQ(r.status, 400) << change;
    EXPECT_NE(r.body.find("cannot be changed"), std::string::npos) << r.body;
  }
  auto info = Json(Call("GET", std::string(kKeys) + "/" + id, owner_)).as_object()["api_key_info"].as_object();
  EXPECT_FALSE(info["all_models"].as_bool());
  EXPECT_EQ(info["vpc_uuid"].as_string(), kAcmeVpc);
  EXPECT_EQ(info["name"].as_string(), "scoped");
  EXPECT_EQ(info["models"].as_array().size(), 1u);

  struct Case { std::string body; std::string field; };
  for (const Case& c : {Case{R"({"name": "a", "all_models": false, "models": ["gpt-17-turbo"]})", "gpt-17-turbo"},
                        Case{R"({"name": "a", "all_models": true, "vpc_uuid": ")" + std::string(kGlobexVpc) + "\"}", "vpc_uuid"},
                        Case{R"({"name": "a", "all_models": false, "models": ["openai-gpt-4o"], "batch_inference": true})", "batch_inference"},
                        Case{R"({"name": "a", "all_models": false})", "models"},
                        Case{R"({"name": "a", "all_models": "yes"})", "all_models"},
                        Case{R"({"all_models": true})", "name"},
                        Case{R"({"name": 5, "all_models": true})", "name"},
                        Case{R"({"name": "a", "all_models": true, "models": "x"})", "models"},
                        Case{R"({"name": "a", "all_models": true, "colour": "red"})", "colour"}}) {
    HttpResult r = Call("POST", kKeys, owner_, c.body);
    EXPECT_EQ(r.status, 400) << c.body;
    EXPECT_NE(r.body.find(c.field), std::string::npos) << c.body << " -> " << r.body;
  }
  // Batch with all models is fine and shows "Batch Inference" among the models.
  HttpResult batch = Call("POST", kKeys, owner_, R"({"name": "batch", "all_models": true, "batch_inference": true})");
  ASSERT_EQ(batch.status, 201);
  EXPECT_NE(batch.body.find("Batch Inference"), std::string::npos);
}

TEST_F(ApiE2E, BadInputIsAnsweredCleanlyAndWritesNothing) {
  size_t before = CountEvents(bootstrap_, topic_);
  struct Case { std::string method, target, body; std::map<std::string, std::string> headers; int status; };
  std::string deep(5000, '[');
  std::vector<Case> cases = {
      {"POST", kKeys, "{not json", {}, 400},
      {"POST", kKeys, R"({"name": "x", "all_models": true)", {}, 400},
      {"POST", kKeys, deep, {}, 400},
      {"POST", kKeys, "[1, 2]", {}, 400},
      {"POST", kKeys, R"({"name": "x", "all_models": true})", {{"Content-Type", "text/plain"}}, 415},
      {"POST", kKeys, std::string(200000, 'x'), {}, 413},
      {"POST", kKeys, R"({"name": "tab\there", "all_models": true})", {}, 400},
      {"POST", kKeys, "{\"name\": \"bidi \xe2\x80\xae\", \"all_models\": true}", {}, 400},
      {"POST", kKeys, R"({"name": "   ", "all_models": true})", {}, 400},
      {"POST", kKeys, "{\"name\": \"" + std::string(129, 'n') + "\", \"all_models\": true}", {}, 400},
      {"GET", "/v2/gen-ai/nothing-here", "", {}, 404},
      {"PATCH", kKeys, "", {}, 405},
      {"POST", std::string(kKeys) + "/not-a-uuid/regenerate", "", {}, 405},
      {"PUT", std::string(kKeys) + "/00000000-0000-4000-8000-000000000000", R"({"name": "x"})", {}, 404},
      {"GET", std::string(kKeys) + "?per_page=0", "", {}, 400},
      {"GET", std::string(kKeys) + "?per_page=201", "", {}, 400},
      {"GET", std::string(kKeys) + "?page=abc", "", {}, 400},
      // Header limits api/openapi.yaml documents (found by schemathesis: these were accepted).
      {"POST", kKeys, R"({"name": "h", "all_models": true})", {{"Idempotency-Key", ""}}, 400},
      {"POST", kKeys, R"({"name": "h", "all_models": true})", {{"X-Request-Id", std::string(129, 'r')}}, 400},
      {"POST", kKeys, R"({"name": "h", "all_models": true})", {{"X-Correlation-Id", std::string(129, 'c')}}, 400},
  };
  for (const Case& c : cases) {
    HttpResult r = Call(c.method, c.target, owner_, c.body, c.headers);
    EXPECT_EQ(r.status, c.status) << c.method << " " << c.target << " " << c.body.substr(0, 60) << " -> " << r.body;
    if (r.status >= 400) {
      auto v = Json(r);
      EXPECT_TRUE(v.is_object() && v.as_object().contains("id") && v.as_object().contains("message")) << r.body;
    }
  }
  // Unicode that is printable is welcome.
  EXPECT_EQ(Call("POST", kKeys, owner_, "{\"name\": \"caf\xc3\xa9 \xf0\x9f\x94\x91\", \"all_models\": true}").status, 201);
  // Authentication failures.
  std::string expired = Token("olga", "team-acme", "owner", -3600);
  std::string forged = owner_.substr(0, owner_.rfind('.') + 1) + "AAAA" + owner_.substr(owner_.rfind('.') + 5);
  std::string payload = owner_.substr(owner_.find('.') + 1, owner_.rfind('.') - owner_.find('.') - 1);
  std::string alg_none = api::Base64UrlEncode(R"({"alg":"none","typ":"JWT"})") + "." + payload + ".";
  for (const std::string& token : {std::string(""), expired, forged, alg_none, std::string("garbage")}) {
    HttpResult r = Call("POST", kKeys, token, R"({"name": "unauthorized", "all_models": true})");
    EXPECT_EQ(r.status, 401) << token;
    EXPECT_EQ(Call("GET", kKeys, token).status, 401);
  }
  EXPECT_EQ(CountEvents(bootstrap_, topic_), before + 1) << "bad requests must append nothing";
}

TEST_F(ApiE2E, IdempotentCreateReturnsTheSameKeyWithoutShowingTheSecretAgain) {
  std::map<std::string, std::string> idem = {{"Idempotency-Key", "e2e-create-1"}};
  HttpResult first = Call("POST", kKeys, owner_, R"({"name": "idem", "all_models": true})", idem);
  HttpResult retry = Call("POST", kKeys, owner_, R"({"name": "idem", "all_models": true})", idem);
  ASSERT_EQ(first.status, 201);
  ASSERT_EQ(retry.status, 201) << retry.body;
  auto a = Json(first).as_object()["api_key_info"].as_object();
  auto b = Json(retry).as_object();
  EXPECT_EQ(a["uuid"], b["api_key_info"].as_object()["uuid"]);
  EXPECT_TRUE(b["idempotent_replay"].as_bool());
  EXPECT_FALSE(b["api_key_info"].as_object().contains("secret_key"));
  EXPECT_EQ(retry.body.find(std::string(a["secret_key"].as_string()).substr(9, 20)), std::string::npos);
}

// Optimistic concurrency the HTTP way: two clients rename the same key from the same GET; the
// writer lets exactly one through and the other gets 409, whichever arrives second.
TEST_F(ApiE2E, TwoRenamesFromTheSameETagOneWinsTheOtherIs409) {
  auto [key, secret] = Create(owner_, "race");
  const std::string path = std::string(kKeys) + "/" + key;
  HttpResult got = Call("GET", path, owner_);
  ASSERT_EQ(got.status, 200);
  ASSERT_TRUE(got.headers.count("ETag")) << got.body;
  const std::string tag = got.headers.at("ETag");
  EXPECT_EQ(tag, "\"1\"");
  HttpResult a, b;
  std::thread first([&] { a = Call("PUT", path, owner_, R"({"name": "race a"})", {{"If-Match", tag}}); });
  std::thread second([&] { b = Call("PUT", path, owner_, R"({"name": "race b"})", {{"If-Match", tag}}); });
  first.join();
  second.join();
  std::multiset<int> statuses{a.status, b.status};
  EXPECT_EQ(statuses, (std::multiset<int>{200, 409})) << a.body << " / " << b.body;
  const std::string winner = a.status == 200 ? "race a" : "race b";
  HttpResult after = Call("GET", path, owner_);
  EXPECT_EQ(Json(after).at("api_key_info").at("name").as_string(), winner);
  EXPECT_EQ(after.headers["ETag"], "\"2\"");
  EXPECT_EQ(Json(Call("GET", path + "/events", owner_)).at("events").as_array().size(), 2u);  // created, one rename
}

// Found by fuzzing: a debug build aborted (a Boost.Beast assertion) on an empty chunked body whose
// last chunk and the two bytes of its final line came in separate reads.
TEST_F(ApiE2E, EmptyChunkedBodyArrivingInPiecesIsAnsweredNotACrash) {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket socket(ioc);
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), server_->port()});
  std::string head = std::string("POST ") + kKeys + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                     owner_ + "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (const std::string& piece : {head, std::string("0\r\n"), std::string("\r"), std::string("\n")}) {
    boost::asio::write(socket, boost::asio::buffer(piece));
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
  }
  boost::beast::flat_buffer buffer;
  boost::beast::http::response<boost::beast::http::string_body> response;
  boost::beast::error_code ec;
  boost::beast::http::read(socket, buffer, response, ec);
  ASSERT_FALSE(ec) << ec.message() << "; server log " << server_->log();
  EXPECT_EQ(response.result_int(), 400u) << response.body();
  EXPECT_EQ(Call("GET", "/healthz", "").status, 200) << "the server did not survive the request";
}

TEST_F(ApiE2E, CatalogHealthReadinessAndMetrics) {
  HttpResult models = Call("GET", "/v2/gen-ai/models", owner_);
  ASSERT_EQ(models.status, 200);
  auto m = Json(models).as_object();
  EXPECT_EQ(m["object"].as_string(), "list");
  EXPECT_EQ(m["data"].as_array()[0].as_object()["object"].as_string(), "model");
  EXPECT_EQ(Call("GET", "/healthz", "").status, 200);
  EXPECT_EQ(Call("GET", "/readyz", "").status, 200);
  HttpResult metrics = Call("GET", "/metrics", "");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("keyledger_http_requests_total{route=\"/v2/gen-ai/models\",method=\"GET\",status=\"200\"}"), std::string::npos);
  EXPECT_NE(metrics.body.find("keyledger_http_request_duration_seconds_bucket"), std::string::npos);
  EXPECT_NE(metrics.body.find("keyledger_writer_fenced 0"), std::string::npos);
  EXPECT_NE(metrics.body.find("keyledger_projector_lag_events"), std::string::npos);
}

// With the broker down, commands fail fast with 503 and nothing half-done shows up after it returns.
TEST(ApiBrokerOutage, CommandsAnswer503QuicklyAndLeaveNothingHalfDone) {
  testing::PrivateBroker broker;
  ASSERT_TRUE(broker.ok());
  testing::TempDir dir;
  std::string topic = testing::UniqueTopic("keyledger.e2e.outage");
  ASSERT_TRUE(storage::CreateTopic({broker.bootstrap(), {}}, topic, 3, {}, 30000).ok());
  testing::ServerProcess server(broker.bootstrap(), topic, dir.path());
  ASSERT_NE(server.port(), 0) << server.log();
  std::string token = Token("olga", "team-acme", "owner");
  std::map<std::string, std::string> auth = {{"Authorization", "Bearer " + token}};
  ASSERT_EQ(HttpCall(server.port(), "POST", kKeys, R"({"name": "before", "all_models": true})", auth).status, 201);

  ASSERT_TRUE(broker.Kill());
  auto start = std::chrono::steady_clock::now();
  HttpResult during = HttpCall(server.port(), "POST", kKeys, R"({"name": "during outage", "all_models": true})", auth);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(during.status, 503) << during.body;
  EXPECT_EQ(Json(during).as_object()["id"].as_string(), "service_unavailable");
  EXPECT_LT(took, std::chrono::seconds(8));
  HttpResult again = HttpCall(server.port(), "POST", kKeys, R"({"name": "during outage 2", "all_models": true})", auth);
  EXPECT_EQ(again.status, 503);
  EXPECT_EQ(HttpCall(server.port(), "GET", "/readyz").status, 503);

  ASSERT_TRUE(broker.Resume());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    status = HttpCall(server.port(), "POST", kKeys, R"({"name": "after", "all_models": true})", auth).status;
    if (status == 201) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  ASSERT_EQ(status, 201) << "the API did not recover after the broker came back";
  // After a broker restart the projector may need longer than the API's read-your-writes wait
  // to reconnect: wait until it has caught up, then look for half-done work.
  HttpResult list;
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    list = HttpCall(server.port(), "GET", std::string(kKeys) + "?per_page=200", "", auth);
    if (list.body.find("\"after\"") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(list.body.find("during outage"), std::string::npos) << "a failed command left a key behind";
  EXPECT_NE(list.body.find("before"), std::string::npos);
  EXPECT_NE(list.body.find("after"), std::string::npos);
  EXPECT_EQ(server.Stop(), 0);
}

}  // namespace
}  // namespace keyledger
