// Verifying the log and a store (SPEC section 7): walk the log as every consumer does (every
// event decodes, every partition's hash chain holds, events/partition_guard.h; a bad record an
// operator skipped is reported, not a problem), rebuild a scratch store up to exactly the offsets a store holds,
// and compare the two column family by column family (SHA-256 over every key and value).
// Thread: the caller's.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "keyledger/common/crypto.h"
#include "keyledger/replay/rebuild.h"

namespace keyledger::replay {

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
  std::vector<LogProblem> log_problems;           // at most one per partition: where it halts
  std::vector<LogProblem> skipped;                // bad records an operator skipped (not problems)
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

}  // namespace keyledger::replay
