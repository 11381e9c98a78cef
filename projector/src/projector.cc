// The projector's lifecycle and consumer loop (how records become batches: prepare.cc; how
// batches are written: committer.h).
#include "keyledger/projector/projector.h"

#include <algorithm>

#include "committer.h"
#include "prepared.h"

namespace keyledger::projector {

using common::Result;
using common::Status;

class Projector::Committer : public internal::Committer<Prepared> {
 public:
  explicit Committer(Projector* projector)
      : internal::Committer<Prepared>([projector](Prepared& batch) { return projector->Commit(batch); }) {}
};

Projector::Projector(ProjectorOptions options, storage::Store* store, common::Logger* logger,
                     const common::Clock* clock)
    : options_(std::move(options)), store_(store), logger_(logger), clock_(clock), read_model_(store) {}

Projector::~Projector() { Stop(); }

Status Projector::Load() {
  KL_ASSIGN_OR_RETURN(partition_count_, storage::PartitionCount(options_.kafka, options_.topic, 10000));
  KL_RETURN_IF_ERROR(UpgradeLayout());
  KL_ASSIGN_OR_RETURN(auto offsets, read_model_.Offsets());
  KL_ASSIGN_OR_RETURN(auto halts, read_model_.Halts());
  std::map<std::int32_t, PartitionState> loaded;
  for (std::int32_t p = 0; p < partition_count_; ++p) {
    PartitionState& ps = loaded[p];
    if (auto it = offsets.find(p); it != offsets.end()) ps.next_offset = it->second;
    KL_ASSIGN_OR_RETURN(auto head, store_->Get(Column::kMeta, layout::ChainKey(p)));
    if (head) {
      if (auto digest = layout::ParseDigestValue(*head)) ps.head = *digest;
    }
    KL_ASSIGN_OR_RETURN(auto alt, store_->Get(Column::kMeta, layout::AltChainKey(p)));
    if (alt) ps.alt_head = layout::ParseDigestValue(*alt);
  }
  for (const Halt& h : halts) {
    loaded[h.partition].halt = events::PartitionHalt{h.offset, h.record_sha256, h.reason};
    logger_->Error("projection of partition halted",
                   {{"partition", h.partition}, {"offset", h.offset}, {"reason", h.reason}});
  }
  cache_.clear();
  count_cache_.clear();
  prepared_ = loaded;
  common::MutexLock lock(&mu_);
  partitions_ = std::move(loaded);
  failed_ = false;
  stats_.halts = halts.size();
  for (const auto& [p, ps] : partitions_) stats_.next_offsets[p] = ps.next_offset;
  return Status::Ok();
}

Status Projector::OpenReader() {
  std::map<std::int32_t, std::int64_t> start;
  {
    common::MutexLock lock(&mu_);
    for (const auto& [p, ps] : partitions_) start[p] = ps.next_offset;
  }
  reader_.reset();
  seeks_.clear();  // the new reader starts where the partitions are
  KL_ASSIGN_OR_RETURN(reader_, storage::LogReader::Create(options_.kafka, options_.topic, start));
  return Status::Ok();
}

Status Projector::Commit(Prepared& prepared) {
  KL_RETURN_IF_ERROR(store_->Write(prepared.batch));
  {
    common::MutexLock lock(&mu_);
    for (auto& [p, ps] : prepared.touched) {
      partitions_[p] = ps;
      stats_.next_offsets[p] = ps.next_offset;
    }
    stats_.events_applied += prepared.applied;
    stats_.batches_written += 1;
    stats_.halts = static_cast<std::uint64_t>(
        std::count_if(partitions_.begin(), partitions_.end(), [](const auto& e) { return e.second.halt.has_value(); }));
    stats_.decode_errors += prepared.halts.size();
    stats_.skips_honoured += prepared.skips.size();
  }
  applied_cv_.SignalAll();
  for (const Halt& h : prepared.halts) {
    logger_->Error("projection of partition halted",
                   {{"partition", h.partition}, {"offset", h.offset}, {"reason", h.reason}});
  }
  for (const events::RecordSkipped& skip : prepared.skips) {
    logger_->Warn("operator skip honoured: projection goes on past the bad record",
                  {{"partition", skip.partition}, {"offset", skip.offset}, {"note", skip.note}});
  }
  return Status::Ok();
}

Status Projector::Start() {
  KL_RETURN_IF_ERROR(Load());
  KL_RETURN_IF_ERROR(OpenReader());
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
  return Status::Ok();
}

void Projector::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  reader_.reset();
}

Projector::Step Projector::PollOnce(Committer& committer,
                                    const std::optional<std::map<std::int32_t, std::int64_t>>& stop_at) {
  Step step;
  // A seek that failed (the broker away) is retried before anything more is read: reading on
  // would hand the guard that partition's records out of order.
  if (step.read = SeekPending(); !step.read.ok()) return step;
  auto polled = reader_->Poll(options_.poll_timeout_ms, options_.max_batch_events);
  if (!polled.ok()) {
    step.read = polled.status();
    return step;
  }
  std::vector<storage::LogRecord> records = std::move(*polled);
  // At the end of the log there is nothing more to wait for, even if stop_at lies beyond it (a
  // shorter log than the one stop_at came from: verify compares against such logs).
  step.log_exhausted = records.empty() && reader_->AtEnd();
  if (stop_at) {
    std::erase_if(records, [&](const storage::LogRecord& r) {
      auto it = stop_at->find(r.partition);
      return it == stop_at->end() || r.offset >= it->second;
    });
  }
  if (records.empty()) return step;
  step.records = records.size();
  auto prepared = Prepare(records);
  if (!prepared.ok()) {
    step.write = prepared.status();
    return step;
  }
  // An honoured skip: the partition is read again from the record after the skipped one (the
  // reader's prefetched records of it are dropped by the seek).
  for (const auto& [p, from] : (*prepared)->reread) seeks_[p] = from;
  step.write = committer.Submit(std::move(*prepared));
  step.read = SeekPending();
  return step;
}

Status Projector::SeekPending() {
  while (!seeks_.empty()) {
    auto [p, from] = *seeks_.begin();
    KL_RETURN_IF_ERROR(reader_->Seek(p, from));
    seeks_.erase(seeks_.begin());
  }
  return Status::Ok();
}

void Projector::Throttle(std::int64_t batch_start_micros, size_t records) const {
  if (options_.max_events_per_second == 0 || records == 0) return;
  std::int64_t budget = static_cast<std::int64_t>(records * 1000000 / options_.max_events_per_second);
  clock_->SleepForMicros(batch_start_micros + budget - clock_->MonotonicMicros());
}

void Projector::StopFailed(const Status& error) {
  // The reader is past these records; only a restart from the stored offsets can retry them.
  logger_->Error("projector stopped: cannot write the store", {{"error", error.message()}});
  {
    common::MutexLock lock(&mu_);
    failed_ = true;
    stats_.failure = "cannot write the store: " + error.message();
  }
  applied_cv_.SignalAll();
}

void Projector::Loop() {
  Committer committer(this);
  std::int64_t last_warning = 0;
  while (!stop_) {
    if (Status failed = committer.failure(); !failed.ok()) return StopFailed(failed);
    const std::int64_t batch_start = clock_->MonotonicMicros();
    Step step = PollOnce(committer, std::nullopt);
    if (!step.read.ok()) {
      if (batch_start - last_warning > 10'000'000) {
        logger_->Warn("projector cannot read the log", {{"error", step.read.message()}});
        last_warning = batch_start;
      }
      clock_->SleepForMillis(100);
      continue;
    }
    if (!step.write.ok()) {
      Status written = committer.Drain();
      return StopFailed(written.ok() ? step.write : written);
    }
    Throttle(batch_start, step.records);
  }
  if (Status written = committer.Drain(); !written.ok()) StopFailed(written);
}

Status Projector::RunUntil(int timeout_ms, const std::optional<std::map<std::int32_t, std::int64_t>>& stop_at) {
  KL_RETURN_IF_ERROR(Load());
  KL_RETURN_IF_ERROR(OpenReader());
  Committer committer(this);
  // Every return waits for the batch being written; its error, if any, comes first.
  auto finish = [&](const Status& status) {
    Status written = committer.Drain();
    return written.ok() ? status : written;
  };
  const std::int64_t deadline = clock_->MonotonicMicros() + static_cast<std::int64_t>(timeout_ms) * 1000;
  auto reached = [&] {
    if (!stop_at) return false;
    for (const auto& [p, ps] : prepared_) {
      if (ps.halt) continue;
      auto it = stop_at->find(p);
      if (ps.next_offset < (it == stop_at->end() ? 0 : it->second)) return false;
    }
    return true;
  };
  while (true) {
    if (reached()) return finish(Status::Ok());
    if (options_.cancel != nullptr && options_.cancel->load()) return finish(common::Unavailable("interrupted"));
    const std::int64_t batch_start = clock_->MonotonicMicros();
    if (batch_start > deadline) {
      return finish(common::Unavailable("projector did not catch up within " + std::to_string(timeout_ms) + " ms"));
    }
    Step step = PollOnce(committer, stop_at);
    if (!step.read.ok()) return finish(step.read);
    if (!step.write.ok()) return finish(step.write);
    if (step.log_exhausted) return finish(Status::Ok());
    Throttle(batch_start, step.records);
  }
}

Status Projector::WaitForOffset(std::int32_t partition, std::int64_t offset, int timeout_ms) {
  const std::int64_t deadline = clock_->MonotonicMicros() + static_cast<std::int64_t>(timeout_ms) * 1000;
  common::MutexLock lock(&mu_);
  while (true) {
    auto it = partitions_.find(partition);
    if (failed_ || (it != partitions_.end() && (it->second.next_offset > offset || it->second.halt))) break;
    std::int64_t left = deadline - clock_->MonotonicMicros();
    if (left <= 0) {
      return common::Unavailable("projector has not applied partition " + std::to_string(partition) + " offset " +
                                 std::to_string(offset) + " yet");
    }
    applied_cv_.WaitFor(&mu_, std::chrono::microseconds(left));
  }
  if (partitions_[partition].next_offset <= offset) {
    if (failed_) return common::Unavailable("the projector stopped: " + stats_.failure);
    return common::DataLoss("projection of partition " + std::to_string(partition) + " halted before offset " +
                            std::to_string(offset));
  }
  return Status::Ok();
}

ProjectorStats Projector::stats() const {
  common::MutexLock lock(&mu_);
  return stats_;
}

Result<std::int64_t> Projector::Lag(int timeout_ms) {
  std::map<std::int32_t, std::int64_t> next;
  {
    common::MutexLock lock(&mu_);
    for (const auto& [p, ps] : partitions_) next[p] = ps.next_offset;
  }
  // A separate short-lived reader: the projector's own reader belongs to its thread.
  KL_ASSIGN_OR_RETURN(auto reader, storage::LogReader::Create(options_.kafka, options_.topic, next));
  std::int64_t lag = 0;
  for (const auto& [p, offset] : next) {
    KL_ASSIGN_OR_RETURN(auto marks, reader->Watermarks(p, timeout_ms));
    // The high watermark counts transaction markers; a gap of one past the last applied event
    // is the commit marker, not lag.
    std::int64_t behind = marks.second - offset;
    if (behind > 1) lag += behind;
  }
  return lag;
}

}  // namespace keyledger::projector
