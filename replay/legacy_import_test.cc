#include "keyledger/replay/legacy_import.h"

#include <gtest/gtest.h>

#include <sstream>

#include "keyledger/common/secret.h"

namespace keyledger::replay {
namespace {

std::string Secret(int seed) {
  common::SeededRandom random(static_cast<std::uint64_t>(seed));
  return *common::GenerateSecret(random);
}

std::string Line(const std::string& team, const std::string& name, const std::string& secret_field) {
  return R"({"team_id":")" + team + R"(","creator_id":"u-1","creator_name":"Ada","name":")" + name +
         R"(","created_at":"2023-05-01T10:00:00Z",)" + secret_field + "}";
}

TEST(LegacyImport, ParsesSecretsAndHashesAndDerivesStableKeyIds) {
  std::string secret = Secret(1);
  std::string hash = common::HexEncode(common::HashSecret(Secret(2)));
  std::istringstream in(Line("team-a", "old key", R"("secret":")" + secret + "\"") + "\n\n" +
                        Line("team-a", "older key", R"("secret_sha256":")" + hash + R"(","secret_hint":"wxyz")") + "\n");
  std::vector<std::string> errors;
  auto lines = ParseLegacyLines(in, &errors);
  ASSERT_TRUE(errors.empty()) << errors[0];
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].line, 1);
  EXPECT_EQ(lines[1].line, 3);
  EXPECT_EQ(lines[0].command.secret_sha256, common::HashSecret(secret));
  EXPECT_EQ(lines[0].command.secret_hint, secret.substr(secret.size() - 4));
  EXPECT_EQ(lines[1].command.secret_hint, "wxyz");
  EXPECT_EQ(lines[0].command.created_at_micros, 1682935200000000);
  EXPECT_TRUE(common::IsUuid(lines[0].command.key_id));
  EXPECT_EQ(lines[0].command.key_id, LegacyKeyId("team-a", common::HashSecret(secret)));
  EXPECT_NE(LegacyKeyId("team-b", common::HashSecret(secret)), lines[0].command.key_id);
}

// Legacy keys never expire unless the operator imports them with an expiry.
TEST(LegacyImport, ALegacyKeyExpiresOnlyWhenImportedWithAnExpiry) {
  std::istringstream in(Line("team-a", "forever", R"("secret":")" + Secret(3) + "\"") + "\n" +
                        Line("team-a", "until", R"("secret":")" + Secret(4) + R"(","expires_at":"2027-01-01T00:00:00Z")") +
                        "\n" + Line("team-a", "bad", R"("secret":")" + Secret(5) + R"(","expires_at":"soon")") + "\n");
  std::vector<std::string> errors;
  auto lines = ParseLegacyLines(in, &errors);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].command.expires_at_micros, 0);
  EXPECT_EQ(lines[1].command.expires_at_micros, 1798761600000000);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("line 3: expires_at must be an RFC 3339 date-time"), std::string::npos) << errors[0];
  auto event = events::DecideImportLegacy(std::nullopt, {"op", "op", "", events::Role::kOperator}, lines[1].command,
                                          {"e", 1, "", "", ""});
  ASSERT_TRUE(event.ok());
  EXPECT_EQ(std::get<events::KeyCreated>(event->payload).expires_at_micros, 1798761600000000);
}

// Regression: legacy secrets predate the sk-do-v1- format; an import by plaintext refused them.
TEST(LegacyImport, APlaintextLegacySecretOfAnyFormatIsImportedByItsHash) {
  const std::string legacy = "dop_v1_0123456789abcdef0123456789abcdef";
  std::istringstream in(Line("team-a", "old", R"("secret":")" + legacy + "\"") + "\n" +
                        Line("team-a", "spaced", R"("secret":"has a space")") + "\n" +
                        Line("team-a", "long", R"("secret":")" + std::string(513, 'x') + "\"") + "\n");
  std::vector<std::string> errors;
  auto lines = ParseLegacyLines(in, &errors);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].command.secret_sha256, common::HashSecret(legacy));
  EXPECT_EQ(lines[0].command.secret_hint, "cdef");
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_NE(errors[0].find("line 2: secret: the secret has a character that is not printable ASCII"), std::string::npos)
      << errors[0];
  EXPECT_NE(errors[1].find("line 3: secret: the secret is longer than 512"), std::string::npos) << errors[1];
}

TEST(LegacyImport, NamesEveryBadLineAndNeverEchoesASecret) {
  std::string good = Secret(3);
  std::string mistyped = Secret(4);
  mistyped[12] = mistyped[12] == 'a' ? 'b' : 'a';
  std::istringstream in(
      Line("team-a", "fine", R"("secret":")" + good + "\"") + "\n" +                        // 1
      "not json\n" +                                                                         // 2
      Line("team-a", "typo", R"("secret":")" + mistyped + "\"") + "\n" +                    // 3
      Line("team-a", "dup", R"("secret":")" + good + "\"") + "\n" +                         // 4
      Line("team-a", "both", R"("secret":")" + Secret(5) + R"(","secret_sha256":"00")") + "\n" +  // 5
      R"({"team_id":"t","creator_id":"u","creator_name":"n","name":"x","created_at":"yesterday","secret_sha256":")" +
      std::string(64, 'a') + "\"}\n" +                                                       // 6
      Line("team-a", "\\u0007bell", R"("secret_sha256":")" + std::string(64, 'b') + "\"") + "\n" +  // 7
      Line("team-a", "extra", R"("secret_sha256":")" + std::string(64, 'c') + R"(","scope":"all")") + "\n");  // 8
  std::vector<std::string> errors;
  auto lines = ParseLegacyLines(in, &errors);
  ASSERT_EQ(errors.size(), 7u);
  const char* expected[] = {"line 2:", "line 3: secret", "line 4: the same secret as line 1", "line 5:",
                            "line 6: created_at", "line 7:", "line 8: unknown field 'scope'"};
  for (size_t i = 0; i < errors.size(); ++i) {
    EXPECT_EQ(errors[i].rfind(expected[i], 0), 0u) << errors[i];
    EXPECT_EQ(errors[i].find(good.substr(9, 12)), std::string::npos);
    EXPECT_EQ(errors[i].find(mistyped.substr(9, 12)), std::string::npos);
  }
}

}  // namespace
}  // namespace keyledger::replay
