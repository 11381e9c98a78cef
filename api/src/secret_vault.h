// Secrets whose delivery is in doubt. A create or regenerate answered 504 `outcome_unknown` may
// have been written all the same, and then its new secret was shown to no one. The vault holds
// such a secret in memory only, for a retry with the same Idempotency-Key: when the retry finds
// that the command did land and the key still has that secret, it answers with it, and the vault
// wipes it. A held secret is also wiped after kHoldMicros or, beyond kMaxHeld, oldest first; its
// request is then remembered as lapsed (kLapsedMicros, at most kMaxLapsed) so that a late retry is
// told plainly that the secret is gone and the key must be regenerated.
// Private to api/.
// Thread: thread-safe (one lock).
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>

#include "keyledger/common/mutex.h"
#include "keyledger/common/secret.h"

namespace keyledger::api::internal {

class SecretVault {
 public:
  static constexpr std::int64_t kHoldMicros = 10ll * 60 * 1000000;
  static constexpr size_t kMaxHeld = 1000;
  static constexpr std::int64_t kLapsedMicros = 24ll * 3600 * 1000000;  // the idempotency window
  static constexpr size_t kMaxLapsed = 100000;

  SecretVault() = default;
  ~SecretVault();
  SecretVault(const SecretVault&) = delete;
  SecretVault& operator=(const SecretVault&) = delete;

  // Holds `secret` (whose hash is `hash`) for the request `scope` (writer::IdempotencyScope).
  void Hold(const std::string& scope, const common::SecretHash& hash, std::string_view secret, std::int64_t now_micros)
      KL_EXCLUDES(mu_);

  struct Taken {
    std::string secret;   // empty: none held for this scope and hash
    bool lapsed = false;  // a secret was held for this scope and is gone (its time, the cap)
  };
  // Removes and returns the secret held for `scope` with `hash`; the caller wipes it once shown.
  // Other secrets held for the scope (earlier attempts that did not land) are wiped.
  Taken Take(const std::string& scope, const common::SecretHash& hash, std::int64_t now_micros) KL_EXCLUDES(mu_);
  // The request was carried out with another secret (an attempt that did not land): wipes what
  // is held for it.
  void Forget(const std::string& scope, std::int64_t now_micros) KL_EXCLUDES(mu_);
  // Wipes what is past its time.
  void Sweep(std::int64_t now_micros) KL_EXCLUDES(mu_);

  struct Stats {
    size_t held = 0;
    std::uint64_t delivered = 0;  // shown to a retry
    std::uint64_t lapsed = 0;     // wiped undelivered (time or cap)
  };
  Stats stats() const KL_EXCLUDES(mu_);

 private:
  struct Held {
    std::string scope;
    common::SecretHash hash;
    std::string secret;
    std::int64_t until_micros;
  };
  void SweepLocked(std::int64_t now_micros) KL_REQUIRES(mu_);
  // Wipes the oldest held secret and remembers its request as lapsed.
  void LapseOldest(std::int64_t now_micros) KL_REQUIRES(mu_);
  void EraseScope(const std::string& scope) KL_REQUIRES(mu_);

  mutable common::Mutex mu_;
  std::deque<Held> held_ KL_GUARDED_BY(mu_);  // oldest first (one hold time for all)
  std::unordered_map<std::string, std::int64_t> lapsed_ KL_GUARDED_BY(mu_);  // scope -> until
  std::deque<std::pair<std::int64_t, std::string>> lapsed_order_ KL_GUARDED_BY(mu_);
  std::uint64_t delivered_ KL_GUARDED_BY(mu_) = 0;
  std::uint64_t lapsed_count_ KL_GUARDED_BY(mu_) = 0;
};

}  // namespace keyledger::api::internal
