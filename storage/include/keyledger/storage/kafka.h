// The Kafka side of storage: the one adapter over librdkafka. librdkafka types and error codes
// never leave this component; every failure comes back as a Status:
//   Unavailable         the broker cannot be reached or did not answer in time (retry later)
//   Aborted             an abortable transaction error: abort the transaction, then retry it
//   FailedPrecondition  a fatal producer error, such as being fenced (fenced() tells which; the
//                       producer is finished), or a topic that exists with another partition count
//   InvalidArgument / Internal  configuration errors, bugs
//
// Threads: a TransactionalProducer is used by one thread at a time (its writer's thread); a
// LogReader by one thread at a time (its projector's or validator's thread). Both close their
// librdkafka handle in the destructor (consumers are closed before they are destroyed).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "keyledger/common/status.h"
#include "keyledger/events/partition_guard.h"

namespace keyledger::storage {

// The key-event topic's name unless configured otherwise (SPEC section 3).
inline constexpr char kDefaultTopic[] = "keyledger.key-events";

struct KafkaConfig {
  std::string bootstrap_servers;  // host:port[,host:port...]
  // Extra librdkafka properties (for example "socket.timeout.ms"); applied last.
  std::map<std::string, std::string> properties;
};

// The partition a team's events go to (events/partition_guard.h: part of the log's layout).
using events::PartitionForTeam;

// Topic administration through librdkafka's Admin API.
// Grows `topic` to `total` partitions (Kafka never shrinks one). For tests and operators: the
// team -> partition map depends on the count (events/partition_guard.h).
common::Status AddPartitions(const KafkaConfig& config, const std::string& topic, std::int32_t total,
                             int timeout_ms);

// CreateTopic succeeds if the topic already exists with `partitions` partitions.
common::Status CreateTopic(const KafkaConfig& config, const std::string& topic,
                           std::int32_t partitions,
                           const std::map<std::string, std::string>& topic_config,
                           int timeout_ms);
common::Result<std::int32_t> PartitionCount(const KafkaConfig& config, const std::string& topic,
                                            int timeout_ms);

// Where a produced record landed; filled by the producer when its delivery is confirmed.
struct DeliveryReport {
  std::int32_t partition = -1;
  std::int64_t offset = -1;
  common::Status status = common::Unavailable("not delivered yet");
};

// An idempotent, transactional producer (acks=all) with a fixed transactional.id.
class TransactionalProducer {
 public:
  static common::Result<std::unique_ptr<TransactionalProducer>> Create(
      const KafkaConfig& config, const std::string& transactional_id);
  ~TransactionalProducer();
  TransactionalProducer(const TransactionalProducer&) = delete;
  TransactionalProducer& operator=(const TransactionalProducer&) = delete;

  // Registers the transactional.id with the coordinator, fencing any older producer with it.
  common::Status InitTransactions(int timeout_ms);
  common::Status BeginTransaction();
  // Enqueues one record. `report` must stay valid until CommitTransaction or AbortTransaction
  // returns; it is filled in then.
  common::Status Produce(const std::string& topic, std::int32_t partition, std::string_view key,
                         std::string_view value, DeliveryReport* report);
  // Flushes and commits. OK means every record of the transaction is in the log.
  common::Status CommitTransaction(int timeout_ms);
  common::Status AbortTransaction(int timeout_ms);

  // True once the producer hit a fatal error; it cannot be used any more.
  bool fatal() const;
  // True when that fatal error is fencing: a newer producer registered the same transactional.id.
  bool fenced() const;
  // The fatal error's description, empty if none.
  std::string fatal_reason() const;
  const std::string& transactional_id() const { return transactional_id_; }

 private:
  struct Handle;
  TransactionalProducer(std::unique_ptr<Handle> handle, std::string transactional_id);
  std::unique_ptr<Handle> handle_;
  std::string transactional_id_;
};

// An idempotent producer (acks=all) of small status records that are not part of the key-event
// log (replica heartbeats): fire and forget, each record given up after `message_timeout_ms`;
// delivered and failed records are counted (delivery reports are served by Poll).
class RecordProducer {
 public:
  static constexpr std::int32_t kAnyPartition = -1;  // RD_KAFKA_PARTITION_UA
  // At most `max_queued` records wait in the local queue (Produce answers Unavailable beyond).
  static common::Result<std::unique_ptr<RecordProducer>> Create(const KafkaConfig& config, const std::string& client_id,
                                                                int message_timeout_ms, int max_queued = 1000);
  ~RecordProducer();
  RecordProducer(const RecordProducer&) = delete;
  RecordProducer& operator=(const RecordProducer&) = delete;

  // Enqueues one record for `topic` partition `partition` (kAnyPartition: chosen by the hash of
  // the key); Unavailable if the local queue is full.
  common::Status Produce(const std::string& topic, std::int32_t partition, std::string_view key,
                         std::string_view value);
  // Serves delivery reports for up to `timeout_ms`.
  void Poll(int timeout_ms);
  std::uint64_t delivered() const;
  std::uint64_t failed() const;
  // The last delivery error ("" if none since the last delivered record).
  std::string last_error() const;

  struct Handle;  // the librdkafka client and its delivery counts (kafka.cc)

 private:
  explicit RecordProducer(std::unique_ptr<Handle> handle);
  std::unique_ptr<Handle> handle_;
};

struct LogRecord {
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::int64_t timestamp_ms = 0;
  std::string key;
  std::string value;
};

// Reads chosen partitions of one topic from chosen offsets, read_committed, without a consumer
// group (every reader sees every partition it assigns itself; nothing is committed to Kafka).
class LogReader {
 public:
  // `start_offsets`: partition -> first offset to read (0 for the beginning).
  static common::Result<std::unique_ptr<LogReader>> Create(
      const KafkaConfig& config, const std::string& topic,
      const std::map<std::int32_t, std::int64_t>& start_offsets);
  ~LogReader();
  LogReader(const LogReader&) = delete;
  LogReader& operator=(const LogReader&) = delete;

  // Up to `max_records` records in partition order as they arrive; empty after `timeout_ms`
  // with nothing new. Unavailable when the broker cannot be reached.
  common::Result<std::vector<LogRecord>> Poll(int timeout_ms, size_t max_records);

  // True once every assigned partition has been read up to its end as of the last poll
  // (the last stable offset, since reads are read_committed).
  bool AtEnd() const;
  // The next offset this reader will return for `partition`.
  std::int64_t Position(std::int32_t partition) const;
  // Reads `partition` from `offset` on (records already fetched for it are dropped).
  common::Status Seek(std::int32_t partition, std::int64_t offset);
  // Also reads these partitions (partition -> first offset); the others go on where they are.
  common::Status AddPartitions(const std::map<std::int32_t, std::int64_t>& start_offsets);
  // (low, high) watermarks of a partition, asked of the broker (a blocking round trip).
  common::Result<std::pair<std::int64_t, std::int64_t>> Watermarks(std::int32_t partition,
                                                                   int timeout_ms);
  // The high watermark from the last fetch response, without a round trip; -1 if none yet.
  std::int64_t CachedHighWatermark(std::int32_t partition) const;

 private:
  struct Handle;
  explicit LogReader(std::unique_ptr<Handle> handle);
  std::unique_ptr<Handle> handle_;
};

// Asks the brokers, never a cache, how far each partition's committed records go: the last stable
// offset (the end a read_committed reader can reach; transaction markers count as offsets). For
// the validators' freshness: a reader whose position has reached an answer taken at time T had read
// everything committed before T. Also the topic's partition count, on the same connection.
// Thread: one thread at a time (the prober's).
class OffsetProbe {
 public:
  static common::Result<std::unique_ptr<OffsetProbe>> Create(const KafkaConfig& config, const std::string& topic);
  ~OffsetProbe();
  OffsetProbe(const OffsetProbe&) = delete;
  OffsetProbe& operator=(const OffsetProbe&) = delete;

  // One ListOffsets round trip per leader; Unavailable when the brokers do not answer in time.
  common::Result<std::map<std::int32_t, std::int64_t>> LastStableOffsets(const std::vector<std::int32_t>& partitions,
                                                                         int timeout_ms);
  // NotFound while the topic does not exist.
  common::Result<std::int32_t> PartitionCount(int timeout_ms);

 private:
  struct Handle;
  explicit OffsetProbe(std::unique_ptr<Handle> handle);
  std::unique_ptr<Handle> handle_;
};

}  // namespace keyledger::storage
