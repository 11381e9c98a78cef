// Development tokens for end-to-end tests (HS256 with the test servers' secret).
#pragma once

#include <chrono>
#include <string>

#include "keyledger/api/jwt.h"
#include "support/server_process.h"

namespace keyledger::testing {

inline std::string TestToken(const std::string& sub, const std::string& team, const std::string& role,
                             std::int64_t ttl_seconds = 3600) {
  api::TokenClaims c{sub, sub + " name", team, role,
                     std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count() + ttl_seconds,
                     "", ""};
  return api::MintHs256(c, kJwtSecret);
}

}  // namespace keyledger::testing
