#include "keyledger/common/crypto.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>
#include <vector>

namespace keyledger::common {
namespace {

TEST(Sha256, MatchesKnownVectors) {
  EXPECT_EQ(HexEncode(Sha256Of("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(HexEncode(Sha256Of("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, IncrementalEqualsOneShotAndResetsAfterFinish) {
  Sha256 h;
  h.Update("a");
  h.Update("bc");
  EXPECT_EQ(h.Finish(), Sha256Of("abc"));
  EXPECT_EQ(h.Digest(""), Sha256Of(""));
}

TEST(Hex, RoundTripsAndRejectsBadInputNamingTheField) {
  Sha256Digest d = Sha256Of("x");
  auto parsed = ParseSha256Hex(HexEncode(d), "secret_sha256");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, d);
  auto upper = ParseSha256Hex("E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", "f");
  ASSERT_TRUE(upper.ok());
  EXPECT_EQ(*upper, Sha256Of(""));
  auto short_hex = ParseSha256Hex("abcd", "secret_sha256");
  ASSERT_FALSE(short_hex.ok());
  EXPECT_NE(short_hex.status().message().find("secret_sha256"), std::string::npos);
  auto non_hex = ParseSha256Hex(std::string(64, 'g'), "secret_sha256");
  EXPECT_EQ(non_hex.status().code(), StatusCode::kInvalidArgument);
}

TEST(ConstantTimeEquals, ComparesContentAndLength) {
  EXPECT_TRUE(ConstantTimeEquals(std::string_view("abc"), std::string_view("abc")));
  EXPECT_FALSE(ConstantTimeEquals(std::string_view("abc"), std::string_view("abd")));
  EXPECT_FALSE(ConstantTimeEquals(std::string_view("abc"), std::string_view("abcd")));
}

TEST(Uuid, V4HasVersionAndVariantBitsAndIsUnique) {
  OsRandom random;
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    auto id = NewUuidV4(random);
    ASSERT_TRUE(id.ok());
    ASSERT_TRUE(IsUuid(*id)) << *id;
    EXPECT_EQ((*id)[14], '4');
    EXPECT_NE(std::string("89ab").find((*id)[19]), std::string::npos);
    EXPECT_TRUE(seen.insert(*id).second);
  }
  EXPECT_FALSE(IsUuid("not-a-uuid"));
  EXPECT_FALSE(IsUuid("0123456789abcdef0123456789abcdef0123"));
}

TEST(SeededRandom, IsReproducibleForTheSameSeed) {
  SeededRandom a(7), b(7), c(8);
  std::array<std::uint8_t, 40> x{}, y{}, z{};
  ASSERT_TRUE(a.Fill(x).ok());
  ASSERT_TRUE(b.Fill(y).ok());
  ASSERT_TRUE(c.Fill(z).ok());
  EXPECT_EQ(x, y);
  EXPECT_NE(x, z);
}

// The writer's thread and the test (or API) thread that hands it commands draw from one source.
// Under TSan a non-atomic state is a reported race; everywhere, no draw may be handed out twice.
TEST(SeededRandom, MayBeSharedByThreadsAndNeverRepeatsADraw) {
  SeededRandom shared(11);
  constexpr int kPerThread = 20000;
  std::vector<std::uint64_t> a(kPerThread), b(kPerThread);
  std::thread other([&] {
    for (auto& v : b) v = shared.Next();
  });
  for (auto& v : a) v = shared.Next();
  other.join();
  std::set<std::uint64_t> seen(a.begin(), a.end());
  seen.insert(b.begin(), b.end());
  EXPECT_EQ(seen.size(), 2u * kPerThread);
}

}  // namespace
}  // namespace keyledger::common
