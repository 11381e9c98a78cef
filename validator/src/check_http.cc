#include "keyledger/validator/check_http.h"

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <limits>

#include "keyledger/common/crypto.h"
#include "keyledger/common/log.h"
#include "keyledger/common/text.h"
#include "keyledger/http/metrics.h"
#include "keyledger/http/problem.h"

namespace keyledger::validator {

namespace {

constexpr std::string_view kCheckHeaders[] = {"authorization", "x-keyledger-model", "x-keyledger-source-vpc",
                                              "x-keyledger-batch"};

// The "model" of an OpenAI-compatible JSON request body, "" if there is none.
std::string ModelOfBody(const http::Request& request) {
  if (request.body.empty()) return "";
  boost::system::error_code ec;
  boost::json::parse_options options;
  options.max_depth = 32;
  boost::json::value body = boost::json::parse(request.body, ec, {}, options);
  if (ec || !body.is_object()) return "";
  const boost::json::value* model = body.as_object().if_contains("model");
  return model != nullptr && model->is_string() ? std::string(model->as_string()) : "";
}

}  // namespace

http::Response CheckHttp::Deny(DenyReason reason, std::int64_t staleness_ms) {
  decisions_[static_cast<size_t>(reason)]++;
  http::Response r;
  r.content_type = "text/plain";
  bool unauthenticated =
      reason == DenyReason::kMalformed || reason == DenyReason::kUnknown || reason == DenyReason::kExpired;
  // A replica that cannot vouch for its answer fails closed with 503 (nginx auth_request turns it
  // into a 500, Envoy ext_authz into a denial), so the gateway never lets a possibly revoked
  // secret through.
  r.status = reason == DenyReason::kNotReady || reason == DenyReason::kStale || reason == DenyReason::kPartitionHalted
                 ? 503
             : reason == DenyReason::kMalformedRequest                       ? 400
             : unauthenticated                                               ? 401
                                                                             : 403;
  r.headers.emplace_back("X-Keyledger-Deny-Reason", std::string(DenyReasonName(reason)));
  r.headers.emplace_back("X-Keyledger-Staleness-Ms", std::to_string(staleness_ms));
  if (unauthenticated) r.headers.emplace_back("WWW-Authenticate", "Bearer");
  r.body = std::string(DenyReasonName(reason));
  return r;
}

http::Response CheckHttp::HandleCheck(const http::Request& request) {
  for (std::string_view header : kCheckHeaders) {
    if (request.HeaderCount(header) > 1) return Deny(DenyReason::kMalformedRequest, -1);
  }
  std::string_view batch_value = common::TrimSpaces(request.Header("x-keyledger-batch"));
  bool batch = common::EqualsIgnoringCase(batch_value, "true");
  if (!batch && !batch_value.empty() && !common::EqualsIgnoringCase(batch_value, "false")) {
    return Deny(DenyReason::kMalformedRequest, -1);
  }
  std::string_view auth = request.Header("authorization");
  std::string_view secret;
  if (auth.size() > 7 && common::StartsWithIgnoringCase(auth, "bearer ")) secret = common::TrimSpaces(auth.substr(7));
  std::string model(common::TrimSpaces(request.Header("x-keyledger-model")));
  if (model.empty()) model = ModelOfBody(request);
  CheckRequest check{secret, model, common::TrimSpaces(request.Header("x-keyledger-source-vpc")), batch};
  Decision d = replica_->Check(check);
  if (!d.allowed) return Deny(d.reason, d.staleness_ms);
  decisions_[static_cast<size_t>(DenyReason::kNone)]++;
  http::Response r;
  r.content_type = "text/plain";
  r.headers.emplace_back("X-Keyledger-Key-Id", d.key_id);
  r.headers.emplace_back("X-Keyledger-Team-Id", d.team_id);
  r.headers.emplace_back("X-Keyledger-Staleness-Ms", std::to_string(d.staleness_ms));
  return r;
}

http::Response CheckHttp::HandleAdmin(const http::Request& request) const {
  if (request.path == "/healthz") {
    http::Response r;
    r.body = R"({"status":"ok"})";
    return r;
  }
  if (request.path == "/readyz") {
    std::string why;
    http::Response r;
    const bool ready = replica_->Ready(&why);
    r.status = ready ? 200 : 503;
    r.body = ready ? R"({"status":"ready")" : R"({"status":"not_ready","reason":)";
    if (!ready) common::AppendJsonString(r.body, why);
    // Halted partitions leave the replica ready for every other team; they are listed here.
    r.body += R"(,"halted_partitions":[)";
    bool first = true;
    for (const PartitionStatus& p : replica_->stats().partitions) {
      if (!p.halt) continue;
      r.body += first ? "" : ",";
      first = false;
      r.body += R"({"partition":)" + std::to_string(p.partition) + R"(,"offset":)" + std::to_string(p.halt->offset) +
                R"(,"record_sha256":")" + common::HexEncode(p.halt->record_sha256) + R"(","reason":)";
      common::AppendJsonString(r.body, p.halt->reason);
      r.body += "}";
    }
    r.body += "]}";
    return r;
  }
  if (request.path == "/metrics") return Metrics();
  return http::ErrorResponse(404, "not_found", "the admin listener answers /healthz, /readyz and /metrics");
}

http::Response CheckHttp::Metrics() const {
  ReplicaStats stats = replica_->stats();
  http::MetricsText m;
  m.Family("keyledger_validator_checks_total", "counter", "Checks by decision and deny reason.");
  for (int i = 0; i < kDenyReasonCount; ++i) {
    auto reason = static_cast<DenyReason>(i);
    m.Sample("keyledger_validator_checks_total", {{"decision", i == 0 ? "allow" : "deny"}, {"reason", DenyReasonName(reason)}},
             static_cast<double>(decisions_[static_cast<size_t>(i)].load()));
  }
  m.Gauge("keyledger_validator_keys", "Live secrets in this replica's index.", static_cast<double>(replica_->index().size()));
  m.Counter("keyledger_validator_events_applied_total", "Key events this replica has applied.",
            static_cast<double>(stats.events_applied));
  m.Counter("keyledger_validator_halts_total", "Records that halted a partition of this replica.",
            static_cast<double>(stats.halts));
  m.Counter("keyledger_validator_skips_honoured_total", "Operators' skips of a halted record this replica honoured.",
            static_cast<double>(stats.skips_honoured));
  m.Counter("keyledger_validator_poll_errors_total", "Failed reads of the log.", static_cast<double>(stats.poll_errors));
  m.Counter("keyledger_validator_probe_errors_total", "Failed questions to the brokers about the log's end.",
            static_cast<double>(stats.probe_errors));
  m.Gauge("keyledger_validator_max_staleness_seconds", "The configured bound past which a partition is stale.",
          replica_->options().max_staleness_ms / 1000.0);
  m.Family("keyledger_validator_staleness_seconds", "gauge",
           "Since this replica last confirmed with the brokers that it had read everything committed, by partition "
           "(+Inf: never).");
  for (const auto& p : stats.partitions) {
    m.Sample("keyledger_validator_staleness_seconds", {{"partition", std::to_string(p.partition)}},
             p.staleness_ms < 0 ? std::numeric_limits<double>::infinity() : p.staleness_ms / 1000.0);
  }
  m.Family("keyledger_validator_lag_events", "gauge",
           "Offsets between what this replica has read and the end the brokers last answered, by partition.");
  for (const auto& p : stats.partitions) {
    double lag = p.log_end < 0 ? 0 : static_cast<double>(std::max<std::int64_t>(0, p.log_end - p.read_to));
    m.Sample("keyledger_validator_lag_events", {{"partition", std::to_string(p.partition)}}, lag);
  }
  m.Family("keyledger_validator_applied_offset", "gauge",
           "The offset up to which this replica's index has applied the log, by partition (what its heartbeats say).");
  for (const auto& p : stats.partitions) {
    m.Sample("keyledger_validator_applied_offset", {{"partition", std::to_string(p.partition)}},
             static_cast<double>(p.applied));
  }
  m.Family("keyledger_validator_halted", "gauge", "1 for a partition halted on a record it cannot apply.");
  for (const auto& p : stats.partitions) {
    m.Sample("keyledger_validator_halted", {{"partition", std::to_string(p.partition)}}, p.halt ? 1 : 0);
  }
  const UsageRecorder* usage_recorder = usage_recorder_.load();
  const UsagePublisher* usage_publisher = usage_publisher_.load();
  if (usage_recorder != nullptr && usage_publisher != nullptr) {
    m.Counter("keyledger_validator_usage_records_sent_total", "Usage aggregates handed to the producer.",
              static_cast<double>(usage_publisher->sent()));
    m.Counter("keyledger_validator_usage_records_delivered_total", "Usage aggregates the brokers acknowledged.",
              static_cast<double>(usage_publisher->delivered()));
    m.Counter("keyledger_validator_usage_records_dropped_total",
              "Usage aggregates dropped: the backlog was full, or the brokers could not be reached in time.",
              static_cast<double>(usage_publisher->dropped()));
    m.Counter("keyledger_validator_usage_checks_uncounted_total",
              "Checks not counted in usage because the recorder held its maximum of (key, minute) entries.",
              static_cast<double>(usage_recorder->dropped_checks()));
    m.Gauge("keyledger_validator_usage_entries", "(key, minute) usage aggregates held in memory.",
            static_cast<double>(usage_recorder->entries()));
  }
  m.ProcessMetrics();
  http::Response r;
  r.content_type = "text/plain; version=0.0.4";
  r.body = m.Take();
  return r;
}

}  // namespace keyledger::validator
