// The replica validator over HTTP (SPEC section 6), on two listeners:
//
// The check listener answers every request with a check, whatever its path, in the form nginx
// `auth_request`, Caddy `forward_auth` and Envoy `ext_authz` (HTTP mode) use (gateways forward
// the original URI, so no path may mean anything else here):
//   Authorization: Bearer <secret>     the presented key
//   X-Keyledger-Model: <model id>      set by the gateway; without it, the "model" of an
//                                      OpenAI-compatible JSON body, when the gateway forwards one
//   X-Keyledger-Source-Vpc: <vpc uuid> set by the gateway; absent = public internet
//   X-Keyledger-Batch: true|false      any case; set for the batch endpoints
// 200 allows (X-Keyledger-Key-Id, X-Keyledger-Team-Id); 401 for malformed or unknown secrets; 403
// for model, VPC or batch denials; 503 while the replica cannot vouch for its answer (not_ready,
// stale); 400 malformed_request for a repeated Authorization or X-Keyledger-* header or a batch
// value that is not true or false. Every denial carries X-Keyledger-Deny-Reason, and every answer
// X-Keyledger-Staleness-Ms (how long ago the replica last confirmed it had read everything
// committed; -1 never).
//
// The admin listener (`--admin-listen`) answers /healthz, /readyz and /metrics, and 404 to
// anything else; no gateway should route clients to it.
// Depends on the HTTP transport only (http/), never on the admin API.
// Thread: both handlers are thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "keyledger/http/message.h"
#include "keyledger/validator/replica.h"

namespace keyledger::validator {

class CheckHttp {
 public:
  explicit CheckHttp(const Replica* replica) : replica_(replica) {}
  // Usage reporting's counters in /metrics (null: none); may be set while serving.
  void SetUsage(const UsageRecorder* recorder, const UsagePublisher* publisher) {
    usage_recorder_ = recorder;
    usage_publisher_ = publisher;
  }
  // The check listener: every request is a check.
  http::Response HandleCheck(const http::Request& request);
  // The admin listener: health, readiness, metrics.
  http::Response HandleAdmin(const http::Request& request) const;

 private:
  http::Response Deny(DenyReason reason, std::int64_t staleness_ms);
  http::Response Metrics() const;
  const Replica* replica_;
  std::atomic<const UsageRecorder*> usage_recorder_{nullptr};
  std::atomic<const UsagePublisher*> usage_publisher_{nullptr};
  std::array<std::atomic<std::uint64_t>, kDenyReasonCount> decisions_{};  // by DenyReason (kNone = allowed)
};

}  // namespace keyledger::validator
