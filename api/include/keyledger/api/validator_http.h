// The replica validator's check over HTTP, in the form nginx `auth_request` and Envoy
// `ext_authz` (HTTP mode) use (SPEC section 6). Any path but /healthz, /readyz and /metrics is a
// check (gateways forward the original URI):
//   Authorization: Bearer <secret>     the presented key
//   X-Keyledger-Model: <model id>      set by the gateway
//   X-Keyledger-Source-Vpc: <vpc uuid> set by the gateway; absent = public internet
//   X-Keyledger-Batch: true            for batch endpoints
// 200 allows (X-Keyledger-Key-Id, X-Keyledger-Team-Id); 401 for malformed or unknown secrets;
// 403 for model, VPC or batch denials; every denial carries X-Keyledger-Deny-Reason.
// Checks are answered while the replica catches up; /readyz tells orchestrators when it has.
// Thread: Handle is thread-safe.
#pragma once

#include <array>
#include <atomic>

#include "keyledger/api/admin_api.h"
#include "keyledger/validator/replica.h"

namespace keyledger::api {

class ValidatorHttp {
 public:
  explicit ValidatorHttp(const validator::Replica* replica) : replica_(replica) {}
  HttpResponse Handle(const HttpRequest& request);

 private:
  const validator::Replica* replica_;
  std::array<std::atomic<std::uint64_t>, validator::kDenyReasonCount> decisions_{};  // by DenyReason (kNone = allowed)
};

}  // namespace keyledger::api
