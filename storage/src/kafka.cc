#include "keyledger/storage/kafka.h"

#include "keyledger/common/mutex.h"

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "keyledger/common/clock.h"
#include "keyledger/common/log.h"

namespace keyledger::storage {

using common::Result;
using common::Status;

namespace {

struct RdKafkaDeleter {
  void operator()(rd_kafka_t* rk) const noexcept { rd_kafka_destroy(rk); }
};
struct ConfDeleter {
  void operator()(rd_kafka_conf_t* c) const noexcept { rd_kafka_conf_destroy(c); }
};
struct ErrorDeleter {
  void operator()(rd_kafka_error_t* e) const noexcept { rd_kafka_error_destroy(e); }
};
struct MessageDeleter {
  void operator()(rd_kafka_message_t* m) const noexcept { rd_kafka_message_destroy(m); }
};
struct TopicPartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const noexcept {
    rd_kafka_topic_partition_list_destroy(l);
  }
};
struct QueueDeleter {
  void operator()(rd_kafka_queue_t* q) const noexcept { rd_kafka_queue_destroy(q); }
};
struct EventDeleter {
  void operator()(rd_kafka_event_t* e) const noexcept { rd_kafka_event_destroy(e); }
};

using RdKafkaPtr = std::unique_ptr<rd_kafka_t, RdKafkaDeleter>;
using ConfPtr = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;
using ErrorPtr = std::unique_ptr<rd_kafka_error_t, ErrorDeleter>;

// librdkafka's own log lines, re-emitted as structured JSON on stderr.
void LogCallback(const rd_kafka_t* rk, int level, const char* fac, const char* buf) noexcept {
  try {
    std::string line = "{\"ts\":";
    common::AppendJsonString(line, common::FormatRfc3339(common::SystemClock().NowMicros()));
    line += ",\"level\":";
    line += level <= 3 ? "\"error\"" : level <= 4 ? "\"warn\"" : "\"info\"";
    line += ",\"msg\":\"librdkafka\",\"client\":";
    common::AppendJsonString(line, rd_kafka_name(rk));
    line += ",\"facility\":";
    common::AppendJsonString(line, fac);
    line += ",\"detail\":";
    common::AppendJsonString(line, buf);
    line += "}\n";
    std::fwrite(line.data(), 1, line.size(), stderr);
  } catch (...) {
    // Logging must never throw into librdkafka.
  }
}

Result<ConfPtr> MakeConf(const KafkaConfig& config,
                         std::initializer_list<std::pair<const char*, std::string>> defaults) {
  ConfPtr conf(rd_kafka_conf_new());
  char errstr[512];
  auto set = [&](const std::string& k, const std::string& v) -> Status {
    if (rd_kafka_conf_set(conf.get(), k.c_str(), v.c_str(), errstr, sizeof errstr) !=
        RD_KAFKA_CONF_OK) {
      return common::InvalidArgument("kafka property " + k + ": " + errstr);
    }
    return Status::Ok();
  };
  if (config.bootstrap_servers.empty()) return common::InvalidArgument("bootstrap servers are empty");
  KL_RETURN_IF_ERROR(set("bootstrap.servers", config.bootstrap_servers));
  KL_RETURN_IF_ERROR(set("log_level", "4"));
  for (const auto& [k, v] : defaults) KL_RETURN_IF_ERROR(set(k, v));
  for (const auto& [k, v] : config.properties) KL_RETURN_IF_ERROR(set(k, v));
  rd_kafka_conf_set_log_cb(conf.get(), LogCallback);
  return conf;
}

Result<RdKafkaPtr> NewClient(rd_kafka_type_t type, ConfPtr conf) {
  char errstr[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), errstr, sizeof errstr);
  if (rk == nullptr) return common::InvalidArgument(std::string("creating kafka client: ") + errstr);
  conf.release();  // Owned by rk now.
  return RdKafkaPtr(rk);
}

Status FromError(rd_kafka_error_t* raw, std::string_view what) {
  if (raw == nullptr) return Status::Ok();
  ErrorPtr error(raw);
  std::string message = std::string(what) + ": " + rd_kafka_error_string(error.get());
  if (rd_kafka_error_is_fatal(error.get())) return common::FailedPrecondition("fatal: " + message);
  if (rd_kafka_error_txn_requires_abort(error.get())) {
    return common::Aborted("transaction must be aborted: " + message);
  }
  return common::Unavailable(message);
}

Status FromErrorCode(rd_kafka_resp_err_t err, std::string_view what) {
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return Status::Ok();
  return common::Unavailable(std::string(what) + ": " + rd_kafka_err2str(err));
}

void DeliveryCallback(rd_kafka_t*, const rd_kafka_message_t* m, void*) noexcept {
  auto* report = static_cast<DeliveryReport*>(m->_private);
  if (report == nullptr) return;
  report->partition = m->partition;
  report->offset = m->offset;
  if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    report->status = Status::Ok();
  } else {
    report->status = common::Unavailable(std::string("delivery failed: ") + rd_kafka_err2str(m->err));
  }
}

}  // namespace

Status CreateTopic(const KafkaConfig& config, const std::string& topic, std::int32_t partitions,
                   const std::map<std::string, std::string>& topic_config, int timeout_ms) {
  KL_ASSIGN_OR_RETURN(ConfPtr conf, MakeConf(config, {}));
  KL_ASSIGN_OR_RETURN(RdKafkaPtr rk, NewClient(RD_KAFKA_PRODUCER, std::move(conf)));
  char errstr[512];
  rd_kafka_NewTopic_t* nt =
      rd_kafka_NewTopic_new(topic.c_str(), partitions, -1, errstr, sizeof errstr);
  if (nt == nullptr) return common::InvalidArgument("topic " + topic + ": " + errstr);
  std::unique_ptr<rd_kafka_NewTopic_t, void (*)(rd_kafka_NewTopic_t*)> new_topic(
      nt, rd_kafka_NewTopic_destroy);
  for (const auto& [k, v] : topic_config) {
    if (rd_kafka_NewTopic_set_config(nt, k.c_str(), v.c_str()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return common::InvalidArgument("topic config " + k);
    }
  }
  std::unique_ptr<rd_kafka_queue_t, QueueDeleter> queue(rd_kafka_queue_new(rk.get()));
  std::unique_ptr<rd_kafka_AdminOptions_t, void (*)(rd_kafka_AdminOptions_t*)> options(
      rd_kafka_AdminOptions_new(rk.get(), RD_KAFKA_ADMIN_OP_CREATETOPICS),
      rd_kafka_AdminOptions_destroy);
  rd_kafka_AdminOptions_set_request_timeout(options.get(), timeout_ms, errstr, sizeof errstr);
  rd_kafka_AdminOptions_set_operation_timeout(options.get(), timeout_ms, errstr, sizeof errstr);
  rd_kafka_CreateTopics(rk.get(), &nt, 1, options.get(), queue.get());
  std::unique_ptr<rd_kafka_event_t, EventDeleter> event(
      rd_kafka_queue_poll(queue.get(), timeout_ms + 2000));
  if (!event) return common::Unavailable("creating topic " + topic + ": no answer from the broker");
  if (rd_kafka_event_error(event.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return common::Unavailable("creating topic " + topic + ": " +
                               rd_kafka_event_error_string(event.get()));
  }
  const rd_kafka_CreateTopics_result_t* result = rd_kafka_event_CreateTopics_result(event.get());
  size_t count = 0;
  const rd_kafka_topic_result_t** topics = rd_kafka_CreateTopics_result_topics(result, &count);
  for (size_t i = 0; i < count; ++i) {
    rd_kafka_resp_err_t err = rd_kafka_topic_result_error(topics[i]);
    if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
      KL_ASSIGN_OR_RETURN(std::int32_t existing, PartitionCount(config, topic, timeout_ms));
      if (existing != partitions) {
        return common::FailedPrecondition("topic " + topic + " exists with " + std::to_string(existing) +
                                " partitions, not " + std::to_string(partitions));
      }
    } else if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      const char* detail = rd_kafka_topic_result_error_string(topics[i]);
      return common::Unavailable("creating topic " + topic + ": " +
                                 (detail ? detail : rd_kafka_err2str(err)));
    }
  }
  // The controller answers before every broker's metadata lists the topic; "created" here means
  // usable, so wait until metadata shows it.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    auto visible = PartitionCount(config, topic, 2000);
    if (visible.ok()) return Status::Ok();
    if (visible.status().code() != common::StatusCode::kNotFound ||
        std::chrono::steady_clock::now() > deadline) {
      return visible.status().WithContext("waiting for the new topic to appear in metadata");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

Status AddPartitions(const KafkaConfig& config, const std::string& topic, std::int32_t total, int timeout_ms) {
  KL_ASSIGN_OR_RETURN(ConfPtr conf, MakeConf(config, {}));
  KL_ASSIGN_OR_RETURN(RdKafkaPtr rk, NewClient(RD_KAFKA_PRODUCER, std::move(conf)));
  char errstr[512];
  rd_kafka_NewPartitions_t* np = rd_kafka_NewPartitions_new(topic.c_str(), static_cast<size_t>(total), errstr, sizeof errstr);
  if (np == nullptr) return common::InvalidArgument("partitions of " + topic + ": " + errstr);
  std::unique_ptr<rd_kafka_NewPartitions_t, void (*)(rd_kafka_NewPartitions_t*)> guard(np, rd_kafka_NewPartitions_destroy);
  std::unique_ptr<rd_kafka_queue_t, QueueDeleter> queue(rd_kafka_queue_new(rk.get()));
  std::unique_ptr<rd_kafka_AdminOptions_t, void (*)(rd_kafka_AdminOptions_t*)> options(
      rd_kafka_AdminOptions_new(rk.get(), RD_KAFKA_ADMIN_OP_CREATEPARTITIONS), rd_kafka_AdminOptions_destroy);
  rd_kafka_AdminOptions_set_request_timeout(options.get(), timeout_ms, errstr, sizeof errstr);
  rd_kafka_AdminOptions_set_operation_timeout(options.get(), timeout_ms, errstr, sizeof errstr);
  rd_kafka_CreatePartitions(rk.get(), &np, 1, options.get(), queue.get());
  std::unique_ptr<rd_kafka_event_t, EventDeleter> event(rd_kafka_queue_poll(queue.get(), timeout_ms + 2000));
  if (!event) return common::Unavailable("adding partitions to " + topic + ": no answer from the broker");
  if (rd_kafka_event_error(event.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return common::Unavailable("adding partitions to " + topic + ": " + rd_kafka_event_error_string(event.get()));
  }
  size_t count = 0;
  const rd_kafka_topic_result_t** topics =
      rd_kafka_CreatePartitions_result_topics(rd_kafka_event_CreatePartitions_result(event.get()), &count);
  for (size_t i = 0; i < count; ++i) {
    if (rd_kafka_resp_err_t err = rd_kafka_topic_result_error(topics[i]); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      const char* detail = rd_kafka_topic_result_error_string(topics[i]);
      return common::Unavailable("adding partitions to " + topic + ": " + (detail ? detail : rd_kafka_err2str(err)));
    }
  }
  return Status::Ok();
}

namespace {

// The partition count of `topic` from a metadata request on `rk`; NotFound for no such topic.
Result<std::int32_t> PartitionCountOn(rd_kafka_t* rk, const std::string& topic, int timeout_ms) {
  std::unique_ptr<rd_kafka_topic_t, void (*)(rd_kafka_topic_t*)> rkt(rd_kafka_topic_new(rk, topic.c_str(), nullptr),
                                                                     rd_kafka_topic_destroy);
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt.get(), &md, timeout_ms);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return FromErrorCode(err, "metadata for " + topic);
  std::unique_ptr<const rd_kafka_metadata_t, void (*)(const rd_kafka_metadata_t*)> guard(
      md, rd_kafka_metadata_destroy);
  if (md->topic_cnt != 1) return common::Internal("metadata returned no topic");
  if (md->topics[0].err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
    return common::NotFound("topic " + topic + " does not exist");
  }
  if (md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return FromErrorCode(md->topics[0].err, "metadata for " + topic);
  }
  return static_cast<std::int32_t>(md->topics[0].partition_cnt);
}

}  // namespace

Result<std::int32_t> PartitionCount(const KafkaConfig& config, const std::string& topic, int timeout_ms) {
  KL_ASSIGN_OR_RETURN(ConfPtr conf, MakeConf(config, {}));
  KL_ASSIGN_OR_RETURN(RdKafkaPtr rk, NewClient(RD_KAFKA_PRODUCER, std::move(conf)));
  return PartitionCountOn(rk.get(), topic, timeout_ms);
}

// ---- TransactionalProducer ----

// ---- RecordProducer ----

struct RecordProducer::Handle {
  RdKafkaPtr rk;
  std::atomic<std::uint64_t> delivered{0};
  std::atomic<std::uint64_t> failed{0};
  common::Mutex mu;
  std::string last_error KL_GUARDED_BY(mu);
};

namespace {

void CountDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) noexcept {
  auto* handle = static_cast<RecordProducer::Handle*>(opaque);
  if (handle == nullptr) return;
  common::MutexLock lock(&handle->mu);
  if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    handle->delivered.fetch_add(1);
    handle->last_error.clear();
  } else {
    handle->failed.fetch_add(1);
    handle->last_error = rd_kafka_err2str(m->err);
  }
}

}  // namespace

RecordProducer::RecordProducer(std::unique_ptr<Handle> handle) : handle_(std::move(handle)) {}

RecordProducer::~RecordProducer() {
  if (handle_ && handle_->rk) rd_kafka_flush(handle_->rk.get(), 1000);
}

Result<std::unique_ptr<RecordProducer>> RecordProducer::Create(const KafkaConfig& config, const std::string& client_id,
                                                               int message_timeout_ms, int max_queued) {
  KL_ASSIGN_OR_RETURN(ConfPtr conf, MakeConf(config, {{"enable.idempotence", "true"},
                                                      {"acks", "all"},
                                                      {"linger.ms", "0"},
                                                      {"message.timeout.ms", std::to_string(message_timeout_ms)},
                                                      {"queue.buffering.max.messages", std::to_string(max_queued)},
                                                      {"client.id", client_id}}));
  auto handle = std::make_unique<Handle>();
  rd_kafka_conf_set_opaque(conf.get(), handle.get());
  rd_kafka_conf_set_dr_msg_cb(conf.get(), CountDelivery);
  KL_ASSIGN_OR_RETURN(handle->rk, NewClient(RD_KAFKA_PRODUCER, std::move(conf)));
  return std::unique_ptr<RecordProducer>(new RecordProducer(std::move(handle)));
}

Status RecordProducer::Produce(const std::string& topic, std::int32_t partition, std::string_view key,
                               std::string_view value) {
  rd_kafka_resp_err_t err = rd_kafka_producev(
      handle_->rk.get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition),
      RD_KAFKA_V_KEY(key.data(), key.size()), RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
  return FromErrorCode(err, "producing to " + topic);
}

void RecordProducer::Poll(int timeout_ms) { rd_kafka_poll(handle_->rk.get(), timeout_ms); }
std::uint64_t RecordProducer::delivered() const { return handle_->delivered.load(); }
std::uint64_t RecordProducer::failed() const { return handle_->failed.load(); }
std::string RecordProducer::last_error() const {
  common::MutexLock lock(&handle_->mu);
  return handle_->last_error;
}

struct TransactionalProducer::Handle {
  RdKafkaPtr rk;
};

TransactionalProducer::TransactionalProducer(std::unique_ptr<Handle> handle,
                                             std::string transactional_id)
    : handle_(std::move(handle)), transactional_id_(std::move(transactional_id)) {}

TransactionalProducer::~TransactionalProducer() = default;

Result<std::unique_ptr<TransactionalProducer>> TransactionalProducer::Create(
    const KafkaConfig& config, const std::string& transactional_id) {
  KL_ASSIGN_OR_RETURN(ConfPtr conf, MakeConf(config, {{"transactional.id", transactional_id},
                                                      {"enable.idempotence", "true"},
                                                      {"acks", "all"},
                                                      {"linger.ms", "2"},
                                                      {"client.id", "keyledger-writer"}}));
  rd_kafka_conf_set_dr_msg_cb(conf.get(), DeliveryCallback);
  KL_ASSIGN_OR_RETURN(RdKafkaPtr rk, NewClient(RD_KAFKA_PRODUCER, std::move(conf)));
  auto handle = std::make_unique<Handle>();
  handle->rk = std::move(rk);
  return std::unique_ptr<TransactionalProducer>(
      new TransactionalProducer(std::move(handle), transactional_id));
}

Status TransactionalProducer::InitTransactions(int timeout_ms) {
  return FromError(rd_kafka_init_transactions(handle_->rk.get(), timeout_ms), "init transactions");
}

Status TransactionalProducer::BeginTransaction() {
  return FromError(rd_kafka_begin_transaction(handle_->rk.get()), "begin transaction");
}

Status TransactionalProducer::Produce(const std::string& topic, std::int32_t partition,
                                      std::string_view key, std::string_view value,
                                      DeliveryReport* report) {
  for (int attempt = 0;; ++attempt) {
    rd_kafka_resp_err_t err = rd_kafka_producev(
        handle_->rk.get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition),
        RD_KAFKA_V_KEY(const_cast<char*>(key.data()), key.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(report), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return Status::Ok();
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && attempt < 100) {
      rd_kafka_poll(handle_->rk.get(), 10);  // Local queue full: serve delivery reports, retry.
      continue;
    }
    return FromErrorCode(err, "produce to " + topic);
  }
}

Status TransactionalProducer::CommitTransaction(int timeout_ms) {
  return FromError(rd_kafka_commit_transaction(handle_->rk.get(), timeout_ms), "commit transaction");
}

Status TransactionalProducer::AbortTransaction(int timeout_ms) {
  // librdkafka 2.0.2 can turn an abort issued while records are still queued into a fatal
  // INVALID_TXN_STATE (confluentinc/librdkafka#4849): let the records reach the broker, so the
  // coordinator knows the transaction's partitions, then abort. Aborted records stay invisible
  // to read_committed readers.
  rd_kafka_flush(handle_->rk.get(), timeout_ms);
  return FromError(rd_kafka_abort_transaction(handle_->rk.get(), timeout_ms), "abort transaction");
}

bool TransactionalProducer::fatal() const {
  char errstr[256];
  return rd_kafka_fatal_error(handle_->rk.get(), errstr, sizeof errstr) != RD_KAFKA_RESP_ERR_NO_ERROR;
}

bool TransactionalProducer::fenced() const {
  char errstr[256];
  rd_kafka_resp_err_t err = rd_kafka_fatal_error(handle_->rk.get(), errstr, sizeof errstr);
  return err == RD_KAFKA_RESP_ERR__FENCED || err == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
         err == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH;
}

std::string TransactionalProducer::fatal_reason() const {
  char errstr[512];
  if (rd_kafka_fatal_error(handle_->rk.get(), errstr, sizeof errstr) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    return "";
  }
  return errstr;
}

// ---- LogReader ----

struct LogReader::Handle {
  RdKafkaPtr rk;
  std::string topic;
  std::map<std::int32_t, std::int64_t> positions;
  std::map<std::int32_t, bool> at_end;
  ~Handle() {
    if (rk) rd_kafka_consumer_close(rk.get());
  }
};

LogReader::LogReader(std::unique_ptr<Handle> handle) : handle_(std::move(handle)) {}
LogReader::~LogReader() = default;

Result<std::unique_ptr<LogReader>> LogReader::Create(
    const KafkaConfig& config, const std::string& topic,
    const std::map<std::int32_t, std::int64_t>& start_offsets) {
  // group.id is required by librdkafka's consumer, but this reader never joins the group nor
  // commits: it assigns its partitions itself.
  KL_ASSIGN_OR_RETURN(ConfPtr conf, MakeConf(config, {{"group.id", "keyledger-reader-unused"},
                                                      {"isolation.level", "read_committed"},
                                                      {"enable.partition.eof", "true"},
                                                      {"enable.auto.commit", "false"},
                                                      {"enable.auto.offset.store", "false"},
                                                      {"auto.offset.reset", "earliest"},
                                                      {"fetch.wait.max.ms", "100"},
                                                      {"client.id", "keyledger-reader"}}));
  KL_ASSIGN_OR_RETURN(RdKafkaPtr rk, NewClient(RD_KAFKA_CONSUMER, std::move(conf)));
  rd_kafka_poll_set_consumer(rk.get());
  std::unique_ptr<rd_kafka_topic_partition_list_t, TopicPartitionListDeleter> list(
      rd_kafka_topic_partition_list_new(static_cast<int>(start_offsets.size())));
  auto handle = std::make_unique<Handle>();
  for (const auto& [partition, offset] : start_offsets) {
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition)->offset = offset;
    handle->positions[partition] = offset;
    handle->at_end[partition] = false;
  }
  rd_kafka_resp_err_t err = rd_kafka_assign(rk.get(), list.get());
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return FromErrorCode(err, "assign " + topic);
  handle->rk = std::move(rk);
  handle->topic = topic;
  return std::unique_ptr<LogReader>(new LogReader(std::move(handle)));
}

Result<std::vector<LogRecord>> LogReader::Poll(int timeout_ms, size_t max_records) {
  std::vector<LogRecord> records;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (records.size() < max_records) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    // After the first record, take only what is already buffered.
    int wait = records.empty() ? static_cast<int>(std::max<long long>(left, 0)) : 0;
    std::unique_ptr<rd_kafka_message_t, MessageDeleter> m(
        rd_kafka_consumer_poll(handle_->rk.get(), wait));
    if (!m) break;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      handle_->positions[m->partition] = m->offset;
      handle_->at_end[m->partition] = true;
      if (AtEnd() && records.empty()) break;
      continue;
    }
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      char errstr[256];
      if (rd_kafka_fatal_error(handle_->rk.get(), errstr, sizeof errstr) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return common::Unavailable(std::string("kafka reader fatal error: ") + errstr);
      }
      if (!records.empty()) break;
      return common::Unavailable(std::string("kafka read: ") + rd_kafka_message_errstr(m.get()));
    }
    LogRecord r;
    r.partition = m->partition;
    r.offset = m->offset;
    rd_kafka_timestamp_type_t type;
    r.timestamp_ms = rd_kafka_message_timestamp(m.get(), &type);
    if (m->key) r.key.assign(static_cast<const char*>(m->key), m->key_len);
    if (m->payload) r.value.assign(static_cast<const char*>(m->payload), m->len);
    handle_->positions[r.partition] = r.offset + 1;
    handle_->at_end[r.partition] = false;
    records.push_back(std::move(r));
  }
  return records;
}

bool LogReader::AtEnd() const {
  for (const auto& [partition, end] : handle_->at_end) {
    if (!end) return false;
  }
  return true;
}

std::int64_t LogReader::Position(std::int32_t partition) const {
  auto it = handle_->positions.find(partition);
  return it == handle_->positions.end() ? -1 : it->second;
}

Status LogReader::Seek(std::int32_t partition, std::int64_t offset) {
  std::unique_ptr<rd_kafka_topic_partition_list_t, TopicPartitionListDeleter> list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), handle_->topic.c_str(), partition)->offset = offset;
  std::unique_ptr<rd_kafka_error_t, ErrorDeleter> error(rd_kafka_seek_partitions(handle_->rk.get(), list.get(), 10000));
  if (error) return common::Unavailable("seek " + handle_->topic + " [" + std::to_string(partition) + "]: " +
                                        rd_kafka_error_string(error.get()));
  if (list->elems[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return FromErrorCode(list->elems[0].err, "seek " + handle_->topic + " [" + std::to_string(partition) + "]");
  }
  handle_->positions[partition] = offset;
  handle_->at_end[partition] = false;
  return Status::Ok();
}

Status LogReader::AddPartitions(const std::map<std::int32_t, std::int64_t>& start_offsets) {
  std::map<std::int32_t, std::int64_t> all = handle_->positions;
  for (const auto& [p, o] : start_offsets) all.emplace(p, o);
  std::unique_ptr<rd_kafka_topic_partition_list_t, TopicPartitionListDeleter> list(
      rd_kafka_topic_partition_list_new(static_cast<int>(all.size())));
  for (const auto& [p, o] : all) rd_kafka_topic_partition_list_add(list.get(), handle_->topic.c_str(), p)->offset = o;
  rd_kafka_resp_err_t err = rd_kafka_assign(handle_->rk.get(), list.get());
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return FromErrorCode(err, "assign " + handle_->topic);
  for (const auto& [p, o] : start_offsets) {
    if (handle_->positions.emplace(p, o).second) handle_->at_end[p] = false;
  }
  return Status::Ok();
}

Result<std::pair<std::int64_t, std::int64_t>> LogReader::Watermarks(std::int32_t partition,
                                                                    int timeout_ms) {
  std::int64_t low = 0, high = 0;
  rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
      handle_->rk.get(), handle_->topic.c_str(), partition, &low, &high, timeout_ms);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return FromErrorCode(err, "watermarks");
  return std::make_pair(low, high);
}

std::int64_t LogReader::CachedHighWatermark(std::int32_t partition) const {
  std::int64_t low = -1, high = -1;
  if (rd_kafka_get_watermark_offsets(handle_->rk.get(), handle_->topic.c_str(), partition, &low,
                                     &high) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return -1;
  }
  return high;
}

struct OffsetProbe::Handle {
  RdKafkaPtr rk;
  std::string topic;
};

OffsetProbe::OffsetProbe(std::unique_ptr<Handle> handle) : handle_(std::move(handle)) {}
OffsetProbe::~OffsetProbe() = default;

Result<std::unique_ptr<OffsetProbe>> OffsetProbe::Create(const KafkaConfig& config, const std::string& topic) {
  // read_committed: ListOffsets "latest" then answers the last stable offset, not the high watermark.
  KL_ASSIGN_OR_RETURN(ConfPtr conf, MakeConf(config, {{"group.id", "keyledger-probe-unused"},
                                                      {"isolation.level", "read_committed"},
                                                      {"enable.auto.commit", "false"},
                                                      {"client.id", "keyledger-offset-probe"}}));
  KL_ASSIGN_OR_RETURN(RdKafkaPtr rk, NewClient(RD_KAFKA_CONSUMER, std::move(conf)));
  auto handle = std::make_unique<Handle>();
  handle->rk = std::move(rk);
  handle->topic = topic;
  return std::unique_ptr<OffsetProbe>(new OffsetProbe(std::move(handle)));
}

Result<std::map<std::int32_t, std::int64_t>> OffsetProbe::LastStableOffsets(const std::vector<std::int32_t>& partitions,
                                                                            int timeout_ms) {
  std::unique_ptr<rd_kafka_topic_partition_list_t, TopicPartitionListDeleter> list(
      rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  for (std::int32_t p : partitions) {
    rd_kafka_topic_partition_list_add(list.get(), handle_->topic.c_str(), p)->offset = RD_KAFKA_OFFSET_END;
  }
  rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(handle_->rk.get(), list.get(), timeout_ms);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return FromErrorCode(err, "listing the end offsets of " + handle_->topic);
  std::map<std::int32_t, std::int64_t> out;
  for (int i = 0; i < list->cnt; ++i) {
    const auto& e = list->elems[i];
    if (e.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return FromErrorCode(e.err, "the end offset of " + handle_->topic + " [" + std::to_string(e.partition) + "]");
    }
    out[e.partition] = e.offset;
  }
  return out;
}

Result<std::int32_t> OffsetProbe::PartitionCount(int timeout_ms) {
  return PartitionCountOn(handle_->rk.get(), handle_->topic, timeout_ms);
}

}  // namespace keyledger::storage
