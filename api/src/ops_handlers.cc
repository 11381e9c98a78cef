// Health, readiness, metrics and the model catalog.
#include <boost/json.hpp>

#include "handlers.h"
#include "keyledger/api/render.h"
#include "keyledger/http/json_body.h"
#include "keyledger/http/metrics.h"

namespace keyledger::api::internal {

namespace json = boost::json;

bool Ready(const Deps& deps, std::string* why) {
  auto ws = deps.commands->stats();
  if (ws.state != writer::WriterState::kReady) {
    *why = "writer is " + std::string(writer::WriterStateName(ws.state));
    return false;
  }
  auto committed = deps.commands->CommittedOffsets();
  auto view = deps.reads->Acquire();
  auto ps = view->projector_stats();
  if (!ps.failure.empty()) {
    *why = "projector stopped: " + ps.failure;
    return false;
  }
  // A halted partition does not make the server unready: only its team's commands are refused
  // (503 naming the partition), every other team is served; /readyz lists the halts.
  // Under load the projector is always a batch or two behind what the writer has just committed,
  // for milliseconds: being behind counts only if it does not catch up within a short grace, or a
  // load balancer would take a busy, healthy server out of rotation.
  constexpr std::int64_t kCatchUpGraceMicros = 1'000'000;
  const std::int64_t deadline = deps.clock->MonotonicMicros() + kCatchUpGraceMicros;
  for (const auto& [p, offset] : committed) {
    auto it = ps.next_offsets.find(p);
    std::int64_t applied = it == ps.next_offsets.end() ? 0 : it->second;
    if (applied >= offset) continue;
    std::int64_t left_ms = (deadline - deps.clock->MonotonicMicros()) / 1000;
    if (left_ms <= 0 || !view->WaitForOffset(p, offset - 1, static_cast<int>(left_ms)).ok()) {
      *why = "projector is behind on partition " + std::to_string(p);
      return false;
    }
  }
  return true;
}

http::Response Health(const Context&) { return http::JsonResponse(200, json::object{{"status", "ok"}}); }

http::Response Readiness(const Context& ctx) {
  std::string why;
  const bool ready = Ready(ctx.deps, &why);
  json::object body{{"status", ready ? "ready" : "not_ready"}};
  if (!ready) body["reason"] = why;
  json::array halted;
  for (const auto& [p, h] : ctx.deps.commands->Halts()) {
    halted.push_back(json::object{{"partition", p}, {"offset", h.offset}, {"reason", h.reason}});
  }
  body["halted_partitions"] = std::move(halted);
  return http::JsonResponse(ready ? 200 : 503, body);
}

http::Response Models(const Context& ctx) { return http::JsonResponse(200, CatalogJson(*ctx.deps.catalog)); }

http::Response Metrics(const Context& ctx) {
  const Deps& deps = ctx.deps;
  http::MetricsText m;
  deps.metrics->Render(m);
  auto ws = deps.commands->stats();
  auto ps = deps.reads->Acquire()->projector_stats();
  m.Family("keyledger_writer_state", "gauge", "Writer state (1 for the current one).");
  for (auto s : {writer::WriterState::kStarting, writer::WriterState::kReady, writer::WriterState::kRecovering,
                 writer::WriterState::kFenced, writer::WriterState::kStopped}) {
    m.Sample("keyledger_writer_state", {{"state", writer::WriterStateName(s)}}, s == ws.state ? 1 : 0);
  }
  m.Gauge("keyledger_writer_fenced", "1 when another writer took this writer's transactional identity.",
          ws.state == writer::WriterState::kFenced ? 1 : 0);
  m.Family("keyledger_writer_commands_total", "counter", "Commands answered by the writer, by outcome.");
  m.Sample("keyledger_writer_commands_total", {{"outcome", "acknowledged"}}, static_cast<double>(ws.commands_acknowledged));
  m.Sample("keyledger_writer_commands_total", {{"outcome", "rejected"}}, static_cast<double>(ws.commands_rejected));
  m.Sample("keyledger_writer_commands_total", {{"outcome", "unavailable"}}, static_cast<double>(ws.commands_unavailable));
  m.Sample("keyledger_writer_commands_total", {{"outcome", "outcome_unknown"}},
           static_cast<double>(ws.commands_outcome_unknown));
  m.Gauge("keyledger_writer_idempotency_records", "Idempotency records the writer holds (24 h, capped).",
          static_cast<double>(ws.idempotency_records));
  m.Family("keyledger_writer_idempotency_forgotten_total", "counter",
           "Idempotency records forgotten: after their 24 h (expired) or early, at the cap (evicted).");
  m.Sample("keyledger_writer_idempotency_forgotten_total", {{"reason", "expired"}}, static_cast<double>(ws.idempotency_expired));
  m.Sample("keyledger_writer_idempotency_forgotten_total", {{"reason", "evicted"}}, static_cast<double>(ws.idempotency_evicted));
  deps.vault.Sweep(deps.clock->NowMicros());
  const SecretVault::Stats vault = deps.vault.stats();
  m.Gauge("keyledger_api_undelivered_secrets",
          "New secrets of commands answered 504 outcome_unknown, held in memory for a retry with the same "
          "Idempotency-Key.",
          static_cast<double>(vault.held));
  m.Counter("keyledger_api_undelivered_secrets_shown_total",
            "Held secrets shown to a retry that found their command written.", static_cast<double>(vault.delivered));
  m.Counter("keyledger_api_undelivered_secrets_lapsed_total",
            "Held secrets wiped unshown, after their 10 minutes or at the cap of 1,000.",
            static_cast<double>(vault.lapsed));
  m.Family("keyledger_writer_transactions_total", "counter", "Transactions of the writer, by outcome.");
  m.Sample("keyledger_writer_transactions_total", {{"outcome", "committed"}}, static_cast<double>(ws.transactions_committed));
  m.Sample("keyledger_writer_transactions_total", {{"outcome", "failed"}}, static_cast<double>(ws.transactions_failed));
  m.Family("keyledger_writer_halted", "gauge",
           "1 for a partition the writer halted on a record it cannot apply (its team's commands are refused).");
  for (const auto& [p, h] : deps.commands->Halts()) {
    m.Sample("keyledger_writer_halted", {{"partition", std::to_string(p)}}, 1);
  }
  m.Counter("keyledger_projector_skips_honoured_total", "Operators' skips of a halted record the projector honoured.",
            static_cast<double>(ps.skips_honoured));
  m.Counter("keyledger_projector_events_applied_total", "Events the projector has applied to the read models.",
            static_cast<double>(ps.events_applied));
  m.Gauge("keyledger_projector_halted_partitions", "Partitions whose projection is halted on a bad record.",
          static_cast<double>(ps.halts));
  m.Counter("keyledger_projector_undecodable_events_total", "Records the projector could not decode or apply.",
            static_cast<double>(ps.decode_errors));
  m.Family("keyledger_projector_lag_events", "gauge", "Events the writer committed that the projector has not applied.");
  for (const auto& [p, offset] : deps.commands->CommittedOffsets()) {
    auto it = ps.next_offsets.find(p);
    std::int64_t applied = it == ps.next_offsets.end() ? 0 : it->second;
    m.Sample("keyledger_projector_lag_events", {{"partition", std::to_string(p)}},
             static_cast<double>(std::max<std::int64_t>(0, offset - applied)));
  }
  if (deps.options.usage_stats) {
    const projector::UsageProjectorStats us = deps.options.usage_stats();
    m.Family("keyledger_usage_records_total", "counter", "Usage aggregates the usage projection read, by outcome.");
    m.Sample("keyledger_usage_records_total", {{"outcome", "folded"}}, static_cast<double>(us.folded.records));
    m.Sample("keyledger_usage_records_total", {{"outcome", "duplicate"}}, static_cast<double>(us.folded.duplicates));
    m.Sample("keyledger_usage_records_total", {{"outcome", "late"}}, static_cast<double>(us.folded.late));
    m.Sample("keyledger_usage_records_total", {{"outcome", "bad"}}, static_cast<double>(us.folded.bad));
    m.Counter("keyledger_usage_errors_total", "Failed reads of the usage topic or writes of the usage store.",
              static_cast<double>(us.errors));
  }
  if (deps.options.replicas != nullptr) {
    // Every validator replica as its heartbeats say, with its lag against what the writer committed:
    // a replica that falls behind or goes silent shows here without scraping it.
    const auto committed = deps.commands->CommittedOffsets();
    const auto replicas = deps.options.replicas->Replicas();
    m.Gauge("keyledger_replicas_known", "Validator replicas heard from in the last 10 minutes.",
            static_cast<double>(replicas.size()));
    m.Family("keyledger_replica_silent", "gauge", "1 for a replica not heard from for 3 s.");
    for (const auto& r : replicas) m.Sample("keyledger_replica_silent", {{"replica", r.last.replica_id}}, r.silent ? 1 : 0);
    m.Family("keyledger_replica_heartbeat_age_seconds", "gauge", "Since the replica's last heartbeat.");
    for (const auto& r : replicas) {
      m.Sample("keyledger_replica_heartbeat_age_seconds", {{"replica", r.last.replica_id}}, r.heard_ms_ago / 1000.0);
    }
    m.Family("keyledger_replica_applied_offset", "gauge", "The offset up to which the replica has applied, by partition.");
    for (const auto& r : replicas) {
      for (const auto& p : r.last.partitions) {
        m.Sample("keyledger_replica_applied_offset", {{"replica", r.last.replica_id}, {"partition", std::to_string(p.partition)}},
                 static_cast<double>(p.applied));
      }
    }
    m.Family("keyledger_replica_lag_events", "gauge",
             "Offsets the writer committed that the replica has not applied, by partition.");
    for (const auto& r : replicas) {
      for (const auto& p : r.last.partitions) {
        auto it = committed.find(p.partition);
        const std::int64_t lag = it == committed.end() ? 0 : std::max<std::int64_t>(0, it->second - p.applied);
        m.Sample("keyledger_replica_lag_events", {{"replica", r.last.replica_id}, {"partition", std::to_string(p.partition)}},
                 static_cast<double>(lag));
      }
    }
  }
  m.ProcessMetrics();
  http::Response r;
  r.content_type = "text/plain; version=0.0.4";
  r.body = m.Take();
  return r;
}

}  // namespace keyledger::api::internal
