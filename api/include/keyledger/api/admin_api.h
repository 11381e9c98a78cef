// The admin HTTP API of SPEC section 5 as request -> response logic, independent of the network
// (http_server.h carries it over HTTP/1.1). Routes:
//   POST   /v2/gen-ai/models/api_keys                      create (201, secret shown once)
//   GET    /v2/gen-ai/models/api_keys?view=&page=&per_page= list (mine | legacy | team)
//   GET    /v2/gen-ai/models/api_keys/{uuid}               one key
//   PUT    /v2/gen-ai/models/api_keys/{uuid}               rename ({"name"})
//   PUT    /v2/gen-ai/models/api_keys/{uuid}/regenerate    new secret ({"confirm_name"})
//   DELETE /v2/gen-ai/models/api_keys/{uuid}               delete (body or ?confirm_name=)
//   GET    /v2/gen-ai/models/api_keys/{uuid}/events        the key's event history
//   GET    /v2/gen-ai/models                               the model catalog (OpenAI list shape)
//   GET    /v2/gen-ai/audit/events?key_id=&actor_id=&event_type=&since=&until=&order=&limit=&cursor=
//                                                          audit query of the caller's team (owners)
//   GET    /v2/gen-ai/audit/export                         the team's whole history, JSON lines, streamed
//   GET    /v2/gen-ai/audit/keys/{uuid}?at=|offset=        a key's state at a point in time
//   GET    /v2/gen-ai/audit/callable?model=&vpc_uuid=&at=|offset=
//                                                          keys that could call a model from a VPC then
//   GET    /healthz  /readyz  /metrics
// The exact contract is docs/openapi.yaml, checked against the running server by schemathesis.
//
// Thread: Handle is thread-safe. Commands block until the event log confirms them (and the
// projector has applied them, for read-your-writes), so callers run them off event-loop threads;
// NeedsWorker tells which requests those are.
#pragma once

#include <atomic>
#include <functional>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "keyledger/api/jwt.h"
#include "keyledger/common/clock.h"
#include "keyledger/common/crypto.h"
#include "keyledger/common/log.h"
#include "keyledger/events/catalog.h"
#include "keyledger/projector/projector.h"
#include "keyledger/replay/live_store.h"
#include "keyledger/writer/writer.h"

namespace keyledger::api {

struct HttpRequest {
  std::string method;  // upper case
  std::string target;  // path and query as received
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Set for a streamed (chunked) body, which replaces `body`: called until it returns false, each
  // call appending the next chunk to its argument (on a worker thread).
  std::function<bool(std::string&)> stream;
};

// Request counts and latency histograms per route and status, in Prometheus text format. `route`
// must come from a fixed set (RouteOf); methods other than GET, HEAD, POST, PUT, DELETE, PATCH and
// OPTIONS are counted as "other", so clients cannot add series.
// Thread: thread-safe (a mutex guards the maps).
class Metrics {
 public:
  void Observe(const std::string& route, const std::string& method, int status, double seconds);
  std::string Render() const;

 private:
  struct Series {
    std::uint64_t count = 0;
    double sum = 0;
    std::vector<std::uint64_t> buckets;
  };
  mutable std::mutex mu_;
  std::map<std::string, std::uint64_t> requests_;  // route|method|status -> count
  std::map<std::string, Series> latency_;          // route -> histogram
};

struct AdminApiOptions {
  int command_wait_ms = 5000;  // read-your-writes wait for the projector after a command
  std::uint32_t commands_per_second_per_user = 50;  // 429 beyond this (burst of twice as many)
};

class AdminApi {
 public:
  // Every pointer must outlive the AdminApi.
  AdminApi(AdminApiOptions options, writer::Writer* writer, replay::LiveStore* live,
           const events::Catalog* catalog, const JwtVerifier* jwt, const common::Clock* clock,
           common::RandomSource* random, common::Logger* logger, Metrics* metrics);

  HttpResponse Handle(const HttpRequest& request);
  static bool NeedsWorker(const HttpRequest& request);
  // The route template a request matched, for metrics ("unmatched" otherwise).
  static std::string RouteOf(const std::string& method, const std::string& path);

  // Ready when the writer accepts commands and the projector has applied everything it wrote.
  bool Ready(std::string* why) const;

 private:
  struct Parsed;
  HttpResponse Dispatch(const HttpRequest& request, Parsed& parsed);
  HttpResponse Create(const HttpRequest& request, const events::Caller& caller);
  HttpResponse List(const Parsed& parsed, const events::Caller& caller);
  HttpResponse GetOne(const std::string& key_id, const events::Caller& caller);
  HttpResponse Rename(const HttpRequest& request, const std::string& key_id, const events::Caller& caller);
  HttpResponse Regenerate(const HttpRequest& request, const std::string& key_id, const events::Caller& caller);
  HttpResponse Delete(const HttpRequest& request, const Parsed& parsed, const std::string& key_id,
                      const events::Caller& caller);
  HttpResponse History(const std::string& key_id, const events::Caller& caller);
  HttpResponse Models() const;
  HttpResponse AuditEvents(const Parsed& parsed, const events::Caller& caller);
  HttpResponse AuditExport(const events::Caller& caller);
  HttpResponse KeyAt(const Parsed& parsed, const std::string& key_id, const events::Caller& caller);
  HttpResponse CallableAt(const Parsed& parsed, const events::Caller& caller);
  HttpResponse MetricsText() const;
  HttpResponse RunCommand(const HttpRequest& request, const events::Caller& caller,
                          events::Command command, int success_status, const std::string* secret);
  common::Status AllowCommand(const events::Caller& caller);

  AdminApiOptions options_;
  writer::Writer* writer_;
  replay::LiveStore* live_;
  const events::Catalog* catalog_;
  const JwtVerifier* jwt_;
  const common::Clock* clock_;
  common::RandomSource* random_;
  common::Logger* logger_;
  Metrics* metrics_;

  std::mutex limiter_mu_;  // Guards buckets_.
  struct Bucket {
    double tokens = 0;
    std::int64_t refreshed_micros = 0;
  };
  std::map<std::string, Bucket> buckets_;
};

// {"id": "...", "message": "..."} with the status of `status`; bytes of the message that are not
// UTF-8 are replaced (U+FFFD), since messages quote the request.
HttpResponse ErrorResponse(const common::Status& status);
HttpResponse ErrorResponse(int http_status, const std::string& id, const std::string& message);

}  // namespace keyledger::api
