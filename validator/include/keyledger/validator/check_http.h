// The replica validator's check over HTTP, in the form nginx `auth_request` and Envoy
// `ext_authz` (HTTP mode) use (SPEC section 6). Any path but /healthz, /readyz and /metrics is a
// check (gateways forward the original URI):
//   Authorization: Bearer <secret>     the presented key
//   X-Keyledger-Model: <model id>      set by the gateway
//   X-Keyledger-Source-Vpc: <vpc uuid> set by the gateway; absent = public internet
//   X-Keyledger-Batch: true            for batch endpoints
// 200 allows (X-Keyledger-Key-Id, X-Keyledger-Team-Id); 401 for malformed or unknown secrets;
// 403 for model, VPC or batch denials; 503 while the replica cannot vouch for its answer; every
// denial carries X-Keyledger-Deny-Reason. /readyz tells orchestrators when the replica is ready.
// Depends on the HTTP transport only (http/), never on the admin API.
// Thread: Handle is thread-safe.
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
  http::Response Handle(const http::Request& request);

 private:
  http::Response Check(const http::Request& request);
  http::Response Metrics() const;
  const Replica* replica_;
  std::array<std::atomic<std::uint64_t>, kDenyReasonCount> decisions_{};  // by DenyReason (kNone = allowed)
};

}  // namespace keyledger::validator
