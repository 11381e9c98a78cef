// keyledger audit and keyledger as-of: audit queries and point-in-time answers from a store
// (a stopped serve's --db, or a replay; with serve running use the API). They print the same JSON
// the API answers (api/render.h) and parse their flags with the API's own parsers.
#include <map>

#include "command.h"
#include "keyledger/api/audit_query.h"
#include "keyledger/api/render.h"
#include "keyledger/replay/audit.h"

namespace keyledger::cli {

namespace {

namespace json = boost::json;

// Flags by the name the API's parameter has.
struct NamedFlags {
  std::map<std::string, std::string, std::less<>> values;
  // Adds --flag for the parameter `param`.
  void Add(CLI::App* cmd, const std::string& flag, const std::string& param, const std::string& help) {
    cmd->add_option_function<std::string>(flag, [this, param](const std::string& v) { values[param] = v; }, help);
  }
  api::ParamLookup Lookup() const {
    return [this](std::string_view name) {
      auto it = values.find(name);
      return it == values.end() ? nullptr : &it->second;
    };
  }
};

void Print(const json::value& value) { std::printf("%s\n", json::serialize(value).c_str()); }

}  // namespace

Runner AddAudit(CLI::App& app) {
  struct Flags {
    std::string db, team;
    bool export_all = false;
    NamedFlags query;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("audit", "audit query (one page, JSON) or JSON-lines export of a team's history");
  AddDbFlag(cmd, &flags->db, "a store root or store directory (read-only)");
  cmd->add_option("--team", flags->team, "the team whose history is asked")->required();
  flags->query.Add(cmd, "--key", "key_id", "only this key's events");
  flags->query.Add(cmd, "--actor", "actor_id", "only this user's actions");
  flags->query.Add(cmd, "--type", "event_type", "key_created, key_renamed, key_regenerated or key_deleted");
  flags->query.Add(cmd, "--since", "since", "from this time on (RFC 3339, inclusive)");
  flags->query.Add(cmd, "--until", "until", "before this time (RFC 3339, exclusive)");
  flags->query.Add(cmd, "--order", "order", "newest (default) or oldest first");
  flags->query.Add(cmd, "--limit", "limit", "records per page, 1 to 1000 (50)");
  flags->query.Add(cmd, "--cursor", "cursor", "the next_cursor of a previous page");
  cmd->add_flag("--export", flags->export_all, "the team's whole history as JSON lines, oldest first");
  return [flags](const Env& env) {
    auto query = api::ParseAuditQuery(flags->team, flags->query.Lookup());
    if (!query.ok()) {
      std::fprintf(stderr, "keyledger audit: %s\n", query.status().message().c_str());
      return 2;
    }
    auto store = OpenStoreReadOnly(flags->db);
    if (!store.ok()) return Fail(*env.log, "cannot open the store", store.status());
    if (flags->export_all) {
      common::Status s = replay::ExportTeam(**store, flags->team, [](const replay::AuditRecord& r) {
        std::string line = json::serialize(api::AuditRecordJson(r));
        line.push_back('\n');
        return std::fwrite(line.data(), 1, line.size(), stdout) == line.size();
      });
      if (!s.ok()) return Fail(*env.log, "export failed", s);
      return 0;
    }
    auto page = replay::QueryAudit(**store, *query);
    if (!page.ok()) return Fail(*env.log, "audit query failed", page.status());
    Print(api::AuditPageJson(*page));
    return 0;
  };
}

Runner AddAsOf(CLI::App& app) {
  struct Flags {
    std::string db, team, key, model, vpc, catalog;
    NamedFlags when;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("as-of", "a key's state, or the keys able to call a model from a VPC, at a time or offset");
  AddDbFlag(cmd, &flags->db, "a store root or store directory (read-only)");
  cmd->add_option("--team", flags->team, "the team")->required();
  auto* key = cmd->add_option("--key", flags->key, "the key whose state is asked");
  auto* model = cmd->add_option("--model", flags->model, "the keys able to call this model");
  key->excludes(model);
  cmd->add_option("--vpc", flags->vpc, "with --model: from this VPC (absent: the public internet)")->needs(model);
  flags->when.Add(cmd, "--at", "at", "the time (RFC 3339)");
  flags->when.Add(cmd, "--offset", "offset", "the offset of the team's partition (inclusive)");
  AddCatalogFlag(cmd, &flags->catalog);
  return [flags](const Env& env) {
    if (flags->key.empty() == flags->model.empty()) {
      std::fprintf(stderr, "keyledger as-of: give one of --key and --model\n");
      return 2;
    }
    auto as_of = api::ParseAsOf(flags->when.Lookup());
    if (!as_of.ok()) {
      std::fprintf(stderr, "keyledger as-of: %s\n", as_of.status().message().c_str());
      return 2;
    }
    auto store = OpenStoreReadOnly(flags->db);
    if (!store.ok()) return Fail(*env.log, "cannot open the store", store.status());
    if (!flags->key.empty()) {
      auto state = replay::KeyAsOf(**store, flags->team, flags->key, *as_of);
      if (!state.ok()) return Fail(*env.log, "query failed", state.status());
      Print(*state ? json::value(api::KeyStateJson(**state)) : json::value(nullptr));
      return 0;
    }
    auto catalog = LoadCatalog(flags->catalog);
    if (!catalog.ok()) return Fail(*env.log, "cannot load the catalog", catalog.status());
    auto keys = replay::CallableAsOf(**store, flags->team, flags->model, flags->vpc, *as_of, *catalog);
    if (!keys.ok()) return Fail(*env.log, "query failed", keys.status());
    json::array out;
    for (const auto& k : *keys) out.push_back(api::KeyStateJson(k));
    Print(out);
    return 0;
  };
}

}  // namespace keyledger::cli
