// Prometheus text exposition (format 0.0.4), written by one writer for every component that has
// a /metrics: each family once with its HELP and TYPE lines, label values escaped, and the
// standard process metrics (process_cpu_seconds_total, process_resident_memory_bytes,
// process_virtual_memory_bytes, process_open_fds, process_max_fds, process_start_time_seconds).
// `promtool check metrics` accepts what it writes (tested).
//
// RequestMetrics counts HTTP requests by route, method and status and keeps a latency histogram
// by route. Routes must come from a fixed set (route patterns); methods other than GET, HEAD,
// POST, PUT, DELETE, PATCH and OPTIONS count as "other", so clients cannot add series.
// Thread: MetricsText is a value for one thread; RequestMetrics is thread-safe.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "keyledger/common/mutex.h"

namespace keyledger::http {

using Labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

class MetricsText {
 public:
  // Starts a family; `type` is counter, gauge or histogram. A family is started once.
  void Family(std::string_view name, std::string_view type, std::string_view help);
  // One sample of the current family (`name` may carry a suffix such as _bucket).
  void Sample(std::string_view name, Labels labels, double value);
  void Sample(std::string_view name, const std::vector<std::pair<std::string, std::string>>& labels,
              double value);
  // A family with one unlabelled sample.
  void Counter(std::string_view name, std::string_view help, double value);
  void Gauge(std::string_view name, std::string_view help, double value);
  // The standard process_* metrics of this process, read from /proc.
  void ProcessMetrics();
  const std::string& text() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  void SampleStart(std::string_view name);
  void AppendValue(double value);
  std::string out_;
};

// The text of a number as Prometheus reads it (integers without a fraction).
std::string FormatMetricValue(double value);

class RequestMetrics {
 public:
  void Observe(std::string_view route, std::string_view method, int status, double seconds);
  void Render(MetricsText& out) const;

 private:
  struct Series {
    std::uint64_t count = 0;
    double sum = 0;
    std::vector<std::uint64_t> buckets;
  };
  mutable common::Mutex mu_;
  std::map<std::tuple<std::string, std::string, int>, std::uint64_t> requests_ KL_GUARDED_BY(mu_);
  std::map<std::string, Series> latency_ KL_GUARDED_BY(mu_);
};

}  // namespace keyledger::http
