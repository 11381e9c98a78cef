// Every rule of SPEC section 1, as the pure key rules implement it.
#include "keyledger/events/key_rules.h"

#include <gtest/gtest.h>

#include "event_fixtures.h"

namespace keyledger::events {
namespace {

using common::StatusCode;
using testing::Context;
using testing::Member;
using testing::Operator;
using testing::Owner;
using testing::Uuid;

common::SecretHash HashOf(const std::string& s) { return common::HashSecret(s); }

CreateKeyCommand AllModels(const std::string& name = "my key", int id = 1) {
  CreateKeyCommand c;
  c.key_id = Uuid(id);
  c.name = name;
  c.all_models = true;
  c.secret_sha256 = HashOf("secret-" + std::to_string(id));
  c.secret_hint = "ab12";
  return c;
}

CreateKeyCommand Selected(std::vector<std::string> models, int id = 1) {
  CreateKeyCommand c = AllModels("selected key", id);
  c.all_models = false;
  c.models = std::move(models);
  return c;
}

class KeyRules : public ::testing::Test {
 protected:
  // Creates a key as `creator` and folds the event into a state.
  KeyState Created(const Caller& creator, CreateKeyCommand cmd = AllModels()) {
    auto e = DecideCreate(std::nullopt, creator, cmd, catalog_, Context(1));
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    auto s = Apply(std::nullopt, *e);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return *s;
  }

  KeyState Legacy(const std::string& creator_id = "user-mia") {
    ImportLegacyKeyCommand cmd;
    cmd.key_id = Uuid(50);
    cmd.team_id = testing::kTeam;
    cmd.creator_id = creator_id;
    cmd.creator_name = "Mia Member";
    cmd.name = "old integration";
    cmd.created_at_micros = 1600000000000000;
    cmd.secret_sha256 = HashOf("legacy-secret");
    cmd.secret_hint = "LGCY";
    auto e = DecideImportLegacy(std::nullopt, Operator(), cmd, Context(50));
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    return *Apply(std::nullopt, *e);
  }

  // Applies the event a command decides; fails the test if it is rejected.
  KeyState Step(const KeyState& s, const Caller& caller, const Command& cmd, int n = 2) {
    auto e = Decide(s, caller, cmd, catalog_, Context(n));
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    auto next = Apply(s, *e);
    EXPECT_TRUE(next.ok()) << next.status().ToString();
    return *next;
  }

  Catalog catalog_ = Catalog::Default();
};

// ---- Create ----

// Expiry is set once, at creation, and must be in the future; the key state carries it and
// KeyExpired turns at that instant.
TEST_F(KeyRules, AnExpiryMustBeInTheFutureAndIsPartOfTheKey) {
  const std::int64_t now = 1795384512000000;
  CreateKeyCommand c = AllModels();
  for (std::int64_t bad : {now, now - 1, std::int64_t{-5}}) {
    c.expires_at_micros = bad;
    auto e = DecideCreate(std::nullopt, Owner(), c, catalog_, Context(1, now));
    ASSERT_FALSE(e.ok()) << bad;
    EXPECT_EQ(e.status().code(), common::StatusCode::kInvalidArgument);
  }
  c.expires_at_micros = now + 1000000;
  auto e = DecideCreate(std::nullopt, Owner(), c, catalog_, Context(1, now));
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(std::get<KeyCreated>(e->payload).expires_at_micros, now + 1000000);
  auto state = Apply(std::nullopt, *e);
  ASSERT_TRUE(state.ok());
  EXPECT_FALSE(KeyExpired(*state, now + 999999));
  EXPECT_TRUE(KeyExpired(*state, now + 1000000));
  KeyState forever = *state;
  forever.expires_at_micros = 0;
  EXPECT_FALSE(KeyExpired(forever, INT64_MAX));
}

TEST_F(KeyRules, CreateProducesRevisionOneWithTheCallerAsCreator) {
  auto e = DecideCreate(std::nullopt, Owner(), AllModels("  gateway  "), catalog_, Context(1));
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->key_revision, 1u);
  EXPECT_EQ(e->team_id, testing::kTeam);
  EXPECT_EQ(e->actor.user_id, "user-olga");
  EXPECT_EQ(e->actor.role, Role::kOwner);
  EXPECT_EQ(e->request_id, "req-1");
  EXPECT_EQ(e->idempotency_key, "idem-1");
  const auto& c = std::get<KeyCreated>(e->payload);
  EXPECT_EQ(c.name, "gateway");  // trimmed
  EXPECT_EQ(c.creator_id, "user-olga");
  EXPECT_EQ(c.creator_name, "Olga Owner");
  EXPECT_TRUE(c.all_models);
  EXPECT_FALSE(c.legacy);
  EXPECT_EQ(c.secret_sha256, HashOf("secret-1"));
}

TEST_F(KeyRules, CreateRejectsInvalidNames) {
  for (const std::string& bad : {std::string(""), std::string("   "), std::string("tab\tname"),
                                 std::string("new\nline"), std::string("nul\0x", 5),
                                 std::string("del\x7f"), std::string("c1 \xc2\x85"),
                                 std::string("bidi \xe2\x80\xae txt"), std::string("zw\xe2\x80\x8bsp"),
                                 std::string("bad utf8 \xff"), std::string("overlong \xc0\xaf"),
                                 std::string("surrogate \xed\xa0\x80"), std::string(129, 'a')}) {
    auto e = DecideCreate(std::nullopt, Owner(), AllModels(bad), catalog_, Context(1));
    ASSERT_FALSE(e.ok()) << "accepted name: " << bad;
    EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(e.status().message().rfind("name", 0), 0u) << e.status().message();
  }
}

TEST_F(KeyRules, CreateAcceptsPrintableUnicodeUpTo128CodePoints) {
  std::string cjk;
  for (int i = 0; i < 128; ++i) cjk += "\xe9\x8d\xb5";  // 128 three-byte code points
  for (const std::string& ok : {std::string(128, 'a'), std::string("a"), cjk,
                                std::string("prod \xf0\x9f\x94\x91 key"), std::string("caf\xc3\xa9")}) {
    auto e = DecideCreate(std::nullopt, Owner(), AllModels(ok), catalog_, Context(1));
    EXPECT_TRUE(e.ok()) << ok << ": " << e.status().ToString();
  }
}

TEST_F(KeyRules, AllModelsTakesNoModelList) {
  CreateKeyCommand c = AllModels();
  c.models = {"openai-gpt-4o"};
  auto e = DecideCreate(std::nullopt, Owner(), c, catalog_, Context(1));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(e.status().message().find("models"), std::string::npos);
}

TEST_F(KeyRules, SelectedModelsMustBeNonEmptyAndInTheCatalog) {
  auto empty = DecideCreate(std::nullopt, Owner(), Selected({}), catalog_, Context(1));
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().code(), StatusCode::kInvalidArgument);

  auto unknown = DecideCreate(std::nullopt, Owner(), Selected({"openai-gpt-4o", "gpt-17-turbo"}),
                              catalog_, Context(1));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("gpt-17-turbo"), std::string::npos);

  auto ok = DecideCreate(std::nullopt, Owner(),
                         Selected({"openai-gpt-4o", "alibaba-qwen3-32b", "openai-gpt-4o"}),
                         catalog_, Context(1));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(std::get<KeyCreated>(ok->payload).models,
            (std::vector<std::string>{"openai-gpt-4o", "alibaba-qwen3-32b"}));
}

TEST_F(KeyRules, BatchInferenceOnlyWithAllModels) {
  CreateKeyCommand selected = Selected({"openai-gpt-4o"});
  selected.batch_inference = true;
  auto rejected = DecideCreate(std::nullopt, Owner(), selected, catalog_, Context(1));
  ASSERT_FALSE(rejected.ok());
  EXPECT_EQ(rejected.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(rejected.status().message().find("batch_inference"), std::string::npos);

  CreateKeyCommand all = AllModels();
  all.batch_inference = true;
  auto accepted = DecideCreate(std::nullopt, Owner(), all, catalog_, Context(1));
  ASSERT_TRUE(accepted.ok());
  EXPECT_TRUE(std::get<KeyCreated>(accepted->payload).batch_inference);
}

TEST_F(KeyRules, VpcMustBeOneOfTheCallersTeam) {
  CreateKeyCommand own = AllModels();
  own.vpc_uuid = testing::kAcmeVpc;
  EXPECT_TRUE(DecideCreate(std::nullopt, Member(), own, catalog_, Context(1)).ok());

  CreateKeyCommand foreign = AllModels();
  foreign.vpc_uuid = testing::kGlobexVpc;  // belongs to team-globex
  auto r = DecideCreate(std::nullopt, Owner(), foreign, catalog_, Context(1));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("vpc_uuid"), std::string::npos);

  CreateKeyCommand unknown = AllModels();
  unknown.vpc_uuid = Uuid(999);
  EXPECT_FALSE(DecideCreate(std::nullopt, Owner(), unknown, catalog_, Context(1)).ok());

  CreateKeyCommand none = AllModels();  // no VPC: authenticates from anywhere
  auto e = DecideCreate(std::nullopt, Owner(), none, catalog_, Context(1));
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(std::get<KeyCreated>(e->payload).vpc_uuid.empty());
}

TEST_F(KeyRules, MembersMayCreateKeys) {
  KeyState s = Created(Member());
  EXPECT_EQ(s.creator_id, "user-mia");
}

TEST_F(KeyRules, KeyIdsAreNeverReused) {
  KeyState s = Created(Owner());
  auto again = DecideCreate(s, Owner(), AllModels(), catalog_, Context(9));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kConflict);
  KeyState deleted = Step(s, Owner(), DeleteKeyCommand{s.key_id, s.name, {}});
  EXPECT_FALSE(DecideCreate(deleted, Owner(), AllModels(), catalog_, Context(9)).ok());
}

// ---- Scope and VPC are immutable ----

TEST_F(KeyRules, NoEventChangesScopeOrVpc) {
  CreateKeyCommand cmd = Selected({"openai-gpt-4o", "llama3.3-70b-instruct"});
  cmd.vpc_uuid = testing::kAcmeVpc;
  KeyState s = Created(Owner(), cmd);
  const KeyState original = s;
  s = Step(s, Owner(), RenameKeyCommand{s.key_id, "renamed", {}}, 2);
  RegenerateKeyCommand regen{s.key_id, "renamed", {}, HashOf("new"), "NEW1"};
  s = Step(s, Owner(), regen, 3);
  EXPECT_EQ(s.all_models, original.all_models);
  EXPECT_EQ(s.models, original.models);
  EXPECT_EQ(s.batch_inference, original.batch_inference);
  EXPECT_EQ(s.vpc_uuid, original.vpc_uuid);
  EXPECT_EQ(s.legacy, original.legacy);
  EXPECT_EQ(s.creator_id, original.creator_id);
  EXPECT_EQ(s.created_at_micros, original.created_at_micros);
}

// ---- Rename ----

TEST_F(KeyRules, RenameChangesOnlyTheNameAndKeepsTheSecret) {
  KeyState s = Created(Owner());
  auto e = DecideRename(s, Owner(), RenameKeyCommand{s.key_id, " new name ", {}}, Context(2));
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->key_revision, 2u);
  const auto& r = std::get<KeyRenamed>(e->payload);
  EXPECT_EQ(r.old_name, "my key");
  EXPECT_EQ(r.new_name, "new name");
  KeyState next = *Apply(s, *e);
  EXPECT_EQ(next.name, "new name");
  EXPECT_EQ(next.secret_sha256, s.secret_sha256);
  EXPECT_EQ(next.secret_hint, s.secret_hint);
  EXPECT_EQ(next.revision, 2u);
}

TEST_F(KeyRules, RenameValidatesTheNewName) {
  KeyState s = Created(Owner());
  auto e = DecideRename(s, Owner(), RenameKeyCommand{s.key_id, "\x01", {}}, Context(2));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
}

// ---- Regenerate ----

TEST_F(KeyRules, RegenerateNeedsTheCurrentNameAndReplacesTheSecretAtOnce) {
  KeyState s = Created(Owner());
  s = Step(s, Owner(), RenameKeyCommand{s.key_id, "current", {}}, 2);

  auto old_name = DecideRegenerate(s, Owner(), {s.key_id, "my key", {}, HashOf("n"), "n"}, Context(3));
  ASSERT_FALSE(old_name.ok());
  EXPECT_EQ(old_name.status().code(), StatusCode::kConflict);

  auto missing = DecideRegenerate(s, Owner(), {s.key_id, "", {}, HashOf("n"), "n"}, Context(3));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(missing.status().message().find("confirm_name"), std::string::npos);

  auto ok = DecideRegenerate(s, Owner(), {s.key_id, "current", {}, HashOf("n"), "hnt1"}, Context(3));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  KeyState next = *Apply(s, *ok);
  EXPECT_EQ(next.secret_sha256, HashOf("n"));  // the old hash is gone: no grace period
  EXPECT_NE(next.secret_sha256, s.secret_sha256);
  EXPECT_EQ(next.secret_hint, "hnt1");
  EXPECT_EQ(next.name, "current");
  EXPECT_EQ(next.revision, 3u);
}

// ---- Delete ----

TEST_F(KeyRules, DeleteNeedsTheCurrentNameAndIsPermanent) {
  KeyState s = Created(Owner());
  auto wrong = DecideDelete(s, Owner(), {s.key_id, "other", {}}, Context(2));
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), StatusCode::kConflict);

  KeyState deleted = Step(s, Owner(), DeleteKeyCommand{s.key_id, "my key", {}});
  EXPECT_TRUE(deleted.deleted);

  auto rename = DecideRename(deleted, Owner(), {s.key_id, "x", {}}, Context(3));
  auto regen = DecideRegenerate(deleted, Owner(), {s.key_id, "my key", {}, HashOf("z"), "z"}, Context(3));
  auto again = DecideDelete(deleted, Owner(), {s.key_id, "my key", {}}, Context(3));
  for (const auto* r : {&rename, &regen, &again}) {
    ASSERT_FALSE(r->ok());
    EXPECT_EQ(r->status().code(), StatusCode::kNotFound);
  }
  EXPECT_EQ(CheckVisible(deleted, Owner(), s.key_id).code(), StatusCode::kNotFound);
}

// ---- Who may act ----

TEST_F(KeyRules, OwnersMayManageAnyKeyOfTheirTeam) {
  KeyState s = Created(Member("user-mia"));
  s = Step(s, Owner(), RenameKeyCommand{s.key_id, "by owner", {}}, 2);
  s = Step(s, Owner(), RegenerateKeyCommand{s.key_id, "by owner", {}, HashOf("o"), "o"}, 3);
  s = Step(s, Owner(), DeleteKeyCommand{s.key_id, "by owner", {}}, 4);
  EXPECT_TRUE(s.deleted);
  EXPECT_EQ(s.revision, 4u);
}

TEST_F(KeyRules, MembersMayManageOnlyKeysTheyCreated) {
  KeyState mine = Created(Member("user-mia"));
  KeyState theirs = Created(Member("user-max"));
  EXPECT_TRUE(DecideRename(mine, Member("user-mia"), {mine.key_id, "ok", {}}, Context(2)).ok());

  auto rename = DecideRename(theirs, Member("user-mia"), {theirs.key_id, "x", {}}, Context(2));
  auto regen = DecideRegenerate(theirs, Member("user-mia"),
                                {theirs.key_id, theirs.name, {}, HashOf("q"), "q"}, Context(2));
  auto del = DecideDelete(theirs, Member("user-mia"), {theirs.key_id, theirs.name, {}}, Context(2));
  for (const auto* r : {&rename, &regen, &del}) {
    ASSERT_FALSE(r->ok());
    EXPECT_EQ(r->status().code(), StatusCode::kPermissionDenied);
  }
  // A member may not act on an owner's key either.
  KeyState owners = Created(Owner());
  EXPECT_EQ(DecideRename(owners, Member(), {owners.key_id, "x", {}}, Context(2)).status().code(),
            StatusCode::kPermissionDenied);
}

TEST_F(KeyRules, AnotherTeamsKeyIsNotFoundNeverForbidden) {
  KeyState s = Created(Owner());
  Caller foreign_owner = Owner(testing::kOtherTeam);
  Caller foreign_member = Member("user-mia", testing::kOtherTeam);  // same user id, other team
  for (const Caller& c : {foreign_owner, foreign_member}) {
    auto rename = DecideRename(s, c, {s.key_id, "x", {}}, Context(2));
    auto regen = DecideRegenerate(s, c, {s.key_id, s.name, {}, HashOf("q"), "q"}, Context(2));
    auto del = DecideDelete(s, c, {s.key_id, s.name, {}}, Context(2));
    for (const auto* r : {&rename, &regen, &del}) {
      ASSERT_FALSE(r->ok());
      EXPECT_EQ(r->status().code(), StatusCode::kNotFound);
      EXPECT_EQ(r->status().message().find(testing::kTeam), std::string::npos);
    }
    EXPECT_EQ(CheckVisible(s, c, s.key_id).code(), StatusCode::kNotFound);
  }
  auto unknown = DecideRename(std::nullopt, Owner(), {Uuid(77), "x", {}}, Context(2));
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
}

TEST_F(KeyRules, StaleExpectedRevisionIsAConflict) {
  KeyState s = Created(Owner());
  s = Step(s, Owner(), RenameKeyCommand{s.key_id, "two", {}}, 2);
  auto stale = DecideRename(s, Owner(), {s.key_id, "three", 1}, Context(3));
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.status().code(), StatusCode::kConflict);
  EXPECT_TRUE(DecideRename(s, Owner(), {s.key_id, "three", 2}, Context(3)).ok());
  EXPECT_EQ(DecideDelete(s, Owner(), {s.key_id, "two", 5}, Context(3)).status().code(),
            StatusCode::kConflict);
}

// ---- Legacy keys ----

TEST_F(KeyRules, LegacyKeysHaveAllModelsNoVpcNoBatch) {
  KeyState s = Legacy();
  EXPECT_TRUE(s.legacy);
  EXPECT_TRUE(s.all_models);
  EXPECT_TRUE(s.models.empty());
  EXPECT_FALSE(s.batch_inference);
  EXPECT_TRUE(s.vpc_uuid.empty());
  EXPECT_EQ(s.creator_id, "user-mia");
  EXPECT_EQ(s.created_at_micros, 1600000000000000);
}

TEST_F(KeyRules, OnlyOperatorsImportLegacyKeys) {
  ImportLegacyKeyCommand cmd;
  cmd.key_id = Uuid(51);
  cmd.team_id = testing::kTeam;
  cmd.creator_id = "user-mia";
  cmd.name = "x";
  auto r = DecideImportLegacy(std::nullopt, Owner(), cmd, Context(1));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
}

TEST_F(KeyRules, LegacyKeysCanBeRenamedRegeneratedAndDeletedByTheirCreatorOrAnOwner) {
  KeyState s = Legacy("user-mia");
  s = Step(s, Member("user-mia"), RenameKeyCommand{s.key_id, "renamed legacy", {}}, 2);
  EXPECT_TRUE(s.legacy);
  EXPECT_EQ(DecideRename(s, Member("user-max"), {s.key_id, "x", {}}, Context(3)).status().code(),
            StatusCode::kPermissionDenied);
  s = Step(s, Owner(), RegenerateKeyCommand{s.key_id, "renamed legacy", {}, HashOf("r"), "r"}, 3);
  EXPECT_TRUE(s.all_models);
  s = Step(s, Member("user-mia"), DeleteKeyCommand{s.key_id, "renamed legacy", {}}, 4);
  EXPECT_TRUE(s.deleted);
}

// ---- Views ----

TEST_F(KeyRules, ViewsShowWhatEachRoleMaySee) {
  KeyState mia = Created(Member("user-mia"));
  KeyState olga = Created(Owner());
  KeyState legacy = Legacy("user-max");
  Caller member = Member("user-mia");
  Caller owner = Owner();

  EXPECT_TRUE(KeyInView(mia, View::kMine, member));
  EXPECT_FALSE(KeyInView(olga, View::kMine, member));
  EXPECT_FALSE(KeyInView(legacy, View::kMine, member));  // legacy keys are not in My keys
  EXPECT_TRUE(KeyInView(legacy, View::kLegacy, member));  // every member sees legacy keys
  EXPECT_FALSE(KeyInView(mia, View::kLegacy, member));

  EXPECT_TRUE(CheckViewAllowed(View::kTeam, owner).ok());
  EXPECT_EQ(CheckViewAllowed(View::kTeam, member).code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(CheckViewAllowed(View::kMine, member).ok());
  EXPECT_TRUE(CheckViewAllowed(View::kLegacy, member).ok());
  EXPECT_TRUE(KeyInView(mia, View::kTeam, owner));    // created by another member
  EXPECT_FALSE(KeyInView(olga, View::kTeam, owner));  // the owner's own key is in My keys
  EXPECT_TRUE(KeyInView(olga, View::kMine, owner));
  EXPECT_FALSE(KeyInView(mia, View::kTeam, member));

  Caller foreign = Owner(testing::kOtherTeam);
  for (View v : {View::kMine, View::kLegacy, View::kTeam}) {
    EXPECT_FALSE(KeyInView(mia, v, foreign));
    EXPECT_FALSE(KeyInView(legacy, v, foreign));
  }
  KeyState deleted = Step(mia, member, DeleteKeyCommand{mia.key_id, mia.name, {}});
  EXPECT_FALSE(KeyInView(deleted, View::kMine, member));
  EXPECT_FALSE(KeyInView(deleted, View::kTeam, owner));
}

TEST_F(KeyRules, ParseViewNamesTheAllowedValues) {
  EXPECT_EQ(*ParseView("team"), View::kTeam);
  auto bad = ParseView("everything");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("mine, legacy, team"), std::string::npos);
}

TEST_F(KeyRules, KeysListEveryModelTheyCanCallToday) {
  KeyState all = Created(Owner());
  EXPECT_EQ(CallableModels(all, catalog_).size(), catalog_.models().size());
  KeyState some = Created(Owner(), Selected({"openai-gpt-4o"}, 2));
  EXPECT_EQ(CallableModels(some, catalog_), std::vector<std::string>{"openai-gpt-4o"});
  // A selected model later removed from the catalog is no longer callable.
  auto smaller = Catalog::FromJson(R"({"models": [{"id": "x", "owned_by": "o", "kind": "text"}]})");
  ASSERT_TRUE(smaller.ok());
  EXPECT_TRUE(CallableModels(some, *smaller).empty());
}

// ---- Apply rejects events that do not follow ----

TEST_F(KeyRules, ApplyRejectsEventsOutOfOrder) {
  KeyState s = Created(Owner());
  auto rename = DecideRename(s, Owner(), {s.key_id, "b", {}}, Context(2));
  ASSERT_TRUE(rename.ok());
  Event skipped = *rename;
  skipped.key_revision = 3;
  EXPECT_EQ(Apply(s, skipped).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(Apply(std::nullopt, *rename).status().code(), StatusCode::kDataLoss);
  auto create = DecideCreate(std::nullopt, Owner(), AllModels(), catalog_, Context(1));
  EXPECT_EQ(Apply(s, *create).status().code(), StatusCode::kDataLoss);
  KeyState deleted = Step(s, Owner(), DeleteKeyCommand{s.key_id, s.name, {}});
  Event after = *rename;
  after.key_revision = 3;
  EXPECT_EQ(Apply(deleted, after).status().code(), StatusCode::kDataLoss);
  Event wrong_old = *rename;
  std::get<KeyRenamed>(wrong_old.payload).old_name = "not the name";
  EXPECT_EQ(Apply(s, wrong_old).status().code(), StatusCode::kDataLoss);
}

}  // namespace
}  // namespace keyledger::events
