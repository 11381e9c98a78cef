#include "keyledger/validator/secret_index.h"

#include <algorithm>
#include <cstring>

#include "keyledger/common/coding.h"
#include "keyledger/common/secret.h"

namespace keyledger::validator {

using internal::kNpos;

namespace {

// Version 2: every integer big-endian or varint (common/coding.h). Version 1 copied host-endian
// integers and is no longer read: such a file is refused and the index rebuilt from the log.
constexpr std::string_view kSnapshotMagic = "KLVSNAP4";  // 3: per-partition positions (head, halt); 4: expiry
constexpr std::string_view kSnapshotMagicPrefix = "KLVSNAP";
constexpr std::uint64_t kAllModels = 0;  // model count field: 0 = all models, n + 1 = n models

std::uint64_t Load64(const std::uint8_t* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

std::uint64_t KeyHash(const std::array<std::uint8_t, 16>& id) {
  std::uint64_t h = Load64(id.data()) ^ (Load64(id.data() + 8) * 0x9E3779B97F4A7C15ull);
  return h ^ (h >> 29);
}

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return 0;
}

}  // namespace

struct SecretIndex::Tables {
  internal::ProbeTable<Slot> slots;     // by secret hash
  internal::ProbeTable<KeySlot> keys;   // key id -> index in `slots`
  std::vector<std::string> teams{""}, vpcs{""};
  std::unordered_map<std::string, std::uint32_t> team_ids, vpc_ids;
  std::vector<std::string> models;  // interned model ids
  std::unordered_map<std::string, std::uint32_t> model_ids;
  std::vector<std::vector<std::uint32_t>> model_sets{{}};  // sorted model ids; 0 = all models
  std::map<std::vector<std::uint32_t>, std::uint32_t> model_set_ids;

  static std::uint64_t HashOf(const Slot& s) { return Load64(s.hash.data()); }
  static std::uint64_t HashOfKey(const KeySlot& k) { return KeyHash(k.key_id); }

  size_t FindSecret(const common::Sha256Digest& hash) const {
    return slots.Find(Load64(hash.data()), [&](const Slot& s) { return s.hash == hash; });
  }
  size_t FindKey(const std::array<std::uint8_t, 16>& key_id) const {
    return keys.Find(KeyHash(key_id), [&](const KeySlot& k) { return k.key_id == key_id; });
  }
  void PointKeyAt(const std::array<std::uint8_t, 16>& key_id, size_t slot) {
    bool grew = false;
    keys.Upsert(KeyHash(key_id), KeySlot{key_id, static_cast<std::uint32_t>(slot), internal::kLive},
                [&](const KeySlot& k) { return k.key_id == key_id; }, HashOfKey, &grew);
  }
  void Insert(const Slot& slot) {
    bool grew = false;
    size_t i = slots.Upsert(Load64(slot.hash.data()), slot, [&](const Slot& s) { return s.hash == slot.hash; },
                            HashOf, &grew);
    if (grew) {
      // Every slot moved: point the key ids at their new places.
      keys.Reset(std::max<size_t>(1024, keys.capacity()));
      for (size_t j = 0; j < slots.capacity(); ++j) {
        if (slots.at(j).state == internal::kLive) PointKeyAt(slots.at(j).key_id, j);
      }
    } else {
      PointKeyAt(slot.key_id, i);
    }
  }
  void EraseKey(const std::array<std::uint8_t, 16>& key_id) {
    size_t k = FindKey(key_id);
    if (k == kNpos) return;
    slots.Erase(keys.at(k).slot);
    keys.Erase(k);
  }

  std::uint32_t Intern(std::vector<std::string>& table, std::unordered_map<std::string, std::uint32_t>& ids,
                       const std::string& value) {
    if (value.empty()) return 0;
    auto [it, inserted] = ids.emplace(value, static_cast<std::uint32_t>(table.size()));
    if (inserted) table.push_back(value);
    return it->second;
  }
  std::uint32_t InternModelSet(const std::vector<std::string>& list) {
    std::vector<std::uint32_t> set;
    for (const std::string& m : list) {
      auto [it, inserted] = model_ids.emplace(m, static_cast<std::uint32_t>(models.size()));
      if (inserted) models.push_back(m);
      set.push_back(it->second);
    }
    std::sort(set.begin(), set.end());
    set.erase(std::unique(set.begin(), set.end()), set.end());
    auto [it, inserted] = model_set_ids.emplace(set, static_cast<std::uint32_t>(model_sets.size()));
    if (inserted) model_sets.push_back(set);
    return it->second;
  }
  // A slot for a key's secret with its scope interned.
  Slot MakeSlot(const common::Sha256Digest& hash, const std::array<std::uint8_t, 16>& key_id, const std::string& team,
                const std::string& vpc, bool all_models, const std::vector<std::string>& model_list,
                std::uint64_t revision, bool batch, bool legacy, std::int64_t expires_at_micros) {
    Slot s;
    s.hash = hash;
    s.key_id = key_id;
    s.team = Intern(teams, team_ids, team);
    s.vpc = Intern(vpcs, vpc_ids, vpc);
    s.model_set = all_models ? 0 : InternModelSet(model_list);
    s.revision = static_cast<std::uint32_t>(revision);
    s.batch = batch;
    s.legacy = legacy;
    // Rounded down to the second (at least 1, since 0 means never): denied no later than due.
    s.expires_at_seconds = expires_at_micros <= 0 ? 0
                           : static_cast<std::uint32_t>(std::clamp<std::int64_t>(expires_at_micros / 1000000, 1,
                                                                                 UINT32_MAX));
    return s;
  }
};

std::string_view DenyReasonName(DenyReason reason) {
  switch (reason) {
    case DenyReason::kNone: return "";
    case DenyReason::kMalformed: return "malformed";
    case DenyReason::kUnknown: return "unknown";
    case DenyReason::kModelNotAllowed: return "model_not_allowed";
    case DenyReason::kVpcMismatch: return "vpc_mismatch";
    case DenyReason::kBatchNotAllowed: return "batch_not_allowed";
    case DenyReason::kNotReady: return "not_ready";
    case DenyReason::kStale: return "stale";
    case DenyReason::kMalformedRequest: return "malformed_request";
    case DenyReason::kPartitionHalted: return "partition_halted";
    case DenyReason::kExpired: return "expired";
  }
  return "unknown";
}

std::array<std::uint8_t, 16> UuidBytes(std::string_view uuid) {
  std::array<std::uint8_t, 16> out{};
  size_t j = 0;
  for (size_t i = 0; i + 1 < uuid.size() && j < 16;) {
    if (uuid[i] == '-') {
      ++i;
      continue;
    }
    out[j++] = static_cast<std::uint8_t>(Hex(uuid[i]) << 4 | Hex(uuid[i + 1]));
    i += 2;
  }
  return out;
}

std::string UuidText(const std::array<std::uint8_t, 16>& b) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(36, '-');  // one allocation: this is on every allowed check
  size_t o = 0;
  for (size_t i = 0; i < 16; ++i) {
    if (o == 8 || o == 13 || o == 18 || o == 23) ++o;
    out[o++] = kHex[b[i] >> 4];
    out[o++] = kHex[b[i] & 15];
  }
  return out;
}

SecretIndex::SecretIndex(const events::Catalog* catalog) : catalog_(catalog), tables_(std::make_unique<Tables>()) {}

SecretIndex::~SecretIndex() = default;

void SecretIndex::Apply(const events::Event& event) {
  common::WriterMutexLock lock(&mu_);
  Tables& t = *tables_;
  auto key_id = UuidBytes(event.key_id);
  if (const auto* c = std::get_if<events::KeyCreated>(&event.payload)) {
    t.Insert(t.MakeSlot(c->secret_sha256, key_id, event.team_id, c->vpc_uuid, c->all_models, c->models,
                        event.key_revision, c->batch_inference, c->legacy, c->expires_at_micros));
    return;
  }
  size_t k = t.FindKey(key_id);
  if (k == kNpos) return;  // not a live key of this index (deleted, or before the snapshot)
  Slot current = t.slots.at(t.keys.at(k).slot);
  if (std::holds_alternative<events::KeyRenamed>(event.payload)) {
    t.slots.at(t.keys.at(k).slot).revision = static_cast<std::uint32_t>(event.key_revision);
  } else if (const auto* g = std::get_if<events::KeyRegenerated>(&event.payload)) {
    t.EraseKey(key_id);
    current.hash = g->secret_sha256;
    current.revision = static_cast<std::uint32_t>(event.key_revision);
    t.Insert(current);
  } else {
    t.EraseKey(key_id);
  }
}

Decision SecretIndex::Check(const CheckRequest& request, std::int64_t now_micros) const {
  Decision d;
  // A mistyped sk-do-v1- secret, or no secret at all, is refused without a lookup; anything else
  // may be a legacy secret of an older format, known only by its hash.
  if (!common::CheckPresentedSecret(request.secret).ok()) {
    d.reason = DenyReason::kMalformed;
    return d;
  }
  common::Sha256Digest hash = common::HashSecret(request.secret);
  common::ReaderMutexLock lock(&mu_);
  const Tables& t = *tables_;
  size_t i = t.FindSecret(hash);
  if (i == kNpos) {
    d.reason = DenyReason::kUnknown;
    return d;
  }
  const Slot& s = t.slots.at(i);
  d.key_id = UuidText(s.key_id);
  d.key_bytes = s.key_id;
  d.team_id = t.teams[s.team];
  if (s.expires_at_seconds != 0 && now_micros >= static_cast<std::int64_t>(s.expires_at_seconds) * 1000000) {
    d.reason = DenyReason::kExpired;
    return d;
  }
  if (s.vpc != 0 && t.vpcs[s.vpc] != request.source_vpc) {
    d.reason = DenyReason::kVpcMismatch;
    return d;
  }
  if (s.model_set != 0) {
    auto it = t.model_ids.find(std::string(request.model));
    const auto& set = t.model_sets[s.model_set];
    if (it == t.model_ids.end() || !std::binary_search(set.begin(), set.end(), it->second)) {
      d.reason = DenyReason::kModelNotAllowed;
      return d;
    }
  }
  if (request.batch) {
    const events::Model* m = catalog_->FindModel(request.model);
    if (!s.batch || m == nullptr || !m->batch_capable) {
      d.reason = DenyReason::kBatchNotAllowed;
      return d;
    }
  }
  d.allowed = true;
  return d;
}

size_t SecretIndex::size() const {
  common::ReaderMutexLock lock(&mu_);
  return tables_->slots.live();
}

size_t SecretIndex::MemoryBytes() const {
  common::ReaderMutexLock lock(&mu_);
  const Tables& t = *tables_;
  size_t bytes = t.slots.memory_bytes() + t.keys.memory_bytes();
  for (const auto& s : t.teams) bytes += s.capacity() + 64;
  for (const auto& v : t.vpcs) bytes += v.capacity() + 64;
  for (const auto& s : t.model_sets) bytes += s.capacity() * 4 + 48;
  return bytes;
}

namespace {

void EncodePosition(common::Encoder& e, std::int32_t partition, const events::PartitionPosition& pos) {
  e.Varint(static_cast<std::uint64_t>(partition));
  e.SignedVarint(pos.next_offset);
  e.Raw(pos.head);
  e.Bool(pos.alt_head.has_value());
  if (pos.alt_head) e.Raw(*pos.alt_head);
  e.Bool(pos.halt.has_value());
  if (pos.halt) {
    e.SignedVarint(pos.halt->offset);
    e.Raw(pos.halt->record_sha256);
    e.Bytes(pos.halt->reason);
  }
}

std::pair<std::int32_t, events::PartitionPosition> DecodePosition(common::Decoder& d) {
  auto partition = static_cast<std::int32_t>(d.Varint());
  events::PartitionPosition pos;
  pos.next_offset = d.SignedVarint();
  d.Raw(pos.head);
  if (d.Bool()) {
    common::Sha256Digest alt{};
    d.Raw(alt);
    pos.alt_head = alt;
  }
  if (d.Bool()) {
    events::PartitionHalt halt;
    halt.offset = d.SignedVarint();
    d.Raw(halt.record_sha256);
    halt.reason = d.Bytes();
    pos.halt = std::move(halt);
  }
  return {partition, std::move(pos)};
}

}  // namespace

common::Status SecretIndex::SaveSnapshot(const std::string& path, const Positions& positions,
                                         common::FileSystem* files) const {
  common::Encoder e;
  {
    common::ReaderMutexLock lock(&mu_);
    const Tables& t = *tables_;
    e.Varint(positions.size());
    for (const auto& [p, pos] : positions) EncodePosition(e, p, pos);
    e.Varint(t.slots.live());
    for (size_t i = 0; i < t.slots.capacity(); ++i) {
      const Slot& s = t.slots.at(i);
      if (s.state != internal::kLive) continue;
      e.Raw(s.hash);
      e.Raw(s.key_id);
      e.Bytes(t.teams[s.team]);
      e.Bytes(t.vpcs[s.vpc]);
      const auto& set = t.model_sets[s.model_set];
      e.Varint(s.model_set == 0 ? kAllModels : set.size() + 1);
      for (std::uint32_t m : set) e.Bytes(t.models[m]);
      e.Varint(s.revision);
      e.U8(static_cast<std::uint8_t>((s.batch ? 1 : 0) | (s.legacy ? 2 : 0)));
      e.SignedVarint(static_cast<std::int64_t>(s.expires_at_seconds) * 1000000);
    }
  }
  std::string out(kSnapshotMagic);
  out += e.Take();
  common::Sha256Digest sum = common::Sha256Of(out);
  out.append(reinterpret_cast<const char*>(sum.data()), sum.size());
  return files->WriteFileDurably(path, out).WithContext("writing the validator snapshot");
}

common::Status SecretIndex::LoadSnapshot(const std::string& path, Positions* positions, common::FileSystem* files) {
  KL_ASSIGN_OR_RETURN(std::string data, files->ReadFile(path));
  if (data.size() < kSnapshotMagic.size() + 32 || data.compare(0, kSnapshotMagicPrefix.size(), kSnapshotMagicPrefix) != 0) {
    return common::DataLoss("snapshot " + path + " is not a keyledger validator snapshot");
  }
  if (data.compare(0, kSnapshotMagic.size(), kSnapshotMagic) != 0) {
    return common::DataLoss("snapshot " + path + " has format " + data.substr(kSnapshotMagicPrefix.size(), 1) +
                            ", which this version does not read (it reads " +
                            std::string(kSnapshotMagic.substr(kSnapshotMagicPrefix.size())) + ")");
  }
  std::string_view body(data.data(), data.size() - 32);
  common::Sha256Digest sum = common::Sha256Of(body);
  if (std::memcmp(sum.data(), data.data() + body.size(), 32) != 0) {
    return common::DataLoss("snapshot " + path + " is damaged (checksum mismatch)");
  }
  common::Decoder d(body.substr(kSnapshotMagic.size()));
  Positions loaded;
  std::uint64_t partitions = d.Varint();
  for (std::uint64_t i = 0; i < partitions && !d.failed(); ++i) loaded.insert(DecodePosition(d));
  auto fresh = std::make_unique<Tables>();
  std::uint64_t count = d.Varint();
  for (std::uint64_t i = 0; i < count && !d.failed(); ++i) {
    common::Sha256Digest hash{};
    std::array<std::uint8_t, 16> key_id{};
    d.Raw(hash);
    d.Raw(key_id);
    std::string team = d.Bytes(), vpc = d.Bytes();
    std::uint64_t model_count = d.Varint();
    std::vector<std::string> list;
    for (std::uint64_t m = 1; m < model_count && !d.failed(); ++m) list.push_back(d.Bytes());
    std::uint64_t revision = d.Varint();
    std::uint8_t flags = d.U8();
    std::int64_t expires_at = d.SignedVarint();
    if (d.failed()) break;
    fresh->Insert(fresh->MakeSlot(hash, key_id, team, vpc, model_count == kAllModels, list, revision, flags & 1,
                                  (flags & 2) != 0, expires_at));
  }
  if (!d.done()) return common::DataLoss("snapshot " + path + " is truncated or malformed");
  common::WriterMutexLock lock(&mu_);
  tables_ = std::move(fresh);
  *positions = std::move(loaded);
  return common::Status::Ok();
}

}  // namespace keyledger::validator
