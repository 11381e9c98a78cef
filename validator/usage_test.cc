#include "keyledger/validator/usage.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "keyledger/validator/secret_index.h"

namespace keyledger::validator {
namespace {

constexpr char kKey[] = "0b7c3a52-8f4e-4d1a-9c2b-6e5f4a3b2c1d";
constexpr std::int64_t kMinute = 60'000000;
constexpr std::int64_t kT0 = 29'000'000LL * kMinute;  // the start of a minute

TEST(UsageRecorder, CountsAKeysChecksPerMinuteAndTheLastAllowedUse) {
  UsageRecorder recorder;
  const auto key = UuidBytes(kKey);
  recorder.Record(key, "team-a", kT0 + 1, true, "m1", "");
  recorder.Record(key, "team-a", kT0 + 2, false, "m9", "");
  recorder.Record(key, "team-a", kT0 + 3, true, "m2", "vpc-1");
  recorder.Record(key, "team-a", kT0 + kMinute, true, "m3", "");  // the next minute
  auto records = recorder.Collect("r1", kT0 + kMinute + 5);
  ASSERT_EQ(records.size(), 2u);
  std::sort(records.begin(), records.end(), [](const auto& a, const auto& b) { return a.minute < b.minute; });
  EXPECT_EQ(records[0], (events::UsageRecord{"r1", kKey, "team-a", kT0 / kMinute, 2, 1, "m2", "vpc-1"}));
  EXPECT_EQ(records[1], (events::UsageRecord{"r1", kKey, "team-a", kT0 / kMinute + 1, 1, 0, "m3", ""}));
}

// Each Collect sends what changed, with the minute's counts so far (cumulative): a re-sent or
// newer record of the same minute replaces, never adds to, what the reader has.
TEST(UsageRecorder, CollectsOnlyWhatChangedWithCumulativeCountsAndForgetsOldMinutes) {
  UsageRecorder recorder;
  const auto key = UuidBytes(kKey);
  recorder.Record(key, "team-a", kT0, true, "m", "");
  EXPECT_EQ(recorder.Collect("r1", kT0).size(), 1u);
  EXPECT_TRUE(recorder.Collect("r1", kT0).empty());
  recorder.Record(key, "team-a", kT0 + 10, true, "m", "");
  auto again = recorder.Collect("r1", kT0 + 10);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].allowed, 2u);
  EXPECT_EQ(recorder.entries(), 1u);
  recorder.Collect("r1", kT0 + 3 * kMinute);  // two minutes on: the old minute is let go
  EXPECT_EQ(recorder.entries(), 0u);
}

TEST(UsageRecorder, DropsAndCountsChecksBeyondItsCapacity) {
  UsageRecorder recorder(2);  // two (key, minute) aggregates at most
  for (int i = 0; i < 5; ++i) {
    std::array<std::uint8_t, 16> key{};
    key[0] = static_cast<std::uint8_t>(i);
    recorder.Record(key, "team-a", kT0, true, "m", "");
  }
  EXPECT_EQ(recorder.Collect("r1", kT0).size(), 2u);
  EXPECT_EQ(recorder.entries(), 2u);
  EXPECT_EQ(recorder.dropped_checks(), 3u);

  UsageRecorder small(100, 3);  // three checks buffered between folds at most
  for (int i = 0; i < 5; ++i) small.Record(UuidBytes(kKey), "team-a", kT0, true, "m", "");
  EXPECT_EQ(small.dropped_checks(), 2u);
  small.Fold();
  small.Record(UuidBytes(kKey), "team-a", kT0, true, "m", "");  // room again after the fold
  auto records = small.Collect("r1", kT0);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].allowed, 4u);
}

// Record keeps short strings inline; anything longer takes the slow path, whole.
TEST(UsageRecorder, KeepsLongModelAndVpcNamesWhole) {
  UsageRecorder recorder;
  const std::string model(200, 'm'), vpc = "a-vpc-name-that-is-longer-than-the-inline-buffer-of-46";
  recorder.Record(UuidBytes(kKey), "team-a", kT0, true, model, vpc);
  recorder.Record(UuidBytes(kKey), "team-a", kT0 + 1, false, "x", "");  // a denial keeps the last use
  auto records = recorder.Collect("r1", kT0);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].last_model, model);
  EXPECT_EQ(records[0].last_source_vpc, vpc);
  EXPECT_EQ(records[0].allowed, 1u);
  EXPECT_EQ(records[0].denied, 1u);
}

// Checks from many threads at once all count (TSan: the buffers and the fold race-free).
TEST(UsageRecorder, CountsChecksFromManyThreadsWhileFolding) {
  UsageRecorder recorder;
  std::atomic<bool> done{false};
  std::thread folder([&] {
    while (!done) recorder.Fold();
  });
  std::vector<std::thread> checkers;
  for (int t = 0; t < 20; ++t) {
    checkers.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) recorder.Record(UuidBytes(kKey), "team-a", kT0, i % 2 == 0, "m", "");
    });
  }
  for (auto& c : checkers) c.join();
  done = true;
  folder.join();
  auto records = recorder.Collect("r1", kT0);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].allowed + records[0].denied, 20000u);
  EXPECT_EQ(records[0].allowed, 10000u);
  EXPECT_EQ(recorder.dropped_checks(), 0u);
}

TEST(UsageRecord, RoundTripsAndRefusesDamage) {
  events::UsageRecord r{"replica-1", kKey, "team-a", 29'000'000, 12, 3, "openai-gpt-4o", ""};
  std::string bytes = events::EncodeUsageRecord(r);
  auto back = events::DecodeUsageRecord(bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, r);
  EXPECT_FALSE(events::DecodeUsageRecord(bytes.substr(0, bytes.size() - 1)).ok());
  EXPECT_FALSE(events::DecodeUsageRecord(bytes + "x").ok());
  EXPECT_FALSE(events::DecodeUsageRecord("\x02" + bytes.substr(1)).ok());
  EXPECT_FALSE(events::DecodeUsageRecord(events::EncodeUsageRecord({"", kKey, "t", 1, 1, 0, "", ""})).ok());
  EXPECT_EQ(events::UsageTopicFor("keyledger.key-events"), "keyledger.key-usage");
  EXPECT_EQ(events::UsageTopicFor("it.topic"), "it.topic.key-usage");
}

}  // namespace
}  // namespace keyledger::validator
