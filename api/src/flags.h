// Minimal command-line flags: --name value, --name=value, boolean --name; each flag may fall back
// to an environment variable. Private to api/.
#pragma once

#include <algorithm>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "keyledger/common/status.h"

namespace keyledger::api::internal {

class Flags {
 public:
  // `booleans` are flags that take no value.
  static common::Result<Flags> Parse(int argc, char** argv, int first,
                                     const std::vector<std::string>& booleans) {
    Flags f;
    for (int i = first; i < argc; ++i) {
      std::string arg = argv[i];
      if (arg.rfind("--", 0) != 0) {
        f.positional_.push_back(arg);
        continue;
      }
      std::string name = arg.substr(2), value;
      if (auto eq = name.find('='); eq != std::string::npos) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
      } else if (std::find(booleans.begin(), booleans.end(), name) != booleans.end()) {
        value = "true";
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        return common::InvalidArgument("flag --" + name + " needs a value");
      }
      f.values_[name] = value;
    }
    return f;
  }

  std::string Get(const std::string& name, const char* env, const std::string& fallback) const {
    if (auto it = values_.find(name); it != values_.end()) return it->second;
    if (env != nullptr) {
      if (const char* v = std::getenv(env); v != nullptr && *v != '\0') return v;
    }
    return fallback;
  }
  bool Has(const std::string& name) const { return values_.count(name) > 0; }
  bool Bool(const std::string& name) const {
    auto it = values_.find(name);
    return it != values_.end() && it->second != "false" && it->second != "0";
  }
  const std::vector<std::string>& positional() const { return positional_; }
  std::vector<std::string> Unknown(const std::vector<std::string>& known) const {
    std::vector<std::string> out;
    for (const auto& [k, v] : values_) {
      if (std::find(known.begin(), known.end(), k) == known.end()) out.push_back(k);
    }
    return out;
  }

 private:
  std::map<std::string, std::string> values_;
  std::vector<std::string> positional_;
};

}  // namespace keyledger::api::internal
