#include "secret_vault.h"

#include <algorithm>

namespace keyledger::api::internal {

SecretVault::~SecretVault() {
  common::MutexLock lock(&mu_);
  for (Held& h : held_) common::Wipe(h.secret);
}

void SecretVault::Hold(const std::string& scope, const common::SecretHash& hash, std::string_view secret,
                       std::int64_t now_micros) {
  common::MutexLock lock(&mu_);
  SweepLocked(now_micros);
  while (held_.size() >= kMaxHeld) LapseOldest(now_micros);
  held_.push_back(Held{scope, hash, std::string(secret), now_micros + kHoldMicros});
}

SecretVault::Taken SecretVault::Take(const std::string& scope, const common::SecretHash& hash,
                                     std::int64_t now_micros) {
  common::MutexLock lock(&mu_);
  SweepLocked(now_micros);
  Taken taken;
  bool had_other = false;
  for (Held& h : held_) {
    if (h.scope != scope) continue;
    if (h.hash == hash && taken.secret.empty()) {
      taken.secret.swap(h.secret);
    } else {
      had_other = true;
    }
  }
  EraseScope(scope);
  if (!taken.secret.empty()) {
    ++delivered_;
    lapsed_.erase(scope);
  } else {
    taken.lapsed = had_other || lapsed_.count(scope) > 0;
  }
  return taken;
}

void SecretVault::Forget(const std::string& scope, std::int64_t now_micros) {
  common::MutexLock lock(&mu_);
  SweepLocked(now_micros);
  EraseScope(scope);
  lapsed_.erase(scope);
}

void SecretVault::Sweep(std::int64_t now_micros) {
  common::MutexLock lock(&mu_);
  SweepLocked(now_micros);
}

SecretVault::Stats SecretVault::stats() const {
  common::MutexLock lock(&mu_);
  return Stats{held_.size(), delivered_, lapsed_count_};
}

void SecretVault::SweepLocked(std::int64_t now_micros) {
  while (!held_.empty() && held_.front().until_micros <= now_micros) LapseOldest(now_micros);
  while (!lapsed_order_.empty() && (lapsed_order_.front().first <= now_micros || lapsed_.size() > kMaxLapsed)) {
    auto it = lapsed_.find(lapsed_order_.front().second);
    // Only the newest lapse of a scope keeps it remembered.
    if (it != lapsed_.end() && it->second == lapsed_order_.front().first) lapsed_.erase(it);
    lapsed_order_.pop_front();
  }
}

void SecretVault::LapseOldest(std::int64_t now_micros) {
  Held& oldest = held_.front();
  common::Wipe(oldest.secret);
  const std::int64_t until = now_micros + kLapsedMicros;
  lapsed_[oldest.scope] = until;
  lapsed_order_.emplace_back(until, oldest.scope);
  ++lapsed_count_;
  held_.pop_front();
}

void SecretVault::EraseScope(const std::string& scope) {
  for (Held& h : held_) {
    if (h.scope == scope) common::Wipe(h.secret);
  }
  held_.erase(std::remove_if(held_.begin(), held_.end(), [&](const Held& h) { return h.scope == scope; }), held_.end());
}

}  // namespace keyledger::api::internal
