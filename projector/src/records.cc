#include "keyledger/projector/records.h"

#include "keyledger/common/coding.h"
#include "keyledger/projector/layout.h"

namespace keyledger::projector {

using common::Decoder;
using common::Encoder;
using common::Result;

namespace {

// Version 2 of key and secret records appends the key's expiry; version 1 records (written before
// expiry existed) still decode, as keys that never expire.
constexpr std::uint8_t kKeyRecordVersion = 2;
constexpr std::uint8_t kSecretRecordVersion = 2;
constexpr std::uint8_t kHaltVersion = 1;

// A digest as length-prefixed bytes (the version 1 records' form).
bool ReadDigest(Decoder& d, common::Sha256Digest& out) {
  auto digest = layout::ParseDigestValue(d.BytesView());
  if (!digest) return false;
  out = *digest;
  return true;
}

void WriteScope(Encoder& e, bool all_models, const std::vector<std::string>& models, bool batch,
                const std::string& vpc, bool legacy) {
  e.Bool(all_models);
  e.Varint(models.size());
  for (const auto& m : models) e.Bytes(m);
  e.Bool(batch);
  e.Bytes(vpc);
  e.Bool(legacy);
}

void ReadScope(Decoder& d, bool& all_models, std::vector<std::string>& models, bool& batch, std::string& vpc,
               bool& legacy) {
  all_models = d.Bool();
  std::uint64_t n = d.Varint();
  for (std::uint64_t i = 0; i < n && !d.failed(); ++i) models.push_back(d.Bytes());
  batch = d.Bool();
  vpc = d.Bytes();
  legacy = d.Bool();
}

}  // namespace

SecretRecord SecretRecordOf(const events::KeyState& k) {
  return SecretRecord{k.key_id, k.team_id, k.all_models, k.models, k.batch_inference, k.vpc_uuid, k.legacy, k.revision,
                      k.expires_at_micros};
}

std::string EncodeKeyRecord(const KeyRecord& r) {
  const events::KeyState& s = r.state;
  Encoder e;
  e.U8(kKeyRecordVersion);
  e.Bytes(s.key_id);
  e.Bytes(s.team_id);
  e.Bytes(s.name);
  e.Bytes(s.creator_id);
  e.Bytes(s.creator_name);
  e.SignedVarint(s.created_at_micros);
  WriteScope(e, s.all_models, s.models, s.batch_inference, s.vpc_uuid, s.legacy);
  e.Bytes(layout::DigestValue(s.secret_sha256));
  e.Bytes(s.secret_hint);
  e.Varint(s.revision);
  e.Bool(s.deleted);
  e.SignedVarint(s.updated_at_micros);
  e.Varint(static_cast<std::uint64_t>(r.partition));
  e.SignedVarint(r.last_offset);
  e.SignedVarint(s.expires_at_micros);
  return e.Take();
}

Result<KeyRecord> DecodeKeyRecord(std::string_view bytes) {
  Decoder d(bytes);
  const std::uint8_t version = d.U8();
  if (version != 1 && version != kKeyRecordVersion) return common::DataLoss("key record has an unknown version");
  KeyRecord rec;
  events::KeyState& s = rec.state;
  s.key_id = d.Bytes();
  s.team_id = d.Bytes();
  s.name = d.Bytes();
  s.creator_id = d.Bytes();
  s.creator_name = d.Bytes();
  s.created_at_micros = d.SignedVarint();
  ReadScope(d, s.all_models, s.models, s.batch_inference, s.vpc_uuid, s.legacy);
  bool digest_ok = ReadDigest(d, s.secret_sha256);
  s.secret_hint = d.Bytes();
  s.revision = d.Varint();
  s.deleted = d.Bool();
  s.updated_at_micros = d.SignedVarint();
  rec.partition = static_cast<std::int32_t>(d.Varint());
  rec.last_offset = d.SignedVarint();
  if (version >= 2) s.expires_at_micros = d.SignedVarint();
  if (!digest_ok || !d.done()) return common::DataLoss("key record is malformed");
  return rec;
}

std::string EncodeSecretRecord(const SecretRecord& s) {
  Encoder e;
  e.U8(kSecretRecordVersion);
  e.Bytes(s.key_id);
  e.Bytes(s.team_id);
  WriteScope(e, s.all_models, s.models, s.batch_inference, s.vpc_uuid, s.legacy);
  e.Varint(s.revision);
  e.SignedVarint(s.expires_at_micros);
  return e.Take();
}

Result<SecretRecord> DecodeSecretRecord(std::string_view bytes) {
  Decoder d(bytes);
  const std::uint8_t version = d.U8();
  if (version != 1 && version != kSecretRecordVersion) return common::DataLoss("secret record has an unknown version");
  SecretRecord s;
  s.key_id = d.Bytes();
  s.team_id = d.Bytes();
  ReadScope(d, s.all_models, s.models, s.batch_inference, s.vpc_uuid, s.legacy);
  s.revision = d.Varint();
  if (version >= 2) s.expires_at_micros = d.SignedVarint();
  if (!d.done()) return common::DataLoss("secret record is malformed");
  return s;
}

std::string EncodeHalt(const Halt& h) {
  Encoder e;
  e.U8(kHaltVersion);
  e.Varint(static_cast<std::uint64_t>(h.partition));
  e.SignedVarint(h.offset);
  e.Bytes(h.reason);
  e.Bytes(layout::DigestValue(h.record_sha256));
  return e.Take();
}

Result<Halt> DecodeHalt(std::string_view bytes) {
  Decoder d(bytes);
  if (d.U8() != kHaltVersion) return common::DataLoss("halt record has an unknown version");
  Halt h;
  h.partition = static_cast<std::int32_t>(d.Varint());
  h.offset = d.SignedVarint();
  h.reason = d.Bytes();
  bool ok = ReadDigest(d, h.record_sha256);
  if (!ok || !d.done()) return common::DataLoss("halt record is malformed");
  return h;
}

}  // namespace keyledger::projector
