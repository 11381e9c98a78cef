// librdkafka's mock cluster for tests that inject Kafka errors and latency quickly. It stands in
// for a broker only where ../shared/KAFKA-BROKER.md says it can: it does not hide aborted
// transactions from read_committed readers and does not fence, so those are tested on the real
// broker.
#pragma once

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <string>

#include "keyledger/storage/kafka.h"

namespace keyledger::testing {

class MockCluster {
 public:
  // A cluster of `brokers` with `topic` of `partitions` partitions (replication factor 1).
  MockCluster(const std::string& topic, int partitions, int brokers = 1) {
    char errstr[256];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof errstr);
    rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    cluster_ = rd_kafka_mock_cluster_new(rk_, brokers);
    rd_kafka_mock_topic_create(cluster_, topic.c_str(), partitions, 1);
  }
  ~MockCluster() {
    rd_kafka_mock_cluster_destroy(cluster_);
    rd_kafka_destroy(rk_);
  }
  MockCluster(const MockCluster&) = delete;
  MockCluster& operator=(const MockCluster&) = delete;

  storage::KafkaConfig config() const { return storage::KafkaConfig{rd_kafka_mock_cluster_bootstraps(cluster_), {}}; }
  rd_kafka_mock_cluster_t* cluster() { return cluster_; }

 private:
  rd_kafka_t* rk_;
  rd_kafka_mock_cluster_t* cluster_;
};

}  // namespace keyledger::testing
