#include "errors.h"

#include "keyledger/http/problem.h"

namespace keyledger::api {

int HttpStatusOf(common::StatusCode code) {
  using common::StatusCode;
  switch (code) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kUnauthenticated: return 401;
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kConflict: return 409;
    case StatusCode::kResourceExhausted: return 429;
    case StatusCode::kAborted:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kDeadlineExceeded: return 504;
    case StatusCode::kDataLoss:
    case StatusCode::kInternal: return 500;
  }
  return 500;
}

namespace {

std::string_view ErrorId(int status) {
  switch (status) {
    case 400: return "bad_request";
    case 401: return "unauthorized";
    case 403: return "forbidden";
    case 404: return "not_found";
    case 409: return "conflict";
    case 429: return "too_many_requests";
    case 503: return "service_unavailable";
    case 504: return "outcome_unknown";
    default: return "server_error";
  }
}

}  // namespace

http::Response StatusResponse(const common::Status& status) {
  int http_status = HttpStatusOf(status.code());
  const bool told = http_status == 503 || http_status == 504;
  std::string message = http_status >= 500 && !told ? "internal error" : status.message();
  http::Response r = http::ErrorResponse(http_status, ErrorId(http_status), message);
  if (told) r.headers.emplace_back("Retry-After", "1");
  if (http_status == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer");
  return r;
}

}  // namespace keyledger::api
