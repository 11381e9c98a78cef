#include "keyledger/http/query.h"

#include <algorithm>
#include <cctype>

#include "keyledger/common/text.h"

namespace keyledger::http {

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

Query Query::Parse(std::string_view raw) {
  Query q;
  while (!raw.empty()) {
    size_t amp = raw.find('&');
    std::string_view pair = raw.substr(0, amp);
    size_t eq = pair.find('=');
    std::string key = PercentDecode(pair.substr(0, eq));
    std::string value = eq == std::string_view::npos ? "" : PercentDecode(pair.substr(eq + 1));
    if (!key.empty()) q.values_[std::move(key)] = std::move(value);
    if (amp == std::string_view::npos) break;
    raw.remove_prefix(amp + 1);
  }
  return q;
}

const std::string* Query::Find(std::string_view name) const {
  auto it = values_.find(name);
  return it == values_.end() ? nullptr : &it->second;
}

std::string Query::Get(std::string_view name, std::string_view fallback) const {
  const std::string* v = Find(name);
  return v ? *v : std::string(fallback);
}

std::optional<Problem> Query::OnlyKnown(std::initializer_list<std::string_view> known) const {
  for (const auto& [k, v] : values_) {
    if (std::find(known.begin(), known.end(), k) == known.end()) {
      return Problem::BadRequest("unknown query parameter " + k);
    }
  }
  return std::nullopt;
}

ProblemOr<std::int64_t> Query::Int(std::string_view name, std::int64_t min, std::int64_t max,
                                   std::int64_t fallback) const {
  const std::string* v = Find(name);
  if (v == nullptr) return fallback;
  auto parsed = common::ParseInt64(*v, min, max);
  if (!parsed) {
    return Problem::BadRequest(std::string(name) + " must be an integer from " + std::to_string(min) +
                               " to " + std::to_string(max));
  }
  return *parsed;
}

}  // namespace keyledger::http
