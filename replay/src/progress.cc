#include "keyledger/replay/progress.h"

#include <algorithm>
#include <cstdio>
#include <memory>

namespace keyledger::replay {

namespace {

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
  p.per_second = seconds > 0 ? static_cast<double>(done) / seconds : 0;
  p.eta_seconds = p.per_second > 0 ? static_cast<double>(p.total - p.done) / p.per_second : 0;
  return p;
}

ProgressCallback ProgressPrinter(std::string what, common::Logger* logger, const common::Clock* clock, bool terminal) {
  auto last_log = std::make_shared<std::int64_t>(-1);
  return [what = std::move(what), logger, clock, terminal, last_log](const Progress& p) {
    double fraction = p.total > 0 ? static_cast<double>(p.done) / static_cast<double>(p.total) : 1.0;
    if (terminal) {
      constexpr int kWidth = 30;
      int filled = static_cast<int>(fraction * kWidth);
      std::string bar(static_cast<size_t>(filled), '#');
      bar.resize(kWidth, ' ');
      std::fprintf(stderr, "\r%s [%s] %3d%%  %s/%s  %s/s  ETA %.0fs   ", what.c_str(), bar.c_str(),
                   static_cast<int>(fraction * 100), HumanCount(p.done).c_str(), HumanCount(p.total).c_str(),
                   HumanCount(static_cast<std::uint64_t>(p.per_second)).c_str(), p.eta_seconds);
      if (p.done >= p.total) std::fputc('\n', stderr);
      std::fflush(stderr);
      return;
    }
    std::int64_t now = clock->MonotonicMillis();
    if (*last_log >= 0 && now - *last_log < 2000 && p.done < p.total) return;
    *last_log = now;
    logger->Info("progress", {{"task", what},
                              {"done", p.done},
                              {"total", p.total},
                              {"percent", fraction * 100},
                              {"per_second", p.per_second},
                              {"eta_seconds", p.eta_seconds}});
  };
}

}  // namespace keyledger::replay
