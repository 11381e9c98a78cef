// The replica validator's in-memory index (SPEC section 6): SHA-256 of each live secret -> what
// its key may do (key id, team, scope, batch, VPC, revision), built by applying key events.
//
// Check answers for a presented secret, model, source VPC and batch flag: allow (key id, team)
// or deny with a reason. Malformed secrets (prefix, length, alphabet, checksum) are refused
// before any lookup. Regenerate and delete remove the old hash from the index at once.
//
// Memory: open addressing over fixed-size slots (secret hash, binary key id, interned team, VPC
// and model-set ids) plus a key id -> slot table; about 120 bytes per key at 1M keys.
// Thread: Apply and Check may run concurrently (a reader-writer lock guards the tables); Check
// takes only the shared lock.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "keyledger/common/crypto.h"
#include "keyledger/common/status.h"
#include "keyledger/events/catalog.h"
#include "keyledger/events/event.h"

namespace keyledger::validator {

// kNotReady comes from a Replica, never from the index itself: the replica cannot vouch for the
// answer (still catching up with the log, or the key's partition is halted).
enum class DenyReason {
  kNone,
  kMalformed,
  kUnknown,
  kModelNotAllowed,
  kVpcMismatch,
  kBatchNotAllowed,
  kNotReady
};
inline constexpr int kDenyReasonCount = 7;
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
};

class SecretIndex {
 public:
  // `catalog` tells which models are batch-capable; it must outlive the index.
  explicit SecretIndex(const events::Catalog* catalog);

  // Applies one event (events of a key arrive in revision order, as in the log).
  void Apply(const events::Event& event);
  Decision Check(const CheckRequest& request) const;

  size_t size() const;
  // Bytes held by the tables and interned strings (for the memory-per-key benchmark).
  size_t MemoryBytes() const;

  // Snapshot: the index and the offsets it reflects, in one file written atomically
  // (temp file + rename). Load replaces the index; DataLoss for a damaged file.
  common::Status SaveSnapshot(const std::string& path,
                              const std::map<std::int32_t, std::int64_t>& offsets) const;
  common::Status LoadSnapshot(const std::string& path, std::map<std::int32_t, std::int64_t>* offsets);

 private:
  struct Slot {
    common::Sha256Digest hash{};
    std::array<std::uint8_t, 16> key_id{};
    std::uint32_t team = 0;
    std::uint32_t vpc = 0;        // 0: no VPC restriction
    std::uint32_t model_set = 0;  // 0: all models
    std::uint32_t revision = 0;
    std::uint8_t state = 0;       // 0 empty, 1 live, 2 deleted (tombstone)
    bool batch = false;
    bool legacy = false;
  };
  struct KeySlot {
    std::array<std::uint8_t, 16> key_id{};
    std::uint32_t slot = 0;
    std::uint8_t state = 0;
  };

  size_t FindSlot(const common::Sha256Digest& hash) const;  // index or npos
  void InsertLocked(const Slot& slot);
  void EraseLocked(const common::Sha256Digest& hash);
  size_t FindKeyLocked(const std::array<std::uint8_t, 16>& key_id) const;
  void SetKeyLocked(const std::array<std::uint8_t, 16>& key_id, std::uint32_t slot, bool erase);
  void RehashLocked(size_t capacity);
  void RehashKeysLocked(size_t capacity);
  std::uint32_t Intern(std::vector<std::string>& table, std::unordered_map<std::string, std::uint32_t>& ids,
                       const std::string& value);
  std::uint32_t InternModelSet(const std::vector<std::string>& models);

  const events::Catalog* catalog_;
  mutable std::shared_mutex mu_;
  std::vector<Slot> slots_;
  size_t live_ = 0, used_ = 0;  // used_ counts tombstones too
  std::vector<KeySlot> keys_;
  size_t keys_used_ = 0;
  std::vector<std::string> teams_{""}, vpcs_{""};
  std::unordered_map<std::string, std::uint32_t> team_ids_, vpc_ids_;
  std::vector<std::string> models_;  // interned model ids
  std::unordered_map<std::string, std::uint32_t> model_ids_;
  std::vector<std::vector<std::uint32_t>> model_sets_{{}};  // sorted model ids; 0 = all models
  std::map<std::vector<std::uint32_t>, std::uint32_t> model_set_ids_;
};

// "8-4-4-4-12" UUID text <-> 16 bytes (lower-case hex).
std::array<std::uint8_t, 16> UuidBytes(std::string_view uuid);
std::string UuidText(const std::array<std::uint8_t, 16>& bytes);

}  // namespace keyledger::validator
