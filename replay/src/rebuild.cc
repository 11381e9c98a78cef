#include "keyledger/replay/rebuild.h"

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "keyledger/events/codec.h"
#include "keyledger/events/hash_chain.h"
#include "keyledger/projector/projector.h"
#include "keyledger/projector/read_model.h"

namespace keyledger::replay {

namespace fs = std::filesystem;
using common::Result;
using common::Status;

namespace {

constexpr char kLiveFile[] = "LIVE";
constexpr char kRebuildingMark[] = "REBUILDING";

std::string GenerationName(int n) {
  char name[32];
  std::snprintf(name, sizeof name, "gen-%06d", n);
  return name;
}

int GenerationNumber(const std::string& name) {
  if (name.size() != 10 || name.rfind("gen-", 0) != 0) return -1;
  int n = 0;
  for (char c : name.substr(4)) {
    if (c < '0' || c > '9') return -1;
    n = n * 10 + (c - '0');
  }
  return n;
}

Status WriteFileAtomically(const fs::path& path, const std::string& content) {
  fs::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << content;
    out.flush();
    if (!out) return common::Unavailable("cannot write " + tmp.string());
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return common::Unavailable("cannot replace " + path.string() + ": " + ec.message());
  return Status::Ok();
}

std::string HumanCount(std::uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

}  // namespace

Progress Progress::Of(std::uint64_t done, std::uint64_t total, double seconds) {
  Progress p;
  p.done = done;
  p.total = std::max(total, done);
  p.per_second = seconds > 0 ? done / seconds : 0;
  p.eta_seconds = p.per_second > 0 ? (p.total - p.done) / p.per_second : 0;
  return p;
}

bool StoreRoot::IsRoot(const std::string& path) { return fs::exists(fs::path(path) / kLiveFile); }

Result<std::string> StoreRoot::LiveName() const {
  std::ifstream in(fs::path(path_) / kLiveFile);
  if (!in) return std::string();
  std::string name;
  std::getline(in, name);
  if (GenerationNumber(name) < 0) {
    return common::DataLoss(path_ + "/" + kLiveFile + " does not name a generation: '" + name + "'");
  }
  return name;
}

Result<std::string> StoreRoot::Live() const {
  KL_ASSIGN_OR_RETURN(std::string name, LiveName());
  if (name.empty()) {
    std::error_code ec;
    fs::create_directories(path_, ec);
    if (ec) return common::Unavailable("cannot create " + path_ + ": " + ec.message());
    if (!fs::is_empty(path_, ec) && !fs::exists(fs::path(path_) / GenerationName(1))) {
      return common::Conflict(path_ + " is neither empty nor a keyledger store root");
    }
    name = GenerationName(1);
    fs::create_directories(fs::path(path_) / name, ec);
    if (ec) return common::Unavailable("cannot create a generation in " + path_ + ": " + ec.message());
    KL_RETURN_IF_ERROR(WriteFileAtomically(fs::path(path_) / kLiveFile, name + "\n"));
  }
  return (fs::path(path_) / name).string();
}

Result<std::string> StoreRoot::BeginRebuild(bool* resumed) const {
  KL_ASSIGN_OR_RETURN(std::string live, Live());
  int highest = 0;
  std::string interrupted;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(path_, ec)) {
    int n = GenerationNumber(entry.path().filename().string());
    if (n < 0) continue;
    highest = std::max(highest, n);
    if (fs::exists(entry.path() / kRebuildingMark)) interrupted = entry.path().string();
  }
  if (ec) return common::Unavailable("cannot list " + path_ + ": " + ec.message());
  *resumed = !interrupted.empty();
  if (*resumed) return interrupted;
  fs::path dir = fs::path(path_) / GenerationName(highest + 1);
  fs::create_directories(dir, ec);
  if (ec) return common::Unavailable("cannot create " + dir.string() + ": " + ec.message());
  KL_RETURN_IF_ERROR(WriteFileAtomically(dir / kRebuildingMark, "rebuild in progress\n"));
  return dir.string();
}

Status StoreRoot::Publish(const std::string& generation_dir) const {
  fs::path dir(generation_dir);
  std::error_code ec;
  fs::remove(dir / kRebuildingMark, ec);
  if (ec) return common::Unavailable("cannot clear the rebuild mark of " + generation_dir);
  return WriteFileAtomically(fs::path(path_) / kLiveFile, dir.filename().string() + "\n");
}

void StoreRoot::RemoveStale(common::Logger* logger) const {
  auto live = LiveName();
  if (!live.ok() || live->empty()) return;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(path_, ec)) {
    std::string name = entry.path().filename().string();
    if (GenerationNumber(name) < 0 || name == *live || fs::exists(entry.path() / kRebuildingMark)) continue;
    fs::remove_all(entry.path(), ec);
    if (logger) logger->Info("removed an old store generation", {{"generation", name}});
  }
}

Status ProjectInto(storage::Store* store, const RebuildOptions& options,
                   const std::optional<std::map<std::int32_t, std::int64_t>>& stop_at,
                   common::Logger* logger, const common::Clock* clock, std::uint64_t* events_applied) {
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

  std::atomic<bool> done{false};
  std::thread reporter;
  auto started = std::chrono::steady_clock::now();
  auto report = [&] {
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    options.progress(Progress::Of(projector.stats().events_applied, total, secs));
  };
  if (options.progress) {
    reporter = std::thread([&] {
      while (!done.load()) {
        for (int waited = 0; waited < options.progress_interval_ms && !done.load(); waited += 20) {
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        if (!done.load()) report();
      }
    });
  }
  Status s = projector.RunUntil(7 * 24 * 3600 * 1000, stop_at);
  done = true;
  if (reporter.joinable()) reporter.join();
  if (options.progress) report();
  if (events_applied) *events_applied = projector.stats().events_applied;
  return s;
}

Result<RebuildReport> Rebuild(const StoreRoot& root, const RebuildOptions& options,
                              common::Logger* logger, const common::Clock* clock) {
  RebuildReport report;
  KL_ASSIGN_OR_RETURN(report.generation_dir, root.BeginRebuild(&report.resumed));
  logger->Info(report.resumed ? "resuming an interrupted rebuild" : "rebuilding the read models",
               {{"generation", fs::path(report.generation_dir).filename().string()}});
  auto started = std::chrono::steady_clock::now();
  {
    storage::StoreOptions so;
    so.write_ahead_log = false;  // atomic flushes keep it a prefix of the log; see store.h
    so.write_buffer_bytes = options.write_buffer_bytes;
    so.min_free_bytes = options.min_free_bytes;
    KL_ASSIGN_OR_RETURN(auto store, storage::Store::Open(report.generation_dir, so));
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
  }  // closed (and flushed) before anyone else may open it
  KL_RETURN_IF_ERROR(root.Publish(report.generation_dir));
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  logger->Info("rebuild published", {{"generation", fs::path(report.generation_dir).filename().string()},
                                     {"events", report.events_applied},
                                     {"seconds", report.seconds},
                                     {"halted_partitions", report.halted_partitions}});
  return report;
}

Result<std::vector<ColumnChecksum>> Checksums(const storage::Store& store) {
  std::vector<ColumnChecksum> out;
  for (storage::Column column : storage::kAllColumns) {
    common::Sha256 hasher;
    ColumnChecksum sum;
    sum.column = std::string(storage::ColumnName(column));
    Status s = store.Scan(column, "", "", [&](std::string_view k, std::string_view v) {
      std::string lengths;
      storage::AppendBigEndian32(lengths, static_cast<std::uint32_t>(k.size()));
      storage::AppendBigEndian32(lengths, static_cast<std::uint32_t>(v.size()));
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

Result<VerifyReport> Verify(const storage::Store& store, const VerifyOptions& options,
                            common::Logger* logger, const common::Clock* clock) {
  VerifyReport report;
  projector::ReadModel live_model(&store);
  KL_ASSIGN_OR_RETURN(auto live_offsets, live_model.Offsets());

  // 1. The log: every event decodes and links to the previous one of its partition.
  auto log_start = std::chrono::steady_clock::now();
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
  std::map<std::int32_t, events::HashChain> chains;
  std::map<std::int32_t, bool> broken;
  std::map<std::int32_t, std::int64_t> expected_next;  // to notice offsets that vanished
  auto last_report = std::chrono::steady_clock::now();
  while (!reader->AtEnd()) {
    KL_ASSIGN_OR_RETURN(auto records, reader->Poll(200, 20000));
    for (const storage::LogRecord& r : records) {
      if (r.offset >= ends[r.partition]) continue;
      ++report.events;
      report.bytes += r.value.size();
      report.log_end[r.partition] = r.offset + 1;
      if (broken[r.partition]) continue;
      auto event = events::Decode(r.value);
      Status problem = event.ok() ? chains[r.partition].Append(*event, r.value) : event.status();
      if (!problem.ok()) {
        broken[r.partition] = true;
        report.log_problems.push_back(
            {r.partition, r.offset,
             event.ok() ? "hash chain broken: the event's previous-event hash does not match the "
                          "event before it (an event was altered, removed or reordered)"
                        : "event does not decode: " + event.status().message()});
      }
    }
    if (options.rebuild.progress &&
        std::chrono::steady_clock::now() - last_report >= std::chrono::milliseconds(options.rebuild.progress_interval_ms)) {
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - log_start).count();
      options.rebuild.progress(Progress::Of(report.events, total, secs));
      last_report = std::chrono::steady_clock::now();
    }
  }
  report.log_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - log_start).count();
  reader.reset();

  // 2. The store against a rebuild up to the same offsets.
  std::error_code ec;
  fs::remove_all(options.scratch_dir, ec);
  auto rebuild_start = std::chrono::steady_clock::now();
  {
    storage::StoreOptions so;
    so.write_ahead_log = false;
    so.write_buffer_bytes = options.rebuild.write_buffer_bytes;
    so.min_free_bytes = options.rebuild.min_free_bytes;
    KL_ASSIGN_OR_RETURN(auto scratch, storage::Store::Open(options.scratch_dir, so));
    RebuildOptions ro = options.rebuild;
    ro.progress = nullptr;
    KL_RETURN_IF_ERROR(ProjectInto(scratch.get(), ro, live_offsets, logger, clock)
                           .WithContext("rebuilding for comparison"));
    KL_ASSIGN_OR_RETURN(report.rebuilt, Checksums(*scratch));
  }
  fs::remove_all(options.scratch_dir, ec);
  report.rebuild_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - rebuild_start).count();
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
  out << "log: " << events << " records, " << bytes << " bytes in " << log_end.size()
      << " partitions, read in " << log_seconds << " s\n";
  for (const LogProblem& p : log_problems) {
    out << "LOG PROBLEM partition " << p.partition << " offset " << p.offset << ": " << p.what << "\n";
  }
  if (log_problems.empty()) out << "log: every event decodes and every partition's hash chain holds\n";
  for (size_t i = 0; i < live.size(); ++i) {
    bool differs = std::find(differing_columns.begin(), differing_columns.end(), live[i].column) !=
                   differing_columns.end();
    out << (differs ? "DIFFERS " : "same    ") << "column family " << live[i].column << ": live "
        << live[i].entries << " entries " << common::HexEncode(live[i].sha256).substr(0, 16);
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

ProgressCallback ProgressPrinter(std::string what, common::Logger* logger, bool terminal) {
  auto last_log = std::make_shared<std::chrono::steady_clock::time_point>();
  return [what = std::move(what), logger, terminal, last_log](const Progress& p) {
    double fraction = p.total > 0 ? static_cast<double>(p.done) / static_cast<double>(p.total) : 1.0;
    if (terminal) {
      constexpr int kWidth = 30;
      int filled = static_cast<int>(fraction * kWidth);
      std::string bar(static_cast<size_t>(filled), '#');
      bar.resize(kWidth, ' ');
      std::fprintf(stderr, "\r%s [%s] %3d%%  %s/%s  %s/s  ETA %.0fs   ", what.c_str(), bar.c_str(),
                   static_cast<int>(fraction * 100), HumanCount(p.done).c_str(),
                   HumanCount(p.total).c_str(), HumanCount(static_cast<std::uint64_t>(p.per_second)).c_str(),
                   p.eta_seconds);
      if (p.done >= p.total) std::fputc('\n', stderr);
      std::fflush(stderr);
      return;
    }
    auto now = std::chrono::steady_clock::now();
    if (now - *last_log < std::chrono::seconds(2) && p.done < p.total) return;
    *last_log = now;
    logger->Info("progress", {{"task", what}, {"done", p.done}, {"total", p.total},
                              {"percent", fraction * 100}, {"per_second", p.per_second},
                              {"eta_seconds", p.eta_seconds}});
  };
}

}  // namespace keyledger::replay
