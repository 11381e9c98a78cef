#include "keyledger/validator/secret_index.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "keyledger/common/secret.h"
#include "keyledger/events/key_rules.h"

namespace keyledger::validator {
namespace {

constexpr char kVpc[] = "5f0c8e3a-2b7d-4c1e-9a6f-1d2e3f4a5b6c";
constexpr char kOtherVpc[] = "8a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";

class Index : public ::testing::Test {
 protected:
  events::Catalog catalog_ = events::Catalog::Default();
  SecretIndex index_{&catalog_};
  common::SeededRandom random_{11};
  common::FileSystem* files_ = common::DefaultFileSystem();
  std::map<std::string, events::KeyState> states_;
  int n_ = 0;
  std::int64_t now_ = 1795384512000000 + 3600'000000;  // the checks' wall clock: an hour after creation

  events::CommandContext Ctx() { return {*common::NewUuidV4(random_), 1795384512000000 + n_++, "r", "", ""}; }
  events::Caller Owner() { return {"olga", "Olga", "team-acme", events::Role::kOwner}; }

  void Apply(const events::Event& e) {
    index_.Apply(e);
    std::optional<events::KeyState> cur;
    if (states_.count(e.key_id)) cur = states_[e.key_id];
    states_[e.key_id] = *events::Apply(cur, e);
  }
  // Creates a key; returns (key id, secret).
  std::pair<std::string, std::string> Create(bool all_models, std::vector<std::string> models, bool batch,
                                             std::string vpc, std::int64_t expires_at_micros = 0) {
    std::string secret = *common::GenerateSecret(random_);
    events::CreateKeyCommand c{*common::NewUuidV4(random_), "k", all_models, std::move(models), batch,
                               std::move(vpc), common::HashSecret(secret), common::SecretHint(secret), expires_at_micros};
    auto e = events::DecideCreate(std::nullopt, Owner(), c, catalog_, Ctx());
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    Apply(*e);
    return {e->key_id, secret};
  }
  Decision Check(const std::string& secret, const std::string& model, const std::string& vpc = "",
                 bool batch = false) {
    return index_.Check({secret, model, vpc, batch}, now_);
  }
};

// Expiry is an instant: allowed up to it, denied `expired` from it on, with no event in between.
TEST_F(Index, AKeyIsAllowedBeforeItsExpiryAndDeniedExpiredFromIt) {
  const std::int64_t expires = now_ + 10'000000;
  auto [id, secret] = Create(true, {}, false, "", expires);
  auto [forever_id, forever] = Create(true, {}, false, "");
  now_ = expires - 1'000000;
  EXPECT_TRUE(Check(secret, "openai-gpt-4o").allowed);
  now_ = expires;
  EXPECT_EQ(Check(secret, "openai-gpt-4o").reason, DenyReason::kExpired);
  now_ = expires + 1'000000;
  Decision d = Check(secret, "openai-gpt-4o");
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reason, DenyReason::kExpired);
  EXPECT_EQ(d.key_id, id);  // a known key: its usage counts the denial
  EXPECT_EQ(DenyReasonName(d.reason), "expired");
  EXPECT_TRUE(Check(forever, "openai-gpt-4o").allowed);
  // The snapshot keeps the expiry.
  std::string path = ::testing::TempDir() + "/expiry-" + std::to_string(getpid()) + ".snap";
  ASSERT_TRUE(index_.SaveSnapshot(path, {}, files_).ok());
  SecretIndex loaded(&catalog_);
  SecretIndex::Positions positions;
  ASSERT_TRUE(loaded.LoadSnapshot(path, &positions, files_).ok());
  EXPECT_EQ(loaded.Check({secret, "openai-gpt-4o", "", false}, expires - 1'000000).reason, DenyReason::kNone);
  EXPECT_EQ(loaded.Check({secret, "openai-gpt-4o", "", false}, expires + 1'000000).reason, DenyReason::kExpired);
  std::remove(path.c_str());
}

TEST_F(Index, AllowsAndNamesTheKeyAndTeam) {
  auto [id, secret] = Create(true, {}, false, "");
  Decision d = Check(secret, "openai-gpt-4o");
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.key_id, id);
  EXPECT_EQ(d.team_id, "team-acme");
}

// A mistyped sk-do-v1- secret (truncated, a wrong character) fails its checksum and is refused
// without a lookup, as are empty and oversized ones; anything else may be a legacy secret.
TEST_F(Index, RefusesMalformedSecretsBeforeAnyLookup) {
  auto [id, secret] = Create(true, {}, false, "");
  for (const std::string& bad : {std::string(""), secret.substr(0, 40), secret.substr(0, secret.size() - 1) + "x",
                                 std::string(kMaxLegacySecretLength + 1, 'a')}) {
    EXPECT_EQ(Check(bad, "openai-gpt-4o").reason, DenyReason::kMalformed) << bad;
  }
  common::SeededRandom other(99);
  EXPECT_EQ(Check(*common::GenerateSecret(other), "openai-gpt-4o").reason, DenyReason::kUnknown);
  for (const std::string& other_format : {std::string("Bearer"), "sk-do-v2-" + secret.substr(9), std::string("legacy")}) {
    EXPECT_EQ(Check(other_format, "openai-gpt-4o").reason, DenyReason::kUnknown) << other_format;
  }
}

// Regression: a legacy key imported by its SHA-256 only, whose plaintext is not an sk-do-v1-
// secret, was refused as `malformed` before any lookup, so it never authenticated.
TEST_F(Index, ALegacySecretOfAnyFormatImportedByHashAuthenticates) {
  for (const std::string& legacy : {std::string("dop_v1_0123456789abcdef0123456789abcdef"), std::string("OLDKEY-42"),
                                    std::string(kMaxLegacySecretLength, 'z')}) {
    events::ImportLegacyKeyCommand imp{*common::NewUuidV4(random_), "team-acme", "olga", "Olga", "old key",
                                       1600000000000000, common::HashSecret(legacy), ""};
    events::Caller op{"importer", "Importer", "", events::Role::kOperator};
    auto e = events::DecideImportLegacy(std::nullopt, op, imp, Ctx());
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    Apply(*e);
    Decision d = Check(legacy, "openai-gpt-4o");
    EXPECT_TRUE(d.allowed) << legacy;
    EXPECT_EQ(d.key_id, e->key_id);
    EXPECT_EQ(Check(legacy + "x", "openai-gpt-4o").reason, legacy.size() + 1 > kMaxLegacySecretLength
                                                              ? DenyReason::kMalformed
                                                              : DenyReason::kUnknown);
  }
}

TEST_F(Index, SelectedModelsVpcAndBatchAreEnforced) {
  auto [scoped_id, scoped] = Create(false, {"openai-gpt-4o", "alibaba-qwen3-32b"}, false, "");
  EXPECT_TRUE(Check(scoped, "alibaba-qwen3-32b").allowed);
  EXPECT_EQ(Check(scoped, "anthropic-claude-3.5-haiku").reason, DenyReason::kModelNotAllowed);
  EXPECT_EQ(Check(scoped, "no-such-model").reason, DenyReason::kModelNotAllowed);

  auto [vpc_id, in_vpc] = Create(true, {}, false, kVpc);
  EXPECT_TRUE(Check(in_vpc, "openai-gpt-4o", kVpc).allowed);
  EXPECT_EQ(Check(in_vpc, "openai-gpt-4o", "").reason, DenyReason::kVpcMismatch);  // public internet
  EXPECT_EQ(Check(in_vpc, "openai-gpt-4o", kOtherVpc).reason, DenyReason::kVpcMismatch);

  auto [batch_id, batch] = Create(true, {}, true, "");
  EXPECT_TRUE(Check(batch, "openai-gpt-4o", "", true).allowed);
  EXPECT_TRUE(Check(batch, "anthropic-claude-3.5-haiku", "", true).allowed);
  EXPECT_EQ(Check(batch, "llama3.3-70b-instruct", "", true).reason, DenyReason::kBatchNotAllowed);
  auto [plain_id, plain] = Create(true, {}, false, "");
  EXPECT_EQ(Check(plain, "openai-gpt-4o", "", true).reason, DenyReason::kBatchNotAllowed);
  EXPECT_TRUE(Check(plain, "openai-gpt-4o", "", false).allowed);
}

TEST_F(Index, LegacyKeysAuthenticateForAllModelsFromAnywhere) {
  std::string secret = *common::GenerateSecret(random_);
  events::ImportLegacyKeyCommand imp{*common::NewUuidV4(random_), "team-acme", "mia", "Mia", "old", 1,
                                     common::HashSecret(secret), common::SecretHint(secret)};
  auto e = events::DecideImportLegacy(std::nullopt, {"ops", "ops", "", events::Role::kOperator}, imp, Ctx());
  ASSERT_TRUE(e.ok());
  Apply(*e);
  EXPECT_TRUE(Check(secret, "anthropic-claude-sonnet-4", kOtherVpc).allowed);
  EXPECT_EQ(Check(secret, "openai-gpt-4o", "", true).reason, DenyReason::kBatchNotAllowed);
}

TEST_F(Index, RenameKeepsTheSecretRegenerateAndDeleteRevokeItAtOnce) {
  auto [id, secret] = Create(true, {}, false, "");
  Apply(*events::DecideRename(states_[id], Owner(), {id, "renamed", {}}, Ctx()));
  EXPECT_TRUE(Check(secret, "openai-gpt-4o").allowed);

  std::string fresh = *common::GenerateSecret(random_);
  Apply(*events::DecideRegenerate(states_[id], Owner(), {id, "renamed", {}, common::HashSecret(fresh),
                                                         common::SecretHint(fresh)}, Ctx()));
  EXPECT_EQ(Check(secret, "openai-gpt-4o").reason, DenyReason::kUnknown);
  EXPECT_TRUE(Check(fresh, "openai-gpt-4o").allowed);

  Apply(*events::DecideDelete(states_[id], Owner(), {id, "renamed", {}}, Ctx()));
  EXPECT_EQ(Check(fresh, "openai-gpt-4o").reason, DenyReason::kUnknown);
  EXPECT_EQ(index_.size(), 0u);
}

TEST_F(Index, SurvivesGrowthWithChurn) {
  std::vector<std::pair<std::string, std::string>> keys;
  for (int i = 0; i < 5000; ++i) keys.push_back(Create(i % 3 != 0, i % 3 == 0 ? std::vector<std::string>{"openai-gpt-4o"} : std::vector<std::string>{}, false, ""));
  for (int i = 0; i < 5000; i += 2) {
    auto& [id, secret] = keys[i];
    Apply(*events::DecideDelete(states_[id], Owner(), {id, "k", {}}, Ctx()));
  }
  EXPECT_EQ(index_.size(), 2500u);
  for (int i = 0; i < 5000; ++i) {
    Decision d = Check(keys[i].second, "openai-gpt-4o");
    EXPECT_EQ(d.allowed, i % 2 == 1) << i;
  }
}

TEST_F(Index, SnapshotRoundTripsAndADamagedOneIsRefused) {
  std::vector<std::pair<std::string, std::string>> keys;
  for (int i = 0; i < 300; ++i) keys.push_back(Create(i % 2 == 0, i % 2 ? std::vector<std::string>{"alibaba-qwen3-32b"} : std::vector<std::string>{}, i % 4 == 0, i % 5 == 0 ? kVpc : ""));
  std::string path = (std::filesystem::temp_directory_path() / ("kl-snap-" + std::to_string(::getpid()))).string();
  SecretIndex::Positions saved;
  saved[0].next_offset = 42;
  saved[0].head = common::Sha256Of("head of 0");
  saved[3].next_offset = 7;
  saved[3].alt_head = common::Sha256Of("skipped record");
  saved[5].next_offset = 9;
  saved[5].halt = events::PartitionHalt{9, common::Sha256Of("bad record"), "undecodable event"};
  ASSERT_TRUE(index_.SaveSnapshot(path, saved, files_).ok());
  SecretIndex loaded(&catalog_);
  SecretIndex::Positions offsets;
  ASSERT_TRUE(loaded.LoadSnapshot(path, &offsets, files_).ok());
  EXPECT_EQ(offsets, saved);
  EXPECT_EQ(loaded.size(), 300u);
  for (const auto& [id, secret] : keys) {
    for (const char* model : {"openai-gpt-4o", "alibaba-qwen3-32b"}) {
      for (const char* vpc : {"", kVpc}) {
        for (bool batch : {false, true}) {
          Decision a = index_.Check({secret, model, vpc, batch}, now_);
          Decision b = loaded.Check({secret, model, vpc, batch}, now_);
          EXPECT_EQ(a.allowed, b.allowed);
          EXPECT_EQ(a.reason, b.reason);
          EXPECT_EQ(a.key_id, b.key_id);
        }
      }
    }
  }
  // A flipped byte is caught by the checksum; a missing file is NotFound.
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.put('\x7f');
  }
  EXPECT_EQ(loaded.LoadSnapshot(path, &offsets, files_).code(), common::StatusCode::kDataLoss);
  std::filesystem::remove(path);
  EXPECT_EQ(loaded.LoadSnapshot(path, &offsets, files_).code(), common::StatusCode::kNotFound);
  EXPECT_EQ(loaded.size(), 300u);  // a failed load leaves the index as it was
}

// Snapshots of format 1 copied host-endian integers, and those of format 2 kept only offsets (no
// chain heads or halts); both are refused by name (and the replica rebuilds from the log), never
// misread.
TEST_F(Index, ASnapshotOfAnOlderFormatIsRefusedCleanly) {
  for (const char* format : {"1", "2"}) {
    std::string path = (std::filesystem::temp_directory_path() / ("kl-snap-old-" + std::to_string(::getpid()))).string();
    ASSERT_TRUE(files_->WriteFileDurably(path, std::string("KLVSNAP") + format + std::string(64, '\0')).ok());
    SecretIndex::Positions offsets;
    common::Status s = index_.LoadSnapshot(path, &offsets, files_);
    EXPECT_EQ(s.code(), common::StatusCode::kDataLoss);
    EXPECT_NE(s.message().find(std::string("format ") + format), std::string::npos) << s.message();
    std::filesystem::remove(path);
  }
}

// A secret that comes back after its slot became a tombstone (regenerated away, then imported
// again) must take one slot, not two: the live count and the answers stay right.
TEST_F(Index, ASecretReturningAfterItsSlotWasFreedIsStoredOnce) {
  auto [id, secret] = Create(true, {}, false, "");
  Apply(*events::DecideDelete(states_[id], Owner(), {id, "k", {}}, Ctx()));
  EXPECT_EQ(index_.size(), 0u);
  // Another key with the same secret hash (only an import can bring one in).
  events::Event again = *events::DecideCreate(std::nullopt, Owner(),
                                              {*common::NewUuidV4(random_), "k2", true, {}, false, "",
                                               common::HashSecret(secret), common::SecretHint(secret)},
                                              catalog_, Ctx());
  Apply(again);
  index_.Apply(again);  // applied twice (a replay after a snapshot) stays one key
  EXPECT_EQ(index_.size(), 1u);
  EXPECT_TRUE(Check(secret, "openai-gpt-4o").allowed);
}

}  // namespace
}  // namespace keyledger::validator
