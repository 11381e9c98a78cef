// The Kafka adapter against librdkafka's mock cluster: fast checks of the produce/read plumbing
// and of error reporting. Transactions, fencing and ordering are tested on the real broker
// (tests/integration), since the mock neither filters aborted records nor fences.
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <chrono>

#include "keyledger/storage/kafka.h"
#include "support/mock_cluster.h"

namespace keyledger::storage {
namespace {

// One broker, topic "events" with three partitions.
class MockCluster : public testing::MockCluster {
 public:
  MockCluster() : testing::MockCluster("events", 3) {}
};

TEST(KafkaAdapter, ProducedTransactionIsReadBackInOrderPerPartition) {
  MockCluster mock;
  auto producer = TransactionalProducer::Create(mock.config(), "mock-writer");
  ASSERT_TRUE(producer.ok()) << producer.status().ToString();
  ASSERT_TRUE((*producer)->InitTransactions(10000).ok());
  ASSERT_TRUE((*producer)->BeginTransaction().ok());
  std::vector<DeliveryReport> reports(30);
  for (int i = 0; i < 30; ++i) {
    ASSERT_TRUE((*producer)->Produce("events", i % 3, "k", "value-" + std::to_string(i), &reports[i]).ok());
  }
  ASSERT_TRUE((*producer)->CommitTransaction(10000).ok());
  for (int i = 0; i < 30; ++i) {
    ASSERT_TRUE(reports[i].status.ok()) << i << ": " << reports[i].status.ToString();
    EXPECT_EQ(reports[i].partition, i % 3);
    EXPECT_GE(reports[i].offset, 0);
  }
  EXPECT_FALSE((*producer)->fenced());

  auto reader = LogReader::Create(mock.config(), "events", {{0, 0}, {1, 0}, {2, 0}});
  ASSERT_TRUE(reader.ok());
  std::map<int, std::vector<std::string>> by_partition;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  size_t total = 0;
  while (total < 30 && std::chrono::steady_clock::now() < deadline) {
    auto batch = (*reader)->Poll(200, 100);
    ASSERT_TRUE(batch.ok()) << batch.status().ToString();
    for (auto& r : *batch) by_partition[r.partition].push_back(r.value), ++total;
  }
  ASSERT_EQ(total, 30u);
  for (int p = 0; p < 3; ++p) {
    ASSERT_EQ(by_partition[p].size(), 10u);
    for (int j = 0; j < 10; ++j) EXPECT_EQ(by_partition[p][j], "value-" + std::to_string(p + 3 * j));
  }
}

TEST(KafkaAdapter, CommitFailsWhenTheBrokerIsDown) {
  MockCluster mock;
  auto producer = TransactionalProducer::Create(mock.config(), "mock-writer-down");
  ASSERT_TRUE(producer.ok());
  ASSERT_TRUE((*producer)->InitTransactions(10000).ok());
  ASSERT_TRUE((*producer)->BeginTransaction().ok());
  rd_kafka_mock_broker_set_down(mock.cluster(), 1);
  DeliveryReport report;
  ASSERT_TRUE((*producer)->Produce("events", 0, "k", "v", &report).ok());
  auto start = std::chrono::steady_clock::now();
  common::Status commit = (*producer)->CommitTransaction(2000);
  EXPECT_FALSE(commit.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_FALSE(report.status.ok());
}

TEST(KafkaAdapter, UnreachableBrokerIsUnavailableWithinTheTimeout) {
  KafkaConfig dead{"127.0.0.1:1", {}};
  auto start = std::chrono::steady_clock::now();
  common::Status s = CreateTopic(dead, "x", 1, {}, 1500);
  EXPECT_EQ(s.code(), common::StatusCode::kUnavailable) << s.ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  auto count = PartitionCount(dead, "x", 1000);
  EXPECT_EQ(count.status().code(), common::StatusCode::kUnavailable);
}

TEST(KafkaAdapter, RejectsBadConfigurationNamingTheProperty) {
  KafkaConfig bad{"127.0.0.1:1", {{"no.such.property", "1"}}};
  auto producer = TransactionalProducer::Create(bad, "x");
  ASSERT_FALSE(producer.ok());
  EXPECT_EQ(producer.status().code(), common::StatusCode::kInvalidArgument);
  EXPECT_NE(producer.status().message().find("no.such.property"), std::string::npos);
}

}  // namespace
}  // namespace keyledger::storage
