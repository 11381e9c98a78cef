// The replica validator's in-memory index (SPEC section 6): SHA-256 of each live secret -> what
// its key may do (key id, team, scope, batch, VPC, revision), built by applying key events.
//
// Check answers for a presented secret, model, source VPC and batch flag: allow (key id, team)
// or deny with a reason. A secret with the sk-do-v1- prefix that fails its format check (length,
// alphabet, checksum) is refused before any lookup; any other non-empty secret (up to 512 bytes)
// is looked up by its hash, since legacy keys keep the secrets they had before the format existed.
// Regenerate and delete remove the old hash from the index at once.
//
// Memory: two probe tables (internal/probe_table.h) of fixed-size entries, secret hash -> key
// (hash, binary key id, interned team, VPC and model-set ids, expiry) and key id -> slot, plus the
// interned strings: about 200 bytes per key at 1M keys (bench/validator_bench.cc measures it).
//
// Snapshot: the index and the offsets it reflects, in one file written durably (temp file, fsync,
// rename, fsync of the directory), versioned and checksummed; every integer through
// common/coding.h. A file of another version or a damaged one is refused (DataLoss) and the
// replica rebuilds from the log.
// Thread: Apply and Check may run concurrently (a reader-writer lock guards the tables); Check
// takes only the shared lock.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "keyledger/common/crypto.h"
#include "keyledger/common/files.h"
#include "keyledger/common/mutex.h"
#include "keyledger/common/secret.h"
#include "keyledger/common/status.h"
#include "keyledger/events/catalog.h"
#include "keyledger/events/event.h"
#include "keyledger/events/partition_guard.h"
#include "keyledger/validator/internal/probe_table.h"

namespace keyledger::validator {

// kNotReady and kStale come from a Replica, never from the index itself: the replica cannot vouch
// for the answer (still catching up with the log, the key's partition halted, or not confirmed
// with the brokers recently enough). kMalformedRequest is the HTTP front's: a check request with a
// repeated header or a batch flag that is neither true nor false.
enum class DenyReason {
  kNone,
  kMalformed,
  kUnknown,
  kModelNotAllowed,
  kVpcMismatch,
  kBatchNotAllowed,
  kNotReady,
  kStale,
  kMalformedRequest,
  kPartitionHalted,  // the key's partition is halted on a bad record (until an operator skips it)
  kExpired,          // the key's expires_at has passed (no event needed: expiry is part of the key)
};
inline constexpr int kDenyReasonCount = 11;
std::string_view DenyReasonName(DenyReason reason);  // "malformed", "unknown", ...

struct CheckRequest {
  std::string_view secret;
  std::string_view model;
  std::string_view source_vpc;  // empty: public internet
  bool batch = false;
};

struct Decision {
  bool allowed = false;
  DenyReason reason = DenyReason::kNone;
  std::string key_id;   // set when the secret is known
  std::string team_id;  // set when the secret is known
  std::array<std::uint8_t, 16> key_bytes{};  // key_id as 16 bytes, when known
  // Set by a Replica: how long ago it last confirmed with the brokers that it had read everything
  // committed in the key's partition (or in every partition, for an unknown secret); -1: never.
  std::int64_t staleness_ms = -1;
};

inline constexpr size_t kMaxLegacySecretLength = common::kMaxPresentedSecretLength;

class SecretIndex {
 public:
  // `catalog` tells which models are batch-capable; it must outlive the index.
  explicit SecretIndex(const events::Catalog* catalog);
  ~SecretIndex();

  // Applies one event (events of a key arrive in revision order, as in the log).
  void Apply(const events::Event& event) KL_EXCLUDES(mu_);
  // `now_micros` (wall clock, Unix epoch) decides expiry: a key is denied kExpired from its
  // expires_at on. A known key's denial still carries its key and team ids.
  Decision Check(const CheckRequest& request, std::int64_t now_micros) const KL_EXCLUDES(mu_);

  size_t size() const KL_EXCLUDES(mu_);
  // Bytes held by the tables and interned strings (for the memory-per-key benchmark).
  size_t MemoryBytes() const KL_EXCLUDES(mu_);

  // The index and where the replica is in each partition (events/partition_guard.h).
  using Positions = std::map<std::int32_t, events::PartitionPosition>;
  common::Status SaveSnapshot(const std::string& path, const Positions& positions, common::FileSystem* files) const
      KL_EXCLUDES(mu_);
  // Replaces the index; NotFound without a file, DataLoss for a damaged or foreign one.
  common::Status LoadSnapshot(const std::string& path, Positions* positions, common::FileSystem* files)
      KL_EXCLUDES(mu_);

 private:
  struct Slot {
    common::Sha256Digest hash{};
    std::array<std::uint8_t, 16> key_id{};
    std::uint32_t team = 0;
    std::uint32_t vpc = 0;        // 0: no VPC restriction
    std::uint32_t model_set = 0;  // 0: all models
    std::uint32_t revision = 0;
    std::uint8_t state = internal::kEmpty;
    bool batch = false;
    bool legacy = false;
    // Whole seconds since the epoch, rounded down (so never later than the key's expiry); 0: never.
    // Four bytes keep the slot at 72 bytes.
    std::uint32_t expires_at_seconds = 0;
  };
  struct KeySlot {
    std::array<std::uint8_t, 16> key_id{};
    std::uint32_t slot = 0;
    std::uint8_t state = internal::kEmpty;
  };
  struct Tables;  // everything the lock guards, swapped whole by LoadSnapshot

  const events::Catalog* catalog_;
  mutable common::SharedMutex mu_;
  std::unique_ptr<Tables> tables_ KL_PT_GUARDED_BY(mu_);
};

// "8-4-4-4-12" UUID text <-> 16 bytes (lower-case hex).
std::array<std::uint8_t, 16> UuidBytes(std::string_view uuid);
std::string UuidText(const std::array<std::uint8_t, 16>& bytes);

}  // namespace keyledger::validator
