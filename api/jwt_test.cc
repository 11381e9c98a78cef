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

}  // namespace
}  // namespace keyledger::api
