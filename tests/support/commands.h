// Writer commands for tests.
#pragma once

#include <string>

#include "keyledger/common/crypto.h"
#include "keyledger/common/secret.h"
#include "keyledger/events/key_rules.h"

namespace keyledger::testing {

// A create command for a key that may call every model, with a fresh secret from `random`.
inline events::CreateKeyCommand NewKeyCommand(const std::string& name, common::RandomSource& random) {
  std::string secret = *common::GenerateSecret(random);
  events::CreateKeyCommand c;
  c.name = name;
  c.all_models = true;
  c.secret_sha256 = common::HashSecret(secret);
  c.secret_hint = common::SecretHint(secret);
  return c;
}

}  // namespace keyledger::testing
