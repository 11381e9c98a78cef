#include "keyledger/common/secret.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

namespace keyledger::common {
namespace {

TEST(Secret, GeneratedSecretsHaveTheDocumentedFormat) {
  OsRandom random;
  auto secret = GenerateSecret(random);
  ASSERT_TRUE(secret.ok());
  EXPECT_EQ(secret->size(), kSecretLength);
  EXPECT_EQ(secret->substr(0, 9), "sk-do-v1-");
  EXPECT_TRUE(CheckSecretFormat(*secret).ok());
}

TEST(Secret, BodyCarriesAtLeast238BitsOfEntropy) {
  // 42 base62 characters: 42 * log2(62) = 250.07 bits.
  EXPECT_GE(static_cast<double>(kSecretBodyLength) * std::log2(62.0), 238.0);
}

TEST(Secret, GeneratedSecretsAreDistinctAndUseTheWholeAlphabet) {
  OsRandom random;
  std::set<std::string> seen;
  std::set<char> chars;
  for (int i = 0; i < 2000; ++i) {
    auto s = GenerateSecret(random);
    ASSERT_TRUE(s.ok());
    EXPECT_TRUE(seen.insert(*s).second);
    for (size_t j = kSecretPrefix.size(); j < kSecretPrefix.size() + kSecretBodyLength; ++j) {
      chars.insert((*s)[j]);
    }
  }
  EXPECT_EQ(chars.size(), 62u);
}

TEST(Secret, FormatCheckRejectsMistypedTruncatedAndForeignSecrets) {
  SeededRandom random(1);
  std::string secret = *GenerateSecret(random);
  ASSERT_TRUE(CheckSecretFormat(secret).ok());

  std::string truncated = secret.substr(0, secret.size() - 1);
  EXPECT_EQ(CheckSecretFormat(truncated).code(), StatusCode::kInvalidArgument);

  // Every single-character substitution in the body is caught by the CRC.
  for (size_t i = kSecretPrefix.size(); i < secret.size(); ++i) {
    std::string typo = secret;
    typo[i] = typo[i] == 'a' ? 'b' : 'a';
    EXPECT_FALSE(CheckSecretFormat(typo).ok()) << "position " << i;
  }
  std::string bad_prefix = secret;
  bad_prefix[3] = 'x';
  EXPECT_FALSE(CheckSecretFormat(bad_prefix).ok());
  std::string bad_alphabet = secret;
  bad_alphabet[20] = '-';
  EXPECT_FALSE(CheckSecretFormat(bad_alphabet).ok());
  EXPECT_FALSE(CheckSecretFormat("").ok());
}

TEST(Secret, ErrorsNeverEchoTheSecret) {
  SeededRandom random(2);
  std::string secret = *GenerateSecret(random);
  std::string typo = secret;
  typo[15] = typo[15] == 'Q' ? 'R' : 'Q';
  for (const std::string& s : {typo, secret.substr(0, 30), secret + "x"}) {
    Status st = CheckSecretFormat(s);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.message().find(secret.substr(9, 10)), std::string::npos) << st.message();
  }
}

TEST(Secret, HashIsSha256OfTheFullSecretAndHintIsLastFour) {
  std::string secret = "sk-do-v1-abc";
  EXPECT_EQ(HashSecret(secret), Sha256Of(secret));
  EXPECT_EQ(SecretHint("sk-do-v1-0123456789WXYZ"), "WXYZ");
}

TEST(Crc32, MatchesZlib) {
  EXPECT_EQ(Crc32("123456789"), 0xCBF43926u);
  EXPECT_EQ(Crc32(""), 0u);
}

TEST(Base62, FixedWidthEncodesMaxCrc) {
  EXPECT_EQ(Base62Fixed(0, 6), "000000");
  EXPECT_EQ(Base62Fixed(61, 2), "0z");
  EXPECT_EQ(Base62Fixed(0xFFFFFFFFu, 6), "4gfFC3");
}

}  // namespace
}  // namespace keyledger::common
