// keyledger validator: a replica validator answering secret checks over HTTP.
#include "command.h"
#include "keyledger/http/server.h"
#include "keyledger/validator/check_http.h"
#include "keyledger/validator/replica.h"
#include "keyledger/validator/replica_status.h"
#include "process.h"

#include <unistd.h>

#include <atomic>
#include <optional>

namespace keyledger::cli {

namespace {

struct ValidatorFlags {
  KafkaFlags kafka;
  std::string catalog;
  std::string listen = "127.0.0.1:8081";
  std::string port_file;
  std::string admin_listen = "127.0.0.1:8082";
  std::string admin_port_file;
  std::string snapshot;
  std::int64_t max_staleness_ms = 5000;
  std::string when_stale = "deny";
  bool allow_core_dumps = false;
  std::string replica_id;
  std::string status_topic;  // default: StatusTopicFor(--topic)
  std::int64_t heartbeat_interval_ms = 1000;
  std::string usage_topic;  // default: events::UsageTopicFor(--topic)
  std::int64_t usage_flush_ms = 10000;
};

// This machine's name, for the default replica id.
std::string HostName() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "validator";
  return name;
}

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
  cmd->add_option("--admin-listen", flags->admin_listen,
                  "address of /healthz, /readyz and /metrics, HOST:PORT (never route a gateway's clients here)")
      ->check(ListenAddress())
      ->capture_default_str();
  cmd->add_option("--admin-port-file", flags->admin_port_file, "write the admin listener's bound port here");
  cmd->add_option("--snapshot", flags->snapshot, "index snapshot for fast restart (written every 30 s and on shutdown)");
  AddIntFlag(cmd, "--max-staleness", &flags->max_staleness_ms,
             "ms since the last confirmation with the brokers after which a partition is stale", 100, 3600 * 1000);
  cmd->add_option("--when-stale", flags->when_stale, "deny (reason stale, 503) or allow the checks of a stale partition")
      ->check(CLI::IsMember({"deny", "allow"}))
      ->capture_default_str();
  cmd->add_flag("--allow-core-dumps", flags->allow_core_dumps,
                "let a crash write a core file (it may hold secrets: for debugging only)");
  cmd->add_option("--replica-id", flags->replica_id,
                  "this replica's name in heartbeats and revocation receipts (default HOSTNAME:CHECK_PORT; keep it "
                  "stable across restarts)");
  cmd->add_option("--status-topic", flags->status_topic,
                  "where heartbeats go (default: TOPIC.replica-status; serve creates it)");
  AddIntFlag(cmd, "--heartbeat-interval-ms", &flags->heartbeat_interval_ms,
             "heartbeats at least this often, and right after each revocation (0: none)", 0, 60000);
  cmd->add_option("--usage-topic", flags->usage_topic,
                  "where usage aggregates go (default: the topic with key-events replaced by key-usage, as "
                  "keyledger.key-usage; serve creates it)");
  AddIntFlag(cmd, "--usage-flush-ms", &flags->usage_flush_ms,
             "send each key's per-minute check counts this often (0: no usage reporting)", 0, 60000);
  return [flags](const Env& env) {
    if (!flags->allow_core_dumps) {
      if (common::Status s = DisableCoreDumps(); !s.ok()) return Fail(*env.log, "cannot start", s);
    }
    auto catalog = LoadCatalog(flags->catalog);
    if (!catalog.ok()) return Fail(*env.log, "cannot load the catalog", catalog.status());
    // Checks may carry an OpenAI-compatible JSON body (for the model), so the check listener takes
    // bodies up to 256 KiB; the admin listener takes none.
    http::ServerOptions check_http;
    http::ParseListenAddress(flags->listen, "--listen", &check_http).IgnoreError();  // checked by the flag
    check_http.body_limit = 256 * 1024;
    http::ServerOptions admin_http;
    http::ParseListenAddress(flags->admin_listen, "--admin-listen", &admin_http).IgnoreError();
    admin_http.body_limit = 1024;
    admin_http.threads = 1;
    validator::ReplicaOptions options;
    options.kafka = flags->kafka.config();
    options.topic = flags->kafka.topic;
    options.snapshot_path = flags->snapshot;
    options.max_staleness_ms = static_cast<int>(flags->max_staleness_ms);
    options.allow_when_stale = flags->when_stale == "allow";
    validator::Replica replica(options, &*catalog, env.log, env.clock);
    // A revocation applied pokes the heartbeat publisher (started once the ports are known).
    std::atomic<validator::HeartbeatPublisher*> poke{nullptr};
    replica.SetOnRevocation([&poke] {
      if (auto* publisher = poke.load()) publisher->Poke();
    });
    // Usage: counted on every check from the start, sent once the replica id is known.
    validator::UsageRecorder usage;
    if (flags->usage_flush_ms > 0) replica.SetUsageRecorder(&usage);
    if (common::Status s = replica.Start(); !s.ok()) return Fail(*env.log, "the validator could not start", s);
    validator::CheckHttp checks(&replica);
    auto no_worker = [](const http::Request&) { return false; };
    http::Server server(check_http, [&checks](const http::Request& r) { return checks.HandleCheck(r); }, no_worker, env.log);
    http::Server admin(admin_http, [&checks](const http::Request& r) { return checks.HandleAdmin(r); }, no_worker, env.log);
    for (auto [listener, port_file] : {std::pair{&server, &flags->port_file}, std::pair{&admin, &flags->admin_port_file}}) {
      if (common::Status s = listener->Start(); !s.ok()) return Fail(*env.log, "cannot serve", s);
      if (!port_file->empty()) {
        if (common::Status s = http::WritePortFile(*port_file, listener->port()); !s.ok()) {
          return Fail(*env.log, "cannot write the port file", s);
        }
      }
    }
    std::optional<validator::HeartbeatPublisher> heartbeats;
    const std::string replica_id =
        flags->replica_id.empty() ? HostName() + ":" + std::to_string(server.port()) : flags->replica_id;
    if (flags->heartbeat_interval_ms > 0) {
      validator::HeartbeatOptions ho;
      ho.kafka = options.kafka;
      ho.topic = flags->status_topic.empty() ? validator::StatusTopicFor(flags->kafka.topic) : flags->status_topic;
      ho.replica_id = replica_id;
      ho.interval_ms = static_cast<int>(flags->heartbeat_interval_ms);
      heartbeats.emplace(ho, [&replica, replica_id] { return replica.Heartbeat(replica_id); }, env.log, env.clock);
      heartbeats->Start();
      poke = &*heartbeats;
    }
    std::optional<validator::UsagePublisher> usage_publisher;
    if (flags->usage_flush_ms > 0) {
      validator::UsagePublisherOptions uo;
      uo.kafka = options.kafka;
      uo.topic = flags->usage_topic.empty() ? events::UsageTopicFor(flags->kafka.topic) : flags->usage_topic;
      uo.replica_id = replica_id;
      uo.flush_interval_ms = static_cast<int>(flags->usage_flush_ms);
      usage_publisher.emplace(uo, &usage, env.log, env.clock);
      if (common::Status s = usage_publisher->Start(); !s.ok()) return Fail(*env.log, "cannot report usage", s);
      checks.SetUsage(&usage, &*usage_publisher);
    }
    env.log->Info("validator serving checks", {{"address", check_http.address},
                                               {"replica_id", replica_id},
                                               {"port", static_cast<int>(server.port())},
                                               {"admin_port", static_cast<int>(admin.port())},
                                               {"max_staleness_ms", flags->max_staleness_ms},
                                               {"when_stale", flags->when_stale}});
    while (!env.stop->load()) env.clock->SleepForMillis(100);
    server.Shutdown();
    admin.Shutdown();
    replica.Stop();  // no more pokes after this
    if (heartbeats) heartbeats->Stop();
    if (usage_publisher) usage_publisher->Stop();  // sends what is left
    env.log->Info("validator stopped", {});
    return 0;
  };
}

}  // namespace keyledger::cli
