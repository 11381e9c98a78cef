// The writer's view of the event log, narrow enough to fake: a transactional appender with a
// stable identity, and a read_committed reader. NewKafkaEventLog adapts librdkafka (storage/);
// writer/testing/fake_event_log.h is an in-memory log with the same contract, and one contract
// test runs against both (event_log_contract_test.cc).
//
// Contract:
//   PartitionCount  Unavailable when the broker cannot be reached in time.
//   Register        registers the identity, fencing any older appender with it and aborting
//                   whatever transaction it left open; Unavailable when the broker is away.
//   Begin, Append   an error leaves the transaction to be aborted (or the log re-registered).
//   Commit          OK: every appended record is in the log, visible to read_committed readers,
//                   its DeliveryReport filled in. Aborted: the transaction was aborted and nothing
//                   of it is visible; Abort, then retry. Any other error: the outcome is unknown
//                   until the log is re-registered and read back.
//   fenced()        true once a newer appender registered the identity; every later call fails.
//   Read            a reader from the given offsets (partition -> first offset), read_committed;
//                   AtEnd once every partition has been read to its end as of the last poll.
// Thread: one thread at a time per EventLog (the writer's); readers belong to their caller.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "keyledger/common/status.h"
#include "keyledger/storage/kafka.h"

namespace keyledger::writer {

class LogCursor {
 public:
  virtual ~LogCursor() = default;
  virtual common::Result<std::vector<storage::LogRecord>> Poll(int timeout_ms, size_t max_records) = 0;
  virtual bool AtEnd() const = 0;
  // Reads `partition` from `offset` on (after an operator's skip, events/partition_guard.h).
  virtual common::Status Seek(std::int32_t partition, std::int64_t offset) = 0;
};

class EventLog {
 public:
  virtual ~EventLog() = default;
  virtual common::Result<std::int32_t> PartitionCount(int timeout_ms) = 0;
  virtual common::Status Register(int timeout_ms) = 0;
  virtual common::Status Begin() = 0;
  // `report` must stay valid until Commit or Abort returns.
  virtual common::Status Append(std::int32_t partition, std::string_view key, std::string_view value,
                                storage::DeliveryReport* report) = 0;
  virtual common::Status Commit(int timeout_ms) = 0;
  virtual common::Status Abort(int timeout_ms) = 0;
  virtual bool fenced() const = 0;
  virtual bool fatal() const = 0;
  virtual std::string fatal_reason() const = 0;
  virtual common::Result<std::unique_ptr<LogCursor>> Read(const std::map<std::int32_t, std::int64_t>& start) = 0;
  // The transactional identity ("keyledger-writer.<topic>.<writer id>").
  virtual const std::string& identity() const = 0;
};

std::unique_ptr<EventLog> NewKafkaEventLog(storage::KafkaConfig config, std::string topic,
                                           std::string transactional_id);

}  // namespace keyledger::writer
