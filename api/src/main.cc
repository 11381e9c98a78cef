// keyledger: the composition root. main() builds each component and hands it its dependencies.
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <string>
#include <fstream>
#include <sstream>
#include <thread>

#include "flags.h"
#include "keyledger/api/admin_api.h"
#include "keyledger/api/http_server.h"
#include "keyledger/api/jwt.h"
#include "keyledger/api/validator_http.h"
#include "keyledger/validator/replica.h"
#include "keyledger/writer/writer.h"
#include "keyledger/common/clock.h"
#include "keyledger/common/log.h"
#include "keyledger/events/catalog.h"
#include "keyledger/projector/projector.h"
#include "keyledger/replay/audit.h"
#include "keyledger/replay/legacy_import.h"
#include "keyledger/replay/live_store.h"
#include "keyledger/replay/rebuild.h"
#include "keyledger/storage/kafka.h"
#include "keyledger/storage/store.h"

namespace keyledger::api {
namespace {

using internal::Flags;

volatile std::sig_atomic_t g_stop = 0;
std::atomic<bool> g_cancel_flag{false};
void OnSignal(int) {
  g_stop = 1;
  g_cancel_flag.store(true);
}

// A last structured line when the process dies of a fatal signal (for example RocksDB's abort on
// a write after a failed file write), then the default action (core dump, exit status 128+N).
// Only async-signal-safe calls.
void OnFatalSignal(int signal) {
  const char* name = signal == SIGABRT ? "SIGABRT" : signal == SIGSEGV ? "SIGSEGV" : signal == SIGBUS ? "SIGBUS" : "SIGFPE";
  constexpr char kHead[] = "{\"level\":\"fatal\",\"msg\":\"keyledger is terminating on a fatal signal; stores are "
                           "left at a consistent log prefix and the next start resumes from it\",\"signal\":\"";
  ssize_t written = write(STDERR_FILENO, kHead, sizeof kHead - 1);
  written = write(STDERR_FILENO, name, std::strlen(name));
  written = write(STDERR_FILENO, "\"}\n", 3);
  (void)written;
  std::signal(signal, SIG_DFL);
  std::raise(signal);
}

constexpr char kUsage[] = R"(usage: keyledger COMMAND [flags]

commands:
  serve      the admin HTTP API with its writer and projector
  token      mint a development JWT (HS256)
  validator  a replica validator answering secret checks over HTTP (nginx auth_request, Envoy ext_authz)
  project    run a standalone projector: the key-event log into RocksDB read models
  replay     rebuild the read models of a store root from offset 0 and publish them (serve switches)
  verify     check the log (decoding, hash chains) and compare a store with a rebuild
  audit      audit query or JSON-lines export of a team's history, from a store
  as-of      a key's state, or the keys able to call a model from a VPC, at a time or offset
  import-legacy FILE   append legacy keys (JSON lines) through the writer; idempotent
  catalog    print the model catalog (OpenAI list shape) and exit
  help       this text

common flags (environment variable in brackets):
  --bootstrap HOST:PORT   Kafka bootstrap servers            [KEYLEDGER_BOOTSTRAP]
  --topic NAME            key-event topic (keyledger.key-events) [KEYLEDGER_TOPIC]
  --catalog FILE          model catalog JSON (default: built in) [KEYLEDGER_CATALOG]
  --min-free-mb N         serve, project, replay, verify: stop writing stores, and say so, when
                          their disk has less than N MiB free (64)

serve flags:
  --listen HOST:PORT      address to serve on (127.0.0.1:8080; port 0 picks one) [KEYLEDGER_LISTEN]
  --port-file FILE        write the bound port here once listening
  --db DIR                store root: generations of the read models (see replay) [KEYLEDGER_DB]
  --partitions N          partitions of the topic when serve creates it (12)
  --writer-id ID          stable writer identity; a second writer with it fences the first (0)
  --jwt-secret SECRET     HS256 secret, at least 32 bytes     [KEYLEDGER_JWT_SECRET]
  --jwt-public-key FILE   PEM public key for RS256/ES256      [KEYLEDGER_JWT_PUBLIC_KEY]
  --jwt-issuer ISS / --jwt-audience AUD   checked when set
  --tls-cert FILE --tls-key FILE          serve HTTPS
  --body-limit BYTES      largest request body (65536)
  --commands-per-second N per-user command rate before 429 (50)

validator flags:
  --listen HOST:PORT      address to serve checks on (127.0.0.1:8081)
  --port-file FILE        write the bound port here once listening
  --snapshot FILE         index snapshot for fast restart (written every 30 s and on shutdown)

token flags:
  --jwt-secret SECRET  --sub USER  --name NAME  --team TEAM  --role owner|member  --ttl SECONDS

replay flags:
  --db DIR                the store root of `serve` (a new generation is built beside the live one)
  --max-events-per-second N   rate limit (0 = none)
  An interrupted replay (Ctrl-C, crash) resumes where it stopped when run again.

verify flags:
  --db DIR                a store root (its live generation) or a store directory; read-only
  --scratch DIR           where the comparison store is built (DIR.verify-scratch)
  exit status 0: all good; 1: a log problem or a differing column family (see the report)

audit flags (read a store: a stopped serve's --db, or a replay; with serve running use the API):
  --db DIR --team TEAM  [--key ID] [--actor USER] [--type key_created|key_renamed|key_regenerated|key_deleted]
  [--since TIME] [--until TIME] [--order newest|oldest] [--limit N] [--cursor C]   one page, JSON
  --export                the team's whole history as JSON lines, oldest first

as-of flags:
  --db DIR --team TEAM (--at TIME | --offset N) and either --key ID, or --model M [--vpc VPC]

import-legacy flags:
  --writer-id ID          the writer identity of `serve` (0). Run the import while serve is stopped:
                          one writer per partition, and this one would fence a running serve.
  --operator NAME         recorded as the actor of the imported events (legacy-import)

project flags:
  --db DIR                RocksDB directory of the read models [KEYLEDGER_DB]
  --exit-when-caught-up   stop once every partition is projected to the end of the log
  --skip PARTITION:OFFSET operator command: skip the event a halted partition stopped at
  --note TEXT             why the event is skipped (recorded with the skip)
  --sync                  fsync every write (survives power loss, slower)
  --max-events-per-second N   rate limit (0 = none)
  --max-batch N           events per RocksDB WriteBatch (20000)
  --write-buffer-kb N     memtable size per column family (32768)
)";

// --catalog FILE (or $KEYLEDGER_CATALOG), else the built-in catalog.
common::Result<events::Catalog> LoadCatalog(const Flags& flags) {
  std::string path = flags.Get("catalog", "KEYLEDGER_CATALOG", "");
  if (path.empty()) return events::Catalog::Default();
  return events::Catalog::LoadFile(path);
}

int Fail(common::Logger& log, const std::string& what, const common::Status& s) {
  log.Error(what, {{"error", s.ToString()}});
  return 1;
}

// --min-free-mb (default 64): stores refuse writes, and the command stops saying so, while their
// filesystem has less free space than this (see storage::StoreOptions::min_free_bytes).
std::uint64_t MinFreeBytes(const Flags& flags) {
  return std::strtoull(flags.Get("min-free-mb", nullptr, "64").c_str(), nullptr, 10) << 20;
}

int RunProject(const Flags& flags, common::Logger& log, const common::Clock& clock) {
  for (const auto& unknown : flags.Unknown({"bootstrap", "topic", "db", "exit-when-caught-up",
                                            "skip", "note", "sync", "catalog",
                                            "max-events-per-second", "max-batch", "write-buffer-kb",
                                            "min-free-mb"})) {
    std::fprintf(stderr, "keyledger project: unknown flag --%s\n", unknown.c_str());
    return 2;
  }
  std::string db = flags.Get("db", "KEYLEDGER_DB", "");
  if (db.empty()) {
    std::fprintf(stderr, "keyledger project: --db is required\n");
    return 2;
  }
  storage::StoreOptions store_options;
  // The read models are rebuilt from Kafka, so by default they skip RocksDB's WAL (atomic
  // flushes keep them a consistent log prefix); --sync keeps a WAL and fsyncs it.
  store_options.sync_writes = flags.Bool("sync");
  store_options.write_ahead_log = flags.Bool("sync");
  store_options.write_buffer_bytes =
      std::strtoull(flags.Get("write-buffer-kb", nullptr, "32768").c_str(), nullptr, 10) * 1024;
  store_options.min_free_bytes = MinFreeBytes(flags);
  if (store_options.write_buffer_bytes < 64 * 1024) {
    std::fprintf(stderr, "keyledger project: --write-buffer-kb must be at least 64\n");
    return 2;
  }
  auto store = storage::Store::Open(db, store_options);
  if (!store.ok()) return Fail(log, "cannot open the store", store.status());

  if (flags.Has("skip")) {
    std::string spec = flags.Get("skip", nullptr, "");
    auto colon = spec.find(':');
    if (colon == std::string::npos) {
      std::fprintf(stderr, "keyledger project: --skip takes PARTITION:OFFSET\n");
      return 2;
    }
    int partition = std::atoi(spec.substr(0, colon).c_str());
    long long offset = std::atoll(spec.substr(colon + 1).c_str());
    common::Status s = projector::SkipHaltedEvent(store->get(), partition, offset,
                                                  flags.Get("note", nullptr, ""), clock);
    if (!s.ok()) return Fail(log, "skip refused", s);
    log.Info("skipped halted event", {{"partition", partition}, {"offset", offset}});
    return 0;
  }

  projector::ProjectorOptions options;
  options.kafka.bootstrap_servers = flags.Get("bootstrap", "KEYLEDGER_BOOTSTRAP", "127.0.0.1:9092");
  options.topic = flags.Get("topic", "KEYLEDGER_TOPIC", "keyledger.key-events");
  options.max_events_per_second = std::strtoull(flags.Get("max-events-per-second", nullptr, "0").c_str(), nullptr, 10);
  options.max_batch_events = std::strtoull(flags.Get("max-batch", nullptr, "20000").c_str(), nullptr, 10);
  if (options.max_batch_events == 0) {
    std::fprintf(stderr, "keyledger project: --max-batch must be at least 1\n");
    return 2;
  }
  projector::Projector projector(options, store->get(), &log, &clock);

  if (flags.Bool("exit-when-caught-up")) {
    common::Status s = projector.RunUntil(24 * 3600 * 1000);
    if (!s.ok()) return Fail(log, "projection failed", s);
    auto stats = projector.stats();
    log.Info("caught up", {{"events", stats.events_applied}, {"halted_partitions", stats.halts}});
    return stats.halts == 0 ? 0 : 3;
  }
  common::Status s = projector.Start();
  if (!s.ok()) return Fail(log, "projector could not start", s);
  log.Info("projector running", {{"topic", options.topic}, {"db", db}});
  std::uint64_t last = 0;
  auto last_time = std::chrono::steady_clock::now();
  while (!g_stop) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    if (std::string failure = projector.stats().failure; !failure.empty()) {
      // The store refused a write (disk full, read-only directory): exit so that a supervisor
      // restarts the projector from its stored offsets once the disk is fixed.
      projector.Stop();
      log.Error("projector stopped", {{"reason", failure}});
      return 1;
    }
    auto now = std::chrono::steady_clock::now();
    if (now - last_time >= std::chrono::seconds(5)) {
      auto stats = projector.stats();
      double secs = std::chrono::duration<double>(now - last_time).count();
      log.Info("progress", {{"events_applied", stats.events_applied},
                            {"events_per_second", (stats.events_applied - last) / secs},
                            {"halted_partitions", stats.halts}});
      last = stats.events_applied;
      last_time = now;
    }
  }
  projector.Stop();
  log.Info("projector stopped", {});
  return 0;
}


replay::RebuildOptions RebuildOptionsFrom(const Flags& flags) {
  replay::RebuildOptions o;
  o.kafka.bootstrap_servers = flags.Get("bootstrap", "KEYLEDGER_BOOTSTRAP", "127.0.0.1:9092");
  o.topic = flags.Get("topic", "KEYLEDGER_TOPIC", "keyledger.key-events");
  o.max_events_per_second = std::strtoull(flags.Get("max-events-per-second", nullptr, "0").c_str(), nullptr, 10);
  o.cancel = &g_cancel_flag;
  o.min_free_bytes = MinFreeBytes(flags);
  return o;
}

bool StderrIsTerminal() { return isatty(fileno(stderr)) != 0; }

int RunReplay(const Flags& flags, common::Logger& log, const common::Clock& clock) {
  for (const auto& unknown : flags.Unknown({"bootstrap", "topic", "db", "max-events-per-second", "min-free-mb"})) {
    std::fprintf(stderr, "keyledger replay: unknown flag --%s\n", unknown.c_str());
    return 2;
  }
  std::string db = flags.Get("db", "KEYLEDGER_DB", "");
  if (db.empty()) {
    std::fprintf(stderr, "keyledger replay: --db (the store root of serve) is required\n");
    return 2;
  }
  replay::RebuildOptions options = RebuildOptionsFrom(flags);
  options.progress = replay::ProgressPrinter("replay", &log, StderrIsTerminal());
  auto report = replay::Rebuild(replay::StoreRoot(db), options, &log, &clock);
  if (!report.ok()) {
    if (g_cancel_flag) {
      log.Warn("replay interrupted; run it again to resume", {{"db", db}});
      return 130;
    }
    return Fail(log, "replay failed", report.status());
  }
  std::printf("replay: %s events into %s in %.1f s (%s)%s\n", std::to_string(report->events_applied).c_str(),
              report->generation_dir.c_str(), report->seconds, report->resumed ? "resumed" : "fresh",
              report->halted_partitions ? "; some partitions are HALTED, see the log" : "");
  return report->halted_partitions == 0 ? 0 : 3;
}

// The live generation of a store root, or a plain store directory, read-only.
common::Result<std::unique_ptr<storage::Store>> OpenStoreReadOnly(const std::string& db) {
  std::string dir = db;
  if (replay::StoreRoot::IsRoot(db)) {
    KL_ASSIGN_OR_RETURN(dir, replay::StoreRoot(db).Live());
  }
  storage::StoreOptions so;
  so.read_only = true;
  so.create_if_missing = false;
  return storage::Store::Open(dir, so);
}

int RunVerify(const Flags& flags, common::Logger& log, const common::Clock& clock) {
  for (const auto& unknown : flags.Unknown({"bootstrap", "topic", "db", "scratch", "min-free-mb"})) {
    std::fprintf(stderr, "keyledger verify: unknown flag --%s\n", unknown.c_str());
    return 2;
  }
  std::string db = flags.Get("db", "KEYLEDGER_DB", "");
  if (db.empty()) {
    std::fprintf(stderr, "keyledger verify: --db is required\n");
    return 2;
  }
  auto store = OpenStoreReadOnly(db);
  if (!store.ok()) return Fail(log, "cannot open the store", store.status());
  replay::VerifyOptions options;
  options.rebuild = RebuildOptionsFrom(flags);
  options.rebuild.progress = replay::ProgressPrinter("verify: reading the log", &log, StderrIsTerminal());
  options.scratch_dir = flags.Get("scratch", nullptr, db + ".verify-scratch");
  auto report = replay::Verify(**store, options, &log, &clock);
  if (!report.ok()) return Fail(log, "verify could not run", report.status());
  std::fputs(report->Text().c_str(), stdout);
  return report->ok() ? 0 : 1;
}

int RunAudit(const Flags& flags, common::Logger& log) {
  for (const auto& unknown : flags.Unknown({"db", "team", "key", "actor", "type", "since", "until", "order",
                                            "limit", "cursor", "export"})) {
    std::fprintf(stderr, "keyledger audit: unknown flag --%s\n", unknown.c_str());
    return 2;
  }
  std::string db = flags.Get("db", "KEYLEDGER_DB", "");
  std::string team = flags.Get("team", nullptr, "");
  if (db.empty() || team.empty()) {
    std::fprintf(stderr, "keyledger audit: --db and --team are required\n");
    return 2;
  }
  auto store = OpenStoreReadOnly(db);
  if (!store.ok()) return Fail(log, "cannot open the store", store.status());
  if (flags.Bool("export")) {
    common::Status s = replay::ExportTeam(**store, team, [](const replay::AuditRecord& r) {
      std::string line = replay::AuditRecordJson(r);
      line.push_back('\n');
      return std::fwrite(line.data(), 1, line.size(), stdout) == line.size();
    });
    if (!s.ok()) return Fail(log, "export failed", s);
    return 0;
  }
  replay::AuditQuery q;
  q.team_id = team;
  q.key_id = flags.Get("key", nullptr, "");
  q.actor_id = flags.Get("actor", nullptr, "");
  if (flags.Has("type")) {
    q.event_type = events::ParseEventTypeName(flags.Get("type", nullptr, ""));
    if (!q.event_type) {
      std::fprintf(stderr, "keyledger audit: --type must be key_created, key_renamed, key_regenerated or key_deleted\n");
      return 2;
    }
  }
  for (const char* bound : {"since", "until"}) {
    if (!flags.Has(bound)) continue;
    auto t = common::ParseRfc3339(flags.Get(bound, nullptr, ""));
    if (!t.ok()) {
      std::fprintf(stderr, "keyledger audit: --%s: %s\n", bound, t.status().message().c_str());
      return 2;
    }
    (std::string(bound) == "since" ? q.since_micros : q.until_micros) = *t;
  }
  std::string order = flags.Get("order", nullptr, "newest");
  if (order != "newest" && order != "oldest") {
    std::fprintf(stderr, "keyledger audit: --order must be newest or oldest\n");
    return 2;
  }
  q.order = order == "newest" ? replay::AuditOrder::kNewestFirst : replay::AuditOrder::kOldestFirst;
  q.limit = std::strtoull(flags.Get("limit", nullptr, "50").c_str(), nullptr, 10);
  q.cursor = flags.Get("cursor", nullptr, "");
  auto page = replay::QueryAudit(**store, q);
  if (!page.ok()) return Fail(log, "audit query failed", page.status());
  std::string out = replay::AuditPageJson(*page) + "\n";
  std::fputs(out.c_str(), stdout);
  return 0;
}

int RunAsOf(const Flags& flags, common::Logger& log) {
  for (const auto& unknown : flags.Unknown({"db", "team", "key", "model", "vpc", "at", "offset", "catalog"})) {
    std::fprintf(stderr, "keyledger as-of: unknown flag --%s\n", unknown.c_str());
    return 2;
  }
  std::string db = flags.Get("db", "KEYLEDGER_DB", "");
  std::string team = flags.Get("team", nullptr, "");
  if (db.empty() || team.empty() || flags.Has("key") == flags.Has("model") || flags.Has("at") == flags.Has("offset")) {
    std::fprintf(stderr, "keyledger as-of: --db, --team, one of --key/--model and one of --at/--offset are required\n");
    return 2;
  }
  replay::AsOf as_of;
  if (flags.Has("at")) {
    auto t = common::ParseRfc3339(flags.Get("at", nullptr, ""));
    if (!t.ok()) {
      std::fprintf(stderr, "keyledger as-of: --at: %s\n", t.status().message().c_str());
      return 2;
    }
    as_of.time_micros = *t;
  } else {
    as_of.offset = std::atoll(flags.Get("offset", nullptr, "0").c_str());
  }
  auto store = OpenStoreReadOnly(db);
  if (!store.ok()) return Fail(log, "cannot open the store", store.status());
  if (flags.Has("key")) {
    auto state = replay::KeyAsOf(**store, team, flags.Get("key", nullptr, ""), as_of);
    if (!state.ok()) return Fail(log, "query failed", state.status());
    std::printf("%s\n", *state ? replay::KeyStateJson(**state).c_str() : "null");
    return 0;
  }
  auto catalog = LoadCatalog(flags);
  if (!catalog.ok()) return Fail(log, "cannot load the catalog", catalog.status());
  auto keys = replay::CallableAsOf(**store, team, flags.Get("model", nullptr, ""), flags.Get("vpc", nullptr, ""),
                                   as_of, *catalog);
  if (!keys.ok()) return Fail(log, "query failed", keys.status());
  std::string out = "[";
  for (size_t i = 0; i < keys->size(); ++i) {
    if (i) out += ",";
    out += replay::KeyStateJson((*keys)[i]);
  }
  out += "]\n";
  std::fputs(out.c_str(), stdout);
  return 0;
}

int RunImportLegacy(const Flags& flags, common::Logger& log, const common::Clock& clock) {
  for (const auto& unknown : flags.Unknown({"bootstrap", "topic", "writer-id", "operator", "catalog"})) {
    std::fprintf(stderr, "keyledger import-legacy: unknown flag --%s\n", unknown.c_str());
    return 2;
  }
  if (flags.positional().size() != 1) {
    std::fprintf(stderr, "keyledger import-legacy: give exactly one FILE of JSON lines\n");
    return 2;
  }
  const std::string& path = flags.positional()[0];
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "keyledger import-legacy: cannot read %s\n", path.c_str());
    return 2;
  }
  std::vector<std::string> errors;
  auto lines = replay::ParseLegacyLines(in, &errors);
  if (!errors.empty()) {
    for (const auto& e : errors) std::fprintf(stderr, "%s: %s\n", path.c_str(), e.c_str());
    std::fprintf(stderr, "keyledger import-legacy: %zu bad line(s); nothing was imported\n", errors.size());
    return 1;
  }
  auto catalog = LoadCatalog(flags);
  if (!catalog.ok()) return Fail(log, "cannot load the catalog", catalog.status());
  common::OsRandom random;
  writer::WriterOptions wo;
  wo.kafka.bootstrap_servers = flags.Get("bootstrap", "KEYLEDGER_BOOTSTRAP", "127.0.0.1:9092");
  wo.topic = flags.Get("topic", "KEYLEDGER_TOPIC", "keyledger.key-events");
  wo.writer_id = flags.Get("writer-id", nullptr, "0");
  wo.command_timeout_ms = 30000;
  writer::Writer writer(wo, &*catalog, &clock, &random, &log);
  common::Status started = writer.Start(60000);
  if (!started.ok()) return Fail(log, "the writer could not start", started);
  std::string operator_name = flags.Get("operator", nullptr, "legacy-import");
  events::Caller caller{operator_name, operator_name, "", events::Role::kOperator};
  auto report = replay::ImportLegacy(writer, lines, caller,
                                     replay::ProgressPrinter("import-legacy", &log, StderrIsTerminal()));
  writer.Stop();
  if (!report.ok()) return Fail(log, "import failed", report.status());
  if (!report->errors.empty()) {
    for (const auto& e : report->errors) std::fprintf(stderr, "%s: %s\n", path.c_str(), e.c_str());
    std::fprintf(stderr, "keyledger import-legacy: %zu line(s) conflict with existing keys; nothing was imported\n",
                 report->errors.size());
    return 1;
  }
  std::printf("import-legacy: %zu lines, %zu imported, %zu already present\n", report->lines, report->imported,
              report->already_present);
  return 0;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

int RunServe(const Flags& flags, common::Logger& log, const common::Clock& clock) {
  for (const auto& unknown : flags.Unknown({"bootstrap", "topic", "db", "catalog", "listen", "port-file",
                                            "partitions", "writer-id", "jwt-secret", "jwt-public-key",
                                            "jwt-issuer", "jwt-audience", "tls-cert", "tls-key",
                                            "body-limit", "commands-per-second", "min-free-mb"})) {
    std::fprintf(stderr, "keyledger serve: unknown flag --%s\n", unknown.c_str());
    return 2;
  }
  std::string db = flags.Get("db", "KEYLEDGER_DB", "");
  if (db.empty()) {
    std::fprintf(stderr, "keyledger serve: --db is required\n");
    return 2;
  }
  auto catalog = LoadCatalog(flags);
  if (!catalog.ok()) return Fail(log, "cannot load the catalog", catalog.status());

  JwtConfig jwt_config;
  jwt_config.hs256_secret = flags.Get("jwt-secret", "KEYLEDGER_JWT_SECRET", "");
  std::string key_file = flags.Get("jwt-public-key", "KEYLEDGER_JWT_PUBLIC_KEY", "");
  if (!key_file.empty()) jwt_config.public_key_pem = ReadFile(key_file);
  jwt_config.issuer = flags.Get("jwt-issuer", nullptr, "");
  jwt_config.audience = flags.Get("jwt-audience", nullptr, "");
  auto jwt = JwtVerifier::Create(jwt_config, &clock);
  if (!jwt.ok()) return Fail(log, "bad JWT configuration", jwt.status());

  storage::KafkaConfig kafka{flags.Get("bootstrap", "KEYLEDGER_BOOTSTRAP", "127.0.0.1:9092"), {}};
  std::string topic = flags.Get("topic", "KEYLEDGER_TOPIC", "keyledger.key-events");
  int partitions = std::atoi(flags.Get("partitions", nullptr, "12").c_str());
  if (partitions < 1) {
    std::fprintf(stderr, "keyledger serve: --partitions must be at least 1\n");
    return 2;
  }
  // Retention forever; an existing topic keeps its partition count.
  auto existing = storage::PartitionCount(kafka, topic, 10000);
  if (!existing.ok()) {
    common::Status created = storage::CreateTopic(kafka, topic, partitions,
                                                  {{"retention.ms", "-1"}, {"retention.bytes", "-1"}}, 15000);
    if (!created.ok()) return Fail(log, "cannot create the event topic", created);
  }

  common::OsRandom random;
  writer::WriterOptions writer_options;
  writer_options.kafka = kafka;
  writer_options.topic = topic;
  writer_options.writer_id = flags.Get("writer-id", nullptr, "0");
  writer::Writer writer(writer_options, &*catalog, &clock, &random, &log);
  common::Status started = writer.Start(30000);
  if (!started.ok()) return Fail(log, "the writer could not start", started);

  // The read models live in generations under --db; `keyledger replay` publishes a rebuilt one
  // and this process switches to it without stopping queries.
  replay::LiveStoreOptions live_options;
  live_options.projector.kafka = kafka;
  live_options.projector.topic = topic;
  live_options.min_free_bytes = MinFreeBytes(flags);
  replay::LiveStore live(replay::StoreRoot(db), live_options, &log, &clock);
  started = live.Start();
  if (!started.ok()) return Fail(log, "the projector could not start", started);

  Metrics metrics;
  AdminApiOptions api_options;
  api_options.commands_per_second_per_user = static_cast<std::uint32_t>(
      std::strtoul(flags.Get("commands-per-second", nullptr, "50").c_str(), nullptr, 10));
  AdminApi api(api_options, &writer, &live, &*catalog, jwt->get(), &clock, &random, &log, &metrics);

  HttpServerOptions http;
  std::string listen = flags.Get("listen", "KEYLEDGER_LISTEN", "127.0.0.1:8080");
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) {
    std::fprintf(stderr, "keyledger serve: --listen takes HOST:PORT\n");
    return 2;
  }
  http.address = listen.substr(0, colon);
  http.port = static_cast<std::uint16_t>(std::atoi(listen.substr(colon + 1).c_str()));
  http.body_limit = std::strtoull(flags.Get("body-limit", nullptr, "65536").c_str(), nullptr, 10);
  http.tls_cert_file = flags.Get("tls-cert", nullptr, "");
  http.tls_key_file = flags.Get("tls-key", nullptr, "");
  HttpServer server(
      http, [&api](const HttpRequest& r) { return api.Handle(r); },
      [](const HttpRequest& r) { return AdminApi::NeedsWorker(r); }, &log);
  started = server.Start();
  if (!started.ok()) return Fail(log, "cannot serve", started);
  if (flags.Has("port-file")) {
    std::string path = flags.Get("port-file", nullptr, "");
    std::string tmp = path + ".tmp";
    std::ofstream(tmp) << server.port() << "\n";
    std::rename(tmp.c_str(), path.c_str());
  }
  log.Info("serving the admin API", {{"address", http.address}, {"port", static_cast<int>(server.port())},
                                     {"tls", !http.tls_cert_file.empty()}, {"topic", topic}});
  int exit_code = 0;
  while (!g_stop) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (std::string failure = live.Acquire()->projector().stats().failure; !failure.empty()) {
      // Reads would go stale and commands could not be read back: stop, and let the supervisor
      // restart the server from the stored offsets once the disk is fixed.
      log.Error("the projector stopped; shutting down", {{"reason", failure}});
      exit_code = 1;
      break;
    }
  }
  // Shutdown order: stop taking requests (in-flight ones finish), then the writer, then the
  // projector, then the store.
  log.Info("shutting down", {});
  server.Shutdown();
  writer.Stop();
  live.Stop();
  log.Info("stopped", {});
  return exit_code;
}

int RunValidator(const Flags& flags, common::Logger& log) {
  for (const auto& unknown : flags.Unknown({"bootstrap", "topic", "catalog", "listen", "port-file", "snapshot"})) {
    std::fprintf(stderr, "keyledger validator: unknown flag --%s\n", unknown.c_str());
    return 2;
  }
  auto catalog = LoadCatalog(flags);
  if (!catalog.ok()) return Fail(log, "cannot load the catalog", catalog.status());
  validator::ReplicaOptions options;
  options.kafka.bootstrap_servers = flags.Get("bootstrap", "KEYLEDGER_BOOTSTRAP", "127.0.0.1:9092");
  options.topic = flags.Get("topic", "KEYLEDGER_TOPIC", "keyledger.key-events");
  options.snapshot_path = flags.Get("snapshot", nullptr, "");
  validator::Replica replica(options, &*catalog, &log);
  common::Status started = replica.Start();
  if (!started.ok()) return Fail(log, "the validator could not start", started);
  ValidatorHttp checks(&replica);
  HttpServerOptions http;
  std::string listen = flags.Get("listen", nullptr, "127.0.0.1:8081");
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) {
    std::fprintf(stderr, "keyledger validator: --listen takes HOST:PORT\n");
    return 2;
  }
  http.address = listen.substr(0, colon);
  http.port = static_cast<std::uint16_t>(std::atoi(listen.substr(colon + 1).c_str()));
  http.body_limit = 8 * 1024;
  HttpServer server(
      http, [&checks](const HttpRequest& r) { return checks.Handle(r); },
      [](const HttpRequest&) { return false; }, &log);
  started = server.Start();
  if (!started.ok()) return Fail(log, "cannot serve", started);
  if (flags.Has("port-file")) {
    std::string path = flags.Get("port-file", nullptr, "");
    std::ofstream(path + ".tmp") << server.port() << "\n";
    std::rename((path + ".tmp").c_str(), path.c_str());
  }
  log.Info("validator serving checks", {{"address", http.address}, {"port", static_cast<int>(server.port())}});
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  server.Shutdown();
  replica.Stop();
  log.Info("validator stopped", {});
  return 0;
}

int RunToken(const Flags& flags) {
  std::string secret = flags.Get("jwt-secret", "KEYLEDGER_JWT_SECRET", "");
  if (secret.size() < 32) {
    std::fprintf(stderr, "keyledger token: --jwt-secret (at least 32 bytes) is required\n");
    return 2;
  }
  TokenClaims claims;
  claims.sub = flags.Get("sub", nullptr, "user-dev");
  claims.name = flags.Get("name", nullptr, claims.sub);
  claims.team_id = flags.Get("team", nullptr, "team-acme");
  claims.role = flags.Get("role", nullptr, "owner");
  if (claims.role != "owner" && claims.role != "member") {
    std::fprintf(stderr, "keyledger token: --role must be owner or member\n");
    return 2;
  }
  claims.issuer = flags.Get("jwt-issuer", nullptr, "");
  claims.audience = flags.Get("jwt-audience", nullptr, "");
  common::SystemClock clock;
  claims.expires_at = clock.NowMicros() / 1000000 + std::atoll(flags.Get("ttl", nullptr, "86400").c_str());
  std::printf("%s\n", MintHs256(claims, secret).c_str());
  return 0;
}

int RunCatalog(const Flags& flags) {
  auto catalog = LoadCatalog(flags);
  if (!catalog.ok()) {
    std::fprintf(stderr, "keyledger catalog: %s\n", catalog.status().ToString().c_str());
    return 1;
  }
  std::string out = "{\"object\":\"list\",\"data\":[";
  bool first = true;
  for (const auto& m : catalog->models()) {
    if (!first) out += ",";
    first = false;
    out += "{\"id\":";
    common::AppendJsonString(out, m.id);
    out += ",\"object\":\"model\",\"created\":" + std::to_string(m.created) + ",\"owned_by\":";
    common::AppendJsonString(out, m.owned_by);
    out += ",\"name\":";
    common::AppendJsonString(out, m.name);
    out += ",\"batch_capable\":";
    out += m.batch_capable ? "true" : "false";
    out += "}";
  }
  out += "]}\n";
  std::fputs(out.c_str(), stdout);
  return 0;
}

}  // namespace
}  // namespace keyledger::api

int main(int argc, char** argv) {
  using namespace keyledger;
  std::signal(SIGINT, api::OnSignal);
  std::signal(SIGTERM, api::OnSignal);
  for (int fatal : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE}) std::signal(fatal, api::OnFatalSignal);
  std::string command = argc > 1 ? argv[1] : "help";
  if (command == "help" || command == "--help" || command == "-h") {
    std::fputs(api::kUsage, stdout);
    return 0;
  }
  auto flags = api::internal::Flags::Parse(argc, argv, 2, {"exit-when-caught-up", "sync", "export"});
  if (!flags.ok()) {
    std::fprintf(stderr, "keyledger: %s\n", flags.status().message().c_str());
    return 2;
  }
  common::SystemClock clock;
  common::Logger log(stderr, &clock);
  if (command == "project") return api::RunProject(*flags, log, clock);
  if (command == "serve") return api::RunServe(*flags, log, clock);
  if (command == "token") return api::RunToken(*flags);
  if (command == "validator") return api::RunValidator(*flags, log);
  if (command == "catalog") return api::RunCatalog(*flags);
  if (command == "replay") return api::RunReplay(*flags, log, clock);
  if (command == "verify") return api::RunVerify(*flags, log, clock);
  if (command == "audit") return api::RunAudit(*flags, log);
  if (command == "as-of") return api::RunAsOf(*flags, log);
  if (command == "import-legacy") return api::RunImportLegacy(*flags, log, clock);
  std::fprintf(stderr, "keyledger: unknown command '%s'\n\n%s", command.c_str(), api::kUsage);
  return 2;
}
