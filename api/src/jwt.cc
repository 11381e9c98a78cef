#include "keyledger/api/jwt.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include <openssl/bio.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <boost/json.hpp>

#include "keyledger/common/crypto.h"

namespace keyledger::api {

using common::Result;
using common::Status;
using common::Unauthenticated;

namespace {

struct PkeyDeleter {
  void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
};
struct BioDeleter {
  void operator()(BIO* b) const noexcept { BIO_free(b); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const noexcept { EVP_MD_CTX_free(c); }
};
struct EcdsaSigDeleter {
  void operator()(ECDSA_SIG* s) const noexcept { ECDSA_SIG_free(s); }
};

constexpr char kB64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

const boost::json::object* ParseObject(const std::string& json, boost::json::value& holder) {
  boost::system::error_code ec;
  boost::json::parse_options options;
  options.max_depth = 8;
  holder = boost::json::parse(json, ec, {}, options);
  if (ec || !holder.is_object()) return nullptr;
  return &holder.as_object();
}

std::string StringClaim(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

// A NumericDate claim (exp, nbf) in whole seconds, clamped to +-1e15 s (tens of millions of
// years) so that no conversion or addition can overflow; nullopt unless it is a finite number.
std::optional<std::int64_t> NumericDate(const boost::json::value& v) {
  constexpr std::int64_t kFarSeconds = 1000000000000000ll;
  if (v.is_int64()) return std::clamp<std::int64_t>(v.as_int64(), -kFarSeconds, kFarSeconds);
  if (v.is_uint64()) {
    return static_cast<std::int64_t>(std::min<std::uint64_t>(v.as_uint64(), kFarSeconds));
  }
  if (v.is_double() && std::isfinite(v.as_double())) {
    return static_cast<std::int64_t>(std::clamp(v.as_double(), -1e15, 1e15));
  }
  return std::nullopt;
}

}  // namespace

std::string Base64UrlEncode(std::string_view bytes) {
  std::string out;
  size_t i = 0;
  auto b = [&](size_t k) { return static_cast<unsigned char>(bytes[k]); };
  for (; i + 2 < bytes.size(); i += 3) {
    unsigned v = b(i) << 16 | b(i + 1) << 8 | b(i + 2);
    out += kB64Url[v >> 18 & 63];
    out += kB64Url[v >> 12 & 63];
    out += kB64Url[v >> 6 & 63];
    out += kB64Url[v & 63];
  }
  if (bytes.size() - i == 1) {
    unsigned v = b(i) << 16;
    out += kB64Url[v >> 18 & 63];
    out += kB64Url[v >> 12 & 63];
  } else if (bytes.size() - i == 2) {
    unsigned v = b(i) << 16 | b(i + 1) << 8;
    out += kB64Url[v >> 18 & 63];
    out += kB64Url[v >> 12 & 63];
    out += kB64Url[v >> 6 & 63];
  }
  return out;
}

Result<std::string> Base64UrlDecode(std::string_view text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
  };
  if (text.size() % 4 == 1) return Unauthenticated("token is not valid base64url");
  std::string out;
  unsigned acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = value(c);
    if (v < 0) return Unauthenticated("token is not valid base64url");
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  // The last character's unused low bits must be zero: otherwise several texts decode to the same
  // bytes, and a signed token could be altered and still verify.
  if ((acc & ((1u << bits) - 1)) != 0) return Unauthenticated("token is not valid base64url");
  return out;
}

struct JwtVerifier::Keys {
  std::unique_ptr<EVP_PKEY, PkeyDeleter> public_key;
  int public_key_type = 0;  // EVP_PKEY_RSA or EVP_PKEY_EC
};

JwtVerifier::JwtVerifier(JwtConfig config, const common::Clock* clock, std::unique_ptr<Keys> keys)
    : config_(std::move(config)), clock_(clock), keys_(std::move(keys)) {}

JwtVerifier::~JwtVerifier() = default;

Result<std::unique_ptr<JwtVerifier>> JwtVerifier::Create(const JwtConfig& config,
                                                         const common::Clock* clock) {
  auto keys = std::make_unique<Keys>();
  if (config.hs256_secret.empty() && config.public_key_pem.empty()) {
    return common::InvalidArgument("JWT verification needs an HS256 secret or a public key");
  }
  if (!config.hs256_secret.empty() && config.hs256_secret.size() < 32) {
    return common::InvalidArgument("the HS256 secret must be at least 32 bytes");
  }
  if (!config.public_key_pem.empty()) {
    std::unique_ptr<BIO, BioDeleter> bio(
        BIO_new_mem_buf(config.public_key_pem.data(), static_cast<int>(config.public_key_pem.size())));
    keys->public_key.reset(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
    if (!keys->public_key) return common::InvalidArgument("the JWT public key is not a PEM public key");
    keys->public_key_type = EVP_PKEY_base_id(keys->public_key.get());
    if (keys->public_key_type != EVP_PKEY_RSA && keys->public_key_type != EVP_PKEY_EC) {
      return common::InvalidArgument("the JWT public key must be RSA (RS256) or P-256 (ES256)");
    }
  }
  return std::unique_ptr<JwtVerifier>(new JwtVerifier(config, clock, std::move(keys)));
}

Result<events::Caller> JwtVerifier::Verify(std::string_view authorization) const {
  if (authorization.empty()) return Unauthenticated("missing Authorization header");
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.size() <= kBearer.size() ||
      !std::equal(kBearer.begin(), kBearer.end(), authorization.begin(),
                  [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
    return Unauthenticated("Authorization header must be 'Bearer <token>'");
  }
  std::string_view token = authorization.substr(kBearer.size());
  if (token.size() > 8192) return Unauthenticated("token is too long");
  size_t dot1 = token.find('.');
  size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return Unauthenticated("token is not a JWT (header.payload.signature)");
  }
  KL_ASSIGN_OR_RETURN(std::string header_json, Base64UrlDecode(token.substr(0, dot1)));
  KL_ASSIGN_OR_RETURN(std::string payload_json, Base64UrlDecode(token.substr(dot1 + 1, dot2 - dot1 - 1)));
  KL_ASSIGN_OR_RETURN(std::string signature, Base64UrlDecode(token.substr(dot2 + 1)));
  boost::json::value header_holder, payload_holder;
  const boost::json::object* header = ParseObject(header_json, header_holder);
  if (header == nullptr) return Unauthenticated("token header is not a JSON object");
  std::string alg = StringClaim(*header, "alg");
  std::string_view signing_input = token.substr(0, dot2);

  if (alg == "HS256") {
    if (config_.hs256_secret.empty()) return Unauthenticated("HS256 tokens are not accepted");
    std::string expected = HmacSha256(config_.hs256_secret, signing_input);
    if (!common::ConstantTimeEquals(std::string_view(expected), std::string_view(signature))) {
      return Unauthenticated("token signature is invalid");
    }
  } else if (alg == "RS256" || alg == "ES256") {
    int want = alg == "RS256" ? EVP_PKEY_RSA : EVP_PKEY_EC;
    if (!keys_->public_key || keys_->public_key_type != want) {
      return Unauthenticated(alg + " tokens are not accepted");
    }
    std::string der = signature;
    if (alg == "ES256") {
      // JOSE carries r||s (32 bytes each); OpenSSL verifies DER.
      if (signature.size() != 64) return Unauthenticated("token signature is invalid");
      std::unique_ptr<ECDSA_SIG, EcdsaSigDeleter> sig(ECDSA_SIG_new());
      BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(signature.data()), 32, nullptr);
      BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(signature.data()) + 32, 32, nullptr);
      if (!r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
        BN_free(r);
        BN_free(s);
        return Unauthenticated("token signature is invalid");
      }
      unsigned char* out = nullptr;
      int len = i2d_ECDSA_SIG(sig.get(), &out);
      if (len <= 0) return Unauthenticated("token signature is invalid");
      der.assign(reinterpret_cast<char*>(out), static_cast<size_t>(len));
      OPENSSL_free(out);
    }
    std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
    if (EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, keys_->public_key.get()) != 1 ||
        EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(der.data()), der.size(),
                         reinterpret_cast<const unsigned char*>(signing_input.data()),
                         signing_input.size()) != 1) {
      return Unauthenticated("token signature is invalid");
    }
  } else if (alg.empty() || alg == "none" || alg == "None" || alg == "NONE") {
    return Unauthenticated("unsigned tokens (alg=none) are not accepted");
  } else {
    return Unauthenticated("token algorithm is not accepted (use HS256, RS256 or ES256)");
  }

  const boost::json::object* claims = ParseObject(payload_json, payload_holder);
  if (claims == nullptr) return Unauthenticated("token payload is not a JSON object");
  const std::int64_t now = clock_->NowMicros() / 1000000;
  const auto* exp = claims->if_contains("exp");
  if (exp == nullptr || !(exp->is_int64() || exp->is_uint64() || exp->is_double())) {
    return Unauthenticated("token has no exp claim");
  }
  std::optional<std::int64_t> expires = NumericDate(*exp);
  if (!expires) return Unauthenticated("token exp claim is not a finite number");
  if (*expires < now - config_.leeway_seconds) return Unauthenticated("token has expired");
  // nbf is optional, but when present it must be a NumericDate like exp: a string, a fraction or
  // an unsigned 64-bit value must not make a future nbf go unchecked.
  if (const auto* nbf = claims->if_contains("nbf")) {
    std::optional<std::int64_t> not_before = NumericDate(*nbf);
    if (!not_before) return Unauthenticated("token nbf claim is not a number");
    if (*not_before > now + config_.leeway_seconds) return Unauthenticated("token is not valid yet (nbf)");
  }
  if (!config_.issuer.empty() && StringClaim(*claims, "iss") != config_.issuer) {
    return Unauthenticated("token issuer is not accepted");
  }
  if (!config_.audience.empty()) {
    bool ok = StringClaim(*claims, "aud") == config_.audience;
    if (const auto* aud = claims->if_contains("aud"); aud && aud->is_array()) {
      for (const auto& a : aud->as_array()) ok = ok || (a.is_string() && a.as_string() == config_.audience);
    }
    if (!ok) return Unauthenticated("token audience is not accepted");
  }
  events::Caller caller;
  caller.user_id = StringClaim(*claims, "sub");
  caller.display_name = StringClaim(*claims, "name");
  caller.team_id = StringClaim(*claims, "team_id");
  std::string role = StringClaim(*claims, "role");
  if (caller.user_id.empty()) return Unauthenticated("token has no sub claim");
  if (caller.team_id.empty()) return Unauthenticated("token has no team_id claim");
  if (role == "owner") {
    caller.role = events::Role::kOwner;
  } else if (role == "member") {
    caller.role = events::Role::kMember;
  } else {
    return Unauthenticated("token role must be owner or member");
  }
  if (caller.display_name.empty()) caller.display_name = caller.user_id;
  return caller;
}

std::string MintHs256(const TokenClaims& c, std::string_view secret) {
  boost::json::object payload;
  payload["sub"] = c.sub;
  payload["name"] = c.name;
  payload["team_id"] = c.team_id;
  payload["role"] = c.role;
  payload["exp"] = c.expires_at;
  if (!c.issuer.empty()) payload["iss"] = c.issuer;
  if (!c.audience.empty()) payload["aud"] = c.audience;
  std::string input = Base64UrlEncode(R"({"alg":"HS256","typ":"JWT"})") + "." +
                      Base64UrlEncode(boost::json::serialize(payload));
  return input + "." + Base64UrlEncode(HmacSha256(secret, input));
}

}  // namespace keyledger::api
