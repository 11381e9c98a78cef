// Rebuilding and verifying the read models from the log (SPEC section 7).
//
// A store root is the directory `serve --db` points at. It holds generations of the read-model
// store, each a RocksDB directory, and a file LIVE naming the one the API answers from:
//   ROOT/LIVE            "gen-000002\n", replaced atomically (write + rename)
//   ROOT/gen-000001/     an older generation, removed once nothing reads it any more
//   ROOT/gen-000002/     the live generation
//   ROOT/gen-000003/     a rebuild in progress: it holds the file REBUILDING until it is complete
// Rebuild projects the whole log from offset 0 into a new generation (or resumes an interrupted
// one from its stored offsets: every batch is one atomic WriteBatch with its offsets), and once it
// has caught up with the end of the log as of its start, publishes it by replacing LIVE. A running
// `serve` notices the change and switches (live_store.h).
//
// Verify walks the log (every event decodes, every partition's hash chain holds), rebuilds a
// scratch store up to exactly the offsets a store holds, and compares the two column family by
// column family (SHA-256 over every key and value).
//
// Thread: everything here runs on the caller's thread (progress callbacks included).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "keyledger/common/clock.h"
#include "keyledger/common/crypto.h"
#include "keyledger/common/log.h"
#include "keyledger/common/status.h"
#include "keyledger/storage/kafka.h"
#include "keyledger/storage/store.h"

namespace keyledger::replay {

struct Progress {
  std::uint64_t done = 0;   // events (or records) handled so far
  std::uint64_t total = 0;  // expected in all (an estimate: offsets include transaction markers)
  double per_second = 0;
  double eta_seconds = 0;
  // Rate and ETA from what was done in `seconds`; `total` is raised to `done` if it was low.
  static Progress Of(std::uint64_t done, std::uint64_t total, double seconds);
};
using ProgressCallback = std::function<void(const Progress&)>;

// Generations of a store root. Not thread-safe; one process rebuilds a root at a time.
class StoreRoot {
 public:
  explicit StoreRoot(std::string path) : path_(std::move(path)) {}
  const std::string& path() const { return path_; }

  // The live generation's directory, creating ROOT and a first empty generation if there is none.
  common::Result<std::string> Live() const;
  // The live generation's name ("gen-000002"), or "" if ROOT has none yet.
  common::Result<std::string> LiveName() const;
  // An interrupted rebuild's directory if there is one, else a new generation's (marked REBUILDING).
  // `resumed` says which.
  common::Result<std::string> BeginRebuild(bool* resumed) const;
  // Clears the REBUILDING mark of `generation_dir` and makes it live (atomic rename of LIVE).
  common::Status Publish(const std::string& generation_dir) const;
  // Removes every generation that is neither live nor being rebuilt.
  void RemoveStale(common::Logger* logger) const;

  static bool IsRoot(const std::string& path);

 private:
  std::string path_;
};

struct RebuildOptions {
  storage::KafkaConfig kafka;
  std::string topic = "keyledger.key-events";
  std::uint64_t max_events_per_second = 0;  // 0 = no limit
  size_t max_batch_events = 20000;
  size_t write_buffer_bytes = 64u << 20;
  std::uint64_t min_free_bytes = 0;  // see storage::StoreOptions
  // Set from another thread (a signal handler's flag) to stop early; the rebuild stays resumable.
  const std::atomic<bool>* cancel = nullptr;
  ProgressCallback progress;
  int progress_interval_ms = 1000;
};

struct RebuildReport {
  std::string generation_dir;
  bool resumed = false;
  std::uint64_t events_applied = 0;  // in this run
  double seconds = 0;
  std::uint64_t halted_partitions = 0;
  std::map<std::int32_t, std::int64_t> offsets;  // next offset per partition when done
};

// Rebuilds into a new (or the interrupted) generation of `root` and publishes it. Cancelled
// (code kUnavailable, message "interrupted") leaves the generation to be resumed.
common::Result<RebuildReport> Rebuild(const StoreRoot& root, const RebuildOptions& options,
                                      common::Logger* logger, const common::Clock* clock);

// Projects the log into `store` up to `stop_at` (next offset per partition; nullopt = the end of
// the log as of the call), reporting progress. Used by Rebuild, Verify and benchmarks.
common::Status ProjectInto(storage::Store* store, const RebuildOptions& options,
                           const std::optional<std::map<std::int32_t, std::int64_t>>& stop_at,
                           common::Logger* logger, const common::Clock* clock,
                           std::uint64_t* events_applied = nullptr);

struct ColumnChecksum {
  std::string column;
  std::uint64_t entries = 0;
  common::Sha256Digest sha256{};
};
// SHA-256 over every (key, value) of each column family, lengths included, in key order.
common::Result<std::vector<ColumnChecksum>> Checksums(const storage::Store& store);

struct LogProblem {
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::string what;
};

struct VerifyReport {
  std::uint64_t events = 0;
  std::uint64_t bytes = 0;
  std::map<std::int32_t, std::int64_t> log_end;  // next offset read per partition
  std::vector<LogProblem> log_problems;           // at most one per partition: the first
  std::vector<ColumnChecksum> live;
  std::vector<ColumnChecksum> rebuilt;
  std::vector<std::string> differing_columns;
  double log_seconds = 0;
  double rebuild_seconds = 0;
  bool ok() const { return log_problems.empty() && differing_columns.empty(); }
  // A short human-readable report, one finding per line.
  std::string Text() const;
};

struct VerifyOptions {
  RebuildOptions rebuild;
  std::string scratch_dir;  // where the comparison store is built (removed afterwards)
};

// Verifies the log and compares `store` (opened by the caller, read-only is fine) with a rebuild
// up to the offsets `store` holds.
common::Result<VerifyReport> Verify(const storage::Store& store, const VerifyOptions& options,
                                    common::Logger* logger, const common::Clock* clock);

// A progress bar on a terminal ("\r[####    ] 45%  123,456/270,000 events  98,765/s  ETA 2s"),
// or a JSON log line every few seconds otherwise.
ProgressCallback ProgressPrinter(std::string what, common::Logger* logger, bool terminal);

}  // namespace keyledger::replay
