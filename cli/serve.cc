// keyledger serve: the admin HTTP API with its writer and projector.
#include <chrono>
#include <map>
#include <thread>

#include "command.h"
#include "keyledger/api/admin_api.h"
#include "keyledger/api/jwt.h"
#include "keyledger/common/files.h"
#include "keyledger/http/metrics.h"
#include "keyledger/http/server.h"
#include "keyledger/events/usage.h"
#include "keyledger/http/static_files.h"
#include "keyledger/projector/usage.h"
#include "keyledger/replay/live_store.h"
#include "keyledger/validator/replica_status.h"
#include "keyledger/writer/writer.h"
#include "process.h"

namespace keyledger::cli {

namespace {

struct ServeFlags {
  KafkaFlags kafka;
  std::string db;
  std::string catalog;
  std::string listen = "127.0.0.1:8080";
  std::string port_file;
  std::int64_t partitions = 12;
  std::string writer_id = "0";
  std::string jwt_secret;
  std::string jwt_public_key;
  std::string jwt_issuer;
  std::string jwt_audience;
  std::string tls_cert;
  std::string tls_key;
  std::int64_t body_limit = 64 * 1024;
  std::int64_t commands_per_second = 50;
  std::int64_t min_free_mb = 64;
  std::int64_t max_connections = 1024;
  bool allow_core_dumps = false;
  std::string operator_tokens;
  std::string console_dir;
  bool dev_sign_in = false;
  std::string status_topic;  // default: StatusTopicFor(--topic)
  std::string usage_topic;   // default: events::UsageTopicFor(--topic)
  std::int64_t max_key_lifetime_days = 0;
};

// Creates `topic` unless it exists (an existing topic keeps its partition count and settings).
common::Status CreateTopicIfMissing(const storage::KafkaConfig& kafka, const std::string& topic,
                                    std::int32_t partitions, const std::map<std::string, std::string>& config,
                                    const char* what) {
  if (storage::PartitionCount(kafka, topic, 10000).ok()) return common::Status::Ok();
  return storage::CreateTopic(kafka, topic, partitions, config, 15000).WithContext(what);
}

// Everything `serve` runs, owned in construction order, so that shutdown is destruction in the
// reverse order: the HTTP server stops first (in-flight requests finish), then the API, the
// writer, the live store with its projector.
class ServeStack {
 public:
  ServeStack(const ServeFlags& flags, common::Logger* log, const common::Clock* clock)
      : flags_(flags), log_(log), clock_(clock) {}
  ~ServeStack() {
    if (server_) server_->Shutdown();
    log_->Info("shutting down", {});
  }

  common::Status Start() {
    KL_ASSIGN_OR_RETURN(catalog_, LoadCatalog(flags_.catalog));
    api::JwtConfig jwt_config;
    jwt_config.hs256_secret = flags_.jwt_secret;
    if (!flags_.jwt_public_key.empty()) {
      KL_ASSIGN_OR_RETURN(jwt_config.public_key_pem, common::DefaultFileSystem()->ReadFile(flags_.jwt_public_key));
    }
    jwt_config.issuer = flags_.jwt_issuer;
    jwt_config.audience = flags_.jwt_audience;
    KL_ASSIGN_OR_RETURN(jwt_, api::JwtVerifier::Create(jwt_config, clock_));

    storage::KafkaConfig kafka = flags_.kafka.config();
    // Retention forever.
    KL_RETURN_IF_ERROR(CreateTopicIfMissing(kafka, flags_.kafka.topic, static_cast<std::int32_t>(flags_.partitions),
                                            {{"retention.ms", "-1"}, {"retention.bytes", "-1"}},
                                            "creating the event topic"));
    // Validators' heartbeats (revocation receipts): one partition, compacted by replica id, with
    // segments rolled every 10 minutes (only closed segments are compacted, so a restarted serve
    // reads back little more than the latest heartbeat of each replica) and nothing kept past a day.
    const std::string status_topic =
        flags_.status_topic.empty() ? validator::StatusTopicFor(flags_.kafka.topic) : flags_.status_topic;
    KL_RETURN_IF_ERROR(CreateTopicIfMissing(
        kafka, status_topic, 1, {{"cleanup.policy", "compact,delete"}, {"retention.ms", "86400000"}, {"segment.ms", "600000"}},
        "creating the replica status topic"));
    // Validators' usage aggregates (events/usage.h): keyed by team, kept 32 days so that the usage
    // store (30 days of per-day counts) can be rebuilt from it.
    const std::string usage_topic =
        flags_.usage_topic.empty() ? events::UsageTopicFor(flags_.kafka.topic) : flags_.usage_topic;
    KL_RETURN_IF_ERROR(CreateTopicIfMissing(kafka, usage_topic, static_cast<std::int32_t>(flags_.partitions),
                                            {{"retention.ms", std::to_string(32LL * 86400 * 1000)}},
                                            "creating the usage topic"));
    // The usage read models, beside the key read models' generations: delete --db/usage and
    // serve rebuilds them from the usage topic.
    storage::StoreOptions usage_store_options;
    usage_store_options.write_ahead_log = false;  // rebuilt from the topic after a crash, from the stored offsets
    usage_store_options.min_free_bytes = static_cast<std::uint64_t>(flags_.min_free_mb) << 20;
    KL_RETURN_IF_ERROR(common::DefaultFileSystem()->CreateDirectories(flags_.db));
    KL_ASSIGN_OR_RETURN(usage_store_, projector::OpenUsageStore(common::JoinPath(flags_.db, replay::kUsageStoreDir),
                                                                usage_store_options));
    projector::UsageProjectorOptions usage_options;
    usage_options.kafka = kafka;
    usage_options.topic = usage_topic;
    usage_projector_ = std::make_unique<projector::UsageProjector>(usage_options, usage_store_.get(), log_, clock_);
    usage_projector_->Start();
    usage_reads_ = std::make_unique<projector::UsageReads>(usage_store_.get());
    validator::ReplicaBoardOptions board_options;
    board_options.kafka = kafka;
    board_options.topic = status_topic;
    board_ = std::make_unique<validator::ReplicaBoard>(board_options, log_, clock_);
    KL_RETURN_IF_ERROR(board_->Start());
    // The read models live in generations under --db; `keyledger replay` publishes a rebuilt one
    // and this process switches to it without stopping queries.
    replay::LiveStoreOptions live_options;
    live_options.projector.kafka = kafka;
    live_options.projector.topic = flags_.kafka.topic;
    live_options.min_free_bytes = static_cast<std::uint64_t>(flags_.min_free_mb) << 20;
    live_ = std::make_unique<replay::LiveStore>(replay::StoreRoot(flags_.db), live_options, log_, clock_);
    KL_RETURN_IF_ERROR(live_->Start().WithContext("starting the projector"));

    writer::WriterOptions writer_options;
    writer_options.kafka = kafka;
    writer_options.topic = flags_.kafka.topic;
    writer_options.writer_id = flags_.writer_id;
    writer_ = std::make_unique<writer::Writer>(writer_options, &*catalog_, clock_, &random_, log_);
    KL_RETURN_IF_ERROR(writer_->Start(30000).WithContext("starting the writer"));

    api::AdminApiOptions api_options;
    if (!flags_.operator_tokens.empty()) {
      KL_ASSIGN_OR_RETURN(auto operators, api::ReadOperatorTokenFile(flags_.operator_tokens));
      api_options.operators = api::OperatorAuth(operators);
    }
    if (!flags_.console_dir.empty()) {
      KL_ASSIGN_OR_RETURN(api_options.console.files, http::StaticFiles::Load(flags_.console_dir));
      log_->Info("serving the console", {{"dir", flags_.console_dir},
                                          {"files", static_cast<std::uint64_t>(api_options.console.files->size())}});
    }
    if (flags_.dev_sign_in) {
      if (flags_.console_dir.empty() || flags_.jwt_secret.empty()) {
        return common::InvalidArgument("--dev-sign-in needs --console-dir and --jwt-secret (it mints HS256 sessions)");
      }
      api_options.console.dev_sign_in = true;
      api_options.console.dev_jwt_secret = flags_.jwt_secret;
      log_->Warn("DEVELOPMENT SIGN-IN IS ON: anyone who reaches this server can sign in as a demo user", {});
    }
    api_options.console.secure_cookie = !flags_.tls_cert.empty();
    api_options.commands_per_second_per_user = static_cast<std::uint32_t>(flags_.commands_per_second);
    api_options.replicas = board_.get();
    api_options.usage = usage_reads_.get();
    api_options.usage_stats = [projector = usage_projector_.get()] { return projector->stats(); };
    api_options.max_key_lifetime_seconds = flags_.max_key_lifetime_days * 86400;
    api_ = std::make_unique<api::AdminApi>(api_options, writer_.get(), live_.get(), &*catalog_, jwt_.get(), clock_,
                                           &random_, log_, &metrics_);

    http::ServerOptions http;
    KL_RETURN_IF_ERROR(http::ParseListenAddress(flags_.listen, "--listen", &http));
    http.body_limit = static_cast<size_t>(flags_.body_limit);
    http.max_connections = static_cast<int>(flags_.max_connections);
    http.tls_cert_file = flags_.tls_cert;
    http.tls_key_file = flags_.tls_key;
    api::AdminApi* api = api_.get();
    server_ = std::make_unique<http::Server>(
        http, [api](const http::Request& r) { return api->Handle(r); },
        [api](const http::Request& r) { return api->NeedsWorker(r); }, log_);
    KL_RETURN_IF_ERROR(server_->Start());
    if (!flags_.port_file.empty()) KL_RETURN_IF_ERROR(http::WritePortFile(flags_.port_file, server_->port()));
    log_->Info("serving the admin API", {{"address", http.address},
                                         {"port", static_cast<int>(server_->port())},
                                         {"tls", !http.tls_cert_file.empty()},
                                         {"topic", flags_.kafka.topic}});
    return common::Status::Ok();
  }

  // Why the server must stop on its own ("" while all is well): a projector that stopped because
  // its store refused a write leaves reads stale and commands unreadable.
  std::string Failure() const { return live_->AcquireGeneration()->projector().stats().failure; }
  void Sweep() { api_->Sweep(); }

 private:
  const ServeFlags& flags_;
  common::Logger* log_;
  const common::Clock* clock_;
  common::OsRandom random_;
  std::optional<events::Catalog> catalog_;
  std::unique_ptr<api::JwtVerifier> jwt_;
  std::unique_ptr<storage::Store> usage_store_;
  std::unique_ptr<projector::UsageProjector> usage_projector_;
  std::unique_ptr<projector::UsageReads> usage_reads_;
  std::unique_ptr<validator::ReplicaBoard> board_;
  std::unique_ptr<replay::LiveStore> live_;
  std::unique_ptr<writer::Writer> writer_;
  http::RequestMetrics metrics_;
  std::unique_ptr<api::AdminApi> api_;
  std::unique_ptr<http::Server> server_;
};

}  // namespace

Runner AddServe(CLI::App& app) {
  auto flags = std::make_shared<ServeFlags>();
  CLI::App* cmd = app.add_subcommand("serve", "the admin HTTP API with its writer and projector");
  AddKafkaFlags(cmd, &flags->kafka);
  AddDbFlag(cmd, &flags->db, "store root: generations of the read models (see replay)");
  AddCatalogFlag(cmd, &flags->catalog);
  cmd->add_option("--listen", flags->listen, "address to serve on, HOST:PORT (port 0 picks one)")
      ->envname("KEYLEDGER_LISTEN")
      ->check(ListenAddress())
      ->capture_default_str();
  cmd->add_option("--port-file", flags->port_file, "write the bound port here once listening");
  AddIntFlag(cmd, "--partitions", &flags->partitions, "partitions of the topic when serve creates it", 1, 10000);
  cmd->add_option("--writer-id", flags->writer_id, "stable writer identity; a second writer with it fences the first")
      ->capture_default_str();
  cmd->add_option("--jwt-secret", flags->jwt_secret, "HS256 secret, at least 32 bytes")->envname("KEYLEDGER_JWT_SECRET");
  cmd->add_option("--jwt-public-key", flags->jwt_public_key, "PEM public key for RS256/ES256")
      ->envname("KEYLEDGER_JWT_PUBLIC_KEY");
  cmd->add_option("--jwt-issuer", flags->jwt_issuer, "iss claim required of tokens");
  cmd->add_option("--jwt-audience", flags->jwt_audience, "aud claim required of tokens");
  cmd->add_option("--tls-cert", flags->tls_cert, "PEM certificate chain: serve HTTPS");
  cmd->add_option("--tls-key", flags->tls_key, "PEM private key of --tls-cert");
  AddIntFlag(cmd, "--body-limit", &flags->body_limit, "largest request body in bytes", 1024, 64 << 20);
  AddIntFlag(cmd, "--commands-per-second", &flags->commands_per_second, "per-user command rate before 429 (0: none)",
             0, 1000000);
  AddIntFlag(cmd, "--max-connections", &flags->max_connections, "open connections at most; more are answered 503", 1,
             1000000);
  AddMinFreeFlag(cmd, &flags->min_free_mb);
  cmd->add_option("--operator-tokens", flags->operator_tokens,
                  "file of \"<operator id> <token>\" lines: who may use the operator routes (skip a bad record)")
      ->envname("KEYLEDGER_OPERATOR_TOKENS");
  cmd->add_option("--status-topic", flags->status_topic,
                  "validators' heartbeats, for revocation receipts (default: TOPIC.replica-status; created compacted "
                  "if missing)");
  cmd->add_option("--usage-topic", flags->usage_topic,
                  "validators' usage aggregates (default: the topic with key-events replaced by key-usage, as "
                  "keyledger.key-usage; created if missing)");
  AddIntFlag(cmd, "--max-key-lifetime", &flags->max_key_lifetime_days,
             "days: a new key's expires_at may be at most this far ahead, and a key created without one expires "
             "then (0: no limit)",
             0, 36500);
  cmd->add_option("--console-dir", flags->console_dir,
                  "serve the built console (console/dist) under /console/ on the same origin");
  cmd->add_flag("--dev-sign-in", flags->dev_sign_in,
                "DEVELOPMENT ONLY: /console/dev-sign-in signs anyone in as a demo user (needs --jwt-secret)");
  cmd->add_flag("--allow-core-dumps", flags->allow_core_dumps,
                "let a crash write a core file (it may hold secrets: for debugging only)");
  return [flags](const Env& env) {
    if (!flags->allow_core_dumps) {
      if (common::Status s = DisableCoreDumps(); !s.ok()) return Fail(*env.log, "cannot start", s);
    }
    ServeStack stack(*flags, env.log, env.clock);
    if (common::Status s = stack.Start(); !s.ok()) return Fail(*env.log, "cannot serve", s);
    while (!env.stop->load()) {
      env.clock->SleepForMillis(100);
      stack.Sweep();
      if (std::string failure = stack.Failure(); !failure.empty()) {
        // Reads would go stale and commands could not be read back: stop, and let the supervisor
        // restart the server from the stored offsets once the disk is fixed.
        env.log->Error("the projector stopped; shutting down", {{"reason", failure}});
        return 1;
      }
    }
    return 0;
  };
}

}  // namespace keyledger::cli
