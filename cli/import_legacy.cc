// keyledger import-legacy FILE: append legacy keys (JSON lines) through the writer; idempotent.
#include <fstream>

#include "command.h"
#include "keyledger/replay/legacy_import.h"
#include "keyledger/writer/writer.h"

namespace keyledger::cli {

Runner AddImportLegacy(CLI::App& app) {
  struct Flags {
    KafkaFlags kafka;
    std::string file, writer_id = "0", operator_name = "legacy-import", catalog;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand(
      "import-legacy",
      "append legacy keys (JSON lines) through the writer; idempotent. Run it while serve is stopped: one writer per "
      "partition, and this one would fence a running serve");
  cmd->add_option("FILE", flags->file, "JSON lines {team_id, creator_id, creator_name, name, created_at, secret | secret_sha256}")
      ->required();
  AddKafkaFlags(cmd, &flags->kafka);
  cmd->add_option("--writer-id", flags->writer_id, "the writer identity of serve")->capture_default_str();
  cmd->add_option("--operator", flags->operator_name, "recorded as the actor of the imported events")->capture_default_str();
  AddCatalogFlag(cmd, &flags->catalog);
  return [flags](const Env& env) {
    std::ifstream in(flags->file);
    if (!in) {
      std::fprintf(stderr, "keyledger import-legacy: cannot read %s\n", flags->file.c_str());
      return 2;
    }
    std::vector<std::string> errors;
    auto lines = replay::ParseLegacyLines(in, &errors);
    if (!errors.empty()) {
      for (const auto& e : errors) std::fprintf(stderr, "%s: %s\n", flags->file.c_str(), e.c_str());
      std::fprintf(stderr, "keyledger import-legacy: %zu bad line(s); nothing was imported\n", errors.size());
      return 1;
    }
    auto catalog = LoadCatalog(flags->catalog);
    if (!catalog.ok()) return Fail(*env.log, "cannot load the catalog", catalog.status());
    common::OsRandom random;
    writer::WriterOptions wo;
    wo.kafka = flags->kafka.config();
    wo.topic = flags->kafka.topic;
    wo.writer_id = flags->writer_id;
    wo.command_timeout_ms = 30000;
    writer::Writer writer(wo, &*catalog, env.clock, &random, env.log);
    if (common::Status s = writer.Start(60000); !s.ok()) return Fail(*env.log, "the writer could not start", s);
    events::Caller caller{flags->operator_name, flags->operator_name, "", events::Role::kOperator};
    auto report = replay::ImportLegacy(writer, lines, caller,
                                       replay::ProgressPrinter("import-legacy", env.log, env.clock, StderrIsTerminal()),
                                       *env.clock);
    writer.Stop();
    if (!report.ok()) return Fail(*env.log, "import failed", report.status());
    if (!report->errors.empty()) {
      for (const auto& e : report->errors) std::fprintf(stderr, "%s: %s\n", flags->file.c_str(), e.c_str());
      std::fprintf(stderr, "keyledger import-legacy: %zu line(s) conflict with existing keys; nothing was imported\n",
                   report->errors.size());
      return 1;
    }
    std::printf("import-legacy: %zu lines, %zu imported, %zu already present\n", report->lines, report->imported,
                report->already_present);
    return 0;
  };
}

}  // namespace keyledger::cli
