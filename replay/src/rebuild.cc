#include "keyledger/replay/rebuild.h"

#include <thread>

#include "keyledger/common/mutex.h"
#include "keyledger/projector/layout.h"
#include "keyledger/projector/projector.h"
#include "keyledger/projector/read_model.h"

namespace keyledger::replay {

using common::Result;
using common::Status;

namespace {

// Calls `report` every `interval_ms` on a thread of its own until destroyed.
class ProgressTicker {
 public:
  ProgressTicker(int interval_ms, std::function<void()> report) {
    thread_ = std::thread([this, interval_ms, report = std::move(report)] {
      common::MutexLock lock(&mu_);
      while (!done_) {
        if (!cv_.WaitFor(&mu_, std::chrono::milliseconds(interval_ms)) && !done_) report();
      }
    });
  }
  ~ProgressTicker() {
    {
      common::MutexLock lock(&mu_);
      done_ = true;
    }
    cv_.SignalAll();
    thread_.join();
  }

 private:
  common::Mutex mu_;
  common::CondVar cv_;
  bool done_ KL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace

Result<std::unique_ptr<storage::Store>> OpenRebuildStore(const std::string& dir, const RebuildOptions& options) {
  storage::StoreOptions so;
  so.write_ahead_log = false;  // atomic flushes keep it a prefix of the log; see store.h
  so.write_buffer_bytes = options.write_buffer_bytes;
  so.min_free_bytes = options.min_free_bytes;
  return projector::OpenReadModelStore(dir, so);
}

Status ProjectInto(storage::Store* store, const RebuildOptions& options,
                   const std::optional<std::map<std::int32_t, std::int64_t>>& stop_at, common::Logger* logger,
                   const common::Clock* clock, std::uint64_t* events_applied) {
  projector::ProjectorOptions po;
  po.kafka = options.kafka;
  po.topic = options.topic;
  po.max_batch_events = options.max_batch_events;
  po.max_events_per_second = options.max_events_per_second;
  po.cancel = options.cancel;
  projector::Projector projector(po, store, logger, clock);

  // Expected work: from the stored offsets to the end of the log (or to stop_at).
  std::uint64_t total = 0;
  if (options.progress) {
    KL_ASSIGN_OR_RETURN(std::int32_t partitions, storage::PartitionCount(options.kafka, options.topic, 10000));
    KL_ASSIGN_OR_RETURN(auto stored, projector.read_model().Offsets());
    std::map<std::int32_t, std::int64_t> start;
    for (std::int32_t p = 0; p < partitions; ++p) start[p] = stored.count(p) ? stored[p] : 0;
    KL_ASSIGN_OR_RETURN(auto reader, storage::LogReader::Create(options.kafka, options.topic, start));
    for (const auto& [p, from] : start) {
      std::int64_t end;
      if (stop_at) {
        end = stop_at->count(p) ? stop_at->at(p) : 0;
      } else {
        KL_ASSIGN_OR_RETURN(auto marks, reader->Watermarks(p, 10000));
        end = marks.second;
      }
      if (end > from) total += static_cast<std::uint64_t>(end - from);
    }
  }

  const std::int64_t started = clock->MonotonicMicros();
  auto report = [&] {
    double secs = static_cast<double>(clock->MonotonicMicros() - started) / 1e6;
    options.progress(Progress::Of(projector.stats().events_applied, total, secs));
  };
  Status s;
  {
    std::optional<ProgressTicker> ticker;
    if (options.progress) ticker.emplace(options.progress_interval_ms, report);
    s = projector.RunUntil(7 * 24 * 3600 * 1000, stop_at);
  }
  if (options.progress) report();
  if (events_applied) *events_applied = projector.stats().events_applied;
  return s;
}

Result<RebuildReport> Rebuild(const StoreRoot& root, const RebuildOptions& options, common::Logger* logger,
                              const common::Clock* clock) {
  RebuildReport report;
  KL_ASSIGN_OR_RETURN(report.generation_dir, root.BeginRebuild(&report.resumed));
  logger->Info(report.resumed ? "resuming an interrupted rebuild" : "rebuilding the read models",
               {{"generation", report.generation_dir}});
  const std::int64_t started = clock->MonotonicMicros();
  {
    KL_ASSIGN_OR_RETURN(auto store, OpenRebuildStore(report.generation_dir, options));
    if (report.resumed) {
      projector::ReadModel model(store.get());
      KL_ASSIGN_OR_RETURN(auto offsets, model.Offsets());
      std::uint64_t already = 0;
      for (const auto& [p, o] : offsets) already += static_cast<std::uint64_t>(o);
      logger->Info("the interrupted rebuild resumes from its stored offsets",
                   {{"partitions", static_cast<std::uint64_t>(offsets.size())}, {"offsets_done", already}});
    }
    KL_RETURN_IF_ERROR(ProjectInto(store.get(), options, std::nullopt, logger, clock, &report.events_applied));
    projector::ReadModel model(store.get());
    KL_ASSIGN_OR_RETURN(report.offsets, model.Offsets());
    KL_ASSIGN_OR_RETURN(auto halts, model.Halts());
    report.halted_partitions = halts.size();
    if (!halts.empty()) {
      std::string which;
      for (const projector::Halt& h : halts) {
        which += (which.empty() ? "" : "; ") + std::string("partition ") + std::to_string(h.partition) + " at offset " +
                 std::to_string(h.offset) + " (" + h.reason + ")";
      }
      if (!options.publish_with_halts) {
        return common::FailedPrecondition("not published: the rebuild halted on " + which +
                                          ". Skip the record (keyledger halts, keyledger skip) and run replay again "
                                          "(it resumes), or pass --publish-with-halts to publish it anyway");
      }
      logger->Error("PUBLISHING A GENERATION WITH HALTED PARTITIONS (--publish-with-halts): their teams are answered "
                    "from an incomplete history",
                    {{"halts", which}});
    }
  }  // closed (and flushed) before anyone else may open it
  KL_RETURN_IF_ERROR(root.Publish(report.generation_dir));
  report.seconds = static_cast<double>(clock->MonotonicMicros() - started) / 1e6;
  logger->Info("rebuild published", {{"generation", report.generation_dir},
                                     {"events", report.events_applied},
                                     {"seconds", report.seconds},
                                     {"halted_partitions", report.halted_partitions}});
  return report;
}

}  // namespace keyledger::replay
