// keyledger validator: a replica validator answering secret checks over HTTP.
#include "command.h"
#include "keyledger/http/server.h"
#include "keyledger/validator/check_http.h"
#include "keyledger/validator/replica.h"
#include "process.h"

namespace keyledger::cli {

namespace {

struct ValidatorFlags {
  KafkaFlags kafka;
  std::string catalog;
  std::string listen = "127.0.0.1:8081";
  std::string port_file;
  std::string snapshot;
  bool allow_core_dumps = false;
};

}  // namespace

Runner AddValidator(CLI::App& app) {
  auto flags = std::make_shared<ValidatorFlags>();
  CLI::App* cmd = app.add_subcommand(
      "validator", "a replica validator answering secret checks over HTTP (nginx auth_request, Envoy ext_authz)");
  AddKafkaFlags(cmd, &flags->kafka);
  AddCatalogFlag(cmd, &flags->catalog);
  cmd->add_option("--listen", flags->listen, "address to serve checks on, HOST:PORT (port 0 picks one)")
      ->check(ListenAddress())
      ->capture_default_str();
  cmd->add_option("--port-file", flags->port_file, "write the bound port here once listening");
  cmd->add_option("--snapshot", flags->snapshot, "index snapshot for fast restart (written every 30 s and on shutdown)");
  cmd->add_flag("--allow-core-dumps", flags->allow_core_dumps,
                "let a crash write a core file (it may hold secrets: for debugging only)");
  return [flags](const Env& env) {
    if (!flags->allow_core_dumps) {
      if (common::Status s = DisableCoreDumps(); !s.ok()) return Fail(*env.log, "cannot start", s);
    }
    auto catalog = LoadCatalog(flags->catalog);
    if (!catalog.ok()) return Fail(*env.log, "cannot load the catalog", catalog.status());
    http::ServerOptions http;
    http::ParseListenAddress(flags->listen, "--listen", &http).IgnoreError();  // checked by the flag
    http.body_limit = 8 * 1024;
    validator::ReplicaOptions options;
    options.kafka = flags->kafka.config();
    options.topic = flags->kafka.topic;
    options.snapshot_path = flags->snapshot;
    validator::Replica replica(options, &*catalog, env.log, env.clock);
    if (common::Status s = replica.Start(); !s.ok()) return Fail(*env.log, "the validator could not start", s);
    validator::CheckHttp checks(&replica);
    http::Server server(
        http, [&checks](const http::Request& r) { return checks.Handle(r); }, [](const http::Request&) { return false; },
        env.log);
    if (common::Status s = server.Start(); !s.ok()) return Fail(*env.log, "cannot serve", s);
    if (!flags->port_file.empty()) {
      if (common::Status s = http::WritePortFile(flags->port_file, server.port()); !s.ok()) {
        return Fail(*env.log, "cannot write the port file", s);
      }
    }
    env.log->Info("validator serving checks", {{"address", http.address}, {"port", static_cast<int>(server.port())}});
    while (!env.stop->load()) env.clock->SleepForMillis(100);
    server.Shutdown();
    replica.Stop();
    env.log->Info("validator stopped", {});
    return 0;
  };
}

}  // namespace keyledger::cli
