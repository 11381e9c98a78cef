// The usage projection on the real broker and real RocksDB (issue 17): aggregates of two replicas
// add up, a re-sent aggregate is counted once, and a rebuild from the usage topic equals the live
// usage models.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "keyledger/common/clock.h"
#include "keyledger/common/log.h"
#include "keyledger/events/usage.h"
#include "keyledger/projector/usage.h"
#include "keyledger/storage/kafka.h"
#include "support/temp_dir.h"
#include "support/test_broker.h"

namespace keyledger {
namespace {

constexpr char kKeyA[] = "0b7c3a52-8f4e-4d1a-9c2b-6e5f4a3b2c1d";
constexpr char kKeyB[] = "5d1e2f3a-4b5c-4d6e-8f7a-9b0c1d2e3f4a";
constexpr std::int64_t kMinute = 29'000'000;

class UsageProjection : public ::testing::Test {
 protected:
  void SetUp() override {
    bootstrap_ = testing::BrokerBootstrap();
    ASSERT_FALSE(bootstrap_.empty()) << "no Kafka broker (run through ctest)";
    config_ = {bootstrap_, {}};
    topic_ = testing::UniqueTopic("keyledger.it.usage");
    ASSERT_TRUE(storage::CreateTopic(config_, topic_, 3, {}, 30000).ok());
    auto producer = storage::RecordProducer::Create(config_, "usage-test", 30000);
    ASSERT_TRUE(producer.ok());
    producer_ = std::move(*producer);
  }
  void Send(const events::UsageRecord& r) {
    ASSERT_TRUE(producer_->Produce(topic_, storage::RecordProducer::kAnyPartition, r.team_id,
                                   events::EncodeUsageRecord(r)).ok());
    ++sent_;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (producer_->delivered() < sent_ && std::chrono::steady_clock::now() < deadline) producer_->Poll(50);
    ASSERT_EQ(producer_->delivered(), sent_) << producer_->last_error();
  }
  std::unique_ptr<storage::Store> OpenStore(const std::string& name) {
    auto s = projector::OpenUsageStore(dir_.path(name), {});
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return std::move(*s);
  }
  // Projects until the projector has read every record sent so far.
  void WaitFolded(const projector::UsageProjector& p) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      auto s = p.stats().folded;
      if (s.records + s.duplicates + s.late + s.bad >= sent_) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    FAIL() << "the usage projector did not read all " << sent_ << " records";
  }
  std::uint64_t Allowed(const storage::Store& store, const std::string& key) {
    auto days = projector::UsageReads(&store).Days(key, 0, kMinute / 1440 + 10);
    EXPECT_TRUE(days.ok());
    std::uint64_t n = 0;
    for (const auto& d : *days) n += d.allowed;
    return n;
  }

  std::string bootstrap_, topic_;
  storage::KafkaConfig config_;
  std::unique_ptr<storage::RecordProducer> producer_;
  std::uint64_t sent_ = 0;
  testing::TempDir dir_;
  common::SystemClock clock_;
  common::Logger logger_{stderr, &clock_, common::LogLevel::kWarn};
};

TEST_F(UsageProjection, ReplicasAddUpAReSentAggregateCountsOnceAndARebuildEqualsTheLiveModels) {
  auto live = OpenStore("live");
  projector::UsageProjectorOptions options;
  options.kafka = config_;
  options.topic = topic_;
  projector::UsageProjector projector(options, live.get(), &logger_, &clock_);
  projector.Start();

  Send({"replica-1", kKeyA, "team-a", kMinute, 3, 0, "m", ""});
  Send({"replica-2", kKeyA, "team-a", kMinute, 4, 1, "m", "vpc-1"});
  Send({"replica-1", kKeyA, "team-a", kMinute, 5, 0, "m", ""});  // replica-1's minute, later: 5 in all
  Send({"replica-1", kKeyB, "team-b", kMinute + 1, 2, 0, "n", ""});
  WaitFolded(projector);
  EXPECT_EQ(Allowed(*live, kKeyA), 9u);  // 5 + 4
  EXPECT_EQ(Allowed(*live, kKeyB), 2u);

  // A replica re-sends an aggregate the projector already has (a retried delivery).
  Send({"replica-2", kKeyA, "team-a", kMinute, 4, 1, "m", "vpc-1"});
  WaitFolded(projector);
  EXPECT_EQ(Allowed(*live, kKeyA), 9u);
  EXPECT_EQ(projector.stats().folded.duplicates, 1u);
  auto last = projector::UsageReads(live.get()).LastUsed(kKeyA);
  ASSERT_TRUE(last.ok() && last->has_value());
  EXPECT_EQ((*last)->minute, kMinute);
  projector.Stop();

  // Stopped and started again, the projector goes on from its stored offsets: nothing twice.
  projector::UsageProjector resumed(options, live.get(), &logger_, &clock_);
  resumed.Start();
  Send({"replica-3", kKeyB, "team-b", kMinute + 2, 1, 0, "n", ""});
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (resumed.stats().folded.records < 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(resumed.stats().folded.records, 1u) << "the restart re-read records it had folded";
  EXPECT_EQ(Allowed(*live, kKeyB), 3u);
  resumed.Stop();

  // A rebuild: a fresh store projected from the start of the usage topic.
  auto rebuilt = OpenStore("rebuilt");
  projector::UsageProjector rebuild(options, rebuilt.get(), &logger_, &clock_);
  rebuild.Start();
  WaitFolded(rebuild);
  rebuild.Stop();
  auto a = projector::UsageChecksum(*live), b = projector::UsageChecksum(*rebuilt);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(Allowed(*rebuilt, kKeyA), 9u);
  EXPECT_EQ(*projector::UsageOffsets(*rebuilt), *projector::UsageOffsets(*live));
}

}  // namespace
}  // namespace keyledger
