#include "fake_event_log.h"

#include <algorithm>

namespace keyledger::writer::testing {

using common::Result;
using common::Status;

class FakeCursor final : public LogCursor {
 public:
  FakeCursor(const FakeLogBroker* broker, std::map<std::int32_t, std::int64_t> positions)
      : broker_(broker), positions_(std::move(positions)) {}

  Result<std::vector<storage::LogRecord>> Poll(int, size_t max_records) override {
    common::MutexLock lock(&broker_->mu_);
    if (!broker_->reachable_) return common::Unavailable("fake broker unreachable");
    std::vector<storage::LogRecord> out;
    at_end_ = true;
    for (auto& [p, position] : positions_) {
      const auto& entries = broker_->partitions_[static_cast<size_t>(p)];
      while (position < static_cast<std::int64_t>(entries.size()) && out.size() < max_records) {
        const auto& e = entries[static_cast<size_t>(position)];
        if (!e.marker) out.push_back(storage::LogRecord{p, position, 0, e.key, e.value});
        ++position;
      }
      if (position < static_cast<std::int64_t>(entries.size())) at_end_ = false;
    }
    return out;
  }
  bool AtEnd() const override { return at_end_; }
  Status Seek(std::int32_t partition, std::int64_t offset) override {
    positions_[partition] = offset;
    at_end_ = false;
    return Status::Ok();
  }

 private:
  const FakeLogBroker* broker_;
  std::map<std::int32_t, std::int64_t> positions_;
  bool at_end_ = false;
};

void FakeLogBroker::SetReachable(bool reachable) {
  common::MutexLock lock(&mu_);
  reachable_ = reachable;
}

void FakeLogBroker::FailNextCommit(Status status, CommitFault fault, bool then_unreachable) {
  common::MutexLock lock(&mu_);
  commit_failure_ = std::make_pair(std::move(status), fault);
  unreachable_after_commit_ = then_unreachable;
}

void FakeLogBroker::FailNextAppend(Status status) {
  common::MutexLock lock(&mu_);
  append_failure_ = std::move(status);
}

void FakeLogBroker::AppendRaw(std::int32_t partition, std::string value) {
  common::MutexLock lock(&mu_);
  auto& entries = partitions_[static_cast<size_t>(partition)];
  entries.push_back({"", std::move(value), false});
  entries.push_back({"", "", true});
}

std::vector<storage::LogRecord> FakeLogBroker::Records(std::int32_t partition) const {
  common::MutexLock lock(&mu_);
  std::vector<storage::LogRecord> out;
  const auto& entries = partitions_[static_cast<size_t>(partition)];
  for (size_t i = 0; i < entries.size(); ++i) {
    if (!entries[i].marker) out.push_back({partition, static_cast<std::int64_t>(i), 0, entries[i].key, entries[i].value});
  }
  return out;
}

Status FakeEventLog::Usable() {
  if (!broker_->reachable_) return common::Unavailable("fake broker unreachable");
  if (fenced_ || broker_->epochs_[identity_] != epoch_) {
    fenced_ = true;
    return common::FailedPrecondition("fatal: producer fenced: a newer writer registered " + identity_);
  }
  return Status::Ok();
}

Result<std::int32_t> FakeEventLog::PartitionCount(int) {
  common::MutexLock lock(&broker_->mu_);
  if (!broker_->reachable_) return common::Unavailable("fake broker unreachable");
  return broker_->partition_count();
}

Status FakeEventLog::Register(int) {
  common::MutexLock lock(&broker_->mu_);
  if (!broker_->reachable_) return common::Unavailable("fake broker unreachable");
  epoch_ = ++broker_->epochs_[identity_];
  fenced_ = false;
  in_transaction_ = false;
  pending_.clear();  // an open transaction of an earlier registration is aborted
  return Status::Ok();
}

Status FakeEventLog::Begin() {
  common::MutexLock lock(&broker_->mu_);
  KL_RETURN_IF_ERROR(Usable());
  if (in_transaction_) return common::Internal("a transaction is already open");
  in_transaction_ = true;
  return Status::Ok();
}

Status FakeEventLog::Append(std::int32_t partition, std::string_view key, std::string_view value,
                            storage::DeliveryReport* report) {
  common::MutexLock lock(&broker_->mu_);
  KL_RETURN_IF_ERROR(Usable());
  if (!in_transaction_) return common::Internal("append outside a transaction");
  if (broker_->append_failure_) {
    Status failure = *broker_->append_failure_;
    broker_->append_failure_.reset();
    return failure;
  }
  pending_.push_back({partition, std::string(key), std::string(value), report});
  return Status::Ok();
}

Status FakeEventLog::Commit(int) {
  common::MutexLock lock(&broker_->mu_);
  KL_RETURN_IF_ERROR(Usable());
  if (!in_transaction_) return common::Internal("commit outside a transaction");
  std::optional<std::pair<Status, CommitFault>> failure = broker_->commit_failure_;
  broker_->commit_failure_.reset();
  if (failure && broker_->unreachable_after_commit_) {
    broker_->reachable_ = false;
    broker_->unreachable_after_commit_ = false;
  }
  if (failure && failure->second != CommitFault::kLands) {
    if (failure->second == CommitFault::kLost) {
      for (Appended& a : pending_) {
        a.report->partition = a.partition;
        a.report->status = Status::Ok();  // acknowledged, in a transaction that never commits
      }
    }
    if (failure->first.code() != common::StatusCode::kAborted) {
      pending_.clear();  // the broker never saw the commit: the transaction dies with the registration
      in_transaction_ = false;
    }
    return failure->first;
  }
  std::vector<std::int32_t> touched;
  for (Appended& a : pending_) {
    auto& entries = broker_->partitions_[static_cast<size_t>(a.partition)];
    a.report->partition = a.partition;
    a.report->offset = static_cast<std::int64_t>(entries.size());
    a.report->status = Status::Ok();
    entries.push_back({std::move(a.key), std::move(a.value), false});
    if (std::find(touched.begin(), touched.end(), a.partition) == touched.end()) touched.push_back(a.partition);
  }
  for (std::int32_t p : touched) broker_->partitions_[static_cast<size_t>(p)].push_back({"", "", true});
  pending_.clear();
  in_transaction_ = false;
  return failure ? failure->first : Status::Ok();
}

Status FakeEventLog::Abort(int) {
  common::MutexLock lock(&broker_->mu_);
  KL_RETURN_IF_ERROR(Usable());
  pending_.clear();
  in_transaction_ = false;
  return Status::Ok();
}

Result<std::unique_ptr<LogCursor>> FakeEventLog::Read(const std::map<std::int32_t, std::int64_t>& start) {
  {
    common::MutexLock lock(&broker_->mu_);
    if (!broker_->reachable_) return common::Unavailable("fake broker unreachable");
  }
  return std::unique_ptr<LogCursor>(std::make_unique<FakeCursor>(broker_, start));
}

}  // namespace keyledger::writer::testing
