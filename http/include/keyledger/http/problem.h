// Errors as HTTP answers: a Problem is a status, a stable id and a message for people, rendered
// as the JSON body {"id": "...", "message": "..."} every keyledger service answers errors with.
// ProblemOr<T> is a T or the Problem that stands in its way (for parsers of requests).
// Thread: values.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "keyledger/http/message.h"

namespace keyledger::http {

struct Problem {
  int status = 400;
  std::string id = "bad_request";
  std::string message;
  std::vector<std::pair<std::string, std::string>> headers;

  static Problem BadRequest(std::string message) { return {400, "bad_request", std::move(message), {}}; }
  Response ToResponse() const;
};

// {"id": id, "message": message} with `status`; bytes of the message that are not UTF-8 become
// U+FFFD (messages quote the request, which need not be UTF-8; JSON must be).
Response ErrorResponse(int status, std::string_view id, std::string_view message);

template <typename T>
class [[nodiscard]] ProblemOr {
 public:
  ProblemOr(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  ProblemOr(Problem problem) : v_(std::move(problem)) {}  // NOLINT: implicit by design
  bool ok() const { return v_.index() == 0; }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Problem& problem() const { return std::get<1>(v_); }

 private:
  std::variant<T, Problem> v_;
};

}  // namespace keyledger::http
