// keyledger: the composition root. main() builds each component and hands it its dependencies.
#include <csignal>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include "flags.h"
#include "keyledger/common/clock.h"
#include "keyledger/common/log.h"
#include "keyledger/events/catalog.h"
#include "keyledger/projector/projector.h"
#include "keyledger/storage/kafka.h"
#include "keyledger/storage/store.h"

namespace keyledger::api {
namespace {

using internal::Flags;

volatile std::sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

constexpr char kUsage[] = R"(usage: keyledger COMMAND [flags]

commands:
  project    run a standalone projector: the key-event log into RocksDB read models
  catalog    print the model catalog (OpenAI list shape) and exit
  help       this text

common flags (environment variable in brackets):
  --bootstrap HOST:PORT   Kafka bootstrap servers            [KEYLEDGER_BOOTSTRAP]
  --topic NAME            key-event topic (keyledger.key-events) [KEYLEDGER_TOPIC]
  --catalog FILE          model catalog JSON (default: built in) [KEYLEDGER_CATALOG]

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

int Fail(common::Logger& log, const std::string& what, const common::Status& s) {
  log.Error(what, {{"error", s.ToString()}});
  return 1;
}

int RunProject(const Flags& flags, common::Logger& log, const common::Clock& clock) {
  for (const auto& unknown : flags.Unknown({"bootstrap", "topic", "db", "exit-when-caught-up",
                                            "skip", "note", "sync", "catalog",
                                            "max-events-per-second", "max-batch", "write-buffer-kb"})) {
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

int RunCatalog(const Flags& flags) {
  std::string path = flags.Get("catalog", "KEYLEDGER_CATALOG", "");
  auto catalog = path.empty() ? common::Result<events::Catalog>(events::Catalog::Default())
                              : events::Catalog::LoadFile(path);
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
  std::string command = argc > 1 ? argv[1] : "help";
  if (command == "help" || command == "--help" || command == "-h") {
    std::fputs(api::kUsage, stdout);
    return 0;
  }
  auto flags = api::internal::Flags::Parse(argc, argv, 2, {"exit-when-caught-up", "sync"});
  if (!flags.ok()) {
    std::fprintf(stderr, "keyledger: %s\n", flags.status().message().c_str());
    return 2;
  }
  common::SystemClock clock;
  common::Logger log(stderr, &clock);
  if (command == "project") return api::RunProject(*flags, log, clock);
  if (command == "catalog") return api::RunCatalog(*flags);
  std::fprintf(stderr, "keyledger: unknown command '%s'\n\n%s", command.c_str(), api::kUsage);
  return 2;
}
