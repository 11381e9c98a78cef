#include "keyledger/events/catalog.h"

#include <boost/json.hpp>

#include <algorithm>
#include <tuple>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "keyledger/common/crypto.h"

namespace keyledger::events {

extern const char kDefaultCatalogJson[];  // Generated from events/catalog/default_catalog.json.

using common::InvalidArgument;
using common::Result;

namespace {

Result<std::string> StringField(const boost::json::object& o, std::string_view key,
                                const std::string& where, bool required) {
  const boost::json::value* v = o.if_contains(key);
  if (v == nullptr) {
    if (required) return InvalidArgument(where + "." + std::string(key) + " is missing");
    return std::string();
  }
  if (!v->is_string()) return InvalidArgument(where + "." + std::string(key) + " must be a string");
  return std::string(v->as_string());
}

}  // namespace

Result<Catalog> Catalog::FromJson(std::string_view json) {
  boost::system::error_code ec;
  boost::json::value root = boost::json::parse(json, ec);
  if (ec) return InvalidArgument("catalog is not valid JSON: " + ec.message());
  if (!root.is_object()) return InvalidArgument("catalog must be a JSON object");
  const auto& obj = root.as_object();
  const boost::json::value* models = obj.if_contains("models");
  if (models == nullptr || !models->is_array()) {
    return InvalidArgument("catalog.models must be an array");
  }
  Catalog catalog;
  for (size_t i = 0; i < models->as_array().size(); ++i) {
    const auto& mv = models->as_array()[i];
    std::string where = "catalog.models[" + std::to_string(i) + "]";
    if (!mv.is_object()) return InvalidArgument(where + " must be an object");
    const auto& mo = mv.as_object();
    Model m;
    KL_ASSIGN_OR_RETURN(m.id, StringField(mo, "id", where, true));
    KL_ASSIGN_OR_RETURN(m.name, StringField(mo, "name", where, false));
    KL_ASSIGN_OR_RETURN(m.owned_by, StringField(mo, "owned_by", where, true));
    KL_ASSIGN_OR_RETURN(m.kind, StringField(mo, "kind", where, true));
    if (m.id.empty()) return InvalidArgument(where + ".id is empty");
    if (const auto* b = mo.if_contains("batch_capable")) {
      if (!b->is_bool()) return InvalidArgument(where + ".batch_capable must be a boolean");
      m.batch_capable = b->as_bool();
    }
    if (const auto* c = mo.if_contains("created")) {
      if (!c->is_int64()) return InvalidArgument(where + ".created must be an integer");
      m.created = c->as_int64();
    }
    if (m.batch_capable &&
        (m.kind != "text" || (m.owned_by != "openai" && m.owned_by != "anthropic"))) {
      return InvalidArgument(where + " (" + m.id +
                             "): only text models owned by openai or anthropic can be batch_capable");
    }
    if (!catalog.model_index_.emplace(m.id, catalog.models_.size()).second) {
      return InvalidArgument(where + ": duplicate model id " + m.id);
    }
    catalog.models_.push_back(std::move(m));
  }
  if (const auto* teams = obj.if_contains("teams")) {
    if (!teams->is_array()) return InvalidArgument("catalog.teams must be an array");
    for (size_t i = 0; i < teams->as_array().size(); ++i) {
      const auto& tv = teams->as_array()[i];
      std::string where = "catalog.teams[" + std::to_string(i) + "]";
      if (!tv.is_object()) return InvalidArgument(where + " must be an object");
      KL_ASSIGN_OR_RETURN(std::string team_id, StringField(tv.as_object(), "team_id", where, true));
      const auto* vpcs = tv.as_object().if_contains("vpcs");
      if (vpcs == nullptr || !vpcs->is_array()) return InvalidArgument(where + ".vpcs must be an array");
      auto& set = catalog.team_vpcs_[team_id];
      auto& list = catalog.team_vpc_list_[team_id];
      for (size_t j = 0; j < vpcs->as_array().size(); ++j) {
        const auto& v = vpcs->as_array()[j];
        const std::string at = where + ".vpcs[" + std::to_string(j) + "]";
        Vpc vpc;
        if (v.is_string()) {
          vpc.id = std::string(v.as_string());
        } else if (v.is_object()) {
          KL_ASSIGN_OR_RETURN(vpc.id, StringField(v.as_object(), "id", at, true));
          KL_ASSIGN_OR_RETURN(vpc.name, StringField(v.as_object(), "name", at, false));
          KL_ASSIGN_OR_RETURN(vpc.region, StringField(v.as_object(), "region", at, false));
        } else {
          return InvalidArgument(at + " must be a VPC UUID or an object {id, name, region}");
        }
        if (!common::IsUuid(vpc.id)) return InvalidArgument(at + ": the id must be a VPC UUID");
        std::transform(vpc.id.begin(), vpc.id.end(), vpc.id.begin(), [](unsigned char c) { return std::tolower(c); });
        if (vpc.name.empty()) vpc.name = vpc.id;
        if (!set.insert(vpc.id).second) return InvalidArgument(at + ": VPC " + vpc.id + " is listed twice");
        list.push_back(std::move(vpc));
      }
      std::sort(list.begin(), list.end(), [](const Vpc& a, const Vpc& b) { return std::tie(a.name, a.id) < std::tie(b.name, b.id); });
    }
  }
  return catalog;
}

Result<Catalog> Catalog::LoadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return InvalidArgument("cannot read catalog file " + path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  auto catalog = FromJson(buffer.str());
  if (!catalog.ok()) return catalog.status().WithContext(path);
  return catalog;
}

Catalog Catalog::Default() {
  auto catalog = FromJson(kDefaultCatalogJson);
  // The default catalog is compiled in and covered by tests; failing here is a build defect.
  if (!catalog.ok()) std::abort();
  return std::move(catalog).value();
}

const Model* Catalog::FindModel(std::string_view id) const {
  auto it = model_index_.find(std::string(id));
  return it == model_index_.end() ? nullptr : &models_[it->second];
}

bool Catalog::TeamHasVpc(std::string_view team_id, std::string_view vpc_uuid) const {
  auto it = team_vpcs_.find(std::string(team_id));
  if (it == team_vpcs_.end()) return false;
  std::string vpc(vpc_uuid);
  std::transform(vpc.begin(), vpc.end(), vpc.begin(), [](unsigned char c) { return std::tolower(c); });
  return it->second.count(vpc) > 0;
}

std::vector<std::string> Catalog::TeamVpcs(std::string_view team_id) const {
  auto it = team_vpcs_.find(std::string(team_id));
  if (it == team_vpcs_.end()) return {};
  std::vector<std::string> out(it->second.begin(), it->second.end());
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<Vpc> Catalog::TeamVpcList(std::string_view team_id) const {
  auto it = team_vpc_list_.find(std::string(team_id));
  return it == team_vpc_list_.end() ? std::vector<Vpc>{} : it->second;
}

}  // namespace keyledger::events
