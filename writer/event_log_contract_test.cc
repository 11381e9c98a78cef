// One contract, two event logs: the in-memory fake the writer's unit tests use, and the Kafka
// adapter (on librdkafka's mock cluster). What the writer relies on must hold for both.
#include "keyledger/writer/event_log.h"

#include <gtest/gtest.h>

#include <functional>

#include "support/mock_cluster.h"
#include "testing/fake_event_log.h"

namespace keyledger::writer {
namespace {

constexpr int kPartitions = 3;

// An event log under test and a way to cut it off from its broker.
struct Subject {
  std::unique_ptr<EventLog> log;
  std::function<void(bool)> set_reachable;
  std::shared_ptr<void> keep_alive;
};

struct Factory {
  std::string name;
  std::function<Subject()> make;
};

Subject MakeFake() {
  auto broker = std::make_shared<testing::FakeLogBroker>(kPartitions);
  Subject s;
  s.log = std::make_unique<testing::FakeEventLog>(broker.get(), "contract");
  s.set_reachable = [b = broker.get()](bool up) { b->SetReachable(up); };
  s.keep_alive = broker;
  return s;
}

Subject MakeKafkaOnMock() {
  auto mock = std::make_shared<keyledger::testing::MockCluster>("events", kPartitions);
  Subject s;
  s.log = NewKafkaEventLog(mock->config(), "events", "contract");
  s.set_reachable = [m = mock.get()](bool up) {
    if (up) {
      rd_kafka_mock_broker_set_up(m->cluster(), 1);
    } else {
      rd_kafka_mock_broker_set_down(m->cluster(), 1);
    }
  };
  s.keep_alive = mock;
  return s;
}

class EventLogContract : public ::testing::TestWithParam<Factory> {};

// Reads every committed record from `start` until the reader is at the end.
std::vector<storage::LogRecord> ReadAll(EventLog& log, std::map<std::int32_t, std::int64_t> start) {
  auto cursor = log.Read(start);
  EXPECT_TRUE(cursor.ok()) << cursor.status().ToString();
  std::vector<storage::LogRecord> out;
  for (int i = 0; i < 200 && !(*cursor)->AtEnd(); ++i) {
    auto batch = (*cursor)->Poll(100, 1000);
    EXPECT_TRUE(batch.ok()) << batch.status().ToString();
    if (!batch.ok()) break;
    out.insert(out.end(), batch->begin(), batch->end());
  }
  EXPECT_TRUE((*cursor)->AtEnd());
  return out;
}

TEST_P(EventLogContract, CommittedRecordsAreReadBackInOrderWhereTheReportsSay) {
  Subject s = GetParam().make();
  EventLog& log = *s.log;
  ASSERT_EQ(*log.PartitionCount(10000), kPartitions);
  ASSERT_TRUE(log.Register(10000).ok());
  EXPECT_EQ(log.identity(), "contract");
  std::vector<storage::DeliveryReport> first(6), second(3);
  ASSERT_TRUE(log.Begin().ok());
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(log.Append(i % kPartitions, "k", "a" + std::to_string(i), &first[i]).ok());
  ASSERT_TRUE(log.Commit(10000).ok());
  ASSERT_TRUE(log.Begin().ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(log.Append(0, "k", "b" + std::to_string(i), &second[i]).ok());
  ASSERT_TRUE(log.Commit(10000).ok());
  for (const auto* reports : {&first, &second}) {
    for (const auto& r : *reports) EXPECT_TRUE(r.status.ok()) << r.status.ToString();
  }
  // Offsets grow within a partition, across transactions too.
  EXPECT_LT(first[3].offset, second[0].offset);
  EXPECT_LT(second[0].offset, second[1].offset);

  auto records = ReadAll(log, {{0, 0}, {1, 0}, {2, 0}});
  std::map<std::pair<std::int32_t, std::int64_t>, std::string> where;
  for (const auto& r : records) where[{r.partition, r.offset}] = r.value;
  ASSERT_EQ(records.size(), 9u);
  for (int i = 0; i < 6; ++i) EXPECT_EQ((where[{first[i].partition, first[i].offset}]), "a" + std::to_string(i));
  for (int i = 0; i < 3; ++i) EXPECT_EQ((where[{0, second[i].offset}]), "b" + std::to_string(i));
  // A reader started later in a partition starts there.
  auto tail = ReadAll(log, {{0, second[1].offset}});
  ASSERT_EQ(tail.size(), 2u);
  EXPECT_EQ(tail[0].value, "b1");
}

TEST_P(EventLogContract, AnEmptyLogIsAtItsEndAtOnce) {
  Subject s = GetParam().make();
  ASSERT_TRUE(s.log->Register(10000).ok());
  EXPECT_TRUE(ReadAll(*s.log, {{0, 0}, {1, 0}, {2, 0}}).empty());
}

TEST_P(EventLogContract, AnUnreachableBrokerIsUnavailable) {
  Subject s = GetParam().make();
  ASSERT_TRUE(s.log->Register(10000).ok());
  s.set_reachable(false);
  auto count = s.log->PartitionCount(1000);
  ASSERT_FALSE(count.ok());
  EXPECT_EQ(count.status().code(), common::StatusCode::kUnavailable);
  s.set_reachable(true);
}

INSTANTIATE_TEST_SUITE_P(Logs, EventLogContract,
                         ::testing::Values(Factory{"fake", MakeFake}, Factory{"kafka_on_mock_cluster", MakeKafkaOnMock}),
                         [](const ::testing::TestParamInfo<Factory>& p) { return p.param.name; });

}  // namespace
}  // namespace keyledger::writer
