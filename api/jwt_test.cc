#include "keyledger/api/jwt.h"

#include <gtest/gtest.h>

#include "support/jwt_keys.h"

namespace keyledger::api {
namespace {

constexpr char kSecret[] = "0123456789abcdef0123456789abcdef-test";
constexpr std::int64_t kNow = 1795384512;

// base64url(header).base64url(payload) of a token signed with `alg`, expiring in a minute.
std::string SigningInput(const std::string& alg, const std::string& claims) {
  return Base64UrlEncode(R"({"alg":")" + alg + R"(","typ":"JWT"})") + "." +
         Base64UrlEncode("{" + claims + R"(,"exp":)" + std::to_string(kNow + 60) + "}");
}

TokenClaims Claims() { return TokenClaims{"user-olga", "Olga", "team-acme", "owner", kNow + 600, "", ""}; }

class Jwt : public ::testing::Test {
 protected:
  common::ManualClock clock_{kNow * 1000000};
  std::unique_ptr<JwtVerifier> Verifier(JwtConfig config) {
    auto v = JwtVerifier::Create(config, &clock_);
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return std::move(*v);
  }
};

TEST_F(Jwt, ValidHs256TokenYieldsTheCaller) {
  auto v = Verifier({kSecret, "", "", "", 30});
  auto caller = v->Verify("Bearer " + MintHs256(Claims(), kSecret));
  ASSERT_TRUE(caller.ok()) << caller.status().ToString();
  EXPECT_EQ(caller->user_id, "user-olga");
  EXPECT_EQ(caller->team_id, "team-acme");
  EXPECT_EQ(caller->role, events::Role::kOwner);
}

TEST_F(Jwt, RejectsMissingExpiredForgedUnsignedAndMalformedTokens) {
  auto v = Verifier({kSecret, "", "", "", 30});
  TokenClaims expired = Claims();
  expired.expires_at = kNow - 3600;
  std::string good = MintHs256(Claims(), kSecret);
  std::string forged = MintHs256(Claims(), "another-secret-of-at-least-32-bytes!!");
  std::string tampered = good;
  tampered[tampered.find('.') + 5] ^= 1;
  std::string none = Base64UrlEncode(R"({"alg":"none","typ":"JWT"})") + "." +
                     good.substr(good.find('.') + 1, good.rfind('.') - good.find('.') - 1) + ".";
  TokenClaims bad_role = Claims();
  bad_role.role = "admin";
  for (const std::string& header :
       {std::string(""), std::string("Basic abc"), "Bearer " + MintHs256(expired, kSecret), "Bearer " + forged,
        "Bearer " + tampered, "Bearer " + none, std::string("Bearer a.b"), std::string("Bearer !!.??.**"),
        "Bearer " + MintHs256(bad_role, kSecret)}) {
    auto r = v->Verify(header);
    ASSERT_FALSE(r.ok()) << header;
    EXPECT_EQ(r.status().code(), common::StatusCode::kUnauthenticated);
    if (header.size() > 20) {
      EXPECT_EQ(r.status().message().find(header.substr(7, 20)), std::string::npos);
    }
  }
}

TEST_F(Jwt, ChecksIssuerAndAudienceWhenConfigured) {
  auto v = Verifier({kSecret, "", "https://auth.example", "keyledger", 30});
  TokenClaims c = Claims();
  EXPECT_FALSE(v->Verify("Bearer " + MintHs256(c, kSecret)).ok());
  c.issuer = "https://auth.example";
  c.audience = "keyledger";
  EXPECT_TRUE(v->Verify("Bearer " + MintHs256(c, kSecret)).ok());
  c.audience = "other";
  EXPECT_FALSE(v->Verify("Bearer " + MintHs256(c, kSecret)).ok());
}

TEST_F(Jwt, RefusesWeakSecretsAtConfiguration) {
  EXPECT_FALSE(JwtVerifier::Create({"short", "", "", "", 30}, &clock_).ok());
  EXPECT_FALSE(JwtVerifier::Create({"", "", "", "", 30}, &clock_).ok());
  EXPECT_FALSE(JwtVerifier::Create({"", "not a pem", "", "", 30}, &clock_).ok());
}

// ES256: sign with a fresh P-256 key, verify with its public half; an HS256 token signed with the
// public key's PEM as secret (the classic algorithm-confusion attack) is refused.
TEST_F(Jwt, VerifiesEs256AndRefusesAlgorithmConfusion) {
  testing::Pkey key = testing::NewP256Key();
  ASSERT_NE(key, nullptr);
  std::string pem = testing::PublicPem(key.get());
  std::string input = SigningInput("ES256", R"("sub":"u1","name":"U","team_id":"t1","role":"member")");
  std::string rs = testing::SignEs256(key.get(), input);
  ASSERT_EQ(rs.size(), 64u);
  std::string token = input + "." + Base64UrlEncode(rs);

  auto v = Verifier({"", pem, "", "", 30});
  auto caller = v->Verify("Bearer " + token);
  ASSERT_TRUE(caller.ok()) << caller.status().ToString();
  EXPECT_EQ(caller->role, events::Role::kMember);
  std::string broken = token;
  broken[broken.size() - 3] = broken[broken.size() - 3] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(v->Verify("Bearer " + broken).ok());
  EXPECT_FALSE(v->Verify("Bearer " + MintHs256(Claims(), pem)).ok());
}

TEST_F(Jwt, VerifiesRs256AndRefusesAnEs256KeyForIt) {
  testing::Pkey key = testing::NewRsaKey();
  ASSERT_NE(key, nullptr);
  std::string pem = testing::PublicPem(key.get());
  std::string input = SigningInput("RS256", R"("sub":"u2","name":"U","team_id":"t2","role":"owner")");
  std::string sig = testing::SignSha256(key.get(), input);
  ASSERT_FALSE(sig.empty());
  std::string token = input + "." + Base64UrlEncode(sig);
  auto v = Verifier({"", pem, "", "", 30});
  auto caller = v->Verify("Bearer " + token);
  ASSERT_TRUE(caller.ok()) << caller.status().ToString();
  EXPECT_EQ(caller->team_id, "t2");
  // The same token claiming ES256 is refused: the configured key is RSA.
  std::string relabeled = Base64UrlEncode(R"({"alg":"ES256","typ":"JWT"})") + token.substr(token.find('.'));
  EXPECT_FALSE(v->Verify("Bearer " + relabeled).ok());
}

// Regression: an `exp` of 1e300 was cast from double to int64 (undefined behaviour) and a huge
// integer `exp` overflowed when the leeway was added.
TEST_F(Jwt, ExtremeExpiryValuesAreJudgedWithoutOverflow) {
  auto v = Verifier({kSecret, "", "", "", 30});
  auto sign = [](const std::string& payload) {
    std::string input = Base64UrlEncode(R"({"alg":"HS256","typ":"JWT"})") + "." + Base64UrlEncode(payload);
    return "Bearer " + input + "." + Base64UrlEncode(testing::HmacSha256(kSecret, input));
  };
  auto with_exp = [&](const std::string& exp) {
    return sign(R"({"sub":"u1","name":"U","team_id":"t1","role":"member","exp":)" + exp + "}");
  };
  EXPECT_TRUE(v->Verify(with_exp(std::to_string(kNow + 60))).ok());
  EXPECT_TRUE(v->Verify(with_exp("1e300")).ok());
  EXPECT_TRUE(v->Verify(with_exp("9223372036854775807")).ok());
  EXPECT_TRUE(v->Verify(with_exp("18446744073709551615")).ok());
  for (const char* past : {"-1e300", "-9223372036854775808", "0", "1.5"}) {
    auto r = v->Verify(with_exp(past));
    ASSERT_FALSE(r.ok()) << past;
    EXPECT_EQ(r.status().message(), "token has expired") << past;
  }
}

// Regression (found by fuzz_jwt_verify): base64url decoding ignored the unused low bits of the
// last character, so the last character of a valid token's signature could be changed (for
// example 'A' to 'B' when 4 bits are unused) and the altered token still verified.
TEST_F(Jwt, NonCanonicalBase64UrlIsRefused) {
  EXPECT_EQ(*Base64UrlDecode("AQ"), std::string("\x01"));
  EXPECT_FALSE(Base64UrlDecode("AR").ok());
  EXPECT_EQ(*Base64UrlDecode("AAE"), std::string("\x00\x01", 2));
  EXPECT_FALSE(Base64UrlDecode("AAF").ok());
  for (const std::string& bytes : {std::string(""), std::string("a"), std::string("ab"), std::string("abc"),
                                   std::string("\xff\xfe\xfd\xfc")}) {
    EXPECT_EQ(*Base64UrlDecode(Base64UrlEncode(bytes)), bytes);
  }

  auto v = Verifier({kSecret, "", "", "", 30});
  std::string token = MintHs256(Claims(), kSecret);
  ASSERT_TRUE(v->Verify("Bearer " + token).ok());
  // An HS256 signature is 32 bytes: 43 characters, the last of which carries 2 unused bits.
  const std::string kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  size_t last = kAlphabet.find(token.back());
  ASSERT_EQ(last % 4, 0u);
  for (size_t low = 1; low < 4; ++low) {
    std::string altered = token;
    altered.back() = kAlphabet[last + low];
    auto r = v->Verify("Bearer " + altered);
    ASSERT_FALSE(r.ok()) << altered;
    EXPECT_EQ(r.status().code(), common::StatusCode::kUnauthenticated);
  }
}

// Regression (found by fuzz_jwt_verify): nbf was checked only when it was a signed 64-bit
// integer, so a future nbf written as a fraction or an unsigned value, or an nbf that is not a
// number at all, let a not-yet-valid token through.
TEST_F(Jwt, NbfIsANumericDateInEveryJsonNumberForm) {
  auto v = Verifier({kSecret, "", "", "", 30});
  auto with_nbf = [](const std::string& nbf) {
    std::string input = Base64UrlEncode(R"({"alg":"HS256","typ":"JWT"})") + "." +
                        Base64UrlEncode(R"({"sub":"u1","team_id":"t1","role":"member","exp":)" +
                                        std::to_string(kNow + 3600) + ",\"nbf\":" + nbf + "}");
    return "Bearer " + input + "." + Base64UrlEncode(testing::HmacSha256(kSecret, input));
  };
  for (const std::string& past : {std::to_string(kNow - 60), std::to_string(kNow) + ".5", std::string("-1e300"),
                                  std::to_string(kNow + 30)}) {
    EXPECT_TRUE(v->Verify(with_nbf(past)).ok()) << past;
  }
  for (const std::string& future : {std::to_string(kNow + 3600), std::to_string(kNow + 3600) + ".5",
                                    std::string("1e300"), std::string("18446744073709551615")}) {
    auto r = v->Verify(with_nbf(future));
    ASSERT_FALSE(r.ok()) << future;
    EXPECT_EQ(r.status().message(), "token is not valid yet (nbf)") << future;
  }
  for (const std::string& not_a_number : {std::string("\"2020-01-01\""), std::string("null"), std::string("true"),
                                          std::string("[1]")}) {
    auto r = v->Verify(with_nbf(not_a_number));
    ASSERT_FALSE(r.ok()) << not_a_number;
    EXPECT_EQ(r.status().message(), "token nbf claim is not a number") << not_a_number;
  }
}

}  // namespace
}  // namespace keyledger::api
