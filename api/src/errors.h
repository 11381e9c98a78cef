// How a Status is answered over HTTP: the one place domain codes become HTTP statuses and error
// ids. Private to api/.
// Thread: free functions.
#pragma once

#include "keyledger/common/status.h"
#include "keyledger/http/message.h"

namespace keyledger::api {

// The HTTP status of a code: InvalidArgument 400, Unauthenticated 401, PermissionDenied 403,
// NotFound 404, Conflict 409, ResourceExhausted 429, Unavailable, Aborted and FailedPrecondition
// 503 (nothing was written), DeadlineExceeded 504 `outcome_unknown` (the command may have been
// written: a retry with the same Idempotency-Key learns the outcome), DataLoss and Internal 500.
int HttpStatusOf(common::StatusCode code);

// {"id", "message"} for `status`; internal details (500) stay in the log, clients get a stable
// message. 503 and 504 answers carry Retry-After.
http::Response StatusResponse(const common::Status& status);

}  // namespace keyledger::api
