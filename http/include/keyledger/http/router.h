// A route table: method + path pattern -> the index of a route, with typed path parameters.
// Callers keep their handlers beside it (a vector indexed the same way), so a handler can take
// whatever the caller passes (the authenticated caller, for the admin API).
//
// Patterns are literal segments and parameters: "/v2/gen-ai/models/api_keys/{uuid:uuid}/events".
// A parameter `{name}` takes any non-empty segment; `{name:uuid}` takes a UUID in the canonical
// 8-4-4-4-12 form. Find tells apart: no route has this path (404), a route has it but not for
// this method (405, with the Allow list), a parameter of the wrong type (the route is still
// named, so callers answer it as they answer a missing entity), and a match with its parameters.
// Literal segments win over parameters where both would match.
//
// Thread: build the table on one thread, then Find from any.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "keyledger/http/message.h"

namespace keyledger::http {

class PathParams {
 public:
  // The parameter's (percent-decoded) segment; "" if the route has no such parameter.
  const std::string& Get(std::string_view name) const;
  void Set(std::string name, std::string value) { values_[std::move(name)] = std::move(value); }

 private:
  std::map<std::string, std::string, std::less<>> values_;
};

struct RouteOptions {
  // The handler may block (commands, heavy reads): the server runs it on a worker thread.
  bool blocking = false;
  // Answered without credentials (health, readiness, metrics, static files).
  bool public_route = false;
  // For operators, who authenticate with an operator token instead of a user's JWT.
  bool operator_route = false;
};

struct Route {
  std::string method;
  std::string pattern;
  std::string name;  // the pattern without parameter types ("/keys/{id}"): the route in metrics
  RouteOptions options;
  size_t index = 0;  // in the order routes were added
};

class Router {
 public:
  // Returns the route's index (0, 1, 2, ... in the order added).
  size_t Add(std::string method, std::string pattern, RouteOptions options = {});

  struct Match {
    const Route* route = nullptr;  // set for a match and for a parameter of the wrong type
    PathParams params;
    std::string bad_param;  // the parameter whose segment has the wrong type
    std::string bad_value;  // that segment
    std::string allow;      // methods the path has, for a 405 ("GET, PUT")
    bool path_known = false;
    bool public_path = false;  // every route of this path is public
  };
  Match Find(std::string_view method, std::string_view path) const;

  // The name of the route a path belongs to whatever the method ("" if none): for metrics labels.
  std::string NameOf(std::string_view path) const;

 private:
  struct Segment {
    std::string literal;  // empty for a parameter
    std::string param;
    bool uuid = false;
  };
  struct Entry {
    std::vector<Segment> segments;
    std::unique_ptr<Route> route;
  };
  // Matches a path's segments against one entry; 0 no, 1 yes, 2 shape matches but a typed
  // parameter does not. Literal matches count in `score` (higher wins).
  int MatchEntry(const Entry& entry, const std::vector<std::string_view>& segments, int* score,
                 Match* match) const;
  std::vector<Entry> entries_;
};

// Path segments between slashes ("/a/b" -> {"a", "b"}; "/" -> {}); an empty segment (a double
// slash) is kept, so it matches nothing.
std::vector<std::string_view> SplitPath(std::string_view path);

}  // namespace keyledger::http
