#include "keyledger/api/jwt.h"

#include <gtest/gtest.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

namespace keyledger::api {
namespace {

constexpr char kSecret[] = "0123456789abcdef0123456789abcdef-test";
constexpr std::int64_t kNow = 1795384512;

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
  EVP_PKEY* key = EVP_EC_gen("P-256");
  ASSERT_NE(key, nullptr);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, key);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(len));
  BIO_free(bio);

  std::string input = Base64UrlEncode(R"({"alg":"ES256","typ":"JWT"})") + "." +
                      Base64UrlEncode(R"({"sub":"u1","name":"U","team_id":"t1","role":"member","exp":)" +
                                      std::to_string(kNow + 60) + "}");
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t der_len = 0;
  ASSERT_EQ(EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key), 1);
  ASSERT_EQ(EVP_DigestSign(ctx, nullptr, &der_len, reinterpret_cast<const unsigned char*>(input.data()), input.size()), 1);
  std::vector<unsigned char> der(der_len);
  ASSERT_EQ(EVP_DigestSign(ctx, der.data(), &der_len, reinterpret_cast<const unsigned char*>(input.data()), input.size()), 1);
  EVP_MD_CTX_free(ctx);
  const unsigned char* p = der.data();
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der_len));
  unsigned char rs[64] = {0};
  BN_bn2binpad(ECDSA_SIG_get0_r(sig), rs, 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(sig), rs + 32, 32);
  ECDSA_SIG_free(sig);
  EVP_PKEY_free(key);
  std::string token = input + "." + Base64UrlEncode(std::string(reinterpret_cast<char*>(rs), 64));

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
  EVP_PKEY* key = EVP_RSA_gen(2048);
  ASSERT_NE(key, nullptr);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, key);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(len));
  BIO_free(bio);
  std::string input = Base64UrlEncode(R"({"alg":"RS256","typ":"JWT"})") + "." +
                      Base64UrlEncode(R"({"sub":"u2","name":"U","team_id":"t2","role":"owner","exp":)" +
                                      std::to_string(kNow + 60) + "}");
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t sig_len = 0;
  ASSERT_EQ(EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key), 1);
  ASSERT_EQ(EVP_DigestSign(ctx, nullptr, &sig_len, reinterpret_cast<const unsigned char*>(input.data()), input.size()), 1);
  std::string sig(sig_len, '\0');
  ASSERT_EQ(EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &sig_len,
                           reinterpret_cast<const unsigned char*>(input.data()), input.size()), 1);
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  std::string token = input + "." + Base64UrlEncode(sig.substr(0, sig_len));
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
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), kSecret, sizeof(kSecret) - 1, reinterpret_cast<const unsigned char*>(input.data()),
         input.size(), mac, &len);
    return "Bearer " + input + "." + Base64UrlEncode(std::string(reinterpret_cast<char*>(mac), len));
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
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), kSecret, sizeof(kSecret) - 1, reinterpret_cast<const unsigned char*>(input.data()),
         input.size(), mac, &len);
    return "Bearer " + input + "." + Base64UrlEncode(std::string(reinterpret_cast<char*>(mac), len));
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
