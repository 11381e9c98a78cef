// Status and Result<T>: expected outcomes as values (Abseil's Status and StatusOr).
//
// A Status is OK or carries a code and a message naming the field or entity at fault. Codes are
// in the domain's words; how a code is answered over HTTP is the admin API's business
// (api/src/errors.h), not this header's. Messages never contain secret material.
// Thread: values; safe to copy between threads.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace keyledger::common {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // Bad input; the message names the field.
  kUnauthenticated,     // Missing, expired or forged credentials.
  kPermissionDenied,    // Authenticated but not allowed.
  kNotFound,            // No such entity visible to the caller (a deleted key included).
  kConflict,            // The request contradicts the entity's current state: a stale revision,
                        // a confirmation that is not the current name, a secret or id in use.
  kAborted,             // A transaction was aborted by a transient conflict; retrying it may work.
  kFailedPrecondition,  // The system is in a state where retrying cannot help until something
                        // else changes: a fenced writer, a halted partition, a store root that
                        // is not one.
  kResourceExhausted,   // A rate or capacity limit.
  kUnavailable,         // A dependency (Kafka, the store) cannot serve now; nothing was done;
                        // retry later.
  kDeadlineExceeded,    // The outcome is unknown: the deadline passed before it was confirmed
                        // either way (the operation may or may not have happened).
  kDataLoss,            // Corrupt or undecodable stored data (an event, a store record).
  kInternal,            // A broken invariant; a bug.
};

std::string_view StatusCodeName(StatusCode code);

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
inline Status Aborted(std::string m) { return {StatusCode::kAborted, std::move(m)}; }
inline Status FailedPrecondition(std::string m) { return {StatusCode::kFailedPrecondition, std::move(m)}; }
inline Status ResourceExhausted(std::string m) { return {StatusCode::kResourceExhausted, std::move(m)}; }
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status DeadlineExceeded(std::string m) { return {StatusCode::kDeadlineExceeded, std::move(m)}; }
inline Status DataLoss(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

namespace internal {
// Always on: a broken invariant stops the process with the reason (never undefined behaviour).
[[noreturn]] void DieBecause(const char* what, const Status& status);
}  // namespace internal

// Result<T>: a T or a non-OK Status (Abseil's StatusOr). value() on an error stops the process
// with the error; operator* and -> are for values already checked with ok().
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    if (status_.ok()) status_ = Internal("Result constructed from an OK status without a value");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  T& value() & {
    Check();
    return *value_;
  }
  const T& value() const& {
    Check();
    return *value_;
  }
  T&& value() && {
    Check();
    return std::move(*value_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }

 private:
  void Check() const {
    if (!value_.has_value()) internal::DieBecause("Result::value() of an error", status_);
  }
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
