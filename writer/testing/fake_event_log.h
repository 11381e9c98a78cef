// An in-memory event log with EventLog's contract (event_log.h), for writer tests without a
// broker. Several FakeEventLogs share one FakeLogBroker the way several writers share Kafka:
// registering an identity again fences the older log of that identity; committed transactions
// take a commit marker's offset after their records in each partition (as Kafka's do), so
// offsets have gaps; records of an open or aborted transaction are never read.
//
// Faults, injected on the broker: unreachable (every call Unavailable), the next commit failing
// with a status of the test's choice either before or after its records landed (an unknown
// outcome), the next append failing, and raw records appended from outside (corrupt events).
// Thread: thread-safe (one lock in the broker).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "keyledger/common/mutex.h"
#include "keyledger/writer/event_log.h"

namespace keyledger::writer::testing {

// How an injected commit failure ends.
enum class CommitFault {
  kLands,            // the records are committed all the same (the outcome the writer cannot know)
  kLost,             // the records reached the broker, the commit request was lost: nothing committed
  kBeforeDelivery,   // the records were never acknowledged, so no commit was sent
};

class FakeLogBroker {
 public:
  explicit FakeLogBroker(std::int32_t partitions) : partitions_(static_cast<size_t>(partitions)) {}

  void SetReachable(bool reachable) KL_EXCLUDES(mu_);
  // The next Commit returns `status` and ends as `fault` says (an Aborted status leaves the
  // transaction open for Abort). With `then_unreachable` the broker goes away right after (until
  // SetReachable(true)).
  void FailNextCommit(common::Status status, CommitFault fault, bool then_unreachable = false) KL_EXCLUDES(mu_);
  void FailNextAppend(common::Status status) KL_EXCLUDES(mu_);
  // A committed record put into a partition from outside the writers (a corrupt event).
  void AppendRaw(std::int32_t partition, std::string value) KL_EXCLUDES(mu_);
  // The committed records of a partition, in offset order.
  std::vector<storage::LogRecord> Records(std::int32_t partition) const KL_EXCLUDES(mu_);
  std::int32_t partition_count() const { return static_cast<std::int32_t>(partitions_.size()); }

 private:
  friend class FakeEventLog;
  friend class FakeCursor;
  struct Entry {
    std::string key;
    std::string value;
    bool marker = false;  // a commit marker takes an offset and holds no record
  };
  mutable common::Mutex mu_;
  std::vector<std::vector<Entry>> partitions_ KL_GUARDED_BY(mu_);
  std::map<std::string, int> epochs_ KL_GUARDED_BY(mu_);  // identity -> latest registration
  bool reachable_ KL_GUARDED_BY(mu_) = true;
  std::optional<std::pair<common::Status, CommitFault>> commit_failure_ KL_GUARDED_BY(mu_);
  bool unreachable_after_commit_ KL_GUARDED_BY(mu_) = false;
  std::optional<common::Status> append_failure_ KL_GUARDED_BY(mu_);
};

class FakeEventLog final : public EventLog {
 public:
  FakeEventLog(FakeLogBroker* broker, std::string identity) : broker_(broker), identity_(std::move(identity)) {}

  common::Result<std::int32_t> PartitionCount(int timeout_ms) override;
  common::Status Register(int timeout_ms) override;
  common::Status Begin() override;
  common::Status Append(std::int32_t partition, std::string_view key, std::string_view value,
                        storage::DeliveryReport* report) override;
  common::Status Commit(int timeout_ms) override;
  common::Status Abort(int timeout_ms) override;
  bool fenced() const override { return fenced_; }
  bool fatal() const override { return fenced_; }
  std::string fatal_reason() const override { return fenced_ ? "fenced by a newer registration of " + identity_ : ""; }
  common::Result<std::unique_ptr<LogCursor>> Read(const std::map<std::int32_t, std::int64_t>& start) override;
  const std::string& identity() const override { return identity_; }

 private:
  struct Appended {
    std::int32_t partition;
    std::string key;
    std::string value;
    storage::DeliveryReport* report;
  };
  // Unavailable, or fenced (which sets fenced_); OK when the call may go on.
  common::Status Usable() KL_REQUIRES(broker_->mu_);

  FakeLogBroker* broker_;
  std::string identity_;
  int epoch_ = -1;
  bool fenced_ = false;
  bool in_transaction_ = false;
  std::vector<Appended> pending_;
};

}  // namespace keyledger::writer::testing
