#include "rate_limiter.h"

#include <algorithm>

namespace keyledger::api {

common::Status RateLimiter::Allow(const std::string& user) {
  if (rate_ <= 0) return common::Status::Ok();
  common::MutexLock lock(&mu_);
  std::int64_t now = clock_->MonotonicMicros();
  auto [it, fresh] = buckets_.try_emplace(user);
  Bucket& b = it->second;
  if (fresh) {
    b.tokens = 2 * rate_;
    b.refreshed_micros = now;
  }
  b.tokens = std::min(2 * rate_, b.tokens + static_cast<double>(now - b.refreshed_micros) / 1e6 * rate_);
  b.refreshed_micros = now;
  if (b.tokens < 1) {
    return common::ResourceExhausted("too many commands: at most " + std::to_string(static_cast<int>(rate_)) +
                                     " per second per user");
  }
  b.tokens -= 1;
  return common::Status::Ok();
}

}  // namespace keyledger::api
