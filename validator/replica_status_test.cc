// Heartbeats and receipts without a broker: the board fed by hand, on a manual clock.
#include "keyledger/validator/replica_status.h"

#include <gtest/gtest.h>

#include <thread>

namespace keyledger::validator {
namespace {

ReplicaHeartbeat Beat(const std::string& id, std::int64_t at_ms, std::int64_t applied_p0, std::int64_t applied_p1 = 0) {
  ReplicaHeartbeat h;
  h.replica_id = id;
  h.at_ms = at_ms;
  h.ready = true;
  h.max_staleness_ms = 5000;
  h.partitions = {{0, applied_p0, 40, false}, {1, applied_p1, 40, false}};
  return h;
}

TEST(Heartbeat, RoundTripsAndRefusesAnythingElseNamingTheField) {
  ReplicaHeartbeat h = Beat("host-a:8081", 1795384512123, 42, 7);
  h.partitions[1].halted = true;
  h.partitions[1].staleness_ms = -1;
  auto decoded = DecodeHeartbeat(EncodeHeartbeat(h));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, h);
  for (const auto& [bad, words] : std::vector<std::pair<std::string, std::string>>{
           {"not json", "not a JSON object"},
           {R"({"at_ms":1,"ready":true,"max_staleness_ms":1,"partitions":[]})", "replica_id"},
           {R"({"replica_id":"a","at_ms":"1","ready":true,"max_staleness_ms":1,"partitions":[]})", "at_ms"},
           {R"({"replica_id":"a","at_ms":1,"ready":true,"max_staleness_ms":1,"partitions":[{"p":0,"applied":-1,"staleness_ms":0,"halted":false}]})",
            "applied"},
       }) {
    auto r = DecodeHeartbeat(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), common::StatusCode::kDataLoss);
    EXPECT_NE(r.status().message().find(words), std::string::npos) << r.status().message();
  }
}

ReplicaBoardOptions Options() {
  ReplicaBoardOptions o;
  o.topic = "t.replica-status";
  return o;
}

class Board : public ::testing::Test {
 protected:
  common::ManualClock clock_{1795384512000000};
  common::Logger logger_{stderr, &clock_, common::LogLevel::kError};
};

TEST_F(Board, AReceiptSaysWhichReplicasAppliedTheEventHowFastAndWhichAreBehindOrSilent) {
  ReplicaBoard board(Options(), &logger_, &clock_);
  const std::int64_t event_ms = 1795384512000;
  board.Receive(Beat("a", event_ms - 500, 10));
  board.Receive(Beat("b", event_ms - 500, 10));
  board.Receive(Beat("c", event_ms - 500, 10));
  // The revoking event is at partition 0 offset 10: nobody has it yet.
  Receipt before = board.ReceiptFor(0, 10, event_ms);
  EXPECT_EQ(before.replicas.size(), 3u);
  EXPECT_EQ(before.applied(), 0u);
  EXPECT_FALSE(before.complete());
  board.Receive(Beat("a", event_ms + 3, 11));
  board.Receive(Beat("b", event_ms + 9, 12));
  clock_.Advance(3500 * 1000);  // c says nothing for 3.5 s: silent
  board.Receive(Beat("a", event_ms + 3600, 11));
  board.Receive(Beat("b", event_ms + 3600, 12));
  Receipt r = board.ReceiptFor(0, 10, event_ms);
  ASSERT_EQ(r.replicas.size(), 3u);
  EXPECT_EQ(r.applied(), 2u);
  EXPECT_EQ(r.replicas[0].state, Receipt::State::kApplied);
  EXPECT_EQ(r.replicas[0].took_ms, 3);
  EXPECT_EQ(r.replicas[1].took_ms, 9);
  EXPECT_EQ(r.replicas[2].state, Receipt::State::kSilent);
  EXPECT_EQ(r.replicas[2].applied, 10);
  // Another partition's progress says nothing of this one.
  EXPECT_EQ(board.ReceiptFor(1, 0, event_ms).applied(), 0u);
  // A replica gone for 10 minutes is no longer counted.
  clock_.Advance(601LL * 1000 * 1000);
  board.Receive(Beat("a", event_ms + 605000, 11));
  EXPECT_EQ(board.ReceiptFor(0, 10, event_ms).replicas.size(), 1u);
}

TEST_F(Board, AReplicaFirstHeardAfterItAppliedTheEventHasNoTimeToShow) {
  ReplicaBoard board(Options(), &logger_, &clock_);
  const std::int64_t now_ms = clock_.NowMicros() / 1000;
  board.Receive(Beat("late", now_ms, 50));
  Receipt r = board.ReceiptFor(0, 10, now_ms - 1000);
  ASSERT_EQ(r.replicas.size(), 1u);
  EXPECT_EQ(r.replicas[0].state, Receipt::State::kApplied);
  EXPECT_FALSE(r.replicas[0].took_ms.has_value());  // never claimed: we did not see it happen
}

TEST_F(Board, HeartbeatsReadBackFromLongAgoAreNotReplicasOnTheBoard) {
  ReplicaBoard board(Options(), &logger_, &clock_);
  const std::int64_t now_ms = clock_.NowMicros() / 1000;
  board.Receive(Beat("decommissioned", now_ms - 3600 * 1000, 50));  // its last word, an hour ago
  board.Receive(Beat("lagging-clock", now_ms - 30 * 1000, 50));     // 30 s behind: still heard now
  Receipt r = board.ReceiptFor(0, 10, now_ms);
  ASSERT_EQ(r.replicas.size(), 1u);
  EXPECT_EQ(r.replicas[0].replica_id, "lagging-clock");
  EXPECT_EQ(r.replicas[0].heard_ms_ago, 0);
  EXPECT_EQ(board.Replicas().size(), 1u);
}

// Waits on the real clock.
class BoardWait : public ::testing::Test {
 protected:
  common::SystemClock clock;
  common::Logger logger{stderr, &clock, common::LogLevel::kError};
};

TEST_F(BoardWait, WaitsForEveryKnownReplicaEvenASilentOneOrTheTimeout) {
  ReplicaBoard board(Options(), &logger, &clock);
  const std::int64_t now_ms = clock.NowMicros() / 1000;
  board.Receive(Beat("a", now_ms, 5));
  board.Receive(Beat("b", now_ms, 5));
  std::thread later([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    board.Receive(Beat("a", now_ms + 100, 6));
    board.Receive(Beat("b", now_ms + 100, 6));
  });
  Receipt done = board.WaitForReceipt(0, 5, now_ms, 5000);
  later.join();
  EXPECT_TRUE(done.complete());
  auto start = std::chrono::steady_clock::now();
  Receipt timed_out = board.WaitForReceipt(0, 9, now_ms, 300);
  EXPECT_FALSE(timed_out.complete());
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(300));
}

// Regression (schemathesis, ST112): with no validator on the board, ?wait=18 held the request
// for the whole 18 s waiting for replicas that do not exist.
TEST_F(BoardWait, WithNoReplicaOnTheBoardThereIsNothingToWaitFor) {
  ReplicaBoard board(Options(), &logger, &clock);
  auto start = std::chrono::steady_clock::now();
  Receipt none = board.WaitForReceipt(0, 5, clock.NowMicros() / 1000, 5000);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1000));
  EXPECT_TRUE(none.replicas.empty());
  EXPECT_FALSE(none.complete());
}

TEST_F(BoardWait, ASilentReplicaIsNotCountedAsDoneAndEndsTheWaitWhenItCatchesUp) {
  ReplicaBoardOptions o = Options();
  o.silent_after_ms = 50;
  ReplicaBoard board(o, &logger, &clock);
  const std::int64_t now_ms = clock.NowMicros() / 1000;
  board.Receive(Beat("a", now_ms, 6));
  board.Receive(Beat("b", now_ms, 5));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // b is silent now, a too
  board.Receive(Beat("a", now_ms + 100, 6));
  auto start = std::chrono::steady_clock::now();
  Receipt waiting = board.WaitForReceipt(0, 5, now_ms, 300);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(300));
  ASSERT_EQ(waiting.replicas.size(), 2u);
  EXPECT_EQ(waiting.replicas[1].state, Receipt::State::kSilent);
  EXPECT_FALSE(waiting.complete());
  std::thread back([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    board.Receive(Beat("b", now_ms + 200, 6));
  });
  Receipt healed = board.WaitForReceipt(0, 5, now_ms, 5000);
  back.join();
  EXPECT_TRUE(healed.complete());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(3000));
}

}  // namespace
}  // namespace keyledger::validator
