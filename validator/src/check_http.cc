#include "keyledger/validator/check_http.h"

#include "keyledger/common/log.h"
#include "keyledger/common/text.h"
#include "keyledger/http/metrics.h"
#include "keyledger/http/problem.h"

namespace keyledger::validator {

http::Response CheckHttp::Handle(const http::Request& request) {
  if (request.path == "/healthz") {
    http::Response r;
    r.body = R"({"status":"ok"})";
    return r;
  }
  if (request.path == "/readyz") {
    std::string why;
    if (replica_->Ready(&why)) {
      http::Response r;
      r.body = R"({"status":"ready"})";
      return r;
    }
    http::Response r;
    r.status = 503;
    r.body = R"({"status":"not_ready","reason":)";
    common::AppendJsonString(r.body, why);
    r.body += "}";
    return r;
  }
  if (request.path == "/metrics") return Metrics();
  return Check(request);
}

http::Response CheckHttp::Metrics() const {
  ReplicaStats stats = replica_->stats();
  http::MetricsText m;
  m.Family("keyledger_validator_checks_total", "counter", "Checks by decision and deny reason.");
  for (int i = 0; i < kDenyReasonCount; ++i) {
    auto reason = static_cast<DenyReason>(i);
    m.Sample("keyledger_validator_checks_total",
             {{"decision", i == 0 ? "allow" : "deny"}, {"reason", DenyReasonName(reason)}},
             static_cast<double>(decisions_[static_cast<size_t>(i)].load()));
  }
  m.Gauge("keyledger_validator_keys", "Live secrets in this replica's index.", static_cast<double>(replica_->index().size()));
  m.Counter("keyledger_validator_events_applied_total", "Key events this replica has applied.",
            static_cast<double>(stats.events_applied));
  m.Counter("keyledger_validator_undecodable_events_total", "Records this replica could not decode.",
            static_cast<double>(stats.undecodable_events));
  m.Family("keyledger_validator_lag_events", "gauge", "Events in the log this replica has not read, by partition.");
  for (const auto& [p, lag] : stats.lag) {
    m.Sample("keyledger_validator_lag_events", {{"partition", std::to_string(p)}}, static_cast<double>(lag));
  }
  m.ProcessMetrics();
  http::Response r;
  r.content_type = "text/plain; version=0.0.4";
  r.body = m.Take();
  return r;
}

http::Response CheckHttp::Check(const http::Request& request) {
  std::string_view auth = request.Header("authorization");
  std::string_view secret;
  if (auth.size() > 7 && (auth.substr(0, 7) == "Bearer " || auth.substr(0, 7) == "bearer ")) {
    secret = common::TrimSpaces(auth.substr(7));
  }
  std::string_view batch = request.Header("x-keyledger-batch");
  CheckRequest check{secret, common::TrimSpaces(request.Header("x-keyledger-model")),
                     common::TrimSpaces(request.Header("x-keyledger-source-vpc")), batch == "true" || batch == "1"};
  Decision d = replica_->Check(check);
  decisions_[static_cast<size_t>(d.reason)]++;
  http::Response r;
  r.content_type = "text/plain";
  if (d.allowed) {
    r.headers.emplace_back("X-Keyledger-Key-Id", d.key_id);
    r.headers.emplace_back("X-Keyledger-Team-Id", d.team_id);
    return r;
  }
  bool unauthenticated = d.reason == DenyReason::kMalformed || d.reason == DenyReason::kUnknown;
  // A replica that cannot vouch for its answer fails closed with 503 (nginx auth_request turns
  // it into a 500, Envoy ext_authz into a denial), so the gateway never lets a possibly revoked
  // secret through.
  r.status = d.reason == DenyReason::kNotReady ? 503 : unauthenticated ? 401 : 403;
  r.headers.emplace_back("X-Keyledger-Deny-Reason", std::string(DenyReasonName(d.reason)));
  if (unauthenticated) r.headers.emplace_back("WWW-Authenticate", "Bearer");
  r.body = std::string(DenyReasonName(d.reason));
  return r;
}

}  // namespace keyledger::validator
