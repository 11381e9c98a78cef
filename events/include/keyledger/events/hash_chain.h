// The per-partition hash chain (SPEC section 3).
//
// Each event carries prev_hash, the SHA-256 of the previous event's encoded bytes in the same
// Kafka partition (32 zero bytes for the first). An event's own hash is SHA-256 of its encoded
// bytes, which include prev_hash, so altering, removing or reordering any event breaks every
// later link.
// Thread: HashChain is single-threaded (one per partition and owner).
#pragma once

#include <cstdint>
#include <string_view>

#include "keyledger/common/crypto.h"
#include "keyledger/common/status.h"
#include "keyledger/events/event.h"

namespace keyledger::events {

inline constexpr common::Sha256Digest kGenesisHash{};

common::Sha256Digest EventHash(std::string_view encoded_event);

class HashChain {
 public:
  explicit HashChain(common::Sha256Digest head = kGenesisHash) : head_(head) {}

  // The hash the next event must carry as prev_hash.
  const common::Sha256Digest& head() const { return head_; }

  // Checks that `event` (decoded from `encoded`) links to the head, then advances the head.
  // DataLoss naming both hashes when it does not; the head is unchanged then.
  common::Status Append(const Event& event, std::string_view encoded);

  // Advances without checking (used by writers, which set prev_hash themselves).
  void Advance(std::string_view encoded) { head_ = EventHash(encoded); }

 private:
  common::Sha256Digest head_;
};

}  // namespace keyledger::events
