// A token bucket per user: `rate` commands a second with bursts of twice as many; beyond that,
// ResourceExhausted (429). Private to api/.
// Thread: thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "keyledger/common/clock.h"
#include "keyledger/common/mutex.h"
#include "keyledger/common/status.h"

namespace keyledger::api {

class RateLimiter {
 public:
  // `rate` 0: no limit.
  RateLimiter(std::uint32_t rate, const common::Clock* clock) : rate_(rate), clock_(clock) {}
  common::Status Allow(const std::string& user) KL_EXCLUDES(mu_);

 private:
  struct Bucket {
    double tokens = 0;
    std::int64_t refreshed_micros = 0;
  };
  const double rate_;
  const common::Clock* clock_;
  common::Mutex mu_;
  std::map<std::string, Bucket> buckets_ KL_GUARDED_BY(mu_);
};

}  // namespace keyledger::api
