// Bearer-token authentication (SPEC section 5): JWTs signed with HS256 (shared secret), RS256 or
// ES256 (public key, PEM). Claims: sub (user id), name, team_id, role (owner|member), exp, and
// nbf when present (exp and nbf must be numbers); iss and aud are checked when configured.
// Missing, malformed, expired, not-yet-valid, forged, unsigned (alg=none) or wrongly-algorithmed
// tokens are Unauthenticated, with a message that names the problem but never echoes the token.
// Thread: JwtVerifier is immutable after Create; safe to share between threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "keyledger/common/clock.h"
#include "keyledger/common/status.h"
#include "keyledger/events/key_rules.h"

namespace keyledger::api {

struct JwtConfig {
  std::string hs256_secret;    // Enables HS256 when non-empty.
  std::string public_key_pem;  // Enables RS256 (RSA key) or ES256 (P-256 key) when non-empty.
  std::string issuer;          // Checked when non-empty.
  std::string audience;        // Checked when non-empty.
  std::int64_t leeway_seconds = 30;
};

class JwtVerifier {
 public:
  static common::Result<std::unique_ptr<JwtVerifier>> Create(const JwtConfig& config,
                                                             const common::Clock* clock);
  ~JwtVerifier();

  // `authorization` is the whole header value ("Bearer <token>").
  common::Result<events::Caller> Verify(std::string_view authorization) const;

 private:
  struct Keys;
  JwtVerifier(JwtConfig config, const common::Clock* clock, std::unique_ptr<Keys> keys);
  JwtConfig config_;
  const common::Clock* clock_;
  std::unique_ptr<Keys> keys_;
};

struct TokenClaims {
  std::string sub;
  std::string name;
  std::string team_id;
  std::string role;  // "owner" | "member"
  std::int64_t expires_at = 0;  // Unix seconds
  std::string issuer;
  std::string audience;
};

// An HS256 token for development and tests (`keyledger token`).
std::string MintHs256(const TokenClaims& claims, std::string_view secret);

// Unpadded base64url (RFC 7515). Decoding accepts only the canonical encoding (what
// Base64UrlEncode produces): Unauthenticated for any other character or non-zero unused bits.
std::string Base64UrlEncode(std::string_view bytes);
common::Result<std::string> Base64UrlDecode(std::string_view text);

}  // namespace keyledger::api
