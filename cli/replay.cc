// keyledger replay and keyledger verify: rebuild the read models from the log, and check the log
// and a store against a rebuild.
#include "command.h"
#include "keyledger/replay/rebuild.h"
#include "keyledger/replay/verify.h"

namespace keyledger::cli {

namespace {

struct RebuildFlags {
  KafkaFlags kafka;
  std::string db;
  std::string scratch;  // verify only
  std::int64_t max_events_per_second = 0;
  std::int64_t min_free_mb = 64;
  bool publish_with_halts = false;  // replay only

  replay::RebuildOptions Options(const Env& env) const {
    replay::RebuildOptions o;
    o.kafka = kafka.config();
    o.topic = kafka.topic;
    o.max_events_per_second = static_cast<std::uint64_t>(max_events_per_second);
    o.cancel = env.stop;
    o.min_free_bytes = static_cast<std::uint64_t>(min_free_mb) << 20;
    return o;
  }
};

void AddRebuildFlags(CLI::App* cmd, RebuildFlags* flags, const std::string& db_help) {
  AddKafkaFlags(cmd, &flags->kafka);
  AddDbFlag(cmd, &flags->db, db_help);
  AddIntFlag(cmd, "--max-events-per-second", &flags->max_events_per_second, "rate limit (0: none)", 0, INT64_MAX);
  AddMinFreeFlag(cmd, &flags->min_free_mb);
}

}  // namespace

Runner AddReplay(CLI::App& app) {
  auto flags = std::make_shared<RebuildFlags>();
  CLI::App* cmd = app.add_subcommand(
      "replay",
      "rebuild the read models of a store root from offset 0 and publish them (serve switches); an interrupted "
      "replay resumes where it stopped when run again");
  AddRebuildFlags(cmd, flags.get(), "the store root of serve (a new generation is built beside the live one)");
  cmd->add_flag("--publish-with-halts", flags->publish_with_halts,
                "publish even if a partition halted on a bad record (its teams see an incomplete history)");
  return [flags](const Env& env) {
    replay::RebuildOptions options = flags->Options(env);
    options.publish_with_halts = flags->publish_with_halts;
    options.progress = replay::ProgressPrinter("replay", env.log, env.clock, StderrIsTerminal());
    auto report = replay::Rebuild(replay::StoreRoot(flags->db), options, env.log, env.clock);
    if (!report.ok()) {
      if (env.stop->load()) {
        env.log->Warn("replay interrupted; run it again to resume", {{"db", flags->db}});
        return 130;
      }
      if (report.status().code() == common::StatusCode::kFailedPrecondition) {
        Fail(*env.log, "replay did not publish", report.status());
        return 3;
      }
      return Fail(*env.log, "replay failed", report.status());
    }
    std::printf("replay: %s events into %s in %.1f s (%s)%s\n", std::to_string(report->events_applied).c_str(),
                report->generation_dir.c_str(), report->seconds, report->resumed ? "resumed" : "fresh",
                report->halted_partitions ? "; some partitions are HALTED, see the log" : "");
    return report->halted_partitions == 0 ? 0 : 3;
  };
}

Runner AddVerify(CLI::App& app) {
  auto flags = std::make_shared<RebuildFlags>();
  CLI::App* cmd = app.add_subcommand(
      "verify",
      "check the log (decoding, hash chains) and compare a store with a rebuild; exit 0 when all agree, 1 with the "
      "report of a log problem or a differing column family");
  AddRebuildFlags(cmd, flags.get(), "a store root (its live generation) or a store directory; opened read-only");
  cmd->add_option("--scratch", flags->scratch, "where the comparison store is built (default: DB.verify-scratch)");
  return [flags](const Env& env) {
    auto store = OpenStoreReadOnly(flags->db);
    if (!store.ok()) return Fail(*env.log, "cannot open the store", store.status());
    replay::VerifyOptions options;
    options.rebuild = flags->Options(env);
    options.rebuild.progress = replay::ProgressPrinter("verify: reading the log", env.log, env.clock, StderrIsTerminal());
    options.scratch_dir = flags->scratch.empty() ? flags->db + ".verify-scratch" : flags->scratch;
    auto report = replay::Verify(**store, options, env.log, env.clock);
    if (!report.ok()) return Fail(*env.log, "verify could not run", report.status());
    std::fputs(report->Text().c_str(), stdout);
    return report->ok() ? 0 : 1;
  };
}

}  // namespace keyledger::cli
