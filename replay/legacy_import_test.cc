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
