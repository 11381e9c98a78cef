// EventLog over librdkafka (storage/kafka.h): the writer's real event log.
#include "keyledger/writer/event_log.h"

namespace keyledger::writer {

namespace {

class KafkaCursor final : public LogCursor {
 public:
  explicit KafkaCursor(std::unique_ptr<storage::LogReader> reader) : reader_(std::move(reader)) {}
  common::Result<std::vector<storage::LogRecord>> Poll(int timeout_ms, size_t max_records) override {
    return reader_->Poll(timeout_ms, max_records);
  }
  bool AtEnd() const override { return reader_->AtEnd(); }
  common::Status Seek(std::int32_t partition, std::int64_t offset) override { return reader_->Seek(partition, offset); }

 private:
  std::unique_ptr<storage::LogReader> reader_;
};

class KafkaEventLog final : public EventLog {
 public:
  KafkaEventLog(storage::KafkaConfig config, std::string topic, std::string transactional_id)
      : config_(std::move(config)), topic_(std::move(topic)), identity_(std::move(transactional_id)) {}

  common::Result<std::int32_t> PartitionCount(int timeout_ms) override {
    return storage::PartitionCount(config_, topic_, timeout_ms);
  }
  common::Status Register(int timeout_ms) override {
    producer_.reset();
    KL_ASSIGN_OR_RETURN(producer_, storage::TransactionalProducer::Create(config_, identity_));
    return producer_->InitTransactions(timeout_ms).WithContext("registering " + identity_);
  }
  common::Status Begin() override { return Producer()->BeginTransaction(); }
  common::Status Append(std::int32_t partition, std::string_view key, std::string_view value,
                        storage::DeliveryReport* report) override {
    return Producer()->Produce(topic_, partition, key, value, report);
  }
  common::Status Commit(int timeout_ms) override { return Producer()->CommitTransaction(timeout_ms); }
  common::Status Abort(int timeout_ms) override { return Producer()->AbortTransaction(timeout_ms); }
  bool fenced() const override { return producer_ && producer_->fenced(); }
  bool fatal() const override { return producer_ && producer_->fatal(); }
  std::string fatal_reason() const override { return producer_ ? producer_->fatal_reason() : ""; }
  common::Result<std::unique_ptr<LogCursor>> Read(const std::map<std::int32_t, std::int64_t>& start) override {
    KL_ASSIGN_OR_RETURN(auto reader, storage::LogReader::Create(config_, topic_, start));
    return std::unique_ptr<LogCursor>(std::make_unique<KafkaCursor>(std::move(reader)));
  }
  const std::string& identity() const override { return identity_; }

 private:
  storage::TransactionalProducer* Producer() {
    // Register() always runs first (Writer::Start); a missing producer is a bug.
    if (!producer_) common::internal::DieBecause("event log used before Register", common::Internal(identity_));
    return producer_.get();
  }
  storage::KafkaConfig config_;
  std::string topic_;
  std::string identity_;
  std::unique_ptr<storage::TransactionalProducer> producer_;
};

}  // namespace

std::unique_ptr<EventLog> NewKafkaEventLog(storage::KafkaConfig config, std::string topic, std::string transactional_id) {
  return std::make_unique<KafkaEventLog>(std::move(config), std::move(topic), std::move(transactional_id));
}

}  // namespace keyledger::writer
