#include "keyledger/projector/read_model.h"

#include <cstring>

#include "keyledger/events/codec.h"
#include "record_codec.h"

namespace keyledger::projector {

using common::Result;
using common::Status;
using internal::RecordReader;
using internal::RecordWriter;
using storage::Column;

namespace {

constexpr std::uint8_t kKeyRecordVersion = 1;
constexpr std::uint8_t kSecretRecordVersion = 1;
constexpr std::uint8_t kHaltVersion = 1;

std::string DigestBytes(const common::Sha256Digest& d) {
  return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

bool ReadDigest(RecordReader& r, common::Sha256Digest& out) {
  std::string b = r.Bytes();
  if (b.size() != out.size()) return false;
  std::memcpy(out.data(), b.data(), out.size());
  return true;
}

std::string MetaKey(std::string_view kind, std::int32_t partition) {
  std::string k(kind);
  storage::AppendBigEndian32(k, static_cast<std::uint32_t>(partition));
  return k;
}

}  // namespace

std::string LocatorKey(EventLocator l) {
  std::string k;
  storage::AppendBigEndian32(k, static_cast<std::uint32_t>(l.partition));
  storage::AppendBigEndian64(k, static_cast<std::uint64_t>(l.offset));
  return k;
}
std::string OffsetKey(std::int32_t p) { return MetaKey("offset", p); }
std::string ChainKey(std::int32_t p) { return MetaKey("chain", p); }
std::string AltChainKey(std::int32_t p) { return MetaKey("alt", p); }
std::string HaltKey(std::int32_t p) { return MetaKey("halt", p); }
std::string SkipKey(std::int32_t p, std::int64_t offset) {
  std::string k = MetaKey("skip", p);
  storage::AppendBigEndian64(k, static_cast<std::uint64_t>(offset));
  return k;
}

std::string EncodeKeyRecord(const KeyRecord& r) {
  const events::KeyState& s = r.state;
  RecordWriter w;
  w.U8(kKeyRecordVersion);
  w.Bytes(s.key_id);
  w.Bytes(s.team_id);
  w.Bytes(s.name);
  w.Bytes(s.creator_id);
  w.Bytes(s.creator_name);
  w.I64(s.created_at_micros);
  w.Bool(s.all_models);
  w.Varint(s.models.size());
  for (const auto& m : s.models) w.Bytes(m);
  w.Bool(s.batch_inference);
  w.Bytes(s.vpc_uuid);
  w.Bool(s.legacy);
  w.Bytes(DigestBytes(s.secret_sha256));
  w.Bytes(s.secret_hint);
  w.Varint(s.revision);
  w.Bool(s.deleted);
  w.I64(s.updated_at_micros);
  w.Varint(static_cast<std::uint64_t>(r.partition));
  w.I64(r.last_offset);
  return w.Take();
}

Result<KeyRecord> DecodeKeyRecord(std::string_view bytes) {
  RecordReader r(bytes);
  if (r.U8() != kKeyRecordVersion) return common::DataLoss("key record has an unknown version");
  KeyRecord rec;
  events::KeyState& s = rec.state;
  s.key_id = r.Bytes();
  s.team_id = r.Bytes();
  s.name = r.Bytes();
  s.creator_id = r.Bytes();
  s.creator_name = r.Bytes();
  s.created_at_micros = r.I64();
  s.all_models = r.Bool();
  std::uint64_t n = r.Varint();
  for (std::uint64_t i = 0; i < n && !r.failed(); ++i) s.models.push_back(r.Bytes());
  s.batch_inference = r.Bool();
  s.vpc_uuid = r.Bytes();
  s.legacy = r.Bool();
  bool digest_ok = ReadDigest(r, s.secret_sha256);
  s.secret_hint = r.Bytes();
  s.revision = r.Varint();
  s.deleted = r.Bool();
  s.updated_at_micros = r.I64();
  rec.partition = static_cast<std::int32_t>(r.Varint());
  rec.last_offset = r.I64();
  if (r.failed() || !digest_ok || !r.done()) return common::DataLoss("key record is malformed");
  return rec;
}

std::string EncodeSecretRecord(const SecretRecord& s) {
  RecordWriter w;
  w.U8(kSecretRecordVersion);
  w.Bytes(s.key_id);
  w.Bytes(s.team_id);
  w.Bool(s.all_models);
  w.Varint(s.models.size());
  for (const auto& m : s.models) w.Bytes(m);
  w.Bool(s.batch_inference);
  w.Bytes(s.vpc_uuid);
  w.Bool(s.legacy);
  w.Varint(s.revision);
  return w.Take();
}

Result<SecretRecord> DecodeSecretRecord(std::string_view bytes) {
  RecordReader r(bytes);
  if (r.U8() != kSecretRecordVersion) return common::DataLoss("secret record has an unknown version");
  SecretRecord s;
  s.key_id = r.Bytes();
  s.team_id = r.Bytes();
  s.all_models = r.Bool();
  std::uint64_t n = r.Varint();
  for (std::uint64_t i = 0; i < n && !r.failed(); ++i) s.models.push_back(r.Bytes());
  s.batch_inference = r.Bool();
  s.vpc_uuid = r.Bytes();
  s.legacy = r.Bool();
  s.revision = r.Varint();
  if (r.failed() || !r.done()) return common::DataLoss("secret record is malformed");
  return s;
}

std::string EncodeHalt(const Halt& h) {
  RecordWriter w;
  w.U8(kHaltVersion);
  w.Varint(static_cast<std::uint64_t>(h.partition));
  w.I64(h.offset);
  w.Bytes(h.reason);
  w.Bytes(DigestBytes(h.record_sha256));
  return w.Take();
}

Result<Halt> DecodeHalt(std::string_view bytes) {
  RecordReader r(bytes);
  if (r.U8() != kHaltVersion) return common::DataLoss("halt record has an unknown version");
  Halt h;
  h.partition = static_cast<std::int32_t>(r.Varint());
  h.offset = r.I64();
  h.reason = r.Bytes();
  bool ok = ReadDigest(r, h.record_sha256);
  if (r.failed() || !ok) return common::DataLoss("halt record is malformed");
  return h;
}

Result<std::optional<KeyRecord>> ReadModel::GetKey(const std::string& key_id) const {
  KL_ASSIGN_OR_RETURN(std::optional<std::string> raw, store_->Get(Column::kKeys, key_id));
  if (!raw) return std::optional<KeyRecord>();
  KL_ASSIGN_OR_RETURN(KeyRecord rec, DecodeKeyRecord(*raw));
  return std::optional<KeyRecord>(std::move(rec));
}

Result<std::optional<SecretRecord>> ReadModel::LookupSecret(const common::SecretHash& hash) const {
  KL_ASSIGN_OR_RETURN(std::optional<std::string> raw,
                      store_->Get(Column::kSecretLookup, DigestBytes(hash)));
  if (!raw) return std::optional<SecretRecord>();
  KL_ASSIGN_OR_RETURN(SecretRecord rec, DecodeSecretRecord(*raw));
  return std::optional<SecretRecord>(std::move(rec));
}

Result<ReadModel::Page> ReadModel::ListView(const events::Caller& caller, events::View view,
                                            size_t page, size_t per_page) const {
  KL_RETURN_IF_ERROR(events::CheckViewAllowed(view, caller));
  if (page == 0) return common::InvalidArgument("page must be at least 1");
  if (per_page == 0) return common::InvalidArgument("per_page must be at least 1");
  std::string prefix = caller.team_id;
  prefix.push_back('\0');
  Column column = Column::kViewMine;
  if (view == events::View::kMine) {
    prefix += caller.user_id;
    prefix.push_back('\0');
  } else if (view == events::View::kLegacy) {
    column = Column::kViewLegacy;
  } else {
    column = Column::kViewTeam;
  }
  // Index keys end with the key id; the team view excludes the caller's own keys.
  std::vector<std::string> ids;
  Page out;
  const size_t skip = (page - 1) * per_page;
  Status scan = store_->ScanPrefix(column, prefix, [&](std::string_view k, std::string_view v) {
    if (view == events::View::kTeam && v == caller.user_id) return true;
    if (out.total >= skip && ids.size() < per_page) ids.emplace_back(k.substr(prefix.size() + 8));
    ++out.total;
    return true;
  });
  KL_RETURN_IF_ERROR(scan);
  for (const std::string& id : ids) {
    KL_ASSIGN_OR_RETURN(std::optional<KeyRecord> rec, GetKey(id));
    if (!rec) return common::DataLoss("view entry for key " + id + " has no key record");
    // The scan and these reads are not one snapshot: a deletion applied in between leaves a view
    // entry this scan saw pointing at a deleted key, which must not be listed.
    if (rec->state.deleted) {
      --out.total;
      continue;
    }
    out.keys.push_back(std::move(rec->state));
  }
  return out;
}

Result<std::vector<events::Event>> ReadModel::KeyHistory(const std::string& key_id) const {
  std::vector<std::string> locators;
  std::string prefix = key_id;
  prefix.push_back('\0');
  KL_RETURN_IF_ERROR(store_->ScanPrefix(Column::kAuditByKey, prefix,
                                        [&](std::string_view, std::string_view v) {
                                          locators.emplace_back(v);
                                          return true;
                                        }));
  std::vector<events::Event> history;
  for (const std::string& loc : locators) {
    KL_ASSIGN_OR_RETURN(std::optional<std::string> raw, store_->Get(Column::kEvents, loc));
    if (!raw) return common::DataLoss("audit entry of key " + key_id + " points at no event");
    KL_ASSIGN_OR_RETURN(events::Event e, events::Decode(*raw));
    history.push_back(std::move(e));
  }
  return history;
}

Result<std::map<std::int32_t, std::int64_t>> ReadModel::Offsets() const {
  std::map<std::int32_t, std::int64_t> out;
  KL_RETURN_IF_ERROR(store_->ScanPrefix(Column::kMeta, "offset",
                                        [&](std::string_view k, std::string_view v) {
                                          if (k.size() != 10 || v.size() != 8) return true;
                                          out[static_cast<std::int32_t>(storage::ReadBigEndian32(k.substr(6)))] =
                                              static_cast<std::int64_t>(storage::ReadBigEndian64(v));
                                          return true;
                                        }));
  return out;
}

Result<std::vector<Halt>> ReadModel::Halts() const {
  std::vector<Halt> out;
  Status decode_status;
  KL_RETURN_IF_ERROR(store_->ScanPrefix(Column::kMeta, "halt",
                                        [&](std::string_view, std::string_view v) {
                                          auto h = DecodeHalt(v);
                                          if (!h.ok()) {
                                            decode_status = h.status();
                                            return false;
                                          }
                                          out.push_back(std::move(*h));
                                          return true;
                                        }));
  KL_RETURN_IF_ERROR(decode_status);
  return out;
}

}  // namespace keyledger::projector
