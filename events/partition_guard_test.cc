#include "keyledger/events/partition_guard.h"

#include <gtest/gtest.h>

#include "event_fixtures.h"
#include "keyledger/events/codec.h"
#include "keyledger/events/hash_chain.h"

namespace keyledger::events {
namespace {

constexpr std::int32_t kPartitions = 4;

// A partition of the log as a test builds it: offsets, bytes, chained.
class Partition {
 public:
  explicit Partition(std::string team) : team_(std::move(team)) { partition_ = PartitionForTeam(team_, kPartitions); }
  // A chained key event of the team; returns its offset.
  std::int64_t AddEvent() {
    Event e = testing::SampleCreated();
    e.team_id = team_;
    e.key_id = testing::Uuid(500 + static_cast<int>(records_.size()));
    e.event_id = testing::Uuid(900 + static_cast<int>(records_.size()));
    e.prev_hash = head_;
    std::string bytes = *Encode(e);
    head_ = EventHash(bytes);
    return Add(bytes);
  }
  std::int64_t Add(std::string bytes) {
    records_.push_back(std::move(bytes));
    return static_cast<std::int64_t>(records_.size()) - 1;
  }
  std::int64_t AddSkip(std::int64_t offset, std::int32_t partition = -1) {
    Event e = testing::SampleRecordSkipped();
    auto& skip = std::get<RecordSkipped>(e.payload);
    skip.partition = partition < 0 ? partition_ : partition;
    skip.offset = offset;
    skip.record_sha256 = common::Sha256Of(records_[static_cast<size_t>(offset)]);
    return Add(*Encode(e));
  }
  const std::string& at(std::int64_t offset) const { return records_[static_cast<size_t>(offset)]; }
  std::int64_t size() const { return static_cast<std::int64_t>(records_.size()); }
  std::int32_t partition() const { return partition_; }

 private:
  std::string team_;
  std::int32_t partition_;
  common::Sha256Digest head_{};
  std::vector<std::string> records_;
};

// Walks `p` from `from` with `guard` as a consumer does (re-reading after an honoured skip);
// returns the offsets applied, in order.
std::vector<std::int64_t> Walk(const Partition& p, PartitionGuard& guard, std::int64_t from = 0) {
  std::vector<std::int64_t> applied;
  for (std::int64_t o = from; o < p.size(); ++o) {
    auto step = guard.Next(o, p.at(o));
    if (step.verdict == PartitionGuard::Verdict::kApply) {
      guard.Applied(o, p.at(o));
      applied.push_back(o);
    } else if (step.verdict == PartitionGuard::Verdict::kSkipHonoured) {
      o = step.reread_from - 1;
    }
  }
  return applied;
}

TEST(PartitionGuard, AppliesAChainedPartitionInOrder) {
  Partition p("team-acme");
  for (int i = 0; i < 5; ++i) p.AddEvent();
  PartitionGuard guard(p.partition(), kPartitions);
  EXPECT_EQ(Walk(p, guard), (std::vector<std::int64_t>{0, 1, 2, 3, 4}));
  EXPECT_FALSE(guard.halted());
  EXPECT_EQ(guard.position().next_offset, 5);
}

TEST(PartitionGuard, HaltsAtGarbageAndAppliesNothingAfterItUntilASkip) {
  Partition p("team-acme");
  p.AddEvent();
  std::int64_t bad = p.Add("not an event at all!!!!");  // 23 bytes: not whole words
  p.AddEvent();  // chained around the garbage (its writer never saw it)
  PartitionGuard guard(p.partition(), kPartitions);
  EXPECT_EQ(Walk(p, guard), (std::vector<std::int64_t>{0}));
  ASSERT_TRUE(guard.halted());
  EXPECT_EQ(guard.position().halt->offset, bad);
  EXPECT_EQ(guard.position().halt->record_sha256, common::Sha256Of(p.at(bad)));
  EXPECT_NE(guard.position().halt->reason.find("undecodable"), std::string::npos);
  EXPECT_EQ(guard.position().next_offset, bad);  // a restart looks at the bad record again

  // The operator's skip: the record after the garbage is applied, then the skip is a no-op.
  std::int64_t skip = p.AddSkip(bad);
  p.AddEvent();
  PartitionGuard resumed(p.partition(), kPartitions, guard.position());
  EXPECT_EQ(Walk(p, resumed, bad), (std::vector<std::int64_t>{bad + 1, skip + 1}));
  EXPECT_FALSE(resumed.halted());
}

// An event that decodes and chains but breaks the key rules (only a writer bug makes one): the
// consumer halts at it; the next event was chained to its bytes, and is accepted after the skip.
TEST(PartitionGuard, AfterSkippingAnEventThatDoesNotApplyTheNextOneChainedToItIsAccepted) {
  Partition p("team-acme");
  p.AddEvent();
  std::int64_t bad = p.AddEvent();
  p.AddEvent();  // chained to the bad event's bytes
  PartitionGuard guard(p.partition(), kPartitions);
  ASSERT_EQ(guard.Next(0, p.at(0)).verdict, PartitionGuard::Verdict::kApply);
  guard.Applied(0, p.at(0));
  ASSERT_EQ(guard.Next(bad, p.at(bad)).verdict, PartitionGuard::Verdict::kApply);
  guard.HaltAt(bad, p.at(bad), "event does not apply: the key already exists");
  EXPECT_EQ(guard.Next(bad + 1, p.at(bad + 1)).verdict, PartitionGuard::Verdict::kHalted);
  std::int64_t skip = p.AddSkip(bad);
  auto honoured = guard.Next(skip, p.at(skip));
  ASSERT_EQ(honoured.verdict, PartitionGuard::Verdict::kSkipHonoured);
  EXPECT_EQ(honoured.reread_from, bad + 1);
  EXPECT_EQ(guard.Next(bad + 1, p.at(bad + 1)).verdict, PartitionGuard::Verdict::kApply);
  guard.Applied(bad + 1, p.at(bad + 1));
  EXPECT_EQ(guard.Next(skip, p.at(skip)).verdict, PartitionGuard::Verdict::kIgnored);
  EXPECT_EQ(guard.position().next_offset, skip + 1);
}

TEST(PartitionGuard, OnlyASkipOfTheHaltedRecordIsHonoured) {
  Partition p("team-acme");
  p.AddEvent();
  std::int64_t bad = p.Add(std::string(16, 'x'));
  p.AddSkip(0);                             // names a good record: ignored
  p.AddSkip(bad, (p.partition() + 1) % kPartitions);  // names another partition: ignored
  PartitionGuard guard(p.partition(), kPartitions);
  Walk(p, guard);
  EXPECT_TRUE(guard.halted());
  EXPECT_EQ(guard.position().halt->offset, bad);

  // A skip of a good record on a partition that is not halted changes nothing.
  Partition q("team-acme");
  q.AddEvent();
  q.AddSkip(0);
  q.AddEvent();
  PartitionGuard healthy(q.partition(), kPartitions);
  EXPECT_EQ(Walk(q, healthy), (std::vector<std::int64_t>{0, 2}));
}

TEST(PartitionGuard, AnEventOfAnotherPartitionsTeamHalts) {
  Partition p("team-acme");
  std::string other_team = "team-0";
  while (PartitionForTeam(other_team, kPartitions) == p.partition()) other_team += "x";
  Partition wrong(other_team);
  wrong.AddEvent();
  p.Add(wrong.at(0));
  PartitionGuard guard(p.partition(), kPartitions);
  Walk(p, guard);
  ASSERT_TRUE(guard.halted());
  EXPECT_NE(guard.position().halt->reason.find("wrong partition"), std::string::npos);
}

TEST(PartitionGuard, AKeyRuleViolationReportedByTheConsumerHaltsToo) {
  Partition p("team-acme");
  p.AddEvent();
  PartitionGuard guard(p.partition(), kPartitions);
  auto step = guard.Next(0, p.at(0));
  ASSERT_EQ(step.verdict, PartitionGuard::Verdict::kApply);
  guard.HaltAt(0, p.at(0), "event does not apply: the key already exists");
  EXPECT_TRUE(guard.halted());
  EXPECT_EQ(guard.Next(0, p.at(0)).verdict, PartitionGuard::Verdict::kHalted);
}

TEST(PartitionGuard, TeamsMapToPartitionsAsTheLogsLayoutSays) {
  // FNV-1a 64: pinned, since every stored partition depends on it.
  EXPECT_EQ(PartitionForTeam("team-acme", 12), PartitionForTeam("team-acme", 12));
  EXPECT_EQ(PartitionForTeam("", 12), static_cast<std::int32_t>(1469598103934665603ull % 12));
}

}  // namespace
}  // namespace keyledger::events
