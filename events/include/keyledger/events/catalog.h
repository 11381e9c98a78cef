// The model catalog and the teams' VPCs that the key rules check against.
//
// File format (JSON): {"models": [{"id", "name", "owned_by", "kind", "batch_capable", "created"}],
//                      "teams": [{"team_id", "vpcs": [{"id", "name", "region"} | uuid, ...]}]}
// (a bare UUID is a VPC named by its id, with no region)
// `batch_capable` may be true only for text models owned by openai or anthropic (SPEC section 1);
// a file that says otherwise is rejected. The default catalog is compiled in from
// events/catalog/default_catalog.json.
// Thread: immutable after construction; safe to share between threads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "keyledger/common/status.h"

namespace keyledger::events {

struct Model {
  std::string id;
  std::string name;
  std::string owned_by;
  std::string kind;  // "text", "image", "embedding", ...
  bool batch_capable = false;
  std::int64_t created = 0;  // Unix seconds, as in the OpenAI model list.
};

// A team's VPC in the platform's shape.
struct Vpc {
  std::string id;  // lower-case UUID
  std::string name;
  std::string region;
  friend bool operator==(const Vpc&, const Vpc&) = default;
};

class Catalog {
 public:
  static common::Result<Catalog> FromJson(std::string_view json);
  static common::Result<Catalog> LoadFile(const std::string& path);
  static Catalog Default();

  const std::vector<Model>& models() const { return models_; }
  const Model* FindModel(std::string_view id) const;
  bool TeamHasVpc(std::string_view team_id, std::string_view vpc_uuid) const;
  std::vector<std::string> TeamVpcs(std::string_view team_id) const;
  // The team's VPCs by name (then id).
  std::vector<Vpc> TeamVpcList(std::string_view team_id) const;

 private:
  std::vector<Model> models_;
  std::unordered_map<std::string, size_t> model_index_;
  std::unordered_map<std::string, std::unordered_set<std::string>> team_vpcs_;
  std::unordered_map<std::string, std::vector<Vpc>> team_vpc_list_;
};

}  // namespace keyledger::events
