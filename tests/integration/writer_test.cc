// The writer against the real broker: commands to committed events, concurrency on one key,
// idempotency, fencing, and a broker crash in the middle of a stream of commands.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "keyledger/common/secret.h"
#include "keyledger/events/codec.h"
#include "keyledger/events/hash_chain.h"
#include "keyledger/writer/writer.h"
#include "support/commands.h"
#include "support/mock_cluster.h"
#include "support/private_broker.h"
#include "support/test_broker.h"
#include "support/topic_log.h"

namespace keyledger {
namespace {

using events::Caller;
using events::Role;
using writer::CommandRequest;
using writer::Writer;

constexpr int kPartitions = 4;

struct Env {
  Env(const std::string& b, const std::string& prefix) : bootstrap(b) {
    topic = testing::UniqueTopic(prefix);
    common::Status s = storage::CreateTopic({bootstrap, {}}, topic, kPartitions, {}, 30000);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  std::string bootstrap;
  std::string topic;
  events::Catalog catalog = events::Catalog::Default();
  common::SystemClock clock;
  common::OsRandom random;
  common::Logger logger{stderr, &clock, common::LogLevel::kWarn};

  writer::WriterOptions Options(const std::string& id = "0") const {
    writer::WriterOptions o;
    o.kafka.bootstrap_servers = bootstrap;
    o.topic = topic;
    o.writer_id = id;
    return o;
  }
  std::unique_ptr<Writer> StartWriter(const std::string& id = "0") {
    auto w = std::make_unique<Writer>(Options(id), &catalog, &clock, &random, &logger);
    common::Status s = w->Start(30000);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return w;
  }
};

Caller Owner(const std::string& team = "team-acme") { return {"user-olga", "Olga", team, Role::kOwner}; }
Caller Member(const std::string& user = "user-mia") { return {user, "Mia", "team-acme", Role::kMember}; }

CommandRequest Create(const Caller& caller, const std::string& name, const std::string& idem = "") {
  common::OsRandom random;
  return CommandRequest{caller, testing::NewKeyCommand(name, random), "req-" + name, idem, "corr"};
}

CommandRequest Rename(const Caller& caller, const std::string& key_id, const std::string& name,
                      std::optional<std::uint64_t> expected = {}) {
  return CommandRequest{caller, events::RenameKeyCommand{key_id, name, expected}, "req", "", ""};
}

// Every event of the topic, decoded, with the hash chain of each partition verified.
std::vector<std::pair<storage::LogRecord, events::Event>> ReadLog(const Env& env) {
  auto log = testing::ReadTopic({env.bootstrap, {}}, env.topic, kPartitions);
  EXPECT_TRUE(log.complete);
  for (const auto& problem : log.problems) ADD_FAILURE() << problem;
  std::vector<std::pair<storage::LogRecord, events::Event>> out;
  for (auto& l : log.records) out.emplace_back(std::move(l.record), std::move(l.event));
  return out;
}

TEST(Writer, AcknowledgesCommandsWithTheirCommittedPositionAndRevision) {
  KL_REQUIRE_BROKER(bootstrap);
  Env env(bootstrap, "keyledger.it.writer");
  auto w = env.StartWriter();
  auto created = w->Submit(Create(Owner(), "first"));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_FALSE(created->replayed);
  EXPECT_EQ(created->event.key_revision, 1u);
  EXPECT_EQ(created->partition, storage::PartitionForTeam("team-acme", kPartitions));
  EXPECT_GE(created->offset, 0);
  const std::string key_id = created->key_after.key_id;
  EXPECT_TRUE(common::IsUuid(key_id));

  auto renamed = w->Submit(Rename(Owner(), key_id, "second"));
  ASSERT_TRUE(renamed.ok()) << renamed.status().ToString();
  EXPECT_EQ(renamed->event.key_revision, 2u);
  EXPECT_GT(renamed->offset, created->offset);

  // Rejections carry the key rules' precise errors and append nothing.
  auto stale = w->Submit(Rename(Owner(), key_id, "third", 1));
  EXPECT_EQ(stale.status().code(), common::StatusCode::kConflict);
  auto foreign = w->Submit(Rename(Owner("team-globex"), key_id, "x"));
  EXPECT_EQ(foreign.status().code(), common::StatusCode::kNotFound);
  auto not_creator = w->Submit(Rename(Member(), key_id, "x"));
  EXPECT_EQ(not_creator.status().code(), common::StatusCode::kPermissionDenied);
  auto bad_name = w->Submit(Rename(Owner(), key_id, std::string(200, 'x')));
  EXPECT_EQ(bad_name.status().code(), common::StatusCode::kInvalidArgument);

  auto log = ReadLog(env);
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].first.offset, created->offset);
  EXPECT_EQ(log[1].second.event_id, renamed->event.event_id);
  w->Stop();

  // A new writer rebuilds the state from the log before accepting commands.
  auto again = env.StartWriter();
  auto state = again->KeyState(key_id);
  ASSERT_TRUE(state.has_value());
  EXPECT_EQ(state->name, "second");
  EXPECT_EQ(state->revision, 2u);
  auto third = again->Submit(Rename(Owner(), key_id, "third", 2));
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  EXPECT_EQ(third->event.key_revision, 3u);
}

// Regression: a command that was still queued when its caller stopped waiting (503) could be
// appended later, so "503" did not mean "nothing written".
TEST(Writer, CommandPastItsDeadlineIsAnsweredUnavailableAndNeverAppended) {
  KL_REQUIRE_BROKER(bootstrap);
  Env env(bootstrap, "keyledger.it.writer-deadline");
  auto w = env.StartWriter();
  CommandRequest late = Create(Owner(), "too-late");
  auto future = w->SubmitAsync(late, env.clock.NowMicros() - 1);
  auto outcome = future.get();
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status().code(), common::StatusCode::kUnavailable);
  EXPECT_NE(outcome.status().message().find("nothing was written"), std::string::npos);
  auto on_time = w->Submit(Create(Owner(), "on-time"));
  ASSERT_TRUE(on_time.ok()) << on_time.status().ToString();
  auto log = ReadLog(env);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].second.event_id, on_time->event.event_id);
}

events::ImportLegacyKeyCommand Import(const std::string& key_id, const std::string& team,
                                      const std::string& secret) {
  events::ImportLegacyKeyCommand c;
  c.key_id = key_id;
  c.team_id = team;
  c.creator_id = "user-legacy";
  c.creator_name = "Legacy";
  c.name = "imported " + key_id.substr(0, 4);
  c.created_at_micros = 1600000000000000;
  c.secret_sha256 = common::HashSecret(secret);
  c.secret_hint = common::SecretHint(secret);
  return c;
}

// Regression: two keys with one secret hash made the second shadow the first in every secret
// lookup, and deleting one removed the lookup of the other.
TEST(Writer, RefusesASecretThatAnotherLiveKeyAlreadyHas) {
  KL_REQUIRE_BROKER(bootstrap);
  Env env(bootstrap, "keyledger.it.writer-secret");
  auto w = env.StartWriter();
  Caller op{"operator", "Operator", "", Role::kOperator};
  std::string secret = *common::GenerateSecret(env.random);
  auto first = w->Submit({op, Import("11111111-1111-4111-8111-111111111111", "team-acme", secret), "r1", "", ""});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  // In another team, in the same batch as a third, and after a restart: always refused.
  auto second = w->SubmitAsync({op, Import("22222222-2222-4222-8222-222222222222", "team-globex", secret), "r2", "", ""});
  auto third = w->SubmitAsync({op, Import("33333333-3333-4333-8333-333333333333", "team-globex", secret), "r3", "", ""});
  EXPECT_EQ(second.get().status().code(), common::StatusCode::kConflict);
  EXPECT_EQ(third.get().status().code(), common::StatusCode::kConflict);
  w->Stop();
  auto again = env.StartWriter();
  auto fourth = again->Submit({op, Import("44444444-4444-4444-8444-444444444444", "team-acme", secret), "r4", "", ""});
  EXPECT_EQ(fourth.status().code(), common::StatusCode::kConflict);
  EXPECT_EQ(fourth.status().message(), "the secret is already in use by another key");
  // Once the key holding it is deleted, the secret is free again.
  auto deleted = again->Submit({Owner(), events::DeleteKeyCommand{first->key_after.key_id,
                                first->key_after.name, std::nullopt}, "r5", "", ""});
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  auto fifth = again->Submit({op, Import("55555555-5555-4555-8555-555555555555", "team-acme", secret), "r6", "", ""});
  EXPECT_TRUE(fifth.ok()) << fifth.status().ToString();
  EXPECT_EQ(ReadLog(env).size(), 3u);
}

TEST(Writer, ConcurrentCommandsOnOneKeyGiveStrictlyIncreasingRevisionsAndNoLostEffects) {
  KL_REQUIRE_BROKER(bootstrap);
  Env env(bootstrap, "keyledger.it.concurrency");
  auto w = env.StartWriter();
  auto created = w->Submit(Create(Owner(), "contended"));
  ASSERT_TRUE(created.ok());
  const std::string key_id = created->key_after.key_id;

  constexpr int kThreads = 8, kPerThread = 40;
  std::mutex mu;
  std::set<std::string> acked_event_ids;
  std::map<common::StatusCode, int> rejections;
  std::atomic<int> unexpected{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto current = w->KeyState(key_id);
        // Half the commands pin the revision they saw, so some must lose the race (409).
        std::optional<std::uint64_t> expected;
        if (i % 2 == 0 && current) expected = current->revision;
        auto r = w->Submit(Rename(Owner(), key_id, "t" + std::to_string(t) + "-" + std::to_string(i), expected));
        std::lock_guard lock(mu);
        if (r.ok()) {
          EXPECT_TRUE(acked_event_ids.insert(r->event.event_id).second);
        } else {
          ++rejections[r.status().code()];
          if (r.status().code() != common::StatusCode::kConflict) ++unexpected;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(unexpected.load(), 0);
  EXPECT_EQ(acked_event_ids.size() + rejections[common::StatusCode::kConflict],
            static_cast<size_t>(kThreads * kPerThread));
  EXPECT_GE(acked_event_ids.size(), static_cast<size_t>(kThreads * kPerThread / 2));

  auto log = ReadLog(env);
  std::uint64_t last_revision = 0;
  std::set<std::string> logged;
  std::string name;
  for (const auto& [record, event] : log) {
    if (event.key_id != key_id) continue;
    EXPECT_EQ(event.key_revision, last_revision + 1) << "revisions must be gapless and increasing";
    last_revision = event.key_revision;
    if (event.type() == events::EventType::kKeyRenamed) {
      EXPECT_TRUE(logged.insert(event.event_id).second) << "event appended twice";
      const auto& renamed = std::get<events::KeyRenamed>(event.payload);
      EXPECT_EQ(renamed.old_name, name.empty() ? "contended" : name);  // no lost update
      name = renamed.new_name;
    }
  }
  EXPECT_EQ(logged, acked_event_ids) << "every acknowledged command is in the log, nothing else is";
  EXPECT_EQ(w->KeyState(key_id)->revision, last_revision);
}

TEST(Writer, IdempotentRetryReturnsTheOriginalOutcomeAndAppendsNothing) {
  KL_REQUIRE_BROKER(bootstrap);
  Env env(bootstrap, "keyledger.it.idempotency");
  auto w = env.StartWriter();
  auto first = w->Submit(Create(Owner(), "idem", "idem-key-1"));
  ASSERT_TRUE(first.ok());
  auto retry = w->Submit(Create(Owner(), "idem", "idem-key-1"));
  ASSERT_TRUE(retry.ok()) << retry.status().ToString();
  EXPECT_TRUE(retry->replayed);
  EXPECT_EQ(retry->key_after.key_id, first->key_after.key_id);
  EXPECT_EQ(retry->offset, first->offset);

  // The same key from another user is a different scope; from the same user for another
  // operation it is a conflict.
  auto other_user = w->Submit(Create(Member(), "idem", "idem-key-1"));
  ASSERT_TRUE(other_user.ok());
  EXPECT_FALSE(other_user->replayed);
  CommandRequest misuse{Owner(), events::DeleteKeyCommand{first->key_after.key_id, "idem", {}},
                        "req", "idem-key-1", ""};
  EXPECT_EQ(w->Submit(misuse).status().code(), common::StatusCode::kConflict);

  // Concurrent duplicates in one batch are folded too.
  std::vector<std::thread> threads;
  std::mutex mu;
  std::set<std::string> ids;
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&] {
      auto r = w->Submit(Create(Owner(), "burst", "idem-burst"));
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      std::lock_guard lock(mu);
      ids.insert(r->key_after.key_id);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ids.size(), 1u);

  w->Stop();
  // After a restart the idempotency records are rebuilt from the log.
  auto restarted = env.StartWriter();
  auto after_restart = restarted->Submit(Create(Owner(), "idem", "idem-key-1"));
  ASSERT_TRUE(after_restart.ok());
  EXPECT_TRUE(after_restart->replayed);
  EXPECT_EQ(after_restart->key_after.key_id, first->key_after.key_id);

  size_t creates = 0;
  for (const auto& [r, e] : ReadLog(env)) creates += e.type() == events::EventType::kKeyCreated;
  EXPECT_EQ(creates, 3u);  // idem (owner), idem (member), burst
}

// An unknown commit outcome through librdkafka itself (the mock cluster, which can delay EndTxn):
// the commit is still in flight when the broker goes down. The writer cannot learn whether it
// landed, so it answers DeadlineExceeded (the API's 504 outcome_unknown), never the Unavailable
// that means "not written"; once the broker is back, a retry with the same Idempotency-Key gets
// the command's true outcome and the log holds it once.
TEST(Writer, ACommitCutOffByTheBrokerGoingDownIsAnsweredOutcomeUnknownAndTheRetryLearnsIt) {
  testing::MockCluster mock("events", kPartitions);
  events::Catalog catalog = events::Catalog::Default();
  common::SystemClock clock;
  common::OsRandom random;
  common::Logger logger{stderr, &clock, common::LogLevel::kError};
  writer::WriterOptions options;
  options.kafka = mock.config();
  options.topic = "events";
  options.writer_id = "unknown-outcome";
  options.command_timeout_ms = 1000;
  options.commit_timeout_ms = 1000;
  Writer w(options, &catalog, &clock, &random, &logger);
  ASSERT_TRUE(w.Start(30000).ok());
  const Caller owner = Owner("team-in-doubt");
  ASSERT_TRUE(w.Submit(CommandRequest{owner, testing::NewKeyCommand("warm-up", random), "r0", "", ""}).ok());

  constexpr std::int16_t kApiEndTxn = 26;  // the protocol key (librdkafka keeps RD_KAFKAP_* private)
  rd_kafka_mock_broker_push_request_error_rtts(mock.cluster(), 1, kApiEndTxn, 1, RD_KAFKA_RESP_ERR_NO_ERROR,
                                               5000);
  std::thread cut([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    rd_kafka_mock_broker_set_down(mock.cluster(), 1);
  });
  const CommandRequest request{owner, testing::NewKeyCommand("in-doubt", random), "r1", "idem-in-doubt", ""};
  auto outcome = w.Submit(request);
  cut.join();
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status().code(), common::StatusCode::kDeadlineExceeded) << outcome.status().ToString();
  EXPECT_GE(w.stats().commands_outcome_unknown, 1u);

  rd_kafka_mock_broker_set_up(mock.cluster(), 1);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (w.stats().state != writer::WriterState::kReady && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(w.stats().state, writer::WriterState::kReady);
  common::Result<writer::CommandOutcome> retry = common::Unavailable("not sent");
  while (std::chrono::steady_clock::now() < deadline) {
    retry = w.Submit(request);
    if (retry.ok() || retry.status().code() != common::StatusCode::kUnavailable) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(retry.ok()) << retry.status().ToString();
  // The mock shows a transaction's records whatever its end, so the first attempt is in the log:
  // the retry is its replay, and nothing was written twice.
  EXPECT_TRUE(retry->replayed);
  ASSERT_TRUE(w.KeyState(retry->key_after.key_id).has_value());
  EXPECT_EQ(w.KeyState(retry->key_after.key_id)->name, "in-doubt");
}

TEST(Writer, SecondWriterWithTheSameIdentityFencesTheFirst) {
  KL_REQUIRE_BROKER(bootstrap);
  Env env(bootstrap, "keyledger.it.fencing");
  auto first = env.StartWriter("w1");
  auto created = first->Submit(Create(Owner(), "before fencing"));
  ASSERT_TRUE(created.ok());
  auto second = env.StartWriter("w1");
  EXPECT_TRUE(second->KeyState(created->key_after.key_id).has_value());

  auto zombie = first->Submit(Create(Owner(), "from the zombie"));
  ASSERT_FALSE(zombie.ok());
  // Fenced for good: retrying here cannot help (FailedPrecondition; the API answers it 503).
  EXPECT_EQ(zombie.status().code(), common::StatusCode::kFailedPrecondition);
  EXPECT_NE(zombie.status().message().find("fenced"), std::string::npos) << zombie.status().message();
  EXPECT_EQ(first->stats().state, writer::WriterState::kFenced);
  auto later = first->Submit(Create(Owner(), "still the zombie"));
  EXPECT_EQ(later.status().code(), common::StatusCode::kFailedPrecondition);

  auto fresh = second->Submit(Create(Owner(), "from the new writer"));
  ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
  for (const auto& [r, e] : ReadLog(env)) {
    if (const auto* c = std::get_if<events::KeyCreated>(&e.payload)) {
      EXPECT_EQ(c->name.find("zombie"), std::string::npos) << "a fenced writer appended";
    }
  }
}

TEST(Writer, BrokerCrashLosesNoAcknowledgedCommandAndDuplicatesNone) {
  testing::PrivateBroker broker;
  ASSERT_TRUE(broker.ok()) << "private broker did not start";
  Env env(broker.bootstrap(), "keyledger.it.crash");
  auto options = env.Options();
  options.command_timeout_ms = 3000;
  options.commit_timeout_ms = 2000;
  Writer w(options, &env.catalog, &env.clock, &env.random, &env.logger);
  ASSERT_TRUE(w.Start(30000).ok());

  std::atomic<bool> stop{false};
  std::mutex mu;
  std::map<std::string, std::string> acked;  // idempotency key -> key id
  std::atomic<int> unavailable{0};
  std::atomic<long long> slowest_failure_ms{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; !stop; ++i) {
        std::string idem = "c" + std::to_string(c) + "-" + std::to_string(i);
        // Retry the same command (same Idempotency-Key) until it is acknowledged.
        while (!stop) {
          auto start = std::chrono::steady_clock::now();
          auto r = w.Submit(Create(Owner("team-" + std::to_string(c)), idem, idem));
          auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now() - start).count();
          if (r.ok()) {
            std::lock_guard lock(mu);
            acked[idem] = r->key_after.key_id;
            break;
          }
          // Not written (Unavailable) or not known yet (DeadlineExceeded, a writer stuck
          // reconnecting): either way the client retries with the same Idempotency-Key.
          ASSERT_TRUE(r.status().code() == common::StatusCode::kUnavailable ||
                      r.status().code() == common::StatusCode::kDeadlineExceeded)
              << r.status().ToString();
          ++unavailable;
          long long prev = slowest_failure_ms;
          while (took > prev && !slowest_failure_ms.compare_exchange_weak(prev, took)) {}
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(2));
  ASSERT_TRUE(broker.Kill());
  std::this_thread::sleep_for(std::chrono::seconds(3));
  ASSERT_TRUE(broker.Resume());
  // Wait until commands flow again, then stop.
  size_t before;
  {
    std::lock_guard lock(mu);
    before = acked.size();
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  while (std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    std::lock_guard lock(mu);
    if (acked.size() > before + 20) break;
  }
  stop = true;
  for (auto& t : clients) t.join();
  EXPECT_GT(unavailable.load(), 0) << "the broker crash was not noticed";
  // Failing fast: no command waited much past its deadline plus the one commit attempt (and the
  // first reconnect) that may hold its answer.
  EXPECT_LE(slowest_failure_ms.load(), options.command_timeout_ms + options.commit_timeout_ms + 1500);

  std::map<std::string, int> logged;  // idempotency key -> times appended
  std::map<std::string, std::string> logged_key;
  for (const auto& [r, e] : ReadLog(env)) {
    if (e.type() != events::EventType::kKeyCreated) continue;
    ++logged[e.idempotency_key];
    logged_key[e.idempotency_key] = e.key_id;
  }
  ASSERT_GT(acked.size(), 20u);
  for (const auto& [idem, key_id] : acked) {
    ASSERT_EQ(logged[idem], 1) << idem << " acknowledged but appended " << logged[idem] << " times";
    EXPECT_EQ(logged_key[idem], key_id);
  }
  for (const auto& [idem, times] : logged) EXPECT_EQ(times, 1) << idem << " duplicated";
  w.Stop();
}

}  // namespace
}  // namespace keyledger
