#include "keyledger/http/problem.h"

#include "keyledger/common/log.h"

namespace keyledger::http {

Response ErrorResponse(int status, std::string_view id, std::string_view message) {
  Response r;
  r.status = status;
  r.body = "{\"id\":";
  common::AppendJsonString(r.body, id);
  r.body += ",\"message\":";
  common::AppendJsonString(r.body, message);  // replaces bytes that are not UTF-8
  r.body += "}";
  return r;
}

Response Problem::ToResponse() const {
  Response r = ErrorResponse(status, id, message);
  r.headers = headers;
  return r;
}

}  // namespace keyledger::http
