#include "keyledger/replay/verify.h"

#include <algorithm>
#include <sstream>

#include "keyledger/common/coding.h"
#include "keyledger/events/codec.h"
#include "keyledger/events/partition_guard.h"
#include "keyledger/projector/layout.h"
#include "keyledger/projector/read_model.h"

namespace keyledger::replay {

using common::Result;
using common::Status;

Result<std::vector<ColumnChecksum>> Checksums(const storage::Store& store) {
  std::vector<ColumnChecksum> out;
  for (int c = 0; c < store.column_count(); ++c) {
    storage::ColumnId column(c);
    common::Sha256 hasher;
    ColumnChecksum sum;
    sum.column = store.column_name(column);
    Status s = store.Scan(column, "", "", [&](std::string_view k, std::string_view v) {
      std::string lengths;
      common::PutFixed32(lengths, static_cast<std::uint32_t>(k.size()));
      common::PutFixed32(lengths, static_cast<std::uint32_t>(v.size()));
      hasher.Update(lengths);
      hasher.Update(k);
      hasher.Update(v);
      ++sum.entries;
      return true;
    });
    KL_RETURN_IF_ERROR(s.WithContext("checksumming " + sum.column));
    sum.sha256 = hasher.Finish();
    out.push_back(sum);
  }
  return out;
}

Result<VerifyReport> Verify(const storage::Store& store, const VerifyOptions& options, common::Logger* logger,
                            const common::Clock* clock) {
  VerifyReport report;
  projector::ReadModel live_model(&store);
  KL_ASSIGN_OR_RETURN(auto live_offsets, live_model.Offsets());

  // 1. The log: every event decodes and links to the previous one of its partition.
  const std::int64_t log_start = clock->MonotonicMicros();
  KL_ASSIGN_OR_RETURN(std::int32_t partitions,
                      storage::PartitionCount(options.rebuild.kafka, options.rebuild.topic, 10000));
  std::map<std::int32_t, std::int64_t> start;
  for (std::int32_t p = 0; p < partitions; ++p) start[p] = 0;
  KL_ASSIGN_OR_RETURN(auto reader, storage::LogReader::Create(options.rebuild.kafka, options.rebuild.topic, start));
  std::map<std::int32_t, std::int64_t> ends;
  std::uint64_t total = 0;
  for (std::int32_t p = 0; p < partitions; ++p) {
    KL_ASSIGN_OR_RETURN(auto marks, reader->Watermarks(p, 10000));
    ends[p] = marks.second;
    total += static_cast<std::uint64_t>(marks.second);
  }
  // Every partition is walked by the consumers' rule (events/partition_guard.h): a record that
  // does not decode, is in the wrong partition or breaks the chain is a problem, unless an
  // operator's skip of exactly that record follows; then the walk goes on past it, as every
  // consumer does.
  std::map<std::int32_t, events::PartitionGuard> guards;
  for (std::int32_t p = 0; p < partitions; ++p) guards.emplace(p, events::PartitionGuard(p, partitions));
  std::map<std::int32_t, LogProblem> halted;
  std::map<std::int32_t, std::int64_t> counted;  // records counted per partition (a re-read counts once)
  std::int64_t last_report = clock->MonotonicMicros();
  while (!reader->AtEnd()) {
    KL_ASSIGN_OR_RETURN(auto records, reader->Poll(200, 20000));
    std::map<std::int32_t, std::int64_t> reread;
    for (const storage::LogRecord& r : records) {
      if (r.offset >= ends[r.partition] || reread.count(r.partition)) continue;
      if (r.offset >= counted[r.partition]) {
        counted[r.partition] = r.offset + 1;
        ++report.events;
        report.bytes += r.value.size();
        report.log_end[r.partition] = r.offset + 1;
      }
      events::PartitionGuard& guard = guards.at(r.partition);
      events::PartitionGuard::Step step = guard.Next(r.offset, r.value);
      switch (step.verdict) {
        case events::PartitionGuard::Verdict::kApply:
          guard.Applied(r.offset, r.value);
          break;
        case events::PartitionGuard::Verdict::kHalted:
          if (step.newly_halted) halted[r.partition] = LogProblem{r.partition, r.offset, step.why};
          break;
        case events::PartitionGuard::Verdict::kSkipHonoured: {
          const auto& skip = std::get<events::RecordSkipped>(step.event.payload);
          report.skipped.push_back({r.partition, skip.offset,
                                    "skipped by operator " + step.event.actor.user_id + " (" + skip.note + ") at offset " +
                                        std::to_string(r.offset) + ": " + halted[r.partition].what});
          halted.erase(r.partition);
          reread[r.partition] = step.reread_from;
          break;
        }
        case events::PartitionGuard::Verdict::kIgnored:
          break;
      }
    }
    for (const auto& [p, from] : reread) KL_RETURN_IF_ERROR(reader->Seek(p, from));
    std::int64_t now = clock->MonotonicMicros();
    if (options.rebuild.progress && now - last_report >= options.rebuild.progress_interval_ms * 1000ll) {
      options.rebuild.progress(Progress::Of(report.events, total, static_cast<double>(now - log_start) / 1e6));
      last_report = now;
    }
  }
  report.log_seconds = static_cast<double>(clock->MonotonicMicros() - log_start) / 1e6;
  reader.reset();
  for (auto& [p, problem] : halted) report.log_problems.push_back(std::move(problem));

  // 2. The store against a rebuild up to the same offsets.
  common::FileSystem* files = common::DefaultFileSystem();
  KL_RETURN_IF_ERROR(files->RemoveAll(options.scratch_dir));
  const std::int64_t rebuild_start = clock->MonotonicMicros();
  {
    KL_ASSIGN_OR_RETURN(auto scratch, OpenRebuildStore(options.scratch_dir, options.rebuild));
    RebuildOptions ro = options.rebuild;
    ro.progress = nullptr;
    KL_RETURN_IF_ERROR(ProjectInto(scratch.get(), ro, live_offsets, logger, clock).WithContext("rebuilding for comparison"));
    KL_ASSIGN_OR_RETURN(report.rebuilt, Checksums(*scratch));
  }
  files->RemoveAll(options.scratch_dir).IgnoreError();  // a leftover scratch store is harmless
  report.rebuild_seconds = static_cast<double>(clock->MonotonicMicros() - rebuild_start) / 1e6;
  KL_ASSIGN_OR_RETURN(report.live, Checksums(store));
  for (size_t i = 0; i < report.live.size() && i < report.rebuilt.size(); ++i) {
    if (report.live[i].sha256 != report.rebuilt[i].sha256 || report.live[i].entries != report.rebuilt[i].entries) {
      report.differing_columns.push_back(report.live[i].column);
    }
  }
  return report;
}

std::string VerifyReport::Text() const {
  std::ostringstream out;
  out << "log: " << events << " records, " << bytes << " bytes in " << log_end.size() << " partitions, read in "
      << log_seconds << " s\n";
  for (const LogProblem& p : log_problems) {
    out << "LOG PROBLEM partition " << p.partition << " offset " << p.offset << ": " << p.what << "\n";
  }
  for (const LogProblem& p : skipped) {
    out << "skipped    partition " << p.partition << " offset " << p.offset << ": " << p.what << "\n";
  }
  if (log_problems.empty()) out << "log: every event decodes and every partition's hash chain holds\n";
  for (size_t i = 0; i < live.size(); ++i) {
    bool differs = std::find(differing_columns.begin(), differing_columns.end(), live[i].column) != differing_columns.end();
    out << (differs ? "DIFFERS " : "same    ") << "column family " << live[i].column << ": live " << live[i].entries
        << " entries " << common::HexEncode(live[i].sha256).substr(0, 16);
    if (i < rebuilt.size()) {
      out << ", rebuilt " << rebuilt[i].entries << " entries " << common::HexEncode(rebuilt[i].sha256).substr(0, 16);
    }
    out << "\n";
  }
  out << (ok() ? "OK: the log verifies and the store equals a rebuild from it\n"
               : "FAILED: " + std::to_string(log_problems.size()) + " log problem(s), " +
                     std::to_string(differing_columns.size()) + " differing column famil" +
                     (differing_columns.size() == 1 ? "y" : "ies") + "\n");
  return out.str();
}

}  // namespace keyledger::replay
