// The admin API's route table: what each method and path is answered with.
#include "handlers.h"

namespace keyledger::api::internal {

namespace {
constexpr http::RouteOptions kRead{};
constexpr http::RouteOptions kBlocking{.blocking = true};
constexpr http::RouteOptions kPublic{.public_route = true};
constexpr http::RouteOptions kPublicBlocking{.blocking = true, .public_route = true};
constexpr http::RouteOptions kOperator{.blocking = true, .operator_route = true};
}  // namespace

const std::vector<RouteSpec>& Routes() {
  static const std::vector<RouteSpec> routes = {
      {"GET", "/healthz", kPublic, &Health},
      // May wait up to a second for the projector to catch up.
      {"GET", "/readyz", kPublicBlocking, &Readiness},
      {"GET", "/metrics", kPublic, &Metrics},
      {"GET", "/v2/gen-ai/models", kRead, &Models},
      {"GET", "/v2/gen-ai/me", kRead, &Me},
      {"GET", "/v2/vpcs", kRead, &Vpcs},
      {"POST", "/v2/gen-ai/models/api_keys", kBlocking, &CreateKey},
      {"GET", "/v2/gen-ai/models/api_keys", kRead, &ListKeys},
      {"GET", "/v2/gen-ai/models/api_keys/{uuid:uuid}", kRead, &GetKey},
      {"PUT", "/v2/gen-ai/models/api_keys/{uuid:uuid}", kBlocking, &RenameKey},
      {"DELETE", "/v2/gen-ai/models/api_keys/{uuid:uuid}", kBlocking, &DeleteKey},
      {"PUT", "/v2/gen-ai/models/api_keys/{uuid:uuid}/regenerate", kBlocking, &RegenerateKey},
      // A deep list page goes to a worker too (AdminApi::NeedsWorker).
      // Up to kMaxHistoryPage stored events decoded, up to 30 days of usage read: on workers.
      {"GET", "/v2/gen-ai/models/api_keys/{uuid:uuid}/events", kBlocking, &KeyHistory},
      {"GET", "/v2/gen-ai/models/api_keys/{uuid:uuid}/usage", kBlocking, &KeyUsage},
      // May wait (?wait=) for the validators to apply the revocation.
      {"GET", "/v2/gen-ai/models/api_keys/{uuid:uuid}/revocation", kBlocking, &KeyRevocation},
      {"GET", "/v2/gen-ai/revocations/{partition}/{offset}", kBlocking, &EventRevocation},
      // Audit queries fold and page through many stored events: on workers.
      {"GET", "/v2/gen-ai/audit/events", kBlocking, &AuditEvents},
      {"GET", "/v2/gen-ai/audit/export", kBlocking, &AuditExport},
      {"GET", "/v2/gen-ai/audit/keys/{uuid:uuid}", kBlocking, &KeyAt},
      {"GET", "/v2/gen-ai/audit/callable", kBlocking, &CallableAt},
      {"POST", "/v2/gen-ai/operator/skips", kOperator, &PostSkip},
      {"GET", "/v2/gen-ai/operator/halts", kOperator, &ListHalts},
      // `keyledger import-legacy`: a chunk of the file's lines, checked whole, then appended.
      {"POST", "/v2/gen-ai/operator/legacy-imports", kOperator, &PostLegacyImport},
  };
  return routes;
}

}  // namespace keyledger::api::internal
