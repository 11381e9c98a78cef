// Structured logs: one JSON object per line, {"ts","level","msg",...fields}.
//
// Never pass a secret as a field; secret hashes are fine only as hex and only where needed.
// Thread: Logger is thread-safe (a mutex guards the sink).
#pragma once

#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>

#include "keyledger/common/clock.h"
#include "keyledger/common/mutex.h"

namespace keyledger::common {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

struct LogField {
  using Value = std::variant<std::string_view, std::int64_t, std::uint64_t, double, bool>;
  LogField(std::string_view k, std::string_view v) : key(k), value(v) {}
  LogField(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
  LogField(std::string_view k, const std::string& v) : key(k), value(std::string_view(v)) {}
  LogField(std::string_view k, int v) : key(k), value(static_cast<std::int64_t>(v)) {}
  LogField(std::string_view k, long v) : key(k), value(static_cast<std::int64_t>(v)) {}
  LogField(std::string_view k, long long v) : key(k), value(static_cast<std::int64_t>(v)) {}
  LogField(std::string_view k, unsigned v) : key(k), value(static_cast<std::uint64_t>(v)) {}
  LogField(std::string_view k, unsigned long v) : key(k), value(static_cast<std::uint64_t>(v)) {}
  LogField(std::string_view k, unsigned long long v) : key(k), value(static_cast<std::uint64_t>(v)) {}
  LogField(std::string_view k, double v) : key(k), value(v) {}
  LogField(std::string_view k, bool v) : key(k), value(v) {}
  std::string_view key;
  Value value;
};

// Appends `text` as a JSON string literal (quotes included), escaping as RFC 8259 requires;
// bytes that are not well-formed UTF-8 come out as U+FFFD (see ToValidUtf8).
void AppendJsonString(std::string& out, std::string_view text);

// `text` with every byte that does not belong to a well-formed UTF-8 sequence (stray
// continuation bytes, truncated or overlong sequences, surrogates, code points past U+10FFFF)
// replaced by U+FFFD, so that text taken from a request can be put into JSON, which must be UTF-8.
std::string ToValidUtf8(std::string_view text);

class Logger {
 public:
  // `sink` must outlive the logger; `clock` too.
  Logger(std::FILE* sink, const Clock* clock, LogLevel min_level = LogLevel::kInfo)
      : sink_(sink), clock_(clock), min_level_(min_level) {}

  void Log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields = {});
  void Debug(std::string_view msg, std::initializer_list<LogField> f = {}) { Log(LogLevel::kDebug, msg, f); }
  void Info(std::string_view msg, std::initializer_list<LogField> f = {}) { Log(LogLevel::kInfo, msg, f); }
  void Warn(std::string_view msg, std::initializer_list<LogField> f = {}) { Log(LogLevel::kWarn, msg, f); }
  void Error(std::string_view msg, std::initializer_list<LogField> f = {}) { Log(LogLevel::kError, msg, f); }

  // The line that Log would write, without the trailing newline (exposed for tests).
  std::string Format(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields) const;

 private:
  std::FILE* sink_;
  const Clock* clock_;
  LogLevel min_level_;
  Mutex mu_;  // Held while a line goes to the sink, so lines never interleave.
};

}  // namespace keyledger::common
