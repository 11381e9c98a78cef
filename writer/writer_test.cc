// The writer's decisions without a broker: on the in-memory event log (testing/fake_event_log.h),
// with an injected clock and seeded randomness.
#include "keyledger/writer/writer.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "keyledger/common/secret.h"
#include "keyledger/events/codec.h"
#include "event_fixtures.h"
#include "keyledger/events/hash_chain.h"
#include "testing/fake_event_log.h"

namespace keyledger::writer {
namespace {

using common::StatusCode;
using events::Caller;
using events::Role;

constexpr std::int64_t kStart = 1795384512000000;

Caller Owner(const std::string& team = "team-acme") { return {"user-olga", "Olga", team, Role::kOwner}; }

class WriterTest : public ::testing::Test {
 protected:
  WriterTest() { options_.writer_id = "w"; }

  // A writer recovering in the background, given up to 2 s of real time to become ready.
  static void WaitUntilReady(const Writer& w) {
    for (int i = 0; i < 2000 && w.stats().state != WriterState::kReady; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

  std::unique_ptr<Writer> StartWriter(testing::FakeEventLog* log) {
    auto w = std::make_unique<Writer>(options_, log, &catalog_, &clock_, &random_, &logger_);
    common::Status s = w->Start(1000);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return w;
  }

  events::CreateKeyCommand NewKey(const std::string& name) {
    std::string secret = *common::GenerateSecret(random_);
    events::CreateKeyCommand c;
    c.name = name;
    c.all_models = true;
    c.secret_sha256 = common::HashSecret(secret);
    c.secret_hint = common::SecretHint(secret);
    return c;
  }
  CommandRequest Create(const std::string& name, const std::string& idem = "", const Caller& caller = Owner()) {
    return CommandRequest{caller, NewKey(name), "req-" + name, idem, "corr"};
  }

  // Every committed event of every partition, decoded, with each partition's chain checked.
  std::vector<events::Event> Log() {
    std::vector<events::Event> out;
    for (std::int32_t p = 0; p < broker_.partition_count(); ++p) {
      common::Sha256Digest head{};
      for (const auto& r : broker_.Records(p)) {
        auto e = events::Decode(r.value);
        EXPECT_TRUE(e.ok());
        if (!e.ok()) continue;
        EXPECT_EQ(e->prev_hash, head) << "hash chain broken at " << p << ":" << r.offset;
        head = events::EventHash(r.value);
        out.push_back(*e);
      }
    }
    return out;
  }

  WriterOptions options_;
  events::Catalog catalog_ = events::Catalog::Default();
  common::ManualClock clock_{kStart};
  common::SeededRandom random_{42};
  common::Logger logger_{stderr, &clock_, common::LogLevel::kError};
  testing::FakeLogBroker broker_{4};
  testing::FakeEventLog log_{&broker_, TransactionalId("t", "w")};
};

TEST_F(WriterTest, ACreateIsAcknowledgedOnlyOnceItsEventIsInTheLog) {
  auto w = StartWriter(&log_);
  auto outcome = w->Submit(Create("first"));
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_FALSE(outcome->replayed);
  EXPECT_EQ(outcome->key_after.revision, 1u);
  EXPECT_EQ(outcome->partition, w->PartitionFor("team-acme"));
  auto log = Log();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].key_id, outcome->key_after.key_id);
  EXPECT_EQ(w->KeyState(outcome->key_after.key_id)->name, "first");
  EXPECT_EQ(w->CommittedOffsets()[outcome->partition], outcome->offset + 1);
}

TEST_F(WriterTest, ARetryWithTheSameIdempotencyKeyAppendsNothingAndReturnsTheSameKey) {
  auto w = StartWriter(&log_);
  auto first = w->Submit(Create("k", "idem-1"));
  ASSERT_TRUE(first.ok());
  auto again = w->Submit(Create("k", "idem-1"));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(again->key_after.key_id, first->key_after.key_id);
  EXPECT_EQ(Log().size(), 1u);
  // The same key for another command is a conflict naming what it was used for.
  auto misuse = w->Submit(CommandRequest{Owner(), events::RenameKeyCommand{first->key_after.key_id, "x", {}}, "r", "idem-1", ""});
  ASSERT_FALSE(misuse.ok());
  EXPECT_EQ(misuse.status().code(), StatusCode::kConflict);
  EXPECT_NE(misuse.status().message().find("(create)"), std::string::npos) << misuse.status().message();
  // Another user's identical key is another scope.
  auto other = w->Submit(Create("k", "idem-1", {"user-mia", "Mia", "team-acme", Role::kMember}));
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->replayed);
}

// A key reused for another request is a 409, also when only the body differs (another model, an
// unknown one): only the same request is answered from its record. Whitespace the name rule trims
// and a repeated model do not make a request different; a later rename does not make the
// create's retry a conflict. Two commands with one key in the same batch follow the same rule.
TEST_F(WriterTest, AKeyReusedWithAnotherBodyIsAConflictAndTheSameBodyAReplay) {
  auto w = StartWriter(&log_);
  CommandRequest original = Create("gateway", "idem-body");
  auto& create = std::get<events::CreateKeyCommand>(original.command);
  create.all_models = false;
  create.models = {"openai-gpt-4o"};
  auto first = w->Submit(original);
  ASSERT_TRUE(first.ok()) << first.status().ToString();

  CommandRequest same = Create("  gateway ", "idem-body");
  auto& same_create = std::get<events::CreateKeyCommand>(same.command);
  same_create.all_models = false;
  same_create.models = {"openai-gpt-4o", "openai-gpt-4o"};
  auto replay = w->Submit(same);
  ASSERT_TRUE(replay.ok()) << replay.status().ToString();
  EXPECT_TRUE(replay->replayed);

  for (std::vector<std::string> models : {std::vector<std::string>{"AAA"}, std::vector<std::string>{"openai-o3-mini"}}) {
    CommandRequest other = Create("gateway", "idem-body");
    auto& other_create = std::get<events::CreateKeyCommand>(other.command);
    other_create.all_models = false;
    other_create.models = models;
    auto refused = w->Submit(other);
    ASSERT_FALSE(refused.ok()) << models[0];
    EXPECT_EQ(refused.status().code(), StatusCode::kConflict);
    EXPECT_NE(refused.status().message().find("different request"), std::string::npos);
  }
  CommandRequest renamed_body = same;
  std::get<events::CreateKeyCommand>(renamed_body.command).name = "other name";
  EXPECT_EQ(w->Submit(renamed_body).status().code(), StatusCode::kConflict);

  // Renamed since: the create's retry is still its replay.
  ASSERT_TRUE(w->Submit(CommandRequest{Owner(), events::RenameKeyCommand{first->key_after.key_id, "renamed", {}}, "r", "", ""}).ok());
  auto after_rename = w->Submit(same);
  ASSERT_TRUE(after_rename.ok()) << after_rename.status().ToString();
  EXPECT_TRUE(after_rename->replayed);
  // A rename's retry must carry the name it set.
  ASSERT_TRUE(w->Submit(CommandRequest{Owner(), events::RenameKeyCommand{first->key_after.key_id, "third", {}}, "r", "idem-rn", ""}).ok());
  EXPECT_TRUE(w->Submit(CommandRequest{Owner(), events::RenameKeyCommand{first->key_after.key_id, "third", {}}, "r", "idem-rn", ""})->replayed);
  EXPECT_EQ(w->Submit(CommandRequest{Owner(), events::RenameKeyCommand{first->key_after.key_id, "fourth", {}}, "r", "idem-rn", ""})
                .status()
                .code(),
            StatusCode::kConflict);

  // In one batch: the first is carried out, the second with another body refused.
  auto a = w->SubmitAsync(Create("batch one", "idem-batch"));
  auto b = w->SubmitAsync(Create("batch two", "idem-batch"));
  auto ra = a.get(), rb = b.get();
  ASSERT_TRUE(ra.ok()) << ra.status().ToString();
  ASSERT_FALSE(rb.ok());
  EXPECT_EQ(rb.status().code(), StatusCode::kConflict);
}

TEST_F(WriterTest, IdempotencyRecordsLastTwentyFourHoursAndSurviveARestart) {
  auto w = StartWriter(&log_);
  auto first = w->Submit(Create("k", "idem-day"));
  ASSERT_TRUE(first.ok());
  w->Stop();
  testing::FakeEventLog restarted(&broker_, TransactionalId("t", "w"));
  auto w2 = StartWriter(&restarted);
  auto replay = w2->Submit(Create("k", "idem-day"));
  ASSERT_TRUE(replay.ok());
  EXPECT_TRUE(replay->replayed);
  EXPECT_EQ(replay->key_after.key_id, first->key_after.key_id);
  clock_.Advance(kIdempotencyWindowMicros + 1);
  auto later = w2->Submit(Create("k", "idem-day"));
  ASSERT_TRUE(later.ok());
  EXPECT_FALSE(later->replayed);
  EXPECT_EQ(Log().size(), 2u);
}

// Records go by time in the background (no command needed), and a cap bounds them before that.
TEST_F(WriterTest, IdempotencyRecordsExpireInTheBackgroundAndAreCapped) {
  auto w = StartWriter(&log_);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(w->Submit(Create("k" + std::to_string(i), "idem-" + std::to_string(i))).ok());
  EXPECT_EQ(w->stats().idempotency_records, 3u);
  clock_.Advance(kIdempotencyWindowMicros + 1);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (w->stats().idempotency_records != 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(w->stats().idempotency_records, 0u);
  EXPECT_EQ(w->stats().idempotency_expired, 3u);

  IdempotencyTable table(2);
  for (int i = 0; i < 5; ++i) table.Remember("s" + std::to_string(i), {CommandKind::kCreate, "k", 1, 0, i, kStart + i});
  EXPECT_EQ(table.size(), 2u);
  EXPECT_EQ(table.evicted(), 3u);
  EXPECT_EQ(table.Check("s4", CommandKind::kCreate, "", kStart + 10).verdict, IdempotencyTable::Verdict::kReplay);
  EXPECT_EQ(table.Check("s0", CommandKind::kCreate, "", kStart + 10).verdict, IdempotencyTable::Verdict::kNew);
  EXPECT_EQ(table.ExpireBefore(kStart + 3 + kIdempotencyWindowMicros), 1u);  // s3 (made at +3); s4 stays
  EXPECT_EQ(table.size(), 1u);
  // A scope remembered again keeps its newer record when the older entry expires.
  IdempotencyTable again;
  again.Remember("s", {CommandKind::kCreate, "k", 1, 0, 0, kStart});
  again.Remember("s", {CommandKind::kCreate, "k", 1, 0, 1, kStart + 100});
  EXPECT_EQ(again.ExpireBefore(kStart + kIdempotencyWindowMicros), 0u);
  EXPECT_EQ(again.size(), 1u);
}

TEST_F(WriterTest, ASecretHeldByALiveKeyIsRefused) {
  auto w = StartWriter(&log_);
  CommandRequest a = Create("a");
  CommandRequest b = Create("b");
  std::get<events::CreateKeyCommand>(b.command).secret_sha256 = std::get<events::CreateKeyCommand>(a.command).secret_sha256;
  ASSERT_TRUE(w->Submit(a).ok());
  auto dup = w->Submit(b);
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.status().code(), StatusCode::kConflict);
  EXPECT_EQ(Log().size(), 1u);
}

TEST_F(WriterTest, ACommandStillQueuedAtItsDeadlineIsNeverAppended) {
  auto w = StartWriter(&log_);
  auto late = w->SubmitAsync(Create("late"), clock_.NowMicros() - 1).get();
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(late.status().message().find("nothing was written"), std::string::npos);
  EXPECT_TRUE(Log().empty());
}

TEST_F(WriterTest, ARejectedCommandNeverFailsTheOthersOfItsTransaction) {
  auto w = StartWriter(&log_);
  auto key = w->Submit(Create("k"));
  ASSERT_TRUE(key.ok());
  auto bad = w->SubmitAsync(CommandRequest{Owner(), events::DeleteKeyCommand{key->key_after.key_id, "wrong name", {}}, "r", "", ""});
  auto good = w->SubmitAsync(Create("other"));
  EXPECT_EQ(bad.get().status().code(), StatusCode::kConflict);
  EXPECT_TRUE(good.get().ok());
  EXPECT_EQ(Log().size(), 2u);
}

TEST_F(WriterTest, AFencedWriterStopsForGoodAndSaysRetryingCannotHelp) {
  auto first = StartWriter(&log_);
  ASSERT_TRUE(first->Submit(Create("before")).ok());
  testing::FakeEventLog second_log(&broker_, TransactionalId("t", "w"));
  auto second = StartWriter(&second_log);
  auto zombie = first->Submit(Create("zombie"));
  ASSERT_FALSE(zombie.ok());
  EXPECT_EQ(zombie.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(zombie.status().message().find("fenced"), std::string::npos);
  EXPECT_EQ(first->stats().state, WriterState::kFenced);
  EXPECT_EQ(first->Submit(Create("later")).status().code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(second->Submit(Create("after")).ok());
  for (const auto& e : Log()) {
    const auto* c = std::get_if<events::KeyCreated>(&e.payload);
    ASSERT_NE(c, nullptr);
    EXPECT_NE(c->name, "zombie");
    EXPECT_NE(c->name, "later");
  }
}

TEST_F(WriterTest, ACommitWhoseOutcomeWasUnknownButLandedIsAcknowledgedFromTheLog) {
  auto w = StartWriter(&log_);
  broker_.FailNextCommit(common::Unavailable("request timed out"), testing::CommitFault::kLands);
  auto outcome = w->Submit(Create("landed"));
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(Log().size(), 1u);
  EXPECT_EQ(w->stats().state, WriterState::kReady);
  EXPECT_EQ(w->stats().transactions_failed, 1u);
}

TEST_F(WriterTest, ACommitThatDidNotLandIsAnsweredUnavailableWithNothingWritten) {
  auto w = StartWriter(&log_);
  broker_.FailNextCommit(common::Unavailable("request timed out"), testing::CommitFault::kLost);
  auto outcome = w->Submit(Create("lost"));
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(Log().empty());
  EXPECT_TRUE(w->Submit(Create("next")).ok());
}

// A commit that timed out with the broker gone right after: whether it landed cannot be learned,
// so the answer is DeadlineExceeded (outcome unknown), never the Unavailable that means "not
// written"; once the log is back, a retry with the same Idempotency-Key learns the truth.
TEST_F(WriterTest, ACommitWhoseOutcomeCannotBeReadBackIsAnsweredUnknownAndTheRetryLearnsItLanded) {
  auto w = StartWriter(&log_);
  broker_.FailNextCommit(common::Unavailable("request timed out"), testing::CommitFault::kLands, /*then_unreachable=*/true);
  auto outcome = w->Submit(Create("in-doubt", "idem-1"));
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status().code(), StatusCode::kDeadlineExceeded) << outcome.status().ToString();
  EXPECT_NE(outcome.status().message().find("whether it was written is unknown"), std::string::npos)
      << outcome.status().message();
  EXPECT_EQ(w->stats().commands_outcome_unknown, 1u);
  EXPECT_EQ(w->stats().commands_unavailable, 0u);
  broker_.SetReachable(true);
  WaitUntilReady(*w);
  ASSERT_EQ(w->stats().state, WriterState::kReady);
  auto retry = w->Submit(Create("in-doubt", "idem-1"));
  ASSERT_TRUE(retry.ok()) << retry.status().ToString();
  EXPECT_TRUE(retry->replayed);
  EXPECT_EQ(Log().size(), 1u);
}

TEST_F(WriterTest, ACommitWhoseOutcomeCannotBeReadBackIsAnsweredUnknownAndTheRetryWritesItOnce) {
  auto w = StartWriter(&log_);
  broker_.FailNextCommit(common::Unavailable("request timed out"), testing::CommitFault::kLost, /*then_unreachable=*/true);
  auto outcome = w->Submit(Create("in-doubt", "idem-2"));
  EXPECT_EQ(outcome.status().code(), StatusCode::kDeadlineExceeded) << outcome.status().ToString();
  broker_.SetReachable(true);
  WaitUntilReady(*w);
  ASSERT_EQ(w->stats().state, WriterState::kReady);
  auto retry = w->Submit(Create("in-doubt", "idem-2"));
  ASSERT_TRUE(retry.ok()) << retry.status().ToString();
  EXPECT_FALSE(retry->replayed);
  EXPECT_EQ(Log().size(), 1u);
}

// A command submitted without a deadline (SubmitAsync's default) whose commit was sent waits for
// the log however long it is away, and is then answered from what landed; its "deadline" of
// INT64_MAX must not overflow into an immediate "unknown".
TEST_F(WriterTest, ACommandWithoutADeadlineWaitsForTheLogToLearnItsOutcome) {
  auto w = StartWriter(&log_);
  broker_.FailNextCommit(common::Unavailable("request timed out"), testing::CommitFault::kLost,
                         /*then_unreachable=*/true);
  auto future = w->SubmitAsync(Create("patient", "idem-4"));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the manual clock runs on meanwhile
  EXPECT_EQ(future.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout)
      << "answered before the log could be read";
  broker_.SetReachable(true);
  ASSERT_EQ(future.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  auto outcome = future.get();
  EXPECT_EQ(outcome.status().code(), StatusCode::kUnavailable) << outcome.status().ToString();
  EXPECT_NE(outcome.status().message().find("did not commit"), std::string::npos) << outcome.status().message();
  EXPECT_EQ(w->stats().commands_outcome_unknown, 0u);
}

// A commit that failed before its records were acknowledged was never sent (librdkafka sends
// EndTxn only after every record of the transaction is delivered): nothing can have landed, so
// even with the broker gone the answer is the prompt Unavailable, not an unknown outcome.
TEST_F(WriterTest, ACommitThatFailedBeforeItsRecordsWereAcknowledgedIsUnavailableAtOnce) {
  auto w = StartWriter(&log_);
  broker_.FailNextCommit(common::Unavailable("flush timed out: 1 message remaining"),
                         testing::CommitFault::kBeforeDelivery, /*then_unreachable=*/true);
  auto outcome = w->Submit(Create("never-sent", "idem-3"));
  EXPECT_EQ(outcome.status().code(), StatusCode::kUnavailable) << outcome.status().ToString();
  EXPECT_NE(outcome.status().message().find("nothing was written"), std::string::npos) << outcome.status().message();
  EXPECT_EQ(w->stats().commands_outcome_unknown, 0u);
  broker_.SetReachable(true);
  WaitUntilReady(*w);
  ASSERT_EQ(w->stats().state, WriterState::kReady);
  auto retry = w->Submit(Create("never-sent", "idem-3"));
  ASSERT_TRUE(retry.ok()) << retry.status().ToString();
  EXPECT_FALSE(retry->replayed);
  EXPECT_EQ(Log().size(), 1u);
}

TEST_F(WriterTest, AnAbortedTransactionIsRetriableAndLeavesNothing) {
  auto w = StartWriter(&log_);
  broker_.FailNextCommit(common::Aborted("transaction must be aborted: concurrent transactions"),
                         testing::CommitFault::kLost);
  auto outcome = w->Submit(Create("aborted"));
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(outcome.status().message().find("nothing was written"), std::string::npos);
  EXPECT_TRUE(Log().empty());
  EXPECT_EQ(w->stats().state, WriterState::kReady);
}

TEST_F(WriterTest, LosingTheBrokerAnswersInFlightCommandsAndRecoversWhenItReturns) {
  auto w = StartWriter(&log_);
  broker_.SetReachable(false);
  auto outcome = w->Submit(Create("away"));
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status().code(), StatusCode::kUnavailable);
  broker_.SetReachable(true);
  WaitUntilReady(*w);
  EXPECT_EQ(w->stats().state, WriterState::kReady);
  EXPECT_TRUE(w->Submit(Create("back")).ok());
}

TEST_F(WriterTest, ARestartRebuildsKeysAndTheChainFromTheLog) {
  std::string key_id;
  {
    auto w = StartWriter(&log_);
    auto k = w->Submit(Create("k"));
    ASSERT_TRUE(k.ok());
    key_id = k->key_after.key_id;
    ASSERT_TRUE(w->Submit(CommandRequest{Owner(), events::RenameKeyCommand{key_id, "renamed", {}}, "r", "", ""}).ok());
  }
  testing::FakeEventLog again(&broker_, TransactionalId("t", "w"));
  auto w = StartWriter(&again);
  EXPECT_EQ(w->KeyState(key_id)->name, "renamed");
  EXPECT_EQ(w->KeyState(key_id)->revision, 2u);
  ASSERT_TRUE(w->Submit(CommandRequest{Owner(), events::DeleteKeyCommand{key_id, "renamed", {}}, "r", "", ""}).ok());
  EXPECT_EQ(Log().size(), 3u);  // and the chain still holds (checked by Log)
}

// A team whose events go to `partition` (of the fake broker's 4), or to any other one.
std::string TeamIn(std::int32_t partition, bool in = true) {
  for (int i = 0;; ++i) {
    std::string team = "team-" + std::to_string(i);
    if ((events::PartitionForTeam(team, 4) == partition) == in) return team;
  }
}

Caller Operator() { return {"op-ivan", "Ivan", "", Role::kOperator}; }

CommandRequest Skip(std::int32_t partition, std::int64_t offset, const common::Sha256Digest& sha,
                    const std::string& idem = "") {
  events::RecordSkipped skip;
  skip.partition = partition;
  skip.offset = offset;
  skip.record_sha256 = sha;
  skip.note = "INC-7: garbage produced by hand";
  return CommandRequest{Operator(), events::SkipRecordCommand{skip}, "req-skip", idem, ""};
}

TEST_F(WriterTest, ACorruptRecordHaltsOnlyItsPartitionAndTheWriterServesTheOthers) {
  broker_.AppendRaw(2, "not an event");
  auto w = StartWriter(&log_);
  ASSERT_EQ(w->stats().state, WriterState::kReady);
  auto halts = w->Halts();
  ASSERT_EQ(halts.size(), 1u);
  EXPECT_EQ(halts.at(2).offset, 0);
  EXPECT_EQ(halts.at(2).record_sha256, common::Sha256Of("not an event"));

  auto refused = w->Submit(Create("k", "", Owner(TeamIn(2))));
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("partition 2 is halted at offset 0"), std::string::npos)
      << refused.status().message();
  EXPECT_TRUE(w->Submit(Create("k", "", Owner(TeamIn(2, false)))).ok());
}

TEST_F(WriterTest, AnOperatorsSkipNamingTheHaltedRecordMovesThePartitionOnForGood) {
  broker_.AppendRaw(2, "not an event");
  // A valid event after the bad one, chained across it (to the head before it): applied once the
  // bad record is skipped.
  events::Event late = events::testing::SampleCreated();
  late.team_id = TeamIn(2);
  late.prev_hash = {};
  broker_.AppendRaw(2, *events::Encode(late));
  auto w = StartWriter(&log_);
  const common::Sha256Digest sha = common::Sha256Of("not an event");
  EXPECT_FALSE(w->KeyState(late.key_id).has_value());

  common::Sha256Digest wrong = sha;
  wrong[0] ^= 1;
  EXPECT_EQ(w->Submit(Skip(2, 0, wrong)).status().code(), StatusCode::kConflict);
  EXPECT_EQ(w->Submit(Skip(2, 1, sha)).status().code(), StatusCode::kConflict);
  EXPECT_EQ(w->Submit(Skip(1, 0, sha)).status().code(), StatusCode::kConflict);  // not halted
  EXPECT_EQ(w->Submit(Skip(7, 0, sha)).status().code(), StatusCode::kInvalidArgument);     // no such partition
  CommandRequest by_owner = Skip(2, 0, sha);
  by_owner.caller = Owner(TeamIn(2));
  EXPECT_EQ(w->Submit(by_owner).status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(broker_.Records(2).size(), 2u);  // none of those wrote anything

  auto skipped = w->Submit(Skip(2, 0, sha, "skip-1"));
  ASSERT_TRUE(skipped.ok()) << skipped.status().ToString();
  EXPECT_EQ(skipped->partition, 2);
  EXPECT_TRUE(w->Halts().empty());
  ASSERT_TRUE(w->KeyState(late.key_id).has_value());
  auto again = w->Submit(Skip(2, 0, sha, "skip-1"));  // a retry is answered from the first
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->replayed);
  auto created = w->Submit(Create("after", "", Owner(TeamIn(2))));
  ASSERT_TRUE(created.ok()) << created.status().ToString();

  // The skip is outside the chain: the new event chains to the last applied one.
  auto records = broker_.Records(2);
  ASSERT_EQ(records.size(), 4u);
  auto skip_event = events::Decode(records[2].value);
  ASSERT_TRUE(skip_event.ok());
  EXPECT_EQ(skip_event->type(), events::EventType::kRecordSkipped);
  EXPECT_EQ(events::Decode(records[3].value)->prev_hash, events::EventHash(records[1].value));

  // A restart reads the skip from the log: nothing halts, every key is back.
  w.reset();
  testing::FakeEventLog restarted(&broker_, TransactionalId("t", "w"));
  auto w2 = StartWriter(&restarted);
  EXPECT_TRUE(w2->Halts().empty());
  EXPECT_TRUE(w2->KeyState(late.key_id).has_value());
  EXPECT_TRUE(w2->KeyState(created->key_after.key_id).has_value());
}

}  // namespace
}  // namespace keyledger::writer
