// One machine-readable line per figure, printed beside a benchmark's human output, for
// bench/run_all.sh to collect into one table:
//   RESULT name=<id> label="<what is measured>" value=<number> unit=<unit>
//          [reference=<number> reference_label="<what the reference does>" ratio=<value/reference>]
//          [target="value >= N" | "value <= N" | "ratio >= N"] [detail="<more figures>"]
// Numbers are plain decimals; a unit has no spaces; quoted text never contains a double quote.
#pragma once

#include <cstdarg>
#include <cstdio>
#include <optional>
#include <string>

namespace keyledger::bench {

struct Result {
  std::string name;  // stable id, e.g. "writer.create"
  std::string label;
  double value = 0;
  std::string unit;
  std::optional<double> reference;  // same unit as value, measured in the same run
  std::string reference_label;
  std::string target;
  std::string detail;
};

inline void PrintResult(const Result& r) {
  std::printf("RESULT name=%s label=\"%s\" value=%.3f unit=%s", r.name.c_str(), r.label.c_str(),
              r.value, r.unit.c_str());
  if (r.reference) {
    std::printf(" reference=%.3f reference_label=\"%s\"", *r.reference, r.reference_label.c_str());
    if (*r.reference > 0) std::printf(" ratio=%.4f", r.value / *r.reference);
  }
  if (!r.target.empty()) std::printf(" target=\"%s\"", r.target.c_str());
  if (!r.detail.empty()) std::printf(" detail=\"%s\"", r.detail.c_str());
  std::printf("\n");
  std::fflush(stdout);
}

// printf into a std::string (truncated at 511 bytes), for the label and detail fields.
[[gnu::format(printf, 1, 2)]] inline std::string Format(const char* format, ...) {
  char buf[512];
  va_list args;
  va_start(args, format);
  std::vsnprintf(buf, sizeof buf, format, args);
  va_end(args);
  return buf;
}

}  // namespace keyledger::bench
