// keyledger import-legacy FILE: append legacy keys (JSON lines) through the running serve's writer
// (its operator route POST /v2/gen-ai/operator/legacy-imports), or with --offline through a
// writer of its own while no serve runs. Idempotent either way.
//
// Through serve: the whole file is checked here first (every bad line named, nothing sent), its
// secrets are hashed here (only secret_sha256 and secret_hint leave this process), then every
// chunk is checked by serve against the writer's keys (check_only; a conflict anywhere sends
// nothing), and only then are the chunks appended, with progress.
#include <boost/json.hpp>

#include <fstream>

#include "command.h"
#include "keyledger/replay/legacy_import.h"
#include "keyledger/writer/writer.h"

namespace keyledger::cli {

namespace {

namespace json = boost::json;

constexpr size_t kChunkBytes = 48 * 1024;  // under serve's 64 KiB body limit
constexpr size_t kChunkLines = 1000;       // serve's per-request cap

struct Flags {
  KafkaFlags kafka;
  OperatorFlags op;
  bool offline = false;
  std::string file, writer_id = "0", operator_name = "legacy-import", catalog;
};

struct Chunk {
  int first_line = 1;
  std::vector<std::string> lines;  // hash-only JSON objects
};

// Consecutive lines, each chunk under the body limit. A chunk's lines are numbered from its first
// line on (blank lines between parsed lines are not sent, so a chunk breaks where numbers jump).
std::vector<Chunk> Chunks(const std::vector<replay::LegacyLine>& lines) {
  std::vector<Chunk> out;
  size_t bytes = 0;
  for (const replay::LegacyLine& line : lines) {
    std::string text = replay::LegacyLineJson(line.command);
    const bool next_number = !out.empty() && out.back().first_line + static_cast<int>(out.back().lines.size()) == line.line;
    if (out.empty() || !next_number || bytes + text.size() + 64 > kChunkBytes || out.back().lines.size() >= kChunkLines) {
      out.push_back(Chunk{line.line, {}});
      bytes = 0;
    }
    bytes += text.size() + 1;
    out.back().lines.push_back(std::move(text));
  }
  return out;
}

std::string ChunkBody(const Chunk& chunk, bool check_only) {
  std::string body = "{\"first_line\":" + std::to_string(chunk.first_line) +
                     ",\"check_only\":" + (check_only ? "true" : "false") + ",\"lines\":[";
  for (size_t i = 0; i < chunk.lines.size(); ++i) {
    if (i > 0) body += ',';
    body += chunk.lines[i];
  }
  return body + "]}";
}

// What serve's answer says, or the lines it names.
struct Answer {
  int status = 0;
  json::object body;
};

common::Result<Answer> Send(const OperatorFlags& op, const Chunk& chunk, bool check_only) {
  auto response = FetchAsOperator(op, "POST", "/v2/gen-ai/operator/legacy-imports", ChunkBody(chunk, check_only), {});
  if (!response.ok()) return response.status();
  boost::system::error_code ec;
  json::value v = json::parse(response->body, ec);
  if (ec || !v.is_object()) {
    return common::Unavailable("serve answered " + std::to_string(response->status) + " without a JSON object");
  }
  return Answer{response->status, std::move(v.as_object())};
}

std::int64_t Count(const json::object& o, const char* field) {
  const json::value* v = o.if_contains(field);
  return v != nullptr && v->is_int64() ? v->as_int64() : 0;
}

// Prints the lines a 400 or 409 names; 1.
int Refused(const std::string& file, const Answer& answer) {
  const json::value* errors = answer.body.if_contains("errors");
  if (errors != nullptr && errors->is_array()) {
    for (const json::value& e : errors->as_array()) {
      if (e.is_string()) std::fprintf(stderr, "%s: %s\n", file.c_str(), std::string(e.as_string()).c_str());
    }
  }
  const json::value* message = answer.body.if_contains("message");
  std::fprintf(stderr, "keyledger import-legacy: serve refused (%d): %s\n", answer.status,
               message != nullptr && message->is_string() ? std::string(message->as_string()).c_str() : "no message");
  return 1;
}

int ThroughServe(const Env& env, const Flags& flags, const std::vector<replay::LegacyLine>& lines) {
  const std::vector<Chunk> chunks = Chunks(lines);
  // 1. Every chunk checked against the writer's keys before any is appended.
  std::int64_t to_import = 0, present = 0;
  std::vector<Answer> refusals;
  for (const Chunk& chunk : chunks) {
    auto answer = Send(flags.op, chunk, true);
    if (!answer.ok()) return Fail(*env.log, "the check failed; nothing was imported", answer.status());
    if (answer->status == 400 || answer->status == 409) {
      refusals.push_back(std::move(*answer));
      continue;
    }
    if (answer->status != 200) return Refused(flags.file, *answer);
    to_import += Count(answer->body, "to_import");
    present += Count(answer->body, "already_present");
  }
  if (!refusals.empty()) {
    for (const Answer& a : refusals) Refused(flags.file, a);
    std::fprintf(stderr, "keyledger import-legacy: nothing was imported\n");
    return 1;
  }
  env.log->Info("import-legacy: checked", {{"lines", static_cast<std::int64_t>(lines.size())},
                                           {"to_import", to_import},
                                           {"already_present", present}});
  // 2. Appended chunk by chunk, with progress.
  replay::ProgressCallback progress = replay::ProgressPrinter("import-legacy", env.log, env.clock, StderrIsTerminal());
  const std::int64_t started = env.clock->MonotonicMicros();
  std::int64_t imported = 0, already = 0;
  size_t sent = 0;
  for (const Chunk& chunk : chunks) {
    auto answer = Send(flags.op, chunk, false);
    if (!answer.ok() || answer->status != 200) {
      std::fprintf(stderr,
                   "keyledger import-legacy: %lld key(s) imported before lines %d-%zu failed; run the file again to "
                   "finish (it is idempotent)\n",
                   static_cast<long long>(imported), chunk.first_line, chunk.first_line + chunk.lines.size() - 1);
      if (!answer.ok()) return Fail(*env.log, "the import failed", answer.status());
      return Refused(flags.file, *answer);
    }
    imported += Count(answer->body, "imported");
    already += Count(answer->body, "already_present");
    sent += chunk.lines.size();
    progress(replay::Progress::Of(sent, lines.size(),
                                  static_cast<double>(env.clock->MonotonicMicros() - started) / 1e6));
  }
  std::printf("import-legacy: %zu lines, %lld imported, %lld already present\n", lines.size(),
              static_cast<long long>(imported), static_cast<long long>(already));
  return 0;
}

int Offline(const Env& env, const Flags& flags, const std::vector<replay::LegacyLine>& lines) {
  auto catalog = LoadCatalog(flags.catalog);
  if (!catalog.ok()) return Fail(*env.log, "cannot load the catalog", catalog.status());
  common::OsRandom random;
  writer::WriterOptions wo;
  wo.kafka = flags.kafka.config();
  wo.topic = flags.kafka.topic;
  wo.writer_id = flags.writer_id;
  wo.command_timeout_ms = 30000;
  writer::Writer writer(wo, &*catalog, env.clock, &random, env.log);
  if (common::Status s = writer.Start(60000); !s.ok()) return Fail(*env.log, "the writer could not start", s);
  events::Caller caller{flags.operator_name, flags.operator_name, "", events::Role::kOperator};
  auto report = replay::ImportLegacy(writer, lines, caller,
                                     replay::ProgressPrinter("import-legacy", env.log, env.clock, StderrIsTerminal()),
                                     *env.clock);
  writer.Stop();
  if (!report.ok()) return Fail(*env.log, "import failed", report.status());
  if (!report->errors.empty()) {
    for (const auto& e : report->errors) std::fprintf(stderr, "%s: %s\n", flags.file.c_str(), e.c_str());
    std::fprintf(stderr, "keyledger import-legacy: %zu line(s) conflict with existing keys; nothing was imported\n",
                 report->errors.size());
    return 1;
  }
  std::printf("import-legacy: %zu lines, %zu imported, %zu already present\n", report->lines, report->imported,
              report->already_present);
  return 0;
}

}  // namespace

Runner AddImportLegacy(CLI::App& app) {
  auto flags = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand(
      "import-legacy",
      "append legacy keys (JSON lines) through the running serve (operator token); idempotent. --offline: through a "
      "writer of its own, only while no serve runs");
  cmd->add_option("FILE", flags->file, "JSON lines {team_id, creator_id, creator_name, name, created_at, secret | secret_sha256}")
      ->required();
  AddOperatorFlags(cmd, &flags->op, false);
  cmd->add_flag("--offline", flags->offline,
                "append with a writer of its own instead of serve's (only while no serve runs: it would fence it)");
  AddKafkaFlags(cmd, &flags->kafka);
  cmd->add_option("--writer-id", flags->writer_id, "--offline: the writer identity of serve")->capture_default_str();
  cmd->add_option("--operator", flags->operator_name, "--offline: recorded as the actor of the imported events")
      ->capture_default_str();
  AddCatalogFlag(cmd, &flags->catalog);
  return [flags](const Env& env) {
    if (!flags->offline && flags->op.token_file.empty()) {
      std::fprintf(stderr,
                   "keyledger import-legacy: --operator-token-file is required to import through serve (or "
                   "--offline while no serve runs)\n");
      return 2;
    }
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
    if (lines.empty()) {
      std::printf("import-legacy: 0 lines, 0 imported, 0 already present\n");
      return 0;
    }
    return flags->offline ? Offline(env, *flags, lines) : ThroughServe(env, *flags, lines);
  };
}

}  // namespace keyledger::cli
