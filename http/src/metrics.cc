#include "keyledger/http/metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

namespace keyledger::http {

namespace {

constexpr double kLatencyBuckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                      0.1,    0.25,  0.5,    1,     2.5,  5};

void AppendLabelValue(std::string& out, std::string_view value) {
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
}

std::string ReadSmallFile(const char* path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace

std::string FormatMetricValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buf[64];
  if (value == std::floor(value) && std::fabs(value) < 9.007199254740992e15) {
    std::snprintf(buf, sizeof buf, "%.0f", value);
    return buf;
  }
  // The shortest text that reads back as the same double.
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, value);
    if (std::strtod(buf, nullptr) == value) break;
  }
  return buf;
}

void MetricsText::Family(std::string_view name, std::string_view type, std::string_view help) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  out_ += help;
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void MetricsText::SampleStart(std::string_view name) { out_ += name; }

void MetricsText::AppendValue(double value) {
  out_ += ' ';
  out_ += FormatMetricValue(value);
  out_ += '\n';
}

void MetricsText::Sample(std::string_view name, Labels labels, double value) {
  SampleStart(name);
  if (labels.size() > 0) {
    out_ += '{';
    bool first = true;
    for (const auto& [k, v] : labels) {
      if (!first) out_ += ',';
      first = false;
      out_ += k;
      out_ += "=\"";
      AppendLabelValue(out_, v);
      out_ += '"';
    }
    out_ += '}';
  }
  AppendValue(value);
}

void MetricsText::Sample(std::string_view name,
                         const std::vector<std::pair<std::string, std::string>>& labels, double value) {
  SampleStart(name);
  if (!labels.empty()) {
    out_ += '{';
    for (size_t i = 0; i < labels.size(); ++i) {
      if (i > 0) out_ += ',';
      out_ += labels[i].first;
      out_ += "=\"";
      AppendLabelValue(out_, labels[i].second);
      out_ += '"';
    }
    out_ += '}';
  }
  AppendValue(value);
}

void MetricsText::Counter(std::string_view name, std::string_view help, double value) {
  Family(name, "counter", help);
  Sample(name, {}, value);
}

void MetricsText::Gauge(std::string_view name, std::string_view help, double value) {
  Family(name, "gauge", help);
  Sample(name, {}, value);
}

void MetricsText::ProcessMetrics() {
  // /proc/self/stat: fields after the command name (which may hold spaces, so split after ')').
  std::string stat = ReadSmallFile("/proc/self/stat");
  size_t close = stat.rfind(')');
  double cpu_seconds = 0, start_seconds = 0, virtual_bytes = 0, resident_bytes = 0;
  if (close != std::string::npos) {
    std::istringstream fields(stat.substr(close + 2));
    std::vector<std::string> f{std::istream_iterator<std::string>(fields), std::istream_iterator<std::string>()};
    // f[0] is field 3 (state): utime = field 14, stime = 15, starttime = 22, vsize = 23, rss = 24.
    if (f.size() > 21) {
      const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
      cpu_seconds = (std::stod(f[11]) + std::stod(f[12])) / ticks;
      virtual_bytes = std::stod(f[20]);
      resident_bytes = std::stod(f[21]) * static_cast<double>(sysconf(_SC_PAGESIZE));
      // Start time is in ticks since boot; boot time comes from /proc/stat's btime.
      std::istringstream proc_stat(ReadSmallFile("/proc/stat"));
      std::string line;
      double boot_time = 0;
      while (std::getline(proc_stat, line)) {
        if (line.rfind("btime ", 0) == 0) boot_time = std::stod(line.substr(6));
      }
      start_seconds = boot_time + std::stod(f[19]) / ticks;
    }
  }
  double open_fds = 0;
  if (DIR* dir = opendir("/proc/self/fd")) {
    while (dirent* entry = readdir(dir)) {
      if (entry->d_name[0] != '.') ++open_fds;
    }
    closedir(dir);
    open_fds -= 1;  // the directory stream itself
  }
  rlimit limit{};
  double max_fds = getrlimit(RLIMIT_NOFILE, &limit) == 0 ? static_cast<double>(limit.rlim_cur) : 0;
  Counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", cpu_seconds);
  Gauge("process_resident_memory_bytes", "Resident memory size in bytes.", resident_bytes);
  Gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", virtual_bytes);
  Gauge("process_open_fds", "Number of open file descriptors.", open_fds);
  Gauge("process_max_fds", "Maximum number of open file descriptors.", max_fds);
  Gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", start_seconds);
}

void RequestMetrics::Observe(std::string_view route, std::string_view method, int status, double seconds) {
  // The method comes from the client, and any token is a method to HTTP: a label per distinct
  // method would let requests grow the maps and /metrics without bound.
  static constexpr std::string_view kMethods[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"};
  bool known = std::find(std::begin(kMethods), std::end(kMethods), method) != std::end(kMethods);
  common::MutexLock lock(&mu_);
  ++requests_[{std::string(route), known ? std::string(method) : "other", status}];
  Series& s = latency_[std::string(route)];
  if (s.buckets.empty()) s.buckets.assign(std::size(kLatencyBuckets), 0);
  ++s.count;
  s.sum += seconds;
  for (size_t i = 0; i < std::size(kLatencyBuckets); ++i) {
    if (seconds <= kLatencyBuckets[i]) ++s.buckets[i];
  }
}

void RequestMetrics::Render(MetricsText& out) const {
  common::MutexLock lock(&mu_);
  out.Family("keyledger_http_requests_total", "counter", "HTTP requests by route, method and status.");
  for (const auto& [key, count] : requests_) {
    const auto& [route, method, status] = key;
    std::string code = std::to_string(status);
    out.Sample("keyledger_http_requests_total", {{"route", route}, {"method", method}, {"status", code}},
               static_cast<double>(count));
  }
  out.Family("keyledger_http_request_duration_seconds", "histogram", "HTTP request latency by route.");
  for (const auto& [route, s] : latency_) {
    for (size_t i = 0; i < std::size(kLatencyBuckets); ++i) {
      std::string le = FormatMetricValue(kLatencyBuckets[i]);
      out.Sample("keyledger_http_request_duration_seconds_bucket", {{"route", route}, {"le", le}},
                 static_cast<double>(s.buckets[i]));
    }
    out.Sample("keyledger_http_request_duration_seconds_bucket", {{"route", route}, {"le", "+Inf"}},
               static_cast<double>(s.count));
    out.Sample("keyledger_http_request_duration_seconds_sum", {{"route", route}}, s.sum);
    out.Sample("keyledger_http_request_duration_seconds_count", {{"route", route}}, static_cast<double>(s.count));
  }
}

}  // namespace keyledger::http
