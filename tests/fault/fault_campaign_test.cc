// The fault campaign: keyledger under the failures a production Kafka deployment sees.
//
// With the real broker: the broker SIGKILLed and restarted mid-stream, the API process (writer and
// projector) SIGKILLed mid-transaction, a separate projector and a validator SIGKILLed at random
// points, a projector started while the broker is down, two writers with the same identity racing
// (the second fences the first), a projector whose disk fills up, a validator partitioned from the
// brokers (a TCP proxy the test closes), and a bad record in the topic that the operator skips. With librdkafka's mock cluster: produce,
// transaction-commit and fetch errors and broker latency injected into the writer and the
// projector. After each scenario:
//   - no acknowledged command is lost and none is duplicated (checked by idempotency key and key
//     id against the decoded log, whose hash chains must hold);
//   - every store equals a replay of the log (`keyledger verify`, or checksums against a clean
//     projection where the log itself holds a fault);
//   - every component either recovered by itself (commands are acknowledged again, /readyz) or
//     stopped with a clear reason (exit code and an error log line naming it).
// Anything else is an anomaly: it fails the test and is counted. The summary line printed at the
// end gives runs, faults injected (by kind) and anomalies found.
//
//   fault_campaign            the CI campaign (a few minutes)
//   fault_campaign --long     five times the rounds and load; KEYLEDGER_FAULT_SEED=N replays a seed
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <regex>
#include <set>
#include <thread>

#include "keyledger/common/clock.h"
#include "keyledger/common/log.h"
#include "keyledger/common/crypto.h"
#include "keyledger/common/secret.h"
#include "keyledger/events/partition_guard.h"
#include "keyledger/projector/layout.h"
#include "keyledger/projector/projector.h"
#include "keyledger/replay/rebuild.h"
#include "keyledger/replay/store_root.h"
#include "keyledger/replay/verify.h"
#include "keyledger/storage/store.h"
#include "keyledger/writer/writer.h"
#include "support/child_process.h"
#include "support/commands.h"
#include "support/event_stream.h"
#include "support/http_client.h"
#include "support/mock_cluster.h"
#include "support/private_broker.h"
#include "support/server_process.h"
#include "support/tcp_proxy.h"
#include "support/temp_dir.h"
#include "support/test_broker.h"
#include "support/tokens.h"
#include "support/topic_log.h"

namespace keyledger {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::HttpCall;
using testing::HttpResult;
using testing::ServerProcess;

constexpr char kKeys[] = "/v2/gen-ai/models/api_keys";
constexpr int kPartitions = 4;

bool g_long = false;
std::uint64_t g_seed = 0;

int Rounds(int ci) { return g_long ? ci * 5 : ci; }

// What the campaign did and found, across all scenarios.
class Campaign {
 public:
  static Campaign& Get() {
    static Campaign campaign;
    return campaign;
  }
  void Run() {
    std::lock_guard lock(mu_);
    ++runs_;
  }
  void Fault(const std::string& kind) {
    std::lock_guard lock(mu_);
    ++faults_[kind];
  }
  // An anomaly fails the current test and is counted.
  void Anomaly(const std::string& what) {
    ADD_FAILURE() << "ANOMALY: " << what;
    std::lock_guard lock(mu_);
    anomalies_.push_back(what);
  }
  std::string Summary() const {
    std::lock_guard lock(mu_);
    int total = 0;
    std::string kinds;
    for (const auto& [kind, n] : faults_) {
      total += n;
      kinds += (kinds.empty() ? "" : ", ") + kind + " " + std::to_string(n);
    }
    std::string out = "fault campaign (" + std::string(g_long ? "long" : "ci") + ", seed " +
                      std::to_string(g_seed) + "): " + std::to_string(runs_) + " runs, " +
                      std::to_string(total) + " faults injected (" + kinds + "), " +
                      std::to_string(anomalies_.size()) + " anomalies found\n";
    for (const auto& a : anomalies_) out += "  anomaly: " + a + "\n";
    return out;
  }

 private:
  mutable std::mutex mu_;
  int runs_ = 0;
  std::map<std::string, int> faults_;
  std::vector<std::string> anomalies_;
};

class SummaryPrinter : public ::testing::Environment {
 public:
  void TearDown() override {
    std::string summary = Campaign::Get().Summary();
    std::fputs(("\n" + summary).c_str(), stdout);
    if (const char* path = std::getenv("KEYLEDGER_FAULT_REPORT"); path && *path) {
      if (FILE* f = std::fopen(path, "w")) {
        std::fputs(summary.c_str(), f);
        std::fclose(f);
      }
    }
  }
};

std::string Tail(const std::string& text, size_t n = 1500) {
  return text.size() <= n ? text : "..." + text.substr(text.size() - n);
}

template <typename Predicate>
bool WaitUntil(std::chrono::milliseconds timeout, Predicate done) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(50ms);
  }
  return true;
}

std::vector<std::string> Keyledger(std::vector<std::string> args) {
  args.insert(args.begin(), KEYLEDGER_BINARY);
  return args;
}

// Runs a keyledger command to its end; returns its exit code (-1 if it hung) and its log.
int RunCommand(const std::vector<std::string>& args, const std::string& log, std::string* output,
               std::chrono::seconds timeout = 180s) {
  std::filesystem::remove(log);
  testing::ChildOptions options;
  options.stdout_to_log = true;
  ChildProcess child(Keyledger(args), log, options);
  auto code = child.Wait(timeout);
  if (!code) child.Kill();
  *output = child.LogText();
  return code.value_or(-1);
}

// `keyledger verify`: the log decodes with intact hash chains and `db` equals a replay of it.
void ExpectStoreEqualsReplay(const std::string& what, const std::string& bootstrap, const std::string& topic,
                             const std::string& db) {
  std::string output;
  int code = RunCommand({"verify", "--bootstrap", bootstrap, "--topic", topic, "--db", db}, db + ".verify.log",
                        &output);
  if (code != 0) Campaign::Get().Anomaly(what + " is not a replay of the log (verify exit " + std::to_string(code) + "): " + Tail(output));
}

// The stores at `got` and `want` hold the same entries in every column family but `skip`;
// each difference is an anomaly named after `what`.
void ExpectSameStores(const std::string& what, const std::string& got, const std::string& want,
                      const std::string& skip = "") {
  storage::StoreOptions ro;
  ro.read_only = true;
  auto a = projector::OpenReadModelStore(got, ro);
  auto b = projector::OpenReadModelStore(want, ro);
  ASSERT_TRUE(a.ok() && b.ok());
  auto sa = replay::Checksums(**a);
  auto sb = replay::Checksums(**b);
  ASSERT_TRUE(sa.ok() && sb.ok());
  ASSERT_EQ(sa->size(), sb->size());
  for (size_t i = 0; i < sa->size(); ++i) {
    const auto& g = (*sa)[i];
    if (g.column == skip) continue;
    if (g.entries != (*sb)[i].entries || g.sha256 != (*sb)[i].sha256) {
      Campaign::Get().Anomaly(what + ": column " + g.column + " differs from a clean projection");
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Load: clients sending creates and deletes over HTTP, each with an Idempotency-Key, retrying the
// same command (same key) on 503, 504 (outcome unknown), 429 and transport errors, possibly on
// another server, until it is acknowledged. What was acknowledged is what the log must hold exactly once.

struct AckedCreate {
  std::string key_id, name, secret;  // secret empty if the acknowledgement was an idempotent replay
};

class Load {
 public:
  // `port_for(client, attempt)` names the server a client's attempt goes to.
  Load(int clients, std::function<std::uint16_t(int, int)> port_for) : clients_(clients), port_for_(std::move(port_for)) {}
  ~Load() { Stop(); }

  void Start() {
    for (int c = 0; c < clients_; ++c) threads_.emplace_back([this, c] { Client(c); });
  }
  void Stop() {
    stop_ = true;
    for (auto& t : threads_) t.join();
    threads_.clear();
  }
  size_t acknowledged() const { return acknowledged_; }
  // Waits until `more` further commands are acknowledged.
  bool Progress(size_t more, std::chrono::milliseconds timeout) {
    size_t target = acknowledged_ + more;
    return WaitUntil(timeout, [&] { return acknowledged_ >= target; });
  }
  std::map<std::string, AckedCreate> creates() const {
    std::lock_guard lock(mu_);
    return creates_;
  }
  std::map<std::string, std::string> deletes() const {
    std::lock_guard lock(mu_);
    return deletes_;
  }
  size_t retries() const { return retries_; }

 private:
  void Client(int c) {
    const std::string team = "team-fault-" + std::to_string(c);
    const std::string token = testing::TestToken("user-fault-" + std::to_string(c), team, "owner", 7200);
    std::vector<AckedCreate> live;
    for (int i = 0; !stop_; ++i) {
      bool remove = i % 4 == 3 && !live.empty();
      std::string idem = team + (remove ? "-delete-" : "-create-") + std::to_string(i);
      std::string name = "fault key " + std::to_string(c) + "-" + std::to_string(i);
      std::string target = remove ? std::string(kKeys) + "/" + live.front().key_id : kKeys;
      std::string body = remove ? R"({"confirm_name": ")" + live.front().name + R"("})"
                                : R"({"name": ")" + name + R"(", "all_models": true})";
      for (int attempt = 0; !stop_; ++attempt) {
        HttpResult r = HttpCall(port_for_(c, attempt), remove ? "DELETE" : "POST", target, body,
                                {{"Authorization", "Bearer " + token}, {"Idempotency-Key", idem}});
        if (r.status == 0 || r.status == 503 || r.status == 504 || r.status == 429) {
          ++retries_;
          std::this_thread::sleep_for(50ms);
          continue;
        }
        bool ok = remove ? (r.status == 200 || r.status == 204) : r.status == 201;
        if (!ok) {
          Campaign::Get().Anomaly("unexpected answer " + std::to_string(r.status) + " to " + idem + ": " + r.body);
          return;
        }
        std::lock_guard lock(mu_);
        if (remove) {
          deletes_[idem] = live.front().key_id;
          live.erase(live.begin());
        } else {
          auto info = json::parse(r.body).as_object().at("api_key_info").as_object();
          AckedCreate acked{std::string(info.at("uuid").as_string()), name, ""};
          if (const auto* secret = info.if_contains("secret_key")) acked.secret = std::string(secret->as_string());
          creates_[idem] = acked;
          live.push_back(acked);
        }
        ++acknowledged_;
        break;
      }
    }
  }

  const int clients_;
  std::function<std::uint16_t(int, int)> port_for_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
  std::atomic<size_t> acknowledged_{0};
  std::atomic<size_t> retries_{0};
  mutable std::mutex mu_;  // guards creates_ and deletes_
  std::map<std::string, AckedCreate> creates_;
  std::map<std::string, std::string> deletes_;  // idempotency key -> key id
};

// Every acknowledged command is in the log exactly once, under the key it was acknowledged for;
// no command (idempotency key) was appended twice; the log decodes and its hash chains hold.
void ExpectLogHoldsAcknowledgedCommandsOnce(const testing::TopicLog& log, const Load& load) {
  auto& campaign = Campaign::Get();
  if (!log.complete) campaign.Anomaly("the log could not be read to its end");
  for (const auto& p : log.problems) campaign.Anomaly("log: " + p);
  std::map<std::string, std::vector<std::string>> appended;  // idempotency key -> key ids
  for (const auto& l : log.records) {
    if (l.decoded && !l.event.idempotency_key.empty()) appended[l.event.idempotency_key].push_back(l.event.key_id);
  }
  for (const auto& [idem, keys] : appended) {
    if (keys.size() > 1) campaign.Anomaly("command " + idem + " appended " + std::to_string(keys.size()) + " times");
  }
  auto check = [&](const std::string& idem, const std::string& key_id) {
    auto it = appended.find(idem);
    if (it == appended.end()) {
      campaign.Anomaly("acknowledged command " + idem + " is not in the log");
    } else if (it->second.front() != key_id) {
      campaign.Anomaly("acknowledged command " + idem + " was for key " + key_id + ", the log has " + it->second.front());
    }
  };
  for (const auto& [idem, acked] : load.creates()) check(idem, acked.key_id);
  for (const auto& [idem, key_id] : load.deletes()) check(idem, key_id);
}

bool Ready(std::uint16_t port) { return port != 0 && HttpCall(port, "GET", "/readyz").status == 200; }

// The validator allows every acknowledged, undeleted key whose secret we saw and denies the
// deleted ones, once it has caught up.
void ExpectValidatorAgrees(std::uint16_t port, const Load& load) {
  std::set<std::string> deleted;
  for (const auto& [idem, key_id] : load.deletes()) deleted.insert(key_id);
  auto check = [&](const std::string& secret) {
    return HttpCall(port, "POST", "/v1/chat/completions", "",
                    {{"Authorization", "Bearer " + secret}, {"X-Keyledger-Model", "openai-gpt-4o"}}).status;
  };
  int checked = 0;
  for (const auto& [idem, acked] : load.creates()) {
    if (acked.secret.empty()) continue;
    bool live = !deleted.count(acked.key_id);
    int status = 0;
    WaitUntil(30s, [&] {
      status = check(acked.secret);
      return live ? status == 200 : (status == 401 || status == 403);
    });
    bool agrees = live ? status == 200 : (status == 401 || status == 403);
    if (!agrees) {
      Campaign::Get().Anomaly("validator answers " + std::to_string(status) + " for " + (live ? "live" : "deleted") +
                              " key " + acked.key_id);
    }
    ++checked;
  }
  EXPECT_GT(checked, 0) << "no secret was checked against the validator";
}

std::string ReadyReason(std::uint16_t port) { return HttpCall(port, "GET", "/readyz").body; }

// ---------------------------------------------------------------------------------------------

class FaultCampaign : public ::testing::Test {
 protected:
  void SetUp() override {
    std::printf("seed %llu\n", static_cast<unsigned long long>(g_seed));
    rng_.seed(g_seed ^ std::hash<std::string>{}(::testing::UnitTest::GetInstance()->current_test_info()->name()));
  }
  std::uint64_t Random(std::uint64_t lo, std::uint64_t hi) { return lo + rng_() % (hi - lo + 1); }
  std::mt19937_64 rng_;
  testing::TempDir dir_;
  common::SystemClock clock_;
  common::Logger logger_{stderr, &clock_, common::LogLevel::kWarn};
};

// The broker, the API process (its writer mid-transaction), a separate projector and a validator
// are SIGKILLed at random points while clients keep sending commands.
TEST_F(FaultCampaign, NothingAcknowledgedIsLostOrDuplicatedWhenBrokerApiProjectorAndValidatorAreKilled) {
  testing::PrivateBroker broker;
  ASSERT_TRUE(broker.ok()) << "private broker did not start";
  const std::string bootstrap = broker.bootstrap();
  const std::string topic = testing::UniqueTopic("keyledger.fault.kills");
  ASSERT_TRUE(storage::CreateTopic({bootstrap, {}}, topic, kPartitions, {}, 30000).ok());
  const std::string api_dir = dir_.path("api"), projector_db = dir_.path("projector");
  std::filesystem::create_directories(api_dir);

  auto start_api = [&] {
    auto api = std::make_unique<ServerProcess>(bootstrap, topic, api_dir, std::vector<std::string>{"--partitions", "4"});
    if (api->port() == 0) Campaign::Get().Anomaly("the API did not start again: " + Tail(api->LogText()));
    return api;
  };
  auto start_projector = [&] {
    return std::make_unique<ChildProcess>(
        Keyledger({"project", "--bootstrap", bootstrap, "--topic", topic, "--db", projector_db, "--write-buffer-kb", "256"}),
        dir_.path("projector.log"));
  };
  auto start_validator = [&] {
    auto v = std::make_unique<ServerProcess>(
        std::vector<std::string>{"validator", "--bootstrap", bootstrap, "--topic", topic, "--listen", "127.0.0.1:0",
                                 "--snapshot", dir_.path("validator.snapshot")},
        dir_.path(), "validator");
    if (v->port() == 0) Campaign::Get().Anomaly("the validator did not start again: " + Tail(v->LogText()));
    return v;
  };
  auto api = start_api();
  ASSERT_NE(api->port(), 0);
  std::atomic<std::uint16_t> api_port{api->port()};
  auto projector = start_projector();
  auto validator = start_validator();
  ASSERT_NE(validator->port(), 0);

  Load load(3, [&](int, int) { return api_port.load(); });
  load.Start();
  ASSERT_TRUE(load.Progress(10, 60s)) << "no command acknowledged before the first fault";

  std::vector<std::string> kinds = {"broker-sigkill", "api-sigkill", "projector-sigkill", "validator-sigkill"};
  std::shuffle(kinds.begin(), kinds.end(), rng_);
  const int rounds = Rounds(8);
  for (int round = 0; round < rounds; ++round) {
    const std::string& kind = kinds[round % kinds.size()];
    std::this_thread::sleep_for(std::chrono::milliseconds(Random(200, 1500)));
    std::printf("round %d: %s\n", round, kind.c_str());
    if (kind == "broker-sigkill") {
      ASSERT_TRUE(broker.Kill());
      std::this_thread::sleep_for(std::chrono::milliseconds(Random(500, 2500)));
      ASSERT_TRUE(broker.Resume());
    } else if (kind == "api-sigkill") {
      api->Kill();
      api_port = 0;
      api = start_api();
      ASSERT_NE(api->port(), 0);
      api_port = api->port();
    } else if (kind == "projector-sigkill") {
      projector->Kill();
      projector = start_projector();
    } else {
      validator->Kill();
      validator = start_validator();
      ASSERT_NE(validator->port(), 0);
    }
    Campaign::Get().Fault(kind);
    Campaign::Get().Run();
    if (!load.Progress(5, 120s)) Campaign::Get().Anomaly("no command acknowledged within 120 s after " + kind);
  }
  load.Stop();
  std::printf("%zu commands acknowledged, %zu retried attempts\n", load.acknowledged(), load.retries());

  // Recovered by itself: ready again without help.
  if (!WaitUntil(60s, [&] { return Ready(api->port()); })) {
    Campaign::Get().Anomaly("the API is not ready 60 s after the last fault: " + ReadyReason(api->port()));
  }
  if (!WaitUntil(60s, [&] { return Ready(validator->admin_port()); })) {
    Campaign::Get().Anomaly("the validator is not ready 60 s after the last fault: " + ReadyReason(validator->admin_port()));
  }
  if (auto code = projector->Wait(0ms)) {
    Campaign::Get().Anomaly("the projector exited (" + std::to_string(*code) + "): " + Tail(projector->LogText()));
  }

  ExpectLogHoldsAcknowledgedCommandsOnce(testing::ReadTopic({bootstrap, {}}, topic, kPartitions), load);
  ExpectValidatorAgrees(validator->port(), load);

  int code = projector->Stop();
  if (code != 0) Campaign::Get().Anomaly("the projector did not stop cleanly: " + std::to_string(code));
  std::string output;
  code = RunCommand({"project", "--bootstrap", bootstrap, "--topic", topic, "--db", projector_db, "--exit-when-caught-up"},
                    dir_.path("catch-up.log"), &output);
  if (code != 0) Campaign::Get().Anomaly("the projector could not catch up: " + Tail(output));
  ExpectStoreEqualsReplay("the projector's store", bootstrap, topic, projector_db);
  code = api->Stop();
  if (code != 0) Campaign::Get().Anomaly("the API did not stop cleanly: " + std::to_string(code));
  ExpectStoreEqualsReplay("the API's store", bootstrap, topic, api_dir + "/db");
}

// The largest "events_applied" in a projector's progress lines (0 before the first).
std::uint64_t EventsApplied(const std::string& log) {
  static const std::regex kApplied("\"events_applied\":([0-9]+)");
  std::uint64_t most = 0;
  for (std::sregex_iterator it(log.begin(), log.end(), kApplied), end; it != end; ++it) {
    most = std::max<std::uint64_t>(most, std::stoull((*it)[1].str()));
  }
  return most;
}

// A projector started while the broker is away (a supervisor restarting it during a broker
// outage) waits for it, saying so, instead of exiting when its first metadata request times out
// (10 s); once the broker is back it projects the log, stops cleanly, and its store is a replay.
TEST_F(FaultCampaign, ProjectorStartedWhileTheBrokerIsDownWaitsForItThenProjects) {
  testing::PrivateBroker broker;
  ASSERT_TRUE(broker.ok()) << "private broker did not start";
  const std::string bootstrap = broker.bootstrap();
  const std::string topic = testing::UniqueTopic("keyledger.fault.late-broker");
  storage::KafkaConfig config{bootstrap, {}};
  ASSERT_TRUE(storage::CreateTopic(config, topic, kPartitions, {}, 30000).ok());
  constexpr size_t kEvents = 600;
  testing::EventStream stream(kPartitions, 50, g_seed);
  ASSERT_TRUE(testing::AppendStream(config, topic, stream, kEvents, 100, "fill-" + topic).ok());
  ASSERT_TRUE(broker.Kill());

  const std::string db = dir_.path("late-broker");
  ChildProcess projector(Keyledger({"project", "--bootstrap", bootstrap, "--topic", topic, "--db", db}), db + ".log");
  Campaign::Get().Fault("broker-down-at-projector-start");
  Campaign::Get().Run();
  // Its first metadata request times out after 10 s: then it must say that it waits, and go on.
  std::optional<int> exited;
  const bool waits = WaitUntil(60s, [&] {
    exited = projector.Wait(0ms);
    return exited || projector.LogText().find("projector waiting for the brokers") != std::string::npos;
  });
  std::this_thread::sleep_for(1s);
  if (!exited) exited = projector.Wait(0ms);
  if (exited) {
    Campaign::Get().Anomaly("the projector exited (" + std::to_string(*exited) +
                            ") while the broker was down: " + Tail(projector.LogText()));
    return;
  }
  ASSERT_TRUE(waits) << "the projector does not say what it waits for: " << Tail(projector.LogText());
  ASSERT_TRUE(broker.Resume());
  if (!WaitUntil(120s, [&] { return EventsApplied(projector.LogText()) >= kEvents; })) {
    Campaign::Get().Anomaly("the projector did not project the log within 120 s of the broker's return: " +
                            Tail(projector.LogText()));
  }
  int code = projector.Stop();
  if (code != 0) Campaign::Get().Anomaly("the projector did not stop cleanly: " + std::to_string(code));
  ExpectStoreEqualsReplay("the store of a projector started while the broker was down", bootstrap, topic, db);
}

// Two API processes with the same writer identity: the second fences the first, which stops
// appending and says so; clients that retry on the other server lose nothing.
TEST_F(FaultCampaign, SecondWriterFencesTheFirstWhichSaysSoAndNothingAcknowledgedIsLost) {
  KL_REQUIRE_BROKER(bootstrap);
  const std::vector<std::string> extra = {"--partitions", "4", "--writer-id", "shared"};
  for (int round = 0; round < Rounds(1); ++round) {
    const std::string topic = testing::UniqueTopic("keyledger.fault.fencing");
    ASSERT_TRUE(storage::CreateTopic({bootstrap, {}}, topic, kPartitions, {}, 30000).ok());
    const std::string a_dir = dir_.path("a" + std::to_string(round)), b_dir = dir_.path("b" + std::to_string(round));
    std::filesystem::create_directories(a_dir);
    std::filesystem::create_directories(b_dir);
    ServerProcess a(bootstrap, topic, a_dir, extra);
    ASSERT_NE(a.port(), 0) << a.LogText();
    std::atomic<std::uint16_t> b_port{0};
    Load load(3, [&](int client, int attempt) {
      std::uint16_t b = b_port.load();
      return b != 0 && (client + attempt) % 2 == 1 ? b : a.port();
    });
    load.Start();
    ASSERT_TRUE(load.Progress(10, 60s));

    // The second writer takes the identity over while commands are in flight.
    ServerProcess b(bootstrap, topic, b_dir, extra);
    ASSERT_NE(b.port(), 0) << b.LogText();
    b_port = b.port();
    Campaign::Get().Fault("writer-fenced");
    Campaign::Get().Run();
    if (!load.Progress(20, 120s)) Campaign::Get().Anomaly("commands stopped after the second writer started");

    // The fenced writer says so: readiness, metrics, the answer to a command, its log.
    if (!WaitUntil(30s, [&] { return HttpCall(a.port(), "GET", "/metrics").body.find("keyledger_writer_fenced 1") != std::string::npos; })) {
      Campaign::Get().Anomaly("the first writer does not report itself fenced in /metrics");
    }
    HttpResult ready = HttpCall(a.port(), "GET", "/readyz");
    if (ready.status != 503 || ready.body.find("fenced") == std::string::npos) {
      Campaign::Get().Anomaly("the fenced server's /readyz: " + std::to_string(ready.status) + " " + ready.body);
    }
    HttpResult refused = HttpCall(a.port(), "POST", kKeys, R"({"name": "from the zombie", "all_models": true})",
                                  {{"Authorization", "Bearer " + testing::TestToken("zed", "team-zombie", "owner")}});
    if (refused.status != 503 || refused.body.find("fenced") == std::string::npos) {
      Campaign::Get().Anomaly("a command to the fenced writer was answered " + std::to_string(refused.status) + " " + refused.body);
    }
    if (a.LogText().find("writer fenced") == std::string::npos) Campaign::Get().Anomaly("the fenced writer logged nothing about it");
    if (!Ready(b.port())) Campaign::Get().Anomaly("the new writer is not ready: " + ReadyReason(b.port()));

    load.Stop();
    auto log = testing::ReadTopic({bootstrap, {}}, topic, kPartitions);
    ExpectLogHoldsAcknowledgedCommandsOnce(log, load);
    for (const auto& l : log.records) {
      if (l.decoded && l.event.team_id == "team-zombie") Campaign::Get().Anomaly("the fenced writer appended an event");
    }
    b_port = 0;
    if (b.Stop() != 0) Campaign::Get().Anomaly("the new writer did not stop cleanly");
    ExpectStoreEqualsReplay("the new writer's store", bootstrap, topic, b_dir + "/db");
  }
}

// A disk that fills up, two ways. "disk-low": the store's filesystem has less free space than
// --min-free-mb; the projector refuses the write before RocksDB meets an error and exits 1 saying
// so. "disk-write-error": a file size limit makes RocksDB's own writes fail (EFBIG, as ENOSPC
// would), which Debian's RocksDB 7.8 answers by aborting the process; the projector must end
// (never hang or go on), leave a last structured line, and leave the store a log prefix. Either
// way it resumes from its stored offsets once there is room and ends equal to a replay.
TEST_F(FaultCampaign, ProjectorOnAFullDiskStopsSayingWhyAndResumesAfter) {
  KL_REQUIRE_BROKER(bootstrap);
  const std::string topic = testing::UniqueTopic("keyledger.fault.disk");
  storage::KafkaConfig config{bootstrap, {}};
  ASSERT_TRUE(storage::CreateTopic(config, topic, kPartitions, {}, 30000).ok());
  testing::EventStream stream(kPartitions, 100, g_seed);
  ASSERT_TRUE(testing::AppendStream(config, topic, stream, 20000, 500, "fill-" + topic).ok());

  for (int round = 0; round < Rounds(4); ++round) {
    const bool low = round % 2 == 0;
    const bool wal = round % 4 >= 2;  // both durability modes of the projector's store
    const std::string kind = std::string(low ? "disk-low" : "disk-write-error") + (wal ? " (wal)" : "");
    const std::string db = dir_.path("disk-" + std::to_string(round));
    std::vector<std::string> args = {"project", "--bootstrap", bootstrap, "--topic", topic, "--db", db,
                                     "--write-buffer-kb", "128"};
    if (wal) args.push_back("--sync");
    testing::ChildOptions child_options;
    std::vector<std::string> faulty = args;
    if (low) {
      std::filesystem::create_directories(db);
      auto space = std::filesystem::space(db);
      faulty.insert(faulty.end(), {"--min-free-mb", std::to_string((space.available >> 20) + 1024)});
    } else {
      child_options.file_size_limit = 48 * 1024;
    }
    ChildProcess projector(Keyledger(faulty), db + ".log", child_options);
    Campaign::Get().Fault(kind);
    Campaign::Get().Run();
    auto code = projector.Wait(120s);
    std::string log = projector.LogText();
    if (!code) {
      projector.Kill();
      Campaign::Get().Anomaly(kind + ": the projector kept running for 120 s: " + Tail(log));
      continue;
    }
    std::printf("%s: the projector ended with %d\n", kind.c_str(), *code);
    if (low) {
      if (*code != 1 || log.find("disk nearly full") == std::string::npos ||
          log.find("\"msg\":\"projector stopped\"") == std::string::npos) {
        Campaign::Get().Anomaly(kind + ": expected exit 1 naming the full disk, got " + std::to_string(*code) + ": " + Tail(log));
      }
    } else if (*code == 0 || (log.find("\"level\":\"error\"") == std::string::npos &&
                              log.find("\"level\":\"fatal\"") == std::string::npos)) {
      Campaign::Get().Anomaly(kind + ": the projector ended with " + std::to_string(*code) +
                              " without an error line: " + Tail(log));
    }

    std::string output;
    args.push_back("--exit-when-caught-up");
    int resumed = RunCommand(args, db + ".resume.log", &output);
    if (resumed != 0) Campaign::Get().Anomaly(kind + ": the projector did not resume once there was room: " + Tail(output));
    ExpectStoreEqualsReplay("the store after " + kind, bootstrap, topic, db);
  }
}

// A record that is not an event lands in the middle of a partition. Every component halts that
// partition only (naming the offset) and serves the others; the operator's skip (`keyledger
// skip`, a RecordSkipped event through serve's writer) moves every one of them past it: serve's
// writer and projector, the validator, a standalone projector; and replay and verify agree.
TEST_F(FaultCampaign, BadRecordSkippedByTheOperatorMovesEveryComponentOnAndReplayEqualsLive) {
  KL_REQUIRE_BROKER(bootstrap);
  const std::string corrupt_bytes("\x00\x01not a key event", 17);
  const std::string topic = testing::UniqueTopic("keyledger.fault.corrupt");
  storage::KafkaConfig config{bootstrap, {}};
  ASSERT_TRUE(storage::CreateTopic(config, topic, kPartitions, {}, 30000).ok());
  testing::EventStream stream(kPartitions, 100, g_seed);
  ASSERT_TRUE(testing::AppendStream(config, topic, stream, 1000, 250, "before-" + topic).ok());
  {
    auto producer = storage::TransactionalProducer::Create(config, "corrupt-" + topic);
    ASSERT_TRUE(producer.ok());
    ASSERT_TRUE((*producer)->InitTransactions(30000).ok());
    ASSERT_TRUE((*producer)->BeginTransaction().ok());
    storage::DeliveryReport report;
    ASSERT_TRUE((*producer)->Produce(topic, 1, "team-x", corrupt_bytes, &report).ok());
    ASSERT_TRUE((*producer)->CommitTransaction(30000).ok());
  }
  ASSERT_TRUE(testing::AppendStream(config, topic, stream, 1000, 250, "after-" + topic).ok());
  Campaign::Get().Fault("bad-record-skipped-by-operator");
  Campaign::Get().Run();

  auto log = testing::ReadTopic(config, topic, kPartitions);
  ASSERT_EQ(log.problems.size(), 1u) << "the corrupt record should be the log's only problem";
  std::int64_t corrupt_offset = -1;
  for (const auto& l : log.records) {
    if (!l.decoded) corrupt_offset = l.record.offset;
  }
  ASSERT_GE(corrupt_offset, 0);
  const std::string where = "\"partition\":1,\"offset\":" + std::to_string(corrupt_offset);

  const std::string db = dir_.path("corrupt");
  std::vector<std::string> project = {"project", "--bootstrap", bootstrap, "--topic", topic, "--db", db};
  std::string output;
  auto catch_up = project;
  catch_up.push_back("--exit-when-caught-up");
  int code = RunCommand(catch_up, db + ".log", &output);
  if (code != 3) Campaign::Get().Anomaly("a halted partition should end `project` with 3, got " + std::to_string(code));
  if (output.find("projection of partition halted") == std::string::npos || output.find(where) == std::string::npos) {
    Campaign::Get().Anomaly("the halt does not name partition 1 offset " + std::to_string(corrupt_offset) + ": " + Tail(output));
  }
  {
    storage::StoreOptions ro;
    ro.read_only = true;
    auto store = projector::OpenReadModelStore(db, ro);
    ASSERT_TRUE(store.ok());
    auto offsets = projector::ReadModel(store->get()).Offsets();
    ASSERT_TRUE(offsets.ok());
    for (const auto& l : log.records) {
      std::int64_t applied = (*offsets)[l.record.partition];
      bool behind_halt = l.record.partition == 1 && l.record.offset >= corrupt_offset;
      if (!behind_halt && applied <= l.record.offset) {
        Campaign::Get().Anomaly("partition " + std::to_string(l.record.partition) + " stopped at " +
                                std::to_string(applied) + " though only partition 1 is halted");
        break;
      }
    }
  }

  // serve starts with partition 1 halted: ready, serving every other team, refusing only the
  // halted team's commands with a reason that names the partition.
  const std::string tokens = dir_.path("operators");
  {
    std::ofstream out(tokens);
    out << "op-fault " << common::HexEncode(common::Sha256Of("fault campaign operator " + topic)) << "\n";
  }
  std::filesystem::permissions(tokens, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  const std::string api_dir = dir_.path("api");
  std::filesystem::create_directories(api_dir);
  auto api = std::make_unique<ServerProcess>(bootstrap, topic, api_dir, std::vector<std::string>{"--operator-tokens", tokens});
  if (!api->WaitReady(60s)) {
    Campaign::Get().Anomaly("serve is not ready with one partition halted: " + Tail(api->LogText()));
    return;
  }
  const std::string ready = HttpCall(api->port(), "GET", "/readyz").body;
  if (ready.find("\"partition\":1,\"offset\":" + std::to_string(corrupt_offset)) == std::string::npos) {
    Campaign::Get().Anomaly("serve's /readyz does not list the halt: " + ready);
  }
  ServerProcess validator({"validator", "--bootstrap", bootstrap, "--topic", topic, "--listen", "127.0.0.1:0"},
                          dir_.path(), "validator");
  if (!validator.WaitReady(60s)) Campaign::Get().Anomaly("the validator is not ready with one partition halted");
  std::string halted_team, healthy_team;
  for (int t = 0; halted_team.empty() || healthy_team.empty(); ++t) {
    std::string team = "team-" + std::to_string(t);
    (events::PartitionForTeam(team, kPartitions) == 1 ? halted_team : healthy_team) = team;
  }
  auto create = [&](const std::string& team, const std::string& name) {
    return HttpCall(api->port(), "POST", kKeys, R"({"name": ")" + name + R"(", "all_models": true})",
                    {{"Authorization", "Bearer " + testing::TestToken("owner-" + team, team, "owner")}});
  };
  auto secret_of = [](const HttpResult& r) {
    return std::string(json::parse(r.body).as_object().at("api_key_info").as_object().at("secret_key").as_string());
  };
  auto check = [&](const std::string& secret) {
    return HttpCall(validator.port(), "POST", "/v1/chat/completions", "",
                    {{"Authorization", "Bearer " + secret}, {"X-Keyledger-Model", "openai-gpt-4o"}}).status;
  };
  HttpResult refused = create(halted_team, "refused while halted");
  if (refused.status != 503 || refused.body.find("partition 1") == std::string::npos) {
    Campaign::Get().Anomaly("the halted team's command got " + std::to_string(refused.status) + ": " + refused.body);
  }
  HttpResult healthy = create(healthy_team, "served while another partition is halted");
  if (healthy.status != 201) {
    Campaign::Get().Anomaly("a healthy team's command got " + std::to_string(healthy.status) + ": " + healthy.body);
  } else if (!WaitUntil(30s, [&] { return check(secret_of(healthy)) == 200; })) {
    Campaign::Get().Anomaly("the validator does not allow a healthy team's new key while partition 1 is halted");
  }

  // The operator looks, then skips exactly that record.
  const std::string url = "http://127.0.0.1:" + std::to_string(api->port());
  const std::string sha = common::HexEncode(common::Sha256Of(corrupt_bytes));
  code = RunCommand({"halts", "--api", url, "--operator-token-file", tokens}, dir_.path("halts.log"), &output);
  if (code != 0 || output.find(sha) == std::string::npos) {
    Campaign::Get().Anomaly("`keyledger halts` does not show the bad record: " + Tail(output));
  }
  code = RunCommand({"skip", "--api", url, "--operator-token-file", tokens, "--partition", "1", "--offset",
                     std::to_string(corrupt_offset), "--sha256", sha, "--note", "fault campaign: garbage produced by hand"},
                    dir_.path("skip.log"), &output);
  if (code != 0 || output.find("\"projector\":\"passed\"") == std::string::npos) {
    Campaign::Get().Anomaly("the operator's skip was refused or not applied: " + Tail(output));
  }

  // Every component goes on past it: serve (writer and projector), the validator, a standalone
  // projector, replay and verify.
  if (HttpCall(api->port(), "GET", "/readyz").body.find("\"halted_partitions\":[]") == std::string::npos) {
    Campaign::Get().Anomaly("serve still lists a halt after the skip: " + HttpCall(api->port(), "GET", "/readyz").body);
  }
  HttpResult after = create(halted_team, "created after the skip");
  if (after.status != 201) {
    Campaign::Get().Anomaly("the skipped team's command got " + std::to_string(after.status) + ": " + after.body);
  } else if (!WaitUntil(30s, [&] {
               return check(secret_of(after)) == 200 &&
                      HttpCall(validator.admin_port(), "GET", "/readyz").body.find("\"halted_partitions\":[]") !=
                          std::string::npos;
             })) {
    Campaign::Get().Anomaly("the validator did not go on past the skipped record: " +
                            HttpCall(validator.admin_port(), "GET", "/readyz").body);
  }
  code = RunCommand(catch_up, db + ".resume.log", &output);
  if (code != 0) Campaign::Get().Anomaly("after the skip the standalone projector did not catch up: " + Tail(output));
  if (api->Stop() != 0) Campaign::Get().Anomaly("serve did not stop cleanly after the skip");
  ExpectStoreEqualsReplay("serve's store after the skip", bootstrap, topic, api_dir + "/db");
  auto live = replay::StoreRoot(api_dir + "/db").Live();
  ASSERT_TRUE(live.ok());
  // The skip is recorded from the event itself, so every store holds the same bytes, meta included.
  ExpectSameStores("the standalone projector after the skip", db, *live);
  code = RunCommand({"replay", "--bootstrap", bootstrap, "--topic", topic, "--db", api_dir + "/db"},
                    dir_.path("replay.log"), &output);
  if (code != 0) Campaign::Get().Anomaly("replay after the skip did not publish: " + Tail(output));
}

// A validator partitioned from the brokers (a TCP proxy in front of the broker's CUT listener,
// closed and reopened) while clients keep creating and deleting keys through the API, which still
// reaches the broker. From --max-staleness + 1 s after each cut until it is healed, the validator
// allows nothing and is not ready; afterwards it catches up by itself and agrees with the log.
TEST_F(FaultCampaign, ValidatorPartitionedFromTheBrokersFailsClosedWithinItsBoundAndCatchesUp) {
  constexpr int kMaxStalenessMs = 2000;
  const std::uint16_t proxy_port = testing::TcpProxy::FreePort();
  testing::PrivateBroker broker("127.0.0.1:" + std::to_string(proxy_port));
  ASSERT_TRUE(broker.ok() && broker.cut_port() != 0) << "private broker did not start";
  testing::TcpProxy proxy(proxy_port, broker.cut_port());
  ASSERT_TRUE(proxy.listening()) << "the proxy cannot listen on port " << proxy_port;
  const std::string bootstrap = broker.bootstrap();
  const std::string topic = testing::UniqueTopic("keyledger.fault.partition");
  ASSERT_TRUE(storage::CreateTopic({bootstrap, {}}, topic, kPartitions, {}, 30000).ok());
  const std::string api_dir = dir_.path("api");
  std::filesystem::create_directories(api_dir);
  ServerProcess api(bootstrap, topic, api_dir, {"--partitions", "4"});
  ASSERT_TRUE(api.WaitReady(60s)) << api.LogText();
  ServerProcess validator({"validator", "--bootstrap", "127.0.0.1:" + std::to_string(proxy_port), "--topic", topic,
                           "--listen", "127.0.0.1:0", "--max-staleness", std::to_string(kMaxStalenessMs)},
                          dir_.path(), "validator");
  ASSERT_TRUE(validator.WaitReady(60s)) << validator.LogText();
  const std::uint16_t api_port = api.port();
  Load load(2, [&](int, int) { return api_port; });
  load.Start();
  ASSERT_TRUE(load.Progress(10, 60s)) << "no command acknowledged before the first cut";

  const auto bound = std::chrono::milliseconds(kMaxStalenessMs + 1000);
  for (int round = 0; round < Rounds(3); ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(Random(200, 1000)));
    std::vector<std::string> secrets;
    for (const auto& [idem, acked] : load.creates()) {
      if (!acked.secret.empty() && secrets.size() < 20) secrets.push_back(acked.secret);
    }
    proxy.Cut();
    const auto cut_at = std::chrono::steady_clock::now();
    Campaign::Get().Fault("validator-partitioned");
    Campaign::Get().Run();
    const auto heal_at = cut_at + bound + std::chrono::milliseconds(Random(500, 2500));
    std::this_thread::sleep_until(cut_at + bound);
    int probes = 0;
    while (std::chrono::steady_clock::now() < heal_at) {
      for (const std::string& secret : secrets) {
        HttpResult r = HttpCall(validator.port(), "POST", "/v1/chat/completions", "",
                                {{"Authorization", "Bearer " + secret}, {"X-Keyledger-Model", "openai-gpt-4o"}});
        ++probes;
        if (r.status == 200) {
          Campaign::Get().Anomaly("the cut-off validator allowed a secret " +
                                  std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                     std::chrono::steady_clock::now() - cut_at).count()) +
                                  " ms after the cut");
        }
      }
      if (Ready(validator.admin_port())) Campaign::Get().Anomaly("the cut-off validator says it is ready");
      std::this_thread::sleep_for(100ms);
    }
    ASSERT_TRUE(proxy.Restore()) << "the proxy cannot listen on its port again";
    std::printf("round %d: cut for %lld ms, %d checks while cut off\n", round,
                static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(heal_at - cut_at).count()),
                probes);
    if (!WaitUntil(60s, [&] { return Ready(validator.admin_port()); })) {
      Campaign::Get().Anomaly("the validator is not ready 60 s after the proxy healed: " +
                              ReadyReason(validator.admin_port()));
    }
    if (!load.Progress(5, 60s)) Campaign::Get().Anomaly("no command acknowledged after round " + std::to_string(round));
  }
  load.Stop();
  ExpectLogHoldsAcknowledgedCommandsOnce(testing::ReadTopic({bootstrap, {}}, topic, kPartitions), load);
  ExpectValidatorAgrees(validator.port(), load);
}

// ---------------------------------------------------------------------------------------------
// The mock cluster: errors and latency injected into the writer's produce and transaction commit
// and into the projector's fetches.

// Kafka protocol API keys (librdkafka's RD_KAFKAP_* constants are not in its public headers).
constexpr std::int16_t kApiProduce = 0, kApiFetch = 1, kApiAddPartitionsToTxn = 24, kApiEndTxn = 26;

void Inject(rd_kafka_mock_cluster_t* mock, const std::string& kind, std::mt19937_64& rng) {
  const int n = 2 + static_cast<int>(rng() % 4);
  if (kind == "produce-errors") {
    std::vector<rd_kafka_resp_err_t> errs(n, rng() % 2 ? RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS
                                                       : RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION);
    rd_kafka_mock_push_request_errors_array(mock, kApiProduce, errs.size(), errs.data());
  } else if (kind == "commit-errors") {
    std::vector<rd_kafka_resp_err_t> errs(n, rng() % 2 ? RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS
                                                       : RD_KAFKA_RESP_ERR_NOT_COORDINATOR);
    rd_kafka_mock_push_request_errors_array(mock, kApiEndTxn, errs.size(), errs.data());
  } else if (kind == "add-partitions-errors") {
    std::vector<rd_kafka_resp_err_t> errs(n, RD_KAFKA_RESP_ERR_CONCURRENT_TRANSACTIONS);
    rd_kafka_mock_push_request_errors_array(mock, kApiAddPartitionsToTxn, errs.size(), errs.data());
  } else if (kind == "fetch-errors") {
    std::vector<rd_kafka_resp_err_t> errs(n, rng() % 2 ? RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION
                                                       : RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT);
    rd_kafka_mock_push_request_errors_array(mock, kApiFetch, errs.size(), errs.data());
  } else if (kind == "latency") {
    rd_kafka_mock_broker_set_rtt(mock, 1, 100 + static_cast<int>(rng() % 300));
  }
}

TEST_F(FaultCampaign, MockClusterWriterAcknowledgesThroughInjectedProduceCommitErrorsAndLatency) {
  testing::MockCluster mock("events", kPartitions);
  events::Catalog catalog = events::Catalog::Default();
  common::OsRandom random;
  writer::WriterOptions options;
  options.kafka = mock.config();
  options.topic = "events";
  options.writer_id = "mock";
  options.command_timeout_ms = 3000;
  options.commit_timeout_ms = 2000;
  writer::Writer w(options, &catalog, &clock_, &random, &logger_);
  ASSERT_TRUE(w.Start(30000).ok());

  std::atomic<bool> stop{false};
  std::atomic<size_t> acknowledged{0};
  std::mutex mu;
  std::map<std::string, std::string> acked;  // idempotency key -> key id
  std::vector<std::thread> clients;
  for (int c = 0; c < 3; ++c) {
    clients.emplace_back([&, c] {
      common::OsRandom r;
      events::Caller owner{"user-" + std::to_string(c), "Owner", "team-mock-" + std::to_string(c), events::Role::kOwner};
      for (int i = 0; !stop; ++i) {
        std::string idem = owner.team_id + "-" + std::to_string(i);
        writer::CommandRequest request{owner, testing::NewKeyCommand(idem, r), "req-" + idem, idem, "corr"};
        while (!stop) {
          auto result = w.Submit(request);
          if (result.ok()) {
            std::lock_guard lock(mu);
            acked[idem] = result->key_after.key_id;
            ++acknowledged;
            break;
          }
          if (result.status().code() != common::StatusCode::kUnavailable &&
              result.status().code() != common::StatusCode::kDeadlineExceeded) {
            Campaign::Get().Anomaly("writer answered " + result.status().ToString() + " to " + idem);
            return;
          }
          std::this_thread::sleep_for(20ms);
        }
      }
    });
  }
  auto progress = [&](size_t more, std::chrono::milliseconds timeout) {
    size_t target = acknowledged + more;
    return WaitUntil(timeout, [&] { return acknowledged >= target; });
  };
  EXPECT_TRUE(progress(20, 30s));
  const std::vector<std::string> kinds = {"produce-errors", "commit-errors", "add-partitions-errors", "latency"};
  for (int round = 0; round < Rounds(8); ++round) {
    const std::string& kind = kinds[round % kinds.size()];
    Inject(mock.cluster(), kind, rng_);
    Campaign::Get().Fault("mock " + kind);
    Campaign::Get().Run();
    if (!progress(10, 60s)) Campaign::Get().Anomaly("the writer acknowledged nothing for 60 s after " + kind);
    rd_kafka_mock_broker_set_rtt(mock.cluster(), 1, 0);
  }
  stop = true;
  for (auto& t : clients) t.join();
  auto stats = w.stats();
  w.Stop();
  std::printf("writer on the mock: %llu acknowledged, %llu transactions failed\n",
              static_cast<unsigned long long>(stats.commands_acknowledged),
              static_cast<unsigned long long>(stats.transactions_failed));

  // The mock shows aborted transactions to read_committed readers, so a command retried after an
  // aborted attempt can show up twice here; on the real broker (above) it may not. An
  // acknowledged command must be present under its key id either way, and with no failed
  // transaction nothing may repeat.
  auto log = testing::ReadTopic(mock.config(), "events", kPartitions);
  if (!log.complete) Campaign::Get().Anomaly("the mock log could not be read to its end");
  std::map<std::string, std::multiset<std::string>> appended;
  for (const auto& l : log.records) {
    if (l.decoded) appended[l.event.idempotency_key].insert(l.event.key_id);
  }
  for (const auto& [idem, key_id] : acked) {
    if (!appended[idem].count(key_id)) Campaign::Get().Anomaly("acknowledged " + idem + " is not on the mock");
    if (appended[idem].count(key_id) > 1) Campaign::Get().Anomaly("acknowledged " + idem + " appended twice");
    if (stats.transactions_failed == 0 && appended[idem].size() > 1) {
      Campaign::Get().Anomaly(idem + " appended more than once without a failed transaction");
    }
  }
}

TEST_F(FaultCampaign, MockClusterProjectorEqualsACleanProjectionDespiteFetchErrorsAndLatency) {
  testing::MockCluster mock("events", kPartitions);
  testing::EventStream stream(kPartitions, 50, g_seed);
  ASSERT_TRUE(testing::AppendStream(mock.config(), "events", stream, 5000, 250, "fill").ok());
  projector::ProjectorOptions options;
  options.kafka = mock.config();
  options.topic = "events";
  options.max_batch_events = 200;

  const std::string faulty = dir_.path("faulty"), clean = dir_.path("clean");
  {
    auto store = projector::OpenReadModelStore(faulty, {});
    ASSERT_TRUE(store.ok());
    // Each round projects a little under injected errors, stops, and a new projector resumes
    // from the stored offsets, as after a restart.
    for (int round = 0; round < Rounds(6); ++round) {
      const std::string kind = round % 2 ? "latency" : "fetch-errors";
      Inject(mock.cluster(), kind, rng_);
      Campaign::Get().Fault("mock " + kind);
      Campaign::Get().Run();
      auto offsets = projector::ReadModel(store->get()).Offsets();
      ASSERT_TRUE(offsets.ok());
      std::map<std::int32_t, std::int64_t> stop_at;
      for (int p = 0; p < kPartitions; ++p) stop_at[p] = (*offsets)[p] + 150;
      projector::Projector p(options, store->get(), &logger_, &clock_);
      common::Status s = p.RunUntil(60000, stop_at);
      if (!s.ok()) std::printf("round %d: projector stopped with %s, resuming\n", round, s.ToString().c_str());
      rd_kafka_mock_broker_set_rtt(mock.cluster(), 1, 0);
    }
    // Injected errors still queued make a run stop early; a restart resumes (as the daemon does).
    common::Status finished = common::Unavailable("not run");
    for (int attempt = 0; attempt < 20 && !finished.ok(); ++attempt) {
      projector::Projector rest(options, store->get(), &logger_, &clock_);
      finished = rest.RunUntil(120000);
    }
    if (!finished.ok()) Campaign::Get().Anomaly("the projector never finished under fetch faults: " + finished.ToString());
  }
  {
    auto store = projector::OpenReadModelStore(clean, {});
    ASSERT_TRUE(store.ok());
    projector::Projector p(options, store->get(), &logger_, &clock_);
    ASSERT_TRUE(p.RunUntil(120000).ok());
  }
  ExpectSameStores("under fetch faults", faulty, clean);
  storage::StoreOptions ro;
  ro.read_only = true;
  auto a = projector::OpenReadModelStore(faulty, ro);
  ASSERT_TRUE(a.ok());
  auto stats = projector::ReadModel(a->get()).Halts();
  ASSERT_TRUE(stats.ok());
  if (!stats->empty()) Campaign::Get().Anomaly("the projector halted a partition under fetch faults");
}

}  // namespace
}  // namespace keyledger

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--long") keyledger::g_long = true;
  }
  if (const char* env = std::getenv("KEYLEDGER_FAULT_LONG"); env && std::string(env) == "1") keyledger::g_long = true;
  if (const char* env = std::getenv("KEYLEDGER_FAULT_SEED"); env && *env) {
    keyledger::g_seed = std::strtoull(env, nullptr, 10);
  } else {
    keyledger::g_seed = std::random_device{}();
  }
  ::testing::AddGlobalTestEnvironment(new keyledger::SummaryPrinter);
  return RUN_ALL_TESTS();
}
