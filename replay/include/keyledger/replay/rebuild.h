// Rebuilding the read models from the log (SPEC section 7).
//
// Rebuild projects the whole log from offset 0 into a new generation of a store root
// (store_root.h), or resumes an interrupted one from its stored offsets (every batch is one
// atomic WriteBatch with its offsets), and once it has caught up with the end of the log as of its
// start, publishes it by replacing LIVE. A running `serve` notices the change and switches
// (live_store.h). A generation with a halted partition is not published: it would answer that
// partition's teams from an incomplete history (RebuildOptions::publish_with_halts overrides).
// Verifying a store against a rebuild is verify.h.
//
// Thread: everything here runs on the caller's thread (progress callbacks included).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "keyledger/common/clock.h"
#include "keyledger/common/log.h"
#include "keyledger/common/status.h"
#include "keyledger/replay/progress.h"
#include "keyledger/replay/store_root.h"
#include "keyledger/storage/kafka.h"
#include "keyledger/storage/store.h"

namespace keyledger::replay {

struct RebuildOptions {
  storage::KafkaConfig kafka;
  std::string topic = storage::kDefaultTopic;
  std::uint64_t max_events_per_second = 0;  // 0 = no limit
  size_t max_batch_events = 20000;
  size_t write_buffer_bytes = 64u << 20;
  std::uint64_t min_free_bytes = 0;  // see storage::StoreOptions
  // Set from another thread (a signal handler's flag) to stop early; the rebuild stays resumable.
  const std::atomic<bool>* cancel = nullptr;
  ProgressCallback progress;
  int progress_interval_ms = 1000;
  // A generation with a halted partition is not published (FailedPrecondition naming the halts;
  // the generation stays for a resume once an operator has skipped the record) unless this is set.
  bool publish_with_halts = false;
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

// Opens a read-model store for a rebuild or a comparison: no WAL (atomic flushes keep it a
// prefix of the log; see storage/store.h).
common::Result<std::unique_ptr<storage::Store>> OpenRebuildStore(const std::string& dir, const RebuildOptions& options);

}  // namespace keyledger::replay
