// The vault of secrets whose delivery is in doubt (src/secret_vault.h): a retry gets the secret
// of the attempt that landed, once; time and the cap wipe it and leave the request remembered as
// lapsed.
#include "src/secret_vault.h"

#include <gtest/gtest.h>

namespace keyledger::api::internal {
namespace {

constexpr std::int64_t kNow = 1795384512000000;

common::SecretHash HashOf(const std::string& s) { return common::HashSecret(s); }

TEST(SecretVault, ARetryGetsTheSecretOfTheAttemptThatLandedOnceAndTheOthersAreWiped) {
  SecretVault vault;
  vault.Hold("team/user/k1", HashOf("first-attempt"), "first-attempt", kNow);
  vault.Hold("team/user/k1", HashOf("second-attempt"), "second-attempt", kNow + 1);
  vault.Hold("team/user/k2", HashOf("other-request"), "other-request", kNow + 2);
  EXPECT_EQ(vault.stats().held, 3u);

  SecretVault::Taken taken = vault.Take("team/user/k1", HashOf("second-attempt"), kNow + 3);
  EXPECT_EQ(taken.secret, "second-attempt");
  EXPECT_FALSE(taken.lapsed);
  EXPECT_EQ(vault.stats().held, 1u) << "both attempts of k1 are gone, k2 stays";
  EXPECT_EQ(vault.stats().delivered, 1u);
  // Shown once: a second retry finds nothing, and is not told it lapsed.
  SecretVault::Taken again = vault.Take("team/user/k1", HashOf("second-attempt"), kNow + 4);
  EXPECT_TRUE(again.secret.empty());
  EXPECT_FALSE(again.lapsed);
  EXPECT_EQ(vault.Take("team/user/k2", HashOf("other-request"), kNow + 5).secret, "other-request");
}

TEST(SecretVault, AKeyWithAnotherSecretGetsNothingAndIsToldItLapsed) {
  SecretVault vault;
  vault.Hold("s", HashOf("held"), "held", kNow);
  SecretVault::Taken taken = vault.Take("s", HashOf("regenerated-since"), kNow + 1);
  EXPECT_TRUE(taken.secret.empty());
  EXPECT_TRUE(taken.lapsed);
  EXPECT_EQ(vault.stats().held, 0u);
}

TEST(SecretVault, AHeldSecretIsWipedAfterItsTimeAndTheRequestIsRememberedAsLapsed) {
  SecretVault vault;
  vault.Hold("s", HashOf("held"), "held", kNow);
  vault.Sweep(kNow + SecretVault::kHoldMicros - 1);
  EXPECT_EQ(vault.stats().held, 1u);
  vault.Sweep(kNow + SecretVault::kHoldMicros);
  EXPECT_EQ(vault.stats().held, 0u);
  EXPECT_EQ(vault.stats().lapsed, 1u);
  SecretVault::Taken late = vault.Take("s", HashOf("held"), kNow + SecretVault::kHoldMicros + 1);
  EXPECT_TRUE(late.secret.empty());
  EXPECT_TRUE(late.lapsed);
  // After the idempotency window the request itself is forgotten.
  vault.Hold("t", HashOf("x"), "x", kNow);
  vault.Sweep(kNow + SecretVault::kHoldMicros);  // lapses now, remembered for kLapsedMicros
  const std::int64_t forgotten = kNow + SecretVault::kHoldMicros + SecretVault::kLapsedMicros;
  EXPECT_TRUE(vault.Take("t", HashOf("x"), forgotten - 1).lapsed);
  vault.Hold("u", HashOf("y"), "y", kNow);
  vault.Sweep(kNow + SecretVault::kHoldMicros);
  EXPECT_FALSE(vault.Take("u", HashOf("y"), forgotten).lapsed);
}

TEST(SecretVault, BeyondTheCapTheOldestIsWipedFirst) {
  SecretVault vault;
  for (size_t i = 0; i <= SecretVault::kMaxHeld; ++i) {
    const std::string s = "secret-" + std::to_string(i);
    vault.Hold("scope-" + std::to_string(i), HashOf(s), s, kNow);
  }
  EXPECT_EQ(vault.stats().held, SecretVault::kMaxHeld);
  EXPECT_EQ(vault.stats().lapsed, 1u);
  EXPECT_TRUE(vault.Take("scope-0", HashOf("secret-0"), kNow).lapsed);
  EXPECT_EQ(vault.Take("scope-1", HashOf("secret-1"), kNow).secret, "secret-1");
}

TEST(SecretVault, ForgetWipesWhatIsHeldForTheRequest) {
  SecretVault vault;
  vault.Hold("s", HashOf("did-not-land"), "did-not-land", kNow);
  vault.Forget("s", kNow + 1);
  EXPECT_EQ(vault.stats().held, 0u);
  SecretVault::Taken t = vault.Take("s", HashOf("did-not-land"), kNow + 2);
  EXPECT_TRUE(t.secret.empty());
  EXPECT_FALSE(t.lapsed);
}

}  // namespace
}  // namespace keyledger::api::internal
