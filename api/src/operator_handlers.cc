// Operators' routes: skip the record a partition halted at, and list halts and skips. They
// authenticate with operator tokens (operator_auth.h); the caller is the operator.
#include <boost/json.hpp>

#include "errors.h"
#include "handlers.h"
#include "keyledger/common/crypto.h"
#include "keyledger/http/json_body.h"
#include "keyledger/replay/legacy_import.h"

#include <sstream>

namespace keyledger::api::internal {

namespace json = boost::json;

namespace {

constexpr size_t kMaxNote = 1024;
constexpr int kPollMs = 20;

constexpr size_t kMaxImportLines = 1000;   // per request (the body limit comes first in practice)
constexpr size_t kMaxErrorsShown = 100;

// 400 or 409 naming every bad line (the first 100), the error shape plus the list.
http::Response LineErrors(int status, const std::string& what, const std::vector<std::string>& errors) {
  json::array list;
  for (size_t i = 0; i < errors.size() && i < kMaxErrorsShown; ++i) list.push_back(json::string(errors[i]));
  std::string message = std::to_string(errors.size()) + " line(s) " + what + "; nothing was imported";
  if (!errors.empty()) message += ": " + errors.front() + (errors.size() > 1 ? "; ..." : "");
  return http::JsonResponse(status, json::object{{"id", status == 409 ? "conflict" : "bad_request"},
                                                 {"message", message},
                                                 {"errors", std::move(list)}});
}

json::value ParsedOrText(const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  return ec ? json::value(text) : v;
}

}  // namespace

http::Response PostSkip(const Context& ctx) {
  auto body = http::ParseJsonObject(ctx.request, {true, {"partition", "offset", "record_sha256", "note"}});
  if (!body.ok()) return body.problem().ToResponse();
  auto partition = http::IntField(*body, "partition", 0, INT32_MAX);
  if (!partition.ok()) return partition.problem().ToResponse();
  auto offset = http::IntField(*body, "offset", 0, INT64_MAX);
  if (!offset.ok()) return offset.problem().ToResponse();
  auto sha_text = http::StringField(*body, "record_sha256", true);
  if (!sha_text.ok()) return sha_text.problem().ToResponse();
  auto sha = common::ParseSha256Hex(*sha_text, "record_sha256");
  if (!sha.ok()) return StatusResponse(sha.status());
  auto note = http::StringField(*body, "note", true);
  if (!note.ok()) return note.problem().ToResponse();
  if (note->empty() || note->size() > kMaxNote) {
    return StatusResponse(common::InvalidArgument("note must be 1 to 1024 bytes: say why the record is skipped"));
  }
  events::RecordSkipped skip;
  skip.partition = static_cast<std::int32_t>(*partition);
  skip.offset = *offset;
  skip.record_sha256 = *sha;
  skip.note = *note;
  auto request = NewCommandRequest(ctx, events::SkipRecordCommand{skip});
  if (!request.ok()) return StatusResponse(request.status());
  auto outcome = ctx.deps.commands->Submit(std::move(*request));
  if (!outcome.ok()) return StatusResponse(outcome.status());
  // Answer once this server's projector has passed the record too (or say it has not yet).
  bool projected = false;
  const std::int64_t deadline = ctx.deps.clock->MonotonicMillis() + ctx.deps.options.command_wait_ms;
  while (true) {
    auto stats = ctx.deps.reads->Acquire()->projector_stats();
    auto it = stats.next_offsets.find(outcome->partition);
    auto halts = ctx.deps.reads->Acquire()->Halts();
    bool halted = !halts.ok();
    if (halts.ok()) {
      for (const projector::Halt& h : *halts) halted = halted || h.partition == skip.partition;
    }
    if (!halted && it != stats.next_offsets.end() && it->second > outcome->offset) {
      projected = true;
      break;
    }
    if (ctx.deps.clock->MonotonicMillis() >= deadline) break;
    ctx.deps.clock->SleepForMillis(kPollMs);
  }
  const auto* appended = std::get_if<events::RecordSkipped>(&outcome->event.payload);
  json::object info{{"partition", skip.partition},
                    {"offset", skip.offset},
                    {"record_sha256", common::HexEncode(skip.record_sha256)},
                    {"note", skip.note},
                    {"reason", appended != nullptr ? appended->reason : ""},
                    {"operator", ctx.caller.user_id},
                    {"event_id", outcome->event.event_id},
                    {"skip_partition", outcome->partition},
                    {"skip_offset", outcome->offset},
                    {"projector", projected ? "passed" : "pending"}};
  json::object out{{"skip", std::move(info)}};
  if (outcome->replayed) out["idempotent_replay"] = true;
  ctx.deps.logger->Warn("operator skipped a record", {{"operator", ctx.caller.user_id},
                                                      {"partition", skip.partition},
                                                      {"offset", skip.offset},
                                                      {"note", skip.note}});
  return http::JsonResponse(outcome->replayed ? 200 : 201, out);
}

http::Response ListHalts(const Context& ctx) {
  auto view = ctx.deps.reads->Acquire();
  auto projector_halts = view->Halts();
  if (!projector_halts.ok()) return StatusResponse(projector_halts.status());
  auto skips = view->Skips();
  if (!skips.ok()) return StatusResponse(skips.status());
  std::map<std::int32_t, json::object> halts;
  for (const auto& [p, h] : ctx.deps.commands->Halts()) {
    halts[p] = json::object{{"partition", p}, {"offset", h.offset}, {"record_sha256", common::HexEncode(h.record_sha256)},
                            {"reason", h.reason}, {"writer", true}, {"projector", false}};
  }
  for (const projector::Halt& h : *projector_halts) {
    auto [it, added] = halts.emplace(h.partition, json::object{{"partition", h.partition},
                                                              {"offset", h.offset},
                                                              {"record_sha256", common::HexEncode(h.record_sha256)},
                                                              {"reason", h.reason},
                                                              {"writer", false}});
    it->second["projector"] = true;
  }
  json::array halt_list, skip_list;
  for (auto& [p, h] : halts) halt_list.push_back(std::move(h));
  for (const std::string& s : *skips) skip_list.push_back(ParsedOrText(s));
  return http::JsonResponse(200, json::object{{"halts", std::move(halt_list)}, {"skips", std::move(skip_list)}});
}

// POST /v2/gen-ai/operator/legacy-imports {"first_line": N, "check_only": bool, "lines": [...]}:
// lines of a legacy import file (replay/legacy_import.h) in their hash-only form, numbered from
// first_line. Every line is checked first (400 naming each bad one), then against the writer's
// keys (409 naming each whose secret another key holds); only then is anything appended. With
// check_only nothing is appended: the answer says how many would be. Idempotent: a line whose key
// is already there counts as already present.
http::Response PostLegacyImport(const Context& ctx) {
  auto body = http::ParseJsonObject(ctx.request, {true, {"first_line", "check_only", "lines"}});
  if (!body.ok()) return body.problem().ToResponse();
  // Line numbers only name lines in answers; any file of a size a machine holds fits below 2^31 lines.
  auto first_line = http::IntField(*body, "first_line", 1, INT32_MAX - static_cast<std::int64_t>(kMaxImportLines));
  if (!first_line.ok()) return first_line.problem().ToResponse();
  auto check_only = http::BoolField(*body, "check_only", false);
  if (!check_only.ok()) return check_only.problem().ToResponse();
  const json::value* lines = body->if_contains("lines");
  if (lines == nullptr || !lines->is_array() || lines->as_array().empty()) {
    return StatusResponse(common::InvalidArgument("lines must be a non-empty array of legacy key objects"));
  }
  if (lines->as_array().size() > kMaxImportLines) {
    return StatusResponse(common::InvalidArgument("at most 1000 lines per request"));
  }
  // The same parser as the file's, numbering the lines from first_line.
  std::string text;
  std::vector<std::string> errors;
  for (size_t i = 0; i < lines->as_array().size(); ++i) {
    const json::value& line = lines->as_array()[i];
    const std::string number = "line " + std::to_string(*first_line + static_cast<std::int64_t>(i));
    if (!line.is_object()) {
      errors.push_back(number + ": not a JSON object");
    } else if (line.as_object().contains("secret")) {
      // Secrets stay with the operator: import-legacy hashes them before sending.
      errors.push_back(number + ": send secret_sha256 (and secret_hint), not secret");
    }
    text += json::serialize(line);
    text += '\n';
  }
  std::istringstream in(text);
  std::vector<std::string> parse_errors;
  std::vector<replay::LegacyLine> parsed = replay::ParseLegacyLines(in, &parse_errors, static_cast<int>(*first_line));
  // A secret given twice is a conflict between lines (as with a key already there), not a
  // malformed line.
  std::vector<std::string> duplicates;
  for (std::string& e : parse_errors) {
    (e.find("(a secret may belong to one key only)") != std::string::npos ? duplicates : errors).push_back(std::move(e));
  }
  if (!errors.empty()) return LineErrors(400, "are malformed", errors);
  if (!duplicates.empty()) return LineErrors(409, "repeat another line's secret", duplicates);
  auto report = replay::ImportLegacy(*ctx.deps.commands, parsed, ctx.caller, nullptr, *ctx.deps.clock, *check_only);
  if (!report.ok()) return StatusResponse(report.status());
  if (!report->errors.empty()) return LineErrors(409, "conflict with existing keys", report->errors);
  if (!*check_only && report->imported > 0) {
    // Read-your-writes, as for every command: answered once this server's projector has the
    // appended keys (bounded by the command wait, like the other commands).
    const std::int64_t deadline = ctx.deps.clock->MonotonicMillis() + ctx.deps.options.command_wait_ms;
    auto view = ctx.deps.reads->Acquire();
    for (const auto& [partition, next] : ctx.deps.commands->CommittedOffsets()) {
      const std::int64_t left = deadline - ctx.deps.clock->MonotonicMillis();
      if (next <= 0 || left <= 0) continue;
      (void)view->WaitForOffset(partition, next - 1, static_cast<int>(left));
    }
    ctx.deps.logger->Info("operator imported legacy keys", {{"operator", ctx.caller.user_id},
                                                            {"first_line", *first_line},
                                                            {"imported", static_cast<std::int64_t>(report->imported)}});
  }
  return http::JsonResponse(200, json::object{{"lines", report->lines},
                                              {(*check_only ? "to_import" : "imported"), report->imported},
                                              {"already_present", report->already_present}});
}

}  // namespace keyledger::api::internal
