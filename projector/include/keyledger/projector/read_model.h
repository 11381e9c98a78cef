// The read models that projectors build in RocksDB (SPEC section 4), their record formats and the
// queries the API, validators and replay run on them.
//
// Column layout (storage::Column):
//   keys                key_id -> KeyRecord
//   secret_lookup       SHA-256 of a live secret -> SecretRecord (never the secret)
//   view_mine           team \0 creator \0 ~created_at(be64) key_id
//   view_legacy         team \0 ~created_at(be64) key_id
//   view_team           team \0 ~created_at(be64) key_id        (non-legacy keys)
//   audit_by_key        key_id \0 revision(be64) -> locator
//   audit_by_team_time  team \0 occurred_at(be64) locator
//   audit_by_actor      team \0 actor \0 occurred_at(be64) locator
//   events              locator = partition(be32) offset(be64) -> encoded event
//   meta                "offset" partition(be32) -> next offset(be64); "chain" partition -> head;
//                       "alt" partition -> alternative head after a skip; "halt" partition -> Halt;
//                       "skip" partition offset -> note
// Thread: ReadModel is thread-safe (it only reads the Store).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "keyledger/common/secret.h"
#include "keyledger/common/status.h"
#include "keyledger/events/event.h"
#include "keyledger/events/key_rules.h"
#include "keyledger/storage/store.h"

namespace keyledger::projector {

struct KeyRecord {
  events::KeyState state;
  std::int32_t partition = 0;
  std::int64_t last_offset = 0;
};

// What a live secret may do: the hashed-secret lookup entry.
struct SecretRecord {
  std::string key_id;
  std::string team_id;
  bool all_models = false;
  std::vector<std::string> models;
  bool batch_inference = false;
  std::string vpc_uuid;
  bool legacy = false;
  std::uint64_t revision = 0;  // The key revision at which this secret was issued.
  friend bool operator==(const SecretRecord&, const SecretRecord&) = default;
};

struct EventLocator {
  std::int32_t partition = 0;
  std::int64_t offset = 0;
};

// A partition whose projection stopped at `offset` because the event there could not be applied.
struct Halt {
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::string reason;
  common::Sha256Digest record_sha256{};  // of the raw record bytes
};

std::string EncodeKeyRecord(const KeyRecord& record);
common::Result<KeyRecord> DecodeKeyRecord(std::string_view bytes);
std::string EncodeSecretRecord(const SecretRecord& record);
common::Result<SecretRecord> DecodeSecretRecord(std::string_view bytes);
std::string EncodeHalt(const Halt& halt);
common::Result<Halt> DecodeHalt(std::string_view bytes);

std::string LocatorKey(EventLocator locator);
std::string OffsetKey(std::int32_t partition);
std::string ChainKey(std::int32_t partition);
std::string AltChainKey(std::int32_t partition);
std::string HaltKey(std::int32_t partition);
std::string SkipKey(std::int32_t partition, std::int64_t offset);

class ReadModel {
 public:
  explicit ReadModel(const storage::Store* store) : store_(store) {}

  common::Result<std::optional<KeyRecord>> GetKey(const std::string& key_id) const;
  common::Result<std::optional<SecretRecord>> LookupSecret(const common::SecretHash& hash) const;

  struct Page {
    std::vector<events::KeyState> keys;
    size_t total = 0;
  };
  // One page (from 1) of a view, newest first. PermissionDenied for a non-owner's team view.
  common::Result<Page> ListView(const events::Caller& caller, events::View view, size_t page,
                                size_t per_page) const;

  // Every event of a key, oldest first (deleted keys included).
  common::Result<std::vector<events::Event>> KeyHistory(const std::string& key_id) const;

  // Next offset to project per partition (absent partitions start at 0).
  common::Result<std::map<std::int32_t, std::int64_t>> Offsets() const;
  common::Result<std::vector<Halt>> Halts() const;

 private:
  const storage::Store* store_;
};

}  // namespace keyledger::projector
