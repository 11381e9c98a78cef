#include "keyledger/api/validator_http.h"

namespace keyledger::api {

namespace {

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.pop_back();
  size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  return s.substr(i);
}

}  // namespace

HttpResponse ValidatorHttp::Handle(const HttpRequest& request) {
  std::string path = request.target.substr(0, request.target.find('?'));
  HttpResponse r;
  if (path == "/healthz") {
    r.body = R"({"status":"ok"})";
    return r;
  }
  if (path == "/readyz") {
    std::string why;
    bool ready = replica_->Ready(&why);
    r.status = ready ? 200 : 503;
    r.body = ready ? R"({"status":"ready"})" : R"({"status":"not_ready","reason":")" + why + "\"}";
    return r;
  }
  if (path == "/metrics") {
    auto stats = replica_->stats();
    r.content_type = "text/plain; version=0.0.4";
    r.body = "# HELP keyledger_validator_checks_total Checks by decision.\n"
             "# TYPE keyledger_validator_checks_total counter\n";
    for (int i = 0; i < validator::kDenyReasonCount; ++i) {
      auto reason = static_cast<validator::DenyReason>(i);
      r.body += "keyledger_validator_checks_total{decision=\"" +
                std::string(i == 0 ? "allow" : "deny") + "\",reason=\"" +
                std::string(validator::DenyReasonName(reason)) + "\"} " +
                std::to_string(decisions_[static_cast<size_t>(i)].load()) + "\n";
    }
    r.body += "# TYPE keyledger_validator_keys gauge\nkeyledger_validator_keys " +
              std::to_string(replica_->index().size()) + "\n";
    r.body += "# TYPE keyledger_validator_events_applied_total counter\nkeyledger_validator_events_applied_total " +
              std::to_string(stats.events_applied) + "\n";
    r.body += "# TYPE keyledger_validator_undecodable_events_total counter\nkeyledger_validator_undecodable_events_total " +
              std::to_string(stats.undecodable_events) + "\n";
    r.body += "# HELP keyledger_validator_lag_events Events in the log this replica has not read.\n"
              "# TYPE keyledger_validator_lag_events gauge\n";
    for (const auto& [p, lag] : stats.lag) {
      r.body += "keyledger_validator_lag_events{partition=\"" + std::to_string(p) + "\"} " + std::to_string(lag) + "\n";
    }
    return r;
  }
  std::string auth = request.Header("authorization");
  std::string secret;
  if (auth.size() > 7 && (auth.compare(0, 7, "Bearer ") == 0 || auth.compare(0, 7, "bearer ") == 0)) {
    secret = Trim(auth.substr(7));
  }
  std::string batch = request.Header("x-keyledger-batch");
  // CheckRequest holds views: the strings it views must outlive it.
  const std::string model = Trim(request.Header("x-keyledger-model"));
  const std::string vpc = Trim(request.Header("x-keyledger-source-vpc"));
  validator::CheckRequest check{secret, model, vpc, batch == "true" || batch == "1"};
  validator::Decision d = replica_->Check(check);
  decisions_[static_cast<size_t>(d.reason)]++;
  r.content_type = "text/plain";
  if (d.allowed) {
    r.headers.emplace_back("X-Keyledger-Key-Id", d.key_id);
    r.headers.emplace_back("X-Keyledger-Team-Id", d.team_id);
    return r;
  }
  bool unauthenticated = d.reason == validator::DenyReason::kMalformed || d.reason == validator::DenyReason::kUnknown;
  // A replica that cannot vouch for its answer fails closed with 503 (nginx auth_request turns
  // it into a 500, Envoy ext_authz into a denial), so the gateway never lets a possibly revoked
  // secret through.
  r.status = d.reason == validator::DenyReason::kNotReady ? 503 : unauthenticated ? 401 : 403;
  r.headers.emplace_back("X-Keyledger-Deny-Reason", std::string(validator::DenyReasonName(d.reason)));
  if (unauthenticated) r.headers.emplace_back("WWW-Authenticate", "Bearer");
  r.body = std::string(validator::DenyReasonName(d.reason));
  return r;
}

}  // namespace keyledger::api
