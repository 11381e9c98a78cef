// End-to-end: `keyledger replay` next to a running `serve` (the switch under concurrent reads, an
// interrupted replay that resumes), the audit endpoints over HTTP, and `import-legacy`.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <boost/json.hpp>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "keyledger/storage/kafka.h"

#include "support/e2e.h"

namespace keyledger {
namespace {

namespace json = boost::json;
using testing::HttpCall;
using testing::HttpResult;
using testing::Slurp;
constexpr const char* kKeys = testing::kKeysPath;

struct CommandResult {
  int exit_code = -1;
  std::string out, err;
};

// Runs `keyledger args...`; if `interrupt_after_ms` > 0, sends SIGINT after that long.
CommandResult RunKeyledger(const std::vector<std::string>& args, const std::string& dir, int interrupt_after_ms = 0) {
  static int n = 0;
  std::string out = dir + "/cmd" + std::to_string(++n) + ".out", err = dir + "/cmd" + std::to_string(n) + ".err";
  std::vector<std::string> full = args;
  full.insert(full.begin(), KEYLEDGER_BINARY);
  std::vector<char*> argv;
  for (auto& a : full) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (!std::freopen(out.c_str(), "w", stdout) || !std::freopen(err.c_str(), "w", stderr)) _exit(126);
    execv(KEYLEDGER_BINARY, argv.data());
    _exit(127);
  }
  int status = 0;
  auto start = std::chrono::steady_clock::now();
  bool interrupted = false;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    auto elapsed = std::chrono::steady_clock::now() - start;
    if (interrupt_after_ms > 0 && !interrupted && elapsed > std::chrono::milliseconds(interrupt_after_ms)) {
      ::kill(pid, SIGINT);
      interrupted = true;
    }
    if (elapsed > std::chrono::seconds(120)) {
      ::kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, Slurp(out), Slurp(err)};
}

class ReplayE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    bootstrap_ = testing::BrokerBootstrap();
    ASSERT_FALSE(bootstrap_.empty()) << "no Kafka broker (run through ctest)";
    topic_ = testing::UniqueTopic("keyledger.e2e.replay");
    ASSERT_TRUE(storage::CreateTopic({bootstrap_, {}}, topic_, 3, {}, 30000).ok());
  }
  void StartServer() {
    api_ = std::make_unique<testing::ServerProcess>(bootstrap_, topic_, dir_.path());
    ASSERT_NE(api_->port(), 0) << Slurp(api_->log());
    ASSERT_TRUE(api_->WaitReady(std::chrono::seconds(30))) << "not ready: " << Slurp(api_->log());
  }
  std::string CreateKey(const std::string& name) {
    HttpResult r = HttpCall(api_->port(), "POST", kKeys, R"({"name": ")" + name + R"(", "all_models": true})", auth_);
    EXPECT_EQ(r.status, 201) << r.body;
    return std::string(json::parse(r.body).at("api_key_info").at("uuid").as_string());
  }
  bool WaitForLog(const std::string& text, int seconds) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (std::chrono::steady_clock::now() < deadline) {
      if (Slurp(api_->log()).find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  testing::TempDir dir_;
  std::string bootstrap_, topic_;
  std::map<std::string, std::string> auth_ = {
      {"Authorization", "Bearer " + testing::TestToken("olga", "team-acme", "owner")}};
  std::unique_ptr<testing::ServerProcess> api_;
};

TEST_F(ReplayE2E, RebuildSwitchesUnderConcurrentReadsWithoutAFailedReadAndAnInterruptedOneResumes) {
  StartServer();
  std::vector<std::string> ids;
  for (int i = 0; i < 40; ++i) ids.push_back(CreateKey("key " + std::to_string(i)));

  std::atomic<bool> stop{false};
  std::atomic<int> reads{0}, failures{0};
  std::string first_failure;
  std::mutex mu;
  auto reader = [&](int which) {
    while (!stop) {
      HttpResult r = which == 0 ? HttpCall(api_->port(), "GET", std::string(kKeys) + "?per_page=200", "", auth_)
                                : HttpCall(api_->port(), "GET", std::string(kKeys) + "/" + ids[reads % 40], "", auth_);
      bool good = r.status == 200;
      if (good && which == 0) good = json::parse(r.body).at("meta").at("total").as_int64() >= 40;
      ++reads;
      if (!good) {
        ++failures;
        std::lock_guard lock(mu);
        if (first_failure.empty()) first_failure = std::to_string(r.status) + " " + r.body;
      }
    }
  };
  std::thread list_reader(reader, 0), key_reader(reader, 1);

  // An interrupted replay leaves its generation to be resumed and publishes nothing...
  std::vector<std::string> slow = {"replay", "--db", dir_.path("db"), "--bootstrap", bootstrap_, "--topic", topic_, "--max-events-per-second", "15"};
  CommandResult interrupted = RunKeyledger(slow, dir_.path(), 800);
  EXPECT_EQ(interrupted.exit_code, 130) << interrupted.err;
  EXPECT_NE(interrupted.err.find("replay interrupted"), std::string::npos) << interrupted.err;
  EXPECT_TRUE(std::filesystem::exists(dir_.path("db/gen-000002/REBUILDING")));
  // ...and running it again resumes it, publishes it, and the server switches.
  CommandResult resumed = RunKeyledger({"replay", "--db", dir_.path("db"), "--bootstrap", bootstrap_, "--topic", topic_},
                                       dir_.path());
  EXPECT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_NE(resumed.out.find("(resumed)"), std::string::npos) << resumed.out;
  EXPECT_NE(resumed.err.find("\"msg\":\"progress\""), std::string::npos) << "no progress reported";
  EXPECT_TRUE(WaitForLog("switched to a rebuilt store generation", 30)) << Slurp(api_->log());
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  stop = true;
  list_reader.join();
  key_reader.join();
  EXPECT_EQ(failures.load(), 0) << first_failure;
  EXPECT_GT(reads.load(), 50);
  // The new generation takes commands and reads; the old one is removed.
  std::string after = CreateKey("after the switch");
  EXPECT_EQ(HttpCall(api_->port(), "GET", std::string(kKeys) + "/" + after, "", auth_).status, 200);
  EXPECT_TRUE(WaitForLog("removed the retired store generation", 10));
  EXPECT_FALSE(std::filesystem::exists(dir_.path("db/gen-000001")));

  // verify against the stopped server's store: everything agrees.
  ASSERT_EQ(api_->Stop(), 0);
  CommandResult verified = RunKeyledger({"verify", "--db", dir_.path("db"), "--bootstrap", bootstrap_, "--topic", topic_},
                                        dir_.path());
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  EXPECT_NE(verified.out.find("OK: the log verifies"), std::string::npos) << verified.out;
}

TEST_F(ReplayE2E, AuditEndpointsPageExportAndAnswerPointInTimeForOwnersOnly) {
  StartServer();
  std::string first = CreateKey("first");
  HttpResult renamed = HttpCall(api_->port(), "PUT", std::string(kKeys) + "/" + first, R"({"name": "second"})", auth_);
  ASSERT_EQ(renamed.status, 200) << renamed.body;
  for (int i = 0; i < 8; ++i) CreateKey("k" + std::to_string(i));
  HttpResult member_call = HttpCall(api_->port(), "GET", "/v2/gen-ai/audit/events", "",
                                    {{"Authorization", "Bearer " + testing::TestToken("mia", "team-acme", "member")}});
  EXPECT_EQ(member_call.status, 403);

  // Pages of 4, newest first, through the cursor: all 10 events, once each.
  std::vector<std::string> seen;
  std::string target = "/v2/gen-ai/audit/events?limit=4";
  for (int pages = 0; pages < 10; ++pages) {
    HttpResult r = HttpCall(api_->port(), "GET", target, "", auth_);
    ASSERT_EQ(r.status, 200) << r.body;
    json::object page = json::parse(r.body).as_object();
    for (const auto& e : page.at("audit_events").as_array()) seen.push_back(std::string(e.at("event_id").as_string()));
    if (page.at("next_cursor").is_null()) break;
    target = "/v2/gen-ai/audit/events?limit=4&cursor=" + std::string(page.at("next_cursor").as_string());
  }
  EXPECT_EQ(seen.size(), 10u);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 10u);
  HttpResult renames = HttpCall(api_->port(), "GET", "/v2/gen-ai/audit/events?event_type=key_renamed&key_id=" + first, "", auth_);
  ASSERT_EQ(renames.status, 200);
  json::object rename = json::parse(renames.body).at("audit_events").as_array().at(0).as_object();
  EXPECT_EQ(rename.at("before").at("name").as_string(), "first");
  EXPECT_EQ(rename.at("after").at("name").as_string(), "second");
  EXPECT_EQ(rename.at("actor").at("id").as_string(), "olga");
  EXPECT_EQ(renames.body.find("sk-do-v1-"), std::string::npos);
  EXPECT_EQ(HttpCall(api_->port(), "GET", "/v2/gen-ai/audit/events?cursor=zz", "", auth_).status, 400);
  EXPECT_EQ(HttpCall(api_->port(), "GET", "/v2/gen-ai/audit/events?order=sideways", "", auth_).status, 400);

  // The export streams one JSON line per event, oldest first.
  HttpResult exported = HttpCall(api_->port(), "GET", "/v2/gen-ai/audit/export", "", auth_);
  ASSERT_EQ(exported.status, 200);
  EXPECT_EQ(exported.headers["Content-Type"], "application/x-ndjson");
  EXPECT_EQ(exported.headers["Transfer-Encoding"], "chunked");
  std::istringstream lines(exported.body);
  std::string line;
  std::vector<std::string> exported_ids;
  while (std::getline(lines, line)) exported_ids.push_back(std::string(json::parse(line).at("event_id").as_string()));
  std::vector<std::string> oldest_first(seen.rbegin(), seen.rend());
  EXPECT_EQ(exported_ids, oldest_first);

  // Point in time by offset: before the rename the key had its first name.
  json::object created = json::parse(HttpCall(api_->port(), "GET",
      "/v2/gen-ai/audit/events?event_type=key_created&key_id=" + first, "", auth_).body).at("audit_events").as_array().at(0).as_object();
  std::int64_t offset = created.at("offset").as_int64();
  HttpResult then = HttpCall(api_->port(), "GET", "/v2/gen-ai/audit/keys/" + first + "?offset=" + std::to_string(offset), "", auth_);
  ASSERT_EQ(then.status, 200) << then.body;
  EXPECT_EQ(json::parse(then.body).at("api_key").at("name").as_string(), "first");
  HttpResult now = HttpCall(api_->port(), "GET", "/v2/gen-ai/audit/keys/" + first + "?at=2100-01-01T00:00:00Z", "", auth_);
  EXPECT_EQ(json::parse(now.body).at("api_key").at("name").as_string(), "second");
  if (offset > 0) {
    EXPECT_EQ(HttpCall(api_->port(), "GET", "/v2/gen-ai/audit/keys/" + first + "?offset=" + std::to_string(offset - 1), "", auth_).status, 404);
  }
  EXPECT_EQ(HttpCall(api_->port(), "GET", "/v2/gen-ai/audit/keys/" + first + "?offset=1&at=2100-01-01T00:00:00Z", "", auth_).status, 400);
  HttpResult callable = HttpCall(api_->port(), "GET", "/v2/gen-ai/audit/callable?model=openai-gpt-4o&at=2100-01-01T00:00:00Z", "", auth_);
  ASSERT_EQ(callable.status, 200) << callable.body;
  EXPECT_EQ(json::parse(callable.body).at("api_keys").as_array().size(), 9u);
  HttpResult before_all = HttpCall(api_->port(), "GET", "/v2/gen-ai/audit/callable?model=openai-gpt-4o&at=2000-01-01T00:00:00Z", "", auth_);
  EXPECT_EQ(json::parse(before_all.body).at("api_keys").as_array().size(), 0u);
}

// import-legacy sends the file to the running serve (its operator route): the whole file is
// checked first, then every line against the writer's keys, and only then appended, by serve's
// own writer (no second writer); running it again appends nothing.
TEST_F(ReplayE2E, ImportLegacyGoesThroughTheRunningServeValidatesTheWholeFileFirstAndIsIdempotent) {
  testing::TempDir files;
  const std::string token = "op-token-e2e-0123456789abcdef0123456789abcdef";
  const std::string tokens = files.path("operator-tokens");
  {
    std::ofstream out(tokens);
    out << "op-ivan " << token << "\n";
  }
  ::chmod(tokens.c_str(), 0600);
  api_ = std::make_unique<testing::ServerProcess>(bootstrap_, topic_, dir_.path(),
                                                  std::vector<std::string>{"--operator-tokens", tokens});
  ASSERT_NE(api_->port(), 0) << Slurp(api_->log());
  ASSERT_TRUE(api_->WaitReady(std::chrono::seconds(30))) << "not ready: " << Slurp(api_->log());
  const std::string live_secret = "dop_v1_" + std::string(60, '7') + "0a08";  // a legacy format
  std::string good = files.path("legacy.jsonl"), bad = files.path("bad.jsonl"), clash = files.path("clash.jsonl");
  {
    std::ofstream out(good);
    out << R"({"team_id":"team-acme","creator_id":"u-old","creator_name":"Old Timer","name":"prod gateway","created_at":"2021-03-04T05:06:07.123456Z","secret_sha256":")"
        << std::string(64, 'a') << R"(","secret_hint":"a1b2"})" << "\n\n"
        << R"({"team_id":"team-acme","creator_id":"u-old","creator_name":"Old Timer","name":"batch jobs","created_at":"2021-03-05T05:06:07Z","secret":")"
        << live_secret << "\"}\n";
    std::ofstream wrong(bad);
    wrong << R"({"team_id":"team-acme","creator_id":"u","creator_name":"n","name":"ok","created_at":"2021-03-04T05:06:07Z","secret_sha256":")"
          << std::string(64, 'c') << "\"}\n"
          << R"({"team_id":"team-acme","name":"no creator"})" << "\n";
    // A fresh line, and one whose secret the imported "batch jobs" key of team-acme holds.
    std::ofstream both(clash);
    both << R"({"team_id":"team-globex","creator_id":"u","creator_name":"n","name":"fresh","created_at":"2021-03-04T05:06:07Z","secret_sha256":")"
         << std::string(64, 'd') << "\"}\n"
         << R"({"team_id":"team-globex","creator_id":"u","creator_name":"n","name":"taken","created_at":"2021-03-04T05:06:07Z","secret":")"
         << live_secret << "\"}\n";
  }
  const std::string api = "http://127.0.0.1:" + std::to_string(api_->port());
  auto with = [&](const std::string& file) {
    return RunKeyledger({"import-legacy", "--api", api, "--operator-token-file", tokens, file}, dir_.path());
  };
  auto legacy_total = [&] {
    HttpResult legacy = HttpCall(api_->port(), "GET", std::string(kKeys) + "?view=legacy", "", auth_);
    EXPECT_EQ(legacy.status, 200) << legacy.body;
    return json::parse(legacy.body).at("meta").at("total").as_int64();
  };
  CommandResult refused = with(bad);
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("line 2: creator_id is missing"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("nothing was imported"), std::string::npos);
  CommandResult imported = with(good);
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  EXPECT_NE(imported.out.find("2 lines, 2 imported, 0 already present"), std::string::npos) << imported.out;
  EXPECT_NE(imported.err.find("\"progress\""), std::string::npos) << imported.err;  // structured progress lines
  EXPECT_EQ(legacy_total(), 2);
  HttpResult legacy = HttpCall(api_->port(), "GET", std::string(kKeys) + "?view=legacy", "", auth_);
  json::object page = json::parse(legacy.body).as_object();
  EXPECT_EQ(page.at("api_key_infos").as_array().at(0).at("name").as_string(), "batch jobs");
  EXPECT_TRUE(page.at("api_key_infos").as_array().at(0).at("legacy").as_bool());
  EXPECT_EQ(page.at("api_key_infos").as_array().at(1).at("created_at").as_string(), "2021-03-04T05:06:07.123456Z");
  CommandResult again = with(good);
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("2 lines, 0 imported, 2 already present"), std::string::npos) << again.out;

  // A conflict anywhere: nothing of the file is appended, the line is named, and no secret is echoed.
  CommandResult clashed = with(clash);
  EXPECT_EQ(clashed.exit_code, 1);
  EXPECT_NE(clashed.err.find("line 2: the secret is already in use by key"), std::string::npos) << clashed.err;
  EXPECT_NE(clashed.err.find("nothing was imported"), std::string::npos) << clashed.err;
  HttpResult globex = HttpCall(api_->port(), "GET", std::string(kKeys) + "?view=legacy", "",
                               {{"Authorization", "Bearer " + testing::TestToken("gus", "team-globex", "owner")}});
  ASSERT_EQ(globex.status, 200);
  EXPECT_EQ(json::parse(globex.body).at("meta").at("total").as_int64(), 0);
  // The secret never left the importer: not in serve's log, nor in anything import-legacy printed.
  for (const std::string& text : {Slurp(api_->log()), imported.out + imported.err, clashed.out + clashed.err}) {
    EXPECT_EQ(text.find(live_secret.substr(7)), std::string::npos);
  }
  // The one writer is serve's: its log has no fencing.
  EXPECT_EQ(Slurp(api_->log()).find("fenced"), std::string::npos);

  // A bad operator token is refused before anything is appended; without serve the import says so.
  {
    std::ofstream out(files.path("wrong-tokens"));
    out << "op-ivan op-token-wrong-0123456789abcdef0123456789abcd\n";
  }
  ::chmod(files.path("wrong-tokens").c_str(), 0600);
  CommandResult forged = RunKeyledger({"import-legacy", "--api", api, "--operator-token-file", files.path("wrong-tokens"),
                                       clash},
                                      dir_.path());
  EXPECT_EQ(forged.exit_code, 1) << forged.err;
  EXPECT_NE(forged.err.find("401"), std::string::npos) << forged.err;
  CommandResult no_token = RunKeyledger({"import-legacy", "--api", api, good}, dir_.path());
  EXPECT_EQ(no_token.exit_code, 2);
  EXPECT_NE(no_token.err.find("--operator-token-file is required"), std::string::npos) << no_token.err;
}

}  // namespace
}  // namespace keyledger
