// Operators' routes: skip the record a partition halted at, and list halts and skips. They
// authenticate with operator tokens (operator_auth.h); the caller is the operator.
#include <boost/json.hpp>

#include "errors.h"
#include "handlers.h"
#include "keyledger/common/crypto.h"
#include "keyledger/http/json_body.h"

namespace keyledger::api::internal {

namespace json = boost::json;

namespace {

constexpr size_t kMaxNote = 1024;
constexpr int kPollMs = 20;

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

}  // namespace keyledger::api::internal
