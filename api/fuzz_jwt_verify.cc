// libFuzzer target: JwtVerifier::Verify (jwt.h). Whatever the Authorization header holds, Verify
// returns a Status (Unauthenticated when it refuses) and never crashes; and anything it accepts is
// a token the harness signed with the verifier's key, carrying claims that the rules of jwt.h
// allow. Each input is one of:
//   byte 0 % 3 == 0  raw: the rest is the header value, as is;
//   byte 0 % 3 == 1  edits: byte 1 picks a valid signed token, the rest are edits applied to
//                    "Bearer <token>" in groups of four bytes (operation, position high, position
//                    low, value): replace, insert, delete, or replace with a base64url character;
//   byte 0 % 3 == 2  signed: byte 1 picks the signing key (HS256, RS256, ES256, none, HS256
//                    keyed with the public key PEM); the rest is the payload JSON, or the header
//                    JSON, a newline and the payload JSON; the harness signs it properly.
// Two verifiers judge every input: HS256 + an RSA key, and HS256 + a P-256 key with issuer and
// audience checks. The oracle for an accepted token is written here independently of jwt.cc: the
// signature segment must be exactly the one the key produces (HS256, RS256 are deterministic) or,
// for ES256, a canonical encoding over a signing input the harness signed; exp must not be past,
// nbf (if present) a number not in the future, and the caller must equal the claims.
// Build with the `fuzz` preset; run: build/fuzz/api/fuzz_jwt_verify
// build/fuzz/fuzz-corpus/fuzz_jwt_verify (the build tree's copy of tests/fuzz/jwt_verify).
#include <openssl/evp.h>

#include <boost/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "keyledger/api/jwt.h"
#include "keyledger/common/clock.h"
#include "support/jwt_keys.h"

namespace {

using keyledger::api::JwtConfig;
using keyledger::api::JwtVerifier;

constexpr std::int64_t kNow = 1800000000;  // 2027-01-15
constexpr std::int64_t kLeeway = 30;
constexpr char kSecret[] = "fuzz-hs256-secret-0123456789abcdef";
constexpr char kIssuer[] = "https://issuer.example";
constexpr char kAudience[] = "keyledger";

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string B64(std::string_view bytes) {
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kB64[(acc >> bits) & 63];
    }
  }
  if (bits > 0) out += kB64[(acc << (6 - bits)) & 63];
  return out;
}

// Strict: only the canonical encoding of some byte string (what B64 produces) decodes.
std::optional<std::string> StrictUnB64(std::string_view text) {
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    const char* p = std::find(kB64, kB64 + 64, c);
    if (p == kB64 + 64 || c == '\0') return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(p - kB64);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  if (B64(out) != text) return std::nullopt;
  return out;
}

using keyledger::testing::Pkey;
using keyledger::testing::PublicPem;

std::string Hmac(std::string_view key, std::string_view input) { return keyledger::testing::HmacSha256(key, input); }

std::string SignDer(EVP_PKEY* key, std::string_view input) {
  std::string sig = keyledger::testing::SignSha256(key, input);
  Check(!sig.empty());
  return sig;
}

std::string SignEs256(EVP_PKEY* key, std::string_view input) {
  std::string sig = keyledger::testing::SignEs256(key, input);
  Check(sig.size() == 64);
  return sig;
}

struct Harness {
  keyledger::common::ManualClock clock{kNow * 1000000};
  Pkey rsa{EVP_RSA_gen(2048)};
  Pkey ec{EVP_EC_gen("P-256")};
  std::string rsa_pem = PublicPem(rsa.get());
  std::string ec_pem = PublicPem(ec.get());
  JwtConfig rsa_config{kSecret, rsa_pem, "", "", kLeeway};
  JwtConfig ec_config{kSecret, ec_pem, kIssuer, kAudience, kLeeway};
  std::unique_ptr<JwtVerifier> rsa_verifier;
  std::unique_ptr<JwtVerifier> ec_verifier;
  std::vector<std::string> base_tokens;  // "Bearer <token>", each accepted by at least one verifier
  std::set<std::string> es256_signed;    // signing inputs signed with the EC key

  Harness() {
    auto r = JwtVerifier::Create(rsa_config, &clock);
    auto e = JwtVerifier::Create(ec_config, &clock);
    Check(r.ok() && e.ok());
    rsa_verifier = std::move(*r);
    ec_verifier = std::move(*e);
    std::string exp = std::to_string(kNow + 3600);
    std::string claims = R"("iss":"https://issuer.example","aud":"keyledger","exp":)" + exp;
    base_tokens = {
        Sign(0, R"({"alg":"HS256","typ":"JWT"})",
             R"({"sub":"u-1","name":"Olga","team_id":"t-1","role":"owner",)" + claims + "}"),
        Sign(1, R"({"alg":"RS256","typ":"JWT"})",
             R"({"sub":"u-2","team_id":"t-1","role":"member",)" + claims + "}"),
        Sign(2, R"({"alg":"ES256","typ":"JWT"})",
             R"({"sub":"u-3","name":"N","team_id":"t-2","role":"owner","iss":"https://issuer.example",)"
             R"("aud":["other","keyledger"],"nbf":)" + std::to_string(kNow - 10) + ",\"exp\":" + exp + "}"),
        Sign(0, R"({"alg":"HS256"})",
             R"({"sub":"u-4","team_id":"t-3","role":"member","nbf":)" + std::to_string(kNow) +
             R"(,"iss":"https://issuer.example","aud":"keyledger","exp":)" + exp + ".5}"),
    };
    for (const std::string& token : base_tokens) {
      Check(rsa_verifier->Verify(token).ok() || ec_verifier->Verify(token).ok());
    }
    es256_signed.clear();  // Mode 2 inputs must sign afresh to be acceptable.
    es256_base = base_tokens[2].substr(7, base_tokens[2].rfind('.') - 7);
  }
  std::string es256_base;

  // "Bearer " + a token over header and payload signed with key `which`: 0 HS256, 1 RS256,
  // 2 ES256, 3 unsigned, 4 HMAC keyed with the RSA public key PEM (algorithm confusion).
  std::string Sign(int which, std::string_view header, std::string_view payload) {
    std::string input = B64(header) + "." + B64(payload);
    std::string sig;
    switch (which) {
      case 0: sig = Hmac(kSecret, input); break;
      case 1: sig = SignDer(rsa.get(), input); break;
      case 2:
        sig = SignEs256(ec.get(), input);
        es256_signed.insert(input);
        break;
      case 3: break;
      default: sig = Hmac(rsa_pem, input); break;
    }
    return "Bearer " + input + "." + B64(sig);
  }
};

Harness& GetHarness() {
  static Harness* harness = new Harness();
  return *harness;
}

std::optional<std::int64_t> NumericDate(const boost::json::value& v) {
  if (v.is_int64()) return v.as_int64();
  if (v.is_uint64()) {
    return static_cast<std::int64_t>(std::min<std::uint64_t>(v.as_uint64(), INT64_MAX));
  }
  if (v.is_double() && std::isfinite(v.as_double())) {
    return static_cast<std::int64_t>(std::clamp(v.as_double(), -9e18, 9e18));
  }
  return std::nullopt;
}

std::string StringOf(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

// `authorization` was accepted by the verifier configured with `config` (RSA key if `rsa`).
void CheckAccepted(Harness& h, const JwtConfig& config, bool rsa, std::string_view authorization,
                   const keyledger::events::Caller& caller) {
  Check(authorization.size() > 7);
  std::string_view token = authorization.substr(7);
  size_t dot1 = token.find('.');
  size_t dot2 = token.rfind('.');
  Check(dot1 != std::string_view::npos && dot2 != dot1 && token.find('.', dot1 + 1) == dot2);
  std::string_view signing_input = token.substr(0, dot2);
  std::string_view signature = token.substr(dot2 + 1);
  auto header_json = StrictUnB64(token.substr(0, dot1));
  auto payload_json = StrictUnB64(token.substr(dot1 + 1, dot2 - dot1 - 1));
  Check(header_json && payload_json);
  boost::system::error_code ec;
  boost::json::value header = boost::json::parse(*header_json, ec);
  Check(!ec && header.is_object());
  boost::json::value payload = boost::json::parse(*payload_json, ec);
  Check(!ec && payload.is_object());
  std::string alg = StringOf(header.as_object(), "alg");

  // The signature is the key's own, in its one canonical encoding.
  if (alg == "HS256") {
    Check(signature == B64(Hmac(config.hs256_secret, signing_input)));
  } else if (alg == "RS256") {
    Check(rsa);
    Check(signature == B64(SignDer(h.rsa.get(), signing_input)));
  } else if (alg == "ES256") {
    Check(!rsa);
    Check(h.es256_signed.count(std::string(signing_input)) == 1 || signing_input == h.es256_base);
    Check(StrictUnB64(signature).has_value());
  } else {
    Check(false);
  }

  // The claims allow it and the caller is theirs.
  const boost::json::object& claims = payload.as_object();
  const auto* exp = claims.if_contains("exp");
  Check(exp != nullptr);
  auto expires = NumericDate(*exp);
  Check(expires.has_value() && *expires >= kNow - kLeeway);
  if (const auto* nbf = claims.if_contains("nbf")) {
    auto not_before = NumericDate(*nbf);
    Check(not_before.has_value() && *not_before <= kNow + kLeeway);
  }
  if (!config.issuer.empty()) Check(StringOf(claims, "iss") == config.issuer);
  if (!config.audience.empty()) {
    bool listed = StringOf(claims, "aud") == config.audience;
    if (const auto* aud = claims.if_contains("aud"); aud && aud->is_array()) {
      for (const auto& a : aud->as_array()) {
        listed = listed || (a.is_string() && a.as_string() == config.audience);
      }
    }
    Check(listed);
  }
  std::string sub = StringOf(claims, "sub");
  std::string name = StringOf(claims, "name");
  std::string role = StringOf(claims, "role");
  Check(!sub.empty() && caller.user_id == sub);
  Check(!StringOf(claims, "team_id").empty() && caller.team_id == StringOf(claims, "team_id"));
  Check(caller.display_name == (name.empty() ? sub : name));
  Check((role == "owner" && caller.role == keyledger::events::Role::kOwner) ||
        (role == "member" && caller.role == keyledger::events::Role::kMember));
}

void Judge(Harness& h, std::string_view authorization) {
  for (bool rsa : {true, false}) {
    const JwtVerifier& verifier = rsa ? *h.rsa_verifier : *h.ec_verifier;
    auto caller = verifier.Verify(authorization);
    if (caller.ok()) {
      CheckAccepted(h, rsa ? h.rsa_config : h.ec_config, rsa, authorization, *caller);
      continue;
    }
    Check(caller.status().code() == keyledger::common::StatusCode::kUnauthenticated);
    // A refusal never echoes the token: its signature segment (16 or more base64url characters,
    // which no fixed message contains) is not in the message.
    size_t dot = authorization.rfind('.');
    if (dot != std::string_view::npos && authorization.size() - dot > 16) {
      std::string_view sig = authorization.substr(dot + 1);
      if (sig.find_first_not_of(kB64) == std::string_view::npos) {
        Check(caller.status().message().find(sig) == std::string::npos);
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Harness& h = GetHarness();
  if (size < 2) return 0;
  h.es256_signed.clear();
  std::string_view rest(reinterpret_cast<const char*>(data) + 2, size - 2);
  switch (data[0] % 3) {
    case 0:
      Judge(h, std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
      break;
    case 1: {
      std::string value = h.base_tokens[data[1] % h.base_tokens.size()];
      for (size_t i = 0; i + 4 <= rest.size() && !value.empty(); i += 4) {
        auto op = static_cast<unsigned char>(rest[i]) % 4;
        size_t high = static_cast<unsigned char>(rest[i + 1]);
        size_t low = static_cast<unsigned char>(rest[i + 2]);
        size_t pos = ((high << 8) | low) % (value.size() + (op == 1 ? 1 : 0));
        char v = rest[i + 3];
        switch (op) {
          case 0: value[pos] = v; break;
          case 1: value.insert(value.begin() + static_cast<std::ptrdiff_t>(pos), v); break;
          case 2: value.erase(pos, 1); break;
          default: value[pos] = kB64[static_cast<unsigned char>(v) % 64]; break;
        }
      }
      Judge(h, value);
      break;
    }
    default: {
      static constexpr std::string_view kHeaders[] = {
          R"({"alg":"HS256","typ":"JWT"})", R"({"alg":"RS256","typ":"JWT"})",
          R"({"alg":"ES256","typ":"JWT"})", R"({"alg":"none","typ":"JWT"})",
          R"({"alg":"HS256","typ":"JWT"})"};
      int which = data[1] % 5;
      std::string_view header = kHeaders[which];
      std::string_view payload = rest;
      if (size_t nl = rest.find('\n'); nl != std::string_view::npos) {
        header = rest.substr(0, nl);
        payload = rest.substr(nl + 1);
      }
      Judge(h, h.Sign(which, header, payload));
      break;
    }
  }
  return 0;
}
