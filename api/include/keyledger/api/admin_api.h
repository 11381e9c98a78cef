// The admin HTTP API of SPEC section 5 as request -> response logic, independent of the network
// (http/server.h carries it over HTTP/1.1). Routes (the table is api/src/routes.cc):
//   POST   /v2/gen-ai/models/api_keys                      create (201, secret shown once)
//   GET    /v2/gen-ai/models/api_keys?view=&page=&per_page= list (mine | legacy | team)
//   GET    /v2/gen-ai/models/api_keys/{uuid}               one key
//   PUT    /v2/gen-ai/models/api_keys/{uuid}               rename ({"name"})
//   PUT    /v2/gen-ai/models/api_keys/{uuid}/regenerate    new secret ({"confirm_name"})
//   DELETE /v2/gen-ai/models/api_keys/{uuid}               delete (body or ?confirm_name=)
//   GET    /v2/gen-ai/models/api_keys/{uuid}/events        the key's event history
//   GET    /v2/gen-ai/models/api_keys/{uuid}/revocation?wait=SECONDS
//                                                          which validators deny the secret its last
//                                                          regenerate or delete revoked
//   GET    /v2/gen-ai/models                               the model catalog (OpenAI list shape)
//   GET    /v2/gen-ai/audit/events?key_id=&actor_id=&event_type=&since=&until=&order=&limit=&cursor=
//                                                          audit query of the caller's team (owners)
//   GET    /v2/gen-ai/audit/export                         the team's whole history, JSON lines, streamed
//   GET    /v2/gen-ai/audit/keys/{uuid}?at=|offset=        a key's state at a point in time
//   GET    /v2/gen-ai/audit/callable?model=&vpc_uuid=&at=|offset=
//                                                          keys that could call a model from a VPC then
//   GET    /v2/gen-ai/me                                   who the caller is (user, name, team, role)
//   GET    /v2/vpcs                                        the caller's team's VPCs (id, name, region)
//   GET    /healthz  /readyz  /metrics
// The console (with --console-dir): GET /console/... its files; GET|POST /console/dev-sign-in
// (with --dev-sign-in only); POST /console/sign-out. Users authenticate with a JWT in the
// Authorization header or in the kSessionCookie cookie (then with the CSRF header on commands).
// Operator routes (operator tokens, operator_auth.h, not users' JWTs):
//   POST   /v2/gen-ai/operator/skips                       skip the record a partition halted at
//   GET    /v2/gen-ai/operator/halts                       halted partitions and the skips so far
// The exact contract is api/openapi.yaml, checked against the running server by schemathesis.
//
// It depends on two narrow interfaces: a command sink (writer::CommandSink, which the writer
// implements) and a read side (replay::ReadSide, which the live store implements); the handler
// tests run on fakes of both (api/testing/fakes.h).
// Thread: Handle is thread-safe. Commands block until the event log confirms them (and the
// projector has applied them, for read-your-writes), so callers run them off event-loop threads;
// NeedsWorker tells which requests those are.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "keyledger/api/jwt.h"
#include "keyledger/api/operator_auth.h"
#include "keyledger/common/clock.h"
#include "keyledger/common/crypto.h"
#include "keyledger/common/log.h"
#include "keyledger/events/catalog.h"
#include "keyledger/http/message.h"
#include "keyledger/http/metrics.h"
#include "keyledger/http/static_files.h"
#include "keyledger/projector/usage.h"
#include "keyledger/replay/read_side.h"
#include "keyledger/validator/replica_status.h"
#include "keyledger/writer/command_sink.h"

namespace keyledger::api {

// The console (console/): its built bundle served under /console/, and the development sign-in.
struct ConsoleOptions {
  std::shared_ptr<const http::StaticFiles> files;  // null: no console
  // Development only: GET/POST /console/dev-sign-in lists demo users and signs one in (a session
  // cookie holding a JWT minted with dev_jwt_secret, the server's HS256 secret).
  bool dev_sign_in = false;
  std::string dev_jwt_secret;
  bool secure_cookie = false;  // the server speaks TLS: the cookie is Secure
};

// The session cookie: a JWT, as the Authorization header would carry it, set by the deployment's
// login (HttpOnly, SameSite=Strict, Path=/). A request authenticated by it must send
// X-Keyledger-Csrf: 1 on POST, PUT, PATCH and DELETE (403 csrf_required otherwise).
inline constexpr char kSessionCookie[] = "keyledger_session";
inline constexpr char kCsrfHeader[] = "x-keyledger-csrf";

struct AdminApiOptions {
  int command_wait_ms = 5000;  // read-your-writes wait for the projector after a command
  std::uint32_t commands_per_second_per_user = 50;  // 429 beyond this (burst of twice as many)
  OperatorAuth operators;  // who may use the operator routes (none: they answer 403)
  ConsoleOptions console;
  // What the validator replicas say (validator/replica_status.h): regenerate and delete answers
  // carry a revocation receipt, and GET .../revocation waits for one. Null: no receipts.
  validator::ReplicaBoard* replicas = nullptr;
  // At most this many GET .../revocation?wait= requests wait at once (they hold a worker thread
  // of the server's 16 each); beyond it a request answers at once with the receipt as it stands
  // and `X-Keyledger-Wait: skipped`, so long polls can never take the workers commands need.
  int max_revocation_waiters = 4;
  // The usage read models (projector/usage.h): `last_used_at` on every key and GET .../usage.
  // Null: every key shows last_used_at null and GET .../usage answers 503.
  const projector::UsageReads* usage = nullptr;
  // The usage projection's counters for /metrics (empty: none).
  std::function<projector::UsageProjectorStats()> usage_stats;
  // The furthest ahead a new key's expires_at may be, in seconds (0: no limit).
  std::int64_t max_key_lifetime_seconds = 0;
};

class AdminApi {
 public:
  // Every pointer must outlive the AdminApi.
  AdminApi(AdminApiOptions options, writer::CommandSink* commands, replay::ReadSide* reads,
           const events::Catalog* catalog, const JwtVerifier* jwt, const common::Clock* clock,
           common::RandomSource* random, common::Logger* logger, http::RequestMetrics* metrics);
  ~AdminApi();
  AdminApi(const AdminApi&) = delete;
  AdminApi& operator=(const AdminApi&) = delete;

  http::Response Handle(const http::Request& request);
  // Whether a request may block (commands, audit queries, readiness): run it on a worker.
  bool NeedsWorker(const http::Request& request) const;

  // Ready when the writer accepts commands and the projector has applied everything it wrote.
  bool Ready(std::string* why) const;

  // Wipes what the API holds past its time: the secrets of 504 answers kept for their retry
  // (10 minutes). serve calls it every 100 ms; the vault also sweeps whenever it is used, and
  // /metrics sweeps before counting.
  void Sweep();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace keyledger::api
