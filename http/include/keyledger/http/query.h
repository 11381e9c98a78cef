// Query strings: parsed once, percent-decoded ('+' is a space), looked up by name; a repeated
// parameter keeps its last value. Typed getters answer a Problem naming the parameter.
// Thread: values.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "keyledger/http/problem.h"

namespace keyledger::http {

std::string PercentDecode(std::string_view text);

class Query {
 public:
  static Query Parse(std::string_view raw);

  const std::string* Find(std::string_view name) const;
  bool Has(std::string_view name) const { return Find(name) != nullptr; }
  std::string Get(std::string_view name, std::string_view fallback = {}) const;
  // A 400 naming the first parameter that is not in `known`.
  std::optional<Problem> OnlyKnown(std::initializer_list<std::string_view> known) const;
  // The parameter as an integer in [min, max], `fallback` when absent; a 400 saying
  // "<name> must be an integer from <min> to <max>" otherwise.
  ProblemOr<std::int64_t> Int(std::string_view name, std::int64_t min, std::int64_t max,
                              std::int64_t fallback) const;
  const std::map<std::string, std::string, std::less<>>& values() const { return values_; }

 private:
  std::map<std::string, std::string, std::less<>> values_;
};

}  // namespace keyledger::http
