#include "keyledger/projector/usage.h"

#include <gtest/gtest.h>

#include <filesystem>

#include <unistd.h>

#include "keyledger/events/usage.h"

namespace keyledger::projector {
namespace {

constexpr char kKey[] = "0b7c3a52-8f4e-4d1a-9c2b-6e5f4a3b2c1d";
constexpr std::int64_t kMinute = 29'000'000;  // minutes since the epoch
constexpr std::int64_t kDay = kMinute / 1440;

class UsageFold : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) / ("usage-" + std::to_string(getpid()) + "-" +
                                                           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    store_ = Open("live");
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::unique_ptr<storage::Store> Open(const std::string& name) {
    auto s = OpenUsageStore((dir_ / name).string(), {});
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return std::move(*s);
  }
  storage::LogRecord Rec(std::int32_t partition, const events::UsageRecord& r) {
    return storage::LogRecord{partition, offsets_[partition]++, 0, r.team_id, events::EncodeUsageRecord(r)};
  }
  UsageFoldStats Fold(storage::Store* store, const std::vector<storage::LogRecord>& records) {
    UsageFoldStats stats;
    common::Status s = FoldUsage(store, records, &stats);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return stats;
  }
  std::vector<DayUsage> Days(const storage::Store* store) {
    auto d = UsageReads(store).Days(kKey, kDay - 40, kDay + 40);
    EXPECT_TRUE(d.ok());
    return *d;
  }

  std::filesystem::path dir_;
  std::unique_ptr<storage::Store> store_;
  std::map<std::int32_t, std::int64_t> offsets_;
};

TEST_F(UsageFold, TwoReplicasAddUpAndAReSentOrOlderAggregateCountsOnce) {
  std::vector<storage::LogRecord> log = {
      Rec(0, {"r1", kKey, "t", kMinute, 3, 1, "m1", ""}),
      Rec(0, {"r2", kKey, "t", kMinute, 4, 0, "m2", "vpc"}),
      Rec(0, {"r1", kKey, "t", kMinute, 3, 1, "m1", ""}),   // re-sent
      Rec(0, {"r1", kKey, "t", kMinute, 5, 1, "m1", ""}),   // newer counts of the same minute
      Rec(0, {"r1", kKey, "t", kMinute, 4, 1, "m1", ""}),   // an older aggregate, arriving late
  };
  UsageFoldStats stats = Fold(store_.get(), {log.begin(), log.begin() + 3});
  stats = Fold(store_.get(), {log.begin() + 3, log.end()});
  EXPECT_EQ(stats.records, 1u);
  EXPECT_EQ(stats.duplicates, 1u);
  auto days = Days(store_.get());
  ASSERT_EQ(days.size(), 1u);
  EXPECT_EQ(days[0].day, kDay);
  EXPECT_EQ(days[0].allowed, 9u);  // r1's 5 and r2's 4
  EXPECT_EQ(days[0].denied, 1u);
  auto last = UsageReads(store_.get()).LastUsed(kKey);
  ASSERT_TRUE(last.ok() && last->has_value());
  EXPECT_EQ((*last)->minute, kMinute);
  EXPECT_EQ((*last)->model, "m1");  // the minute's last record that added allowed checks
  auto offsets = UsageOffsets(*store_);
  ASSERT_TRUE(offsets.ok());
  EXPECT_EQ(offsets->at(0), 5);

  // Folding the same records again in other batches (a rebuild) gives the same models.
  auto rebuilt = Open("rebuilt");
  for (const auto& r : log) Fold(rebuilt.get(), {r});
  EXPECT_EQ(*UsageChecksum(*rebuilt), *UsageChecksum(*store_));
}

TEST_F(UsageFold, LastUseMovesOnlyForwardAndDeniedChecksAreNotAUse) {
  Fold(store_.get(), {Rec(0, {"r1", kKey, "t", kMinute + 5, 1, 0, "new", ""}),
                      Rec(0, {"r2", kKey, "t", kMinute, 1, 0, "older", ""}),
                      Rec(0, {"r1", kKey, "t", kMinute + 9, 0, 4, "", ""})});
  auto last = UsageReads(store_.get()).LastUsed(kKey);
  ASSERT_TRUE(last.ok() && last->has_value());
  EXPECT_EQ((*last)->minute, kMinute + 5);
  EXPECT_EQ((*last)->model, "new");
  EXPECT_FALSE(UsageReads(store_.get()).LastUsed("another-key")->has_value());
}

TEST_F(UsageFold, OldMinutesArePrunedLateRecordsDroppedAndBadRecordsSkipped) {
  Fold(store_.get(), {Rec(0, {"r1", kKey, "t", kMinute, 1, 0, "m", ""})});
  UsageFoldStats stats = Fold(store_.get(), {Rec(0, {"r1", kKey, "t", kMinute + kDedupMinutes + 1, 1, 0, "m", ""}),
                                             Rec(0, {"r1", kKey, "t", kMinute, 7, 0, "m", ""}),
                                             storage::LogRecord{0, offsets_[0]++, 0, "t", "garbage"}});
  EXPECT_EQ(stats.pruned, 1u);
  EXPECT_EQ(stats.late, 1u);
  EXPECT_EQ(stats.bad, 1u);
  auto days = Days(store_.get());
  ASSERT_EQ(days.size(), 2u);
  EXPECT_EQ(days[0].allowed, 1u);  // the late record added nothing
}

}  // namespace
}  // namespace keyledger::projector
