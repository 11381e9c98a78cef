// The values the projector stores (read-model records), and their one binary encoding: a
// version byte, then fields through common/coding.h. Decoding anything else (another version,
// truncated or trailing bytes) is DataLoss.
// Thread: values and free functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "keyledger/common/crypto.h"
#include "keyledger/common/status.h"
#include "keyledger/events/key_rules.h"

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
  std::int64_t expires_at_micros = 0;  // 0: never
  friend bool operator==(const SecretRecord&, const SecretRecord&) = default;
};
SecretRecord SecretRecordOf(const events::KeyState& key);

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

}  // namespace keyledger::projector
