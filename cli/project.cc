// keyledger project: a standalone projector, the key-event log into RocksDB read models.
#include "command.h"
#include "keyledger/projector/projector.h"

namespace keyledger::cli {

namespace {

struct ProjectFlags {
  KafkaFlags kafka;
  std::string db;
  std::string catalog;  // accepted for symmetry with the other commands; the projector needs none
  bool exit_when_caught_up = false;
  bool sync = false;
  std::int64_t max_events_per_second = 0;
  std::int64_t max_batch = 20000;
  std::int64_t write_buffer_kb = 32768;
  std::int64_t min_free_mb = 64;
};

}  // namespace

Runner AddProject(CLI::App& app) {
  auto flags = std::make_shared<ProjectFlags>();
  CLI::App* cmd = app.add_subcommand("project", "run a standalone projector: the key-event log into RocksDB read models");
  AddKafkaFlags(cmd, &flags->kafka);
  AddDbFlag(cmd, &flags->db, "RocksDB directory of the read models");
  AddCatalogFlag(cmd, &flags->catalog);
  cmd->add_flag("--exit-when-caught-up", flags->exit_when_caught_up,
                "stop once every partition is projected to the end of the log (exit 3 if any halted)");
  cmd->add_flag("--sync", flags->sync, "keep a WAL and fsync every write (survives power loss, slower)");
  AddIntFlag(cmd, "--max-events-per-second", &flags->max_events_per_second, "rate limit (0: none)", 0, INT64_MAX);
  AddIntFlag(cmd, "--max-batch", &flags->max_batch, "events per RocksDB WriteBatch", 1, 10000000);
  AddIntFlag(cmd, "--write-buffer-kb", &flags->write_buffer_kb, "memtable size per column family (KiB)", 64, 1 << 24);
  AddMinFreeFlag(cmd, &flags->min_free_mb);
  return [flags](const Env& env) {
    storage::StoreOptions store_options;
    // The read models are rebuilt from Kafka, so by default they skip RocksDB's WAL (atomic
    // flushes keep them a consistent log prefix); --sync keeps a WAL and fsyncs it.
    store_options.sync_writes = flags->sync;
    store_options.write_ahead_log = flags->sync;
    store_options.write_buffer_bytes = static_cast<size_t>(flags->write_buffer_kb) * 1024;
    store_options.min_free_bytes = static_cast<std::uint64_t>(flags->min_free_mb) << 20;
    auto store = projector::OpenReadModelStore(flags->db, store_options);
    if (!store.ok()) return Fail(*env.log, "cannot open the store", store.status());

    projector::ProjectorOptions options;
    options.kafka = flags->kafka.config();
    options.topic = flags->kafka.topic;
    options.max_events_per_second = static_cast<std::uint64_t>(flags->max_events_per_second);
    options.max_batch_events = static_cast<size_t>(flags->max_batch);
    projector::Projector projector(options, store->get(), env.log, env.clock);
    if (flags->exit_when_caught_up) {
      common::Status s = projector.RunUntil(24 * 3600 * 1000);
      if (!s.ok()) return Fail(*env.log, "projection failed", s);
      auto stats = projector.stats();
      env.log->Info("caught up", {{"events", stats.events_applied}, {"halted_partitions", stats.halts}});
      return stats.halts == 0 ? 0 : 3;
    }
    // The brokers may be away when the projector starts (a supervisor restarting it during a
    // broker outage): it waits for them, saying so every 10 s, instead of exiting into a restart
    // loop. Anything but "unavailable" (no such topic, a store of another layout) ends it.
    common::Status started = projector.Start();
    std::int64_t said = -1;
    while (!started.ok() && started.code() == common::StatusCode::kUnavailable && !env.stop->load()) {
      if (std::int64_t now = env.clock->MonotonicMillis(); said < 0 || now - said >= 10000) {
        env.log->Warn("projector waiting for the brokers", {{"topic", options.topic}, {"error", started.message()}});
        said = now;
      }
      for (int i = 0; i < 5 && !env.stop->load(); ++i) env.clock->SleepForMillis(200);
      if (!env.stop->load()) started = projector.Start();
    }
    if (!started.ok() && env.stop->load()) {
      env.log->Info("projector stopped before the brokers answered", {});
      return 0;
    }
    if (!started.ok()) return Fail(*env.log, "projector could not start", started);
    env.log->Info("projector running", {{"topic", options.topic}, {"db", flags->db}});
    std::uint64_t last = 0;
    std::int64_t last_time = env.clock->MonotonicMillis();
    while (!env.stop->load()) {
      env.clock->SleepForMillis(200);
      if (std::string failure = projector.stats().failure; !failure.empty()) {
        // The store refused a write (disk full, read-only directory): exit so that a supervisor
        // restarts the projector from its stored offsets once the disk is fixed.
        projector.Stop();
        env.log->Error("projector stopped", {{"reason", failure}});
        return 1;
      }
      std::int64_t now = env.clock->MonotonicMillis();
      if (now - last_time >= 5000) {
        auto stats = projector.stats();
        double secs = static_cast<double>(now - last_time) / 1000;
        env.log->Info("progress", {{"events_applied", stats.events_applied},
                                   {"events_per_second", static_cast<double>(stats.events_applied - last) / secs},
                                   {"halted_partitions", stats.halts}});
        last = stats.events_applied;
        last_time = now;
      }
    }
    projector.Stop();
    env.log->Info("projector stopped", {});
    return 0;
  };
}

}  // namespace keyledger::cli
