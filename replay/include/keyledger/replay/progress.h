// Progress of long-running commands (replay, verify, import): rate and ETA, shown as a bar on a
// terminal or as JSON log lines otherwise.
// Thread: values; a ProgressPrinter is called from one thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "keyledger/common/log.h"

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

// A progress bar on a terminal ("\r[####    ] 45%  123,456/270,000 events  98,765/s  ETA 2s"),
// or a JSON log line every few seconds otherwise.
ProgressCallback ProgressPrinter(std::string what, common::Logger* logger, const common::Clock* clock, bool terminal);

}  // namespace keyledger::replay
