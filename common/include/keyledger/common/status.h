// Status and Result<T>: expected outcomes as values.
//
// A Status is OK or carries a code and a message naming the field or entity at fault. Each code
// maps to exactly one HTTP status (see HttpStatusFor). Messages never contain secret material.
// Thread: values; safe to copy between threads.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace keyledger::common {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // 400: bad input; the message names the field.
  kUnauthenticated,     // 401: missing, expired or forged credentials.
  kPermissionDenied,    // 403: authenticated but not allowed.
  kNotFound,            // 404: no such entity visible to the caller.
  kConflict,            // 409: stale revision, confirmation mismatch, fenced writer state.
  kGone,                // 410: the entity existed and was deleted.
  kPayloadTooLarge,     // 413
  kUnsupportedMediaType,// 415
  kResourceExhausted,   // 429
  kUnavailable,         // 503: a dependency (Kafka, the store) cannot serve now; retry later.
  kDataLoss,            // corrupt or undecodable stored data (an event, a store record).
  kInternal,            // a broken invariant; a bug.
};

std::string_view StatusCodeName(StatusCode code);
int HttpStatusFor(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "context: message", keeping the code; no-op on OK.
  Status WithContext(std::string_view context) const;
  std::string ToString() const;

  // Makes dropping a status explicit and greppable.
  void IgnoreError() const {}

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status Unauthenticated(std::string m) { return {StatusCode::kUnauthenticated, std::move(m)}; }
inline Status PermissionDenied(std::string m) { return {StatusCode::kPermissionDenied, std::move(m)}; }
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status Conflict(std::string m) { return {StatusCode::kConflict, std::move(m)}; }
inline Status Gone(std::string m) { return {StatusCode::kGone, std::move(m)}; }
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status DataLoss(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

// Result<T>: a T or a non-OK Status (Abseil's StatusOr).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    assert(!status_.ok() && "Result constructed from an OK status without a value");
    if (status_.ok()) status_ = Internal("Result constructed from OK status without a value");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace keyledger::common

#define KL_CONCAT_INNER(a, b) a##b
#define KL_CONCAT(a, b) KL_CONCAT_INNER(a, b)

#define KL_RETURN_IF_ERROR(expr)                              \
  do {                                                        \
    ::keyledger::common::Status kl_status_ = (expr);          \
    if (!kl_status_.ok()) return kl_status_;                  \
  } while (0)

#define KL_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.status();            \
  lhs = std::move(tmp).value()

#define KL_ASSIGN_OR_RETURN(lhs, expr) \
  KL_ASSIGN_OR_RETURN_IMPL(KL_CONCAT(kl_result_, __LINE__), lhs, expr)
