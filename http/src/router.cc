#include "keyledger/http/router.h"

#include <algorithm>

#include "keyledger/http/query.h"

namespace keyledger::http {

namespace {

bool IsUuidSegment(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

}  // namespace

const std::string& PathParams::Get(std::string_view name) const {
  static const std::string kEmpty;
  auto it = values_.find(name);
  return it == values_.end() ? kEmpty : it->second;
}

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> out;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  if (path.empty()) return out;
  while (true) {
    size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

size_t Router::Add(std::string method, std::string pattern, RouteOptions options) {
  Entry entry;
  std::string name;
  for (std::string_view s : SplitPath(pattern)) {
    Segment seg;
    if (s.size() > 2 && s.front() == '{' && s.back() == '}') {
      std::string_view inner = s.substr(1, s.size() - 2);
      size_t colon = inner.find(':');
      seg.param = std::string(inner.substr(0, colon));
      seg.uuid = colon != std::string_view::npos && inner.substr(colon + 1) == "uuid";
      name += "/{" + seg.param + "}";
    } else {
      seg.literal = std::string(s);
      name += "/" + seg.literal;
    }
    entry.segments.push_back(std::move(seg));
  }
  size_t index = entries_.size();
  entry.route = std::make_unique<Route>(Route{std::move(method), std::move(pattern), name.empty() ? "/" : name, options, index});
  entries_.push_back(std::move(entry));
  return index;
}

int Router::MatchEntry(const Entry& entry, const std::vector<std::string_view>& segments, int* score,
                       Match* match) const {
  if (entry.segments.size() != segments.size()) return 0;
  int literals = 0;
  bool typed_ok = true;
  for (size_t i = 0; i < segments.size(); ++i) {
    const Segment& seg = entry.segments[i];
    if (!seg.literal.empty()) {
      if (seg.literal != segments[i]) return 0;
      ++literals;
    } else if (segments[i].empty()) {
      return 0;
    }
  }
  if (match != nullptr) {
    for (size_t i = 0; i < segments.size(); ++i) {
      const Segment& seg = entry.segments[i];
      if (seg.literal.empty()) {
        std::string value = PercentDecode(segments[i]);
        if (seg.uuid && !IsUuidSegment(value) && typed_ok) {
          typed_ok = false;
          match->bad_param = seg.param;
          match->bad_value = value;
        }
        match->params.Set(seg.param, std::move(value));
      }
    }
  }
  *score = literals;
  return typed_ok ? 1 : 2;
}

Router::Match Router::Find(std::string_view method, std::string_view path) const {
  std::vector<std::string_view> segments = SplitPath(path);
  // The best shape first (most literal segments), then the method among routes of that shape.
  int best = -1;
  for (const Entry& e : entries_) {
    int score = 0;
    if (MatchEntry(e, segments, &score, nullptr) != 0) best = std::max(best, score);
  }
  Match match;
  if (best < 0) return match;
  match.path_known = true;
  match.public_path = true;
  for (const Entry& e : entries_) {
    int score = 0;
    if (MatchEntry(e, segments, &score, nullptr) == 0 || score != best) continue;
    match.public_path = match.public_path && e.route->options.public_route;
  }
  for (const Entry& e : entries_) {
    int score = 0;
    if (MatchEntry(e, segments, &score, nullptr) == 0 || score != best) continue;
    if (e.route->method == method) {
      Match found;
      found.path_known = true;
      found.public_path = match.public_path;
      MatchEntry(e, segments, &score, &found);
      found.route = e.route.get();
      return found;
    }
    if (!match.allow.empty()) match.allow += ", ";
    match.allow += e.route->method;
  }
  return match;
}

std::string Router::NameOf(std::string_view path) const {
  std::vector<std::string_view> segments = SplitPath(path);
  int best = -1;
  std::string pattern;
  for (const Entry& e : entries_) {
    int score = 0;
    if (MatchEntry(e, segments, &score, nullptr) != 0 && score > best) {
      best = score;
      pattern = e.route->name;
    }
  }
  return pattern;
}

}  // namespace keyledger::http
