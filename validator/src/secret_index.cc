#include "keyledger/validator/secret_index.h"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>

#include "keyledger/common/secret.h"

namespace keyledger::validator {

namespace {

constexpr size_t kNpos = static_cast<size_t>(-1);
constexpr char kSnapshotMagic[] = "KLVSNAP1";

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

void PutU32(std::string& out, std::uint32_t v) { out.append(reinterpret_cast<const char*>(&v), 4); }
void PutStr(std::string& out, const std::string& s) {
  PutU32(out, static_cast<std::uint32_t>(s.size()));
  out += s;
}

class Cursor {
 public:
  explicit Cursor(std::string_view in) : in_(in) {}
  bool U32(std::uint32_t& v) {
    if (in_.size() - pos_ < 4) return false;
    std::memcpy(&v, in_.data() + pos_, 4);
    pos_ += 4;
    return true;
  }
  bool I64(std::int64_t& v) {
    if (in_.size() - pos_ < 8) return false;
    std::memcpy(&v, in_.data() + pos_, 8);
    pos_ += 8;
    return true;
  }
  bool Str(std::string& s) {
    std::uint32_t n;
    if (!U32(n) || in_.size() - pos_ < n) return false;
    s.assign(in_.substr(pos_, n));
    pos_ += n;
    return true;
  }
  bool Bytes(std::uint8_t* out, size_t n) {
    if (in_.size() - pos_ < n) return false;
    std::memcpy(out, in_.data() + pos_, n);
    pos_ += n;
    return true;
  }

 private:
  std::string_view in_;
  size_t pos_ = 0;
};

}  // namespace

std::string_view DenyReasonName(DenyReason reason) {
  switch (reason) {
    case DenyReason::kNone: return "";
    case DenyReason::kMalformed: return "malformed";
    case DenyReason::kUnknown: return "unknown";
    case DenyReason::kModelNotAllowed: return "model_not_allowed";
    case DenyReason::kVpcMismatch: return "vpc_mismatch";
    case DenyReason::kBatchNotAllowed: return "batch_not_allowed";
    case DenyReason::kNotReady: return "not_ready";
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

SecretIndex::SecretIndex(const events::Catalog* catalog) : catalog_(catalog) {
  slots_.resize(1024);
  keys_.resize(1024);
}

std::uint32_t SecretIndex::Intern(std::vector<std::string>& table,
                                  std::unordered_map<std::string, std::uint32_t>& ids,
                                  const std::string& value) {
  if (value.empty()) return 0;
  auto [it, inserted] = ids.emplace(value, static_cast<std::uint32_t>(table.size()));
  if (inserted) table.push_back(value);
  return it->second;
}

std::uint32_t SecretIndex::InternModelSet(const std::vector<std::string>& models) {
  std::vector<std::uint32_t> set;
  for (const std::string& m : models) {
    auto [it, inserted] = model_ids_.emplace(m, static_cast<std::uint32_t>(models_.size()));
    if (inserted) models_.push_back(m);
    set.push_back(it->second);
  }
  std::sort(set.begin(), set.end());
  set.erase(std::unique(set.begin(), set.end()), set.end());
  auto [it, inserted] = model_set_ids_.emplace(set, static_cast<std::uint32_t>(model_sets_.size()));
  if (inserted) model_sets_.push_back(set);
  return it->second;
}

size_t SecretIndex::FindSlot(const common::Sha256Digest& hash) const {
  const size_t mask = slots_.size() - 1;
  for (size_t i = Load64(hash.data()) & mask;; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.state == 0) return kNpos;
    if (s.state == 1 && s.hash == hash) return i;
  }
}

void SecretIndex::RehashLocked(size_t capacity) {
  std::vector<Slot> old;
  old.swap(slots_);
  slots_.assign(capacity, Slot{});
  live_ = used_ = 0;
  for (const Slot& s : old) {
    if (s.state == 1) InsertLocked(s);
  }
  // Slot positions moved: rebuild the key id table.
  keys_.assign(std::max<size_t>(1024, keys_.size()), KeySlot{});
  keys_used_ = 0;
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i].state == 1) SetKeyLocked(slots_[i].key_id, static_cast<std::uint32_t>(i), false);
  }
}

void SecretIndex::InsertLocked(const Slot& slot) {
  if ((used_ + 1) * 10 > slots_.size() * 7) {
    RehashLocked(std::max<size_t>(1024, std::bit_ceil((live_ + 1) * 2)));
  }
  const size_t mask = slots_.size() - 1;
  for (size_t i = Load64(slot.hash.data()) & mask;; i = (i + 1) & mask) {
    Slot& s = slots_[i];
    if (s.state != 1) {
      if (s.state == 0) ++used_;
      s = slot;
      s.state = 1;
      ++live_;
      SetKeyLocked(slot.key_id, static_cast<std::uint32_t>(i), false);
      return;
    }
    if (s.hash == slot.hash) {  // same secret hash again: replace
      std::uint8_t state = s.state;
      s = slot;
      s.state = state;
      SetKeyLocked(slot.key_id, static_cast<std::uint32_t>(i), false);
      return;
    }
  }
}

void SecretIndex::EraseLocked(const common::Sha256Digest& hash) {
  size_t i = FindSlot(hash);
  if (i == kNpos) return;
  slots_[i].state = 2;
  --live_;
}

size_t SecretIndex::FindKeyLocked(const std::array<std::uint8_t, 16>& key_id) const {
  const size_t mask = keys_.size() - 1;
  for (size_t i = KeyHash(key_id) & mask;; i = (i + 1) & mask) {
    const KeySlot& k = keys_[i];
    if (k.state == 0) return kNpos;
    if (k.state == 1 && k.key_id == key_id) return i;
  }
}

void SecretIndex::RehashKeysLocked(size_t capacity) {
  std::vector<KeySlot> old;
  old.swap(keys_);
  keys_.assign(capacity, KeySlot{});
  keys_used_ = 0;
  for (const KeySlot& k : old) {
    if (k.state == 1) SetKeyLocked(k.key_id, k.slot, false);
  }
}

void SecretIndex::SetKeyLocked(const std::array<std::uint8_t, 16>& key_id, std::uint32_t slot, bool erase) {
  if (erase) {
    size_t i = FindKeyLocked(key_id);
    if (i != kNpos) keys_[i].state = 2;
    return;
  }
  if ((keys_used_ + 1) * 10 > keys_.size() * 7) {
    size_t live = 0;
    for (const KeySlot& k : keys_) live += k.state == 1;
    RehashKeysLocked(std::max<size_t>(1024, std::bit_ceil((live + 1) * 2)));
  }
  const size_t mask = keys_.size() - 1;
  size_t first_free = kNpos;
  for (size_t i = KeyHash(key_id) & mask;; i = (i + 1) & mask) {
    KeySlot& k = keys_[i];
    if (k.state == 1 && k.key_id == key_id) {
      k.slot = slot;
      return;
    }
    if (k.state == 2 && first_free == kNpos) first_free = i;
    if (k.state == 0) {
      size_t at = first_free == kNpos ? i : first_free;
      if (keys_[at].state == 0) ++keys_used_;
      keys_[at] = KeySlot{key_id, slot, 1};
      return;
    }
  }
}

void SecretIndex::Apply(const events::Event& event) {
  std::unique_lock lock(mu_);
  auto key_id = UuidBytes(event.key_id);
  if (const auto* c = std::get_if<events::KeyCreated>(&event.payload)) {
    Slot s;
    s.hash = c->secret_sha256;
    s.key_id = key_id;
    s.team = Intern(teams_, team_ids_, event.team_id);
    s.vpc = Intern(vpcs_, vpc_ids_, c->vpc_uuid);
    s.model_set = c->all_models ? 0 : InternModelSet(c->models);
    s.revision = static_cast<std::uint32_t>(event.key_revision);
    s.batch = c->batch_inference;
    s.legacy = c->legacy;
    InsertLocked(s);
    return;
  }
  size_t k = FindKeyLocked(key_id);
  if (k == kNpos) return;  // not a live key of this index (deleted, or before the snapshot)
  Slot current = slots_[keys_[k].slot];
  if (std::holds_alternative<events::KeyRenamed>(event.payload)) {
    slots_[keys_[k].slot].revision = static_cast<std::uint32_t>(event.key_revision);
  } else if (const auto* g = std::get_if<events::KeyRegenerated>(&event.payload)) {
    EraseLocked(current.hash);
    current.hash = g->secret_sha256;
    current.revision = static_cast<std::uint32_t>(event.key_revision);
    InsertLocked(current);
  } else {
    EraseLocked(current.hash);
    SetKeyLocked(key_id, 0, true);
  }
}

Decision SecretIndex::Check(const CheckRequest& request) const {
  Decision d;
  if (!common::CheckSecretFormat(request.secret).ok()) {
    d.reason = DenyReason::kMalformed;
    return d;
  }
  common::Sha256Digest hash = common::HashSecret(request.secret);
  std::shared_lock lock(mu_);
  size_t i = FindSlot(hash);
  if (i == kNpos) {
    d.reason = DenyReason::kUnknown;
    return d;
  }
  const Slot& s = slots_[i];
  d.key_id = UuidText(s.key_id);
  d.team_id = teams_[s.team];
  if (s.vpc != 0 && vpcs_[s.vpc] != request.source_vpc) {
    d.reason = DenyReason::kVpcMismatch;
    return d;
  }
  if (s.model_set != 0) {
    auto it = model_ids_.find(std::string(request.model));
    const auto& set = model_sets_[s.model_set];
    if (it == model_ids_.end() || !std::binary_search(set.begin(), set.end(), it->second)) {
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
  std::shared_lock lock(mu_);
  return live_;
}

size_t SecretIndex::MemoryBytes() const {
  std::shared_lock lock(mu_);
  size_t bytes = slots_.capacity() * sizeof(Slot) + keys_.capacity() * sizeof(KeySlot);
  for (const auto& t : teams_) bytes += t.capacity() + 64;
  for (const auto& v : vpcs_) bytes += v.capacity() + 64;
  for (const auto& s : model_sets_) bytes += s.capacity() * 4 + 48;
  return bytes;
}

common::Status SecretIndex::SaveSnapshot(const std::string& path,
                                         const std::map<std::int32_t, std::int64_t>& offsets) const {
  std::string out(kSnapshotMagic, 8);
  {
    std::shared_lock lock(mu_);
    PutU32(out, static_cast<std::uint32_t>(offsets.size()));
    for (const auto& [p, o] : offsets) {
      PutU32(out, static_cast<std::uint32_t>(p));
      out.append(reinterpret_cast<const char*>(&o), 8);
    }
    PutU32(out, static_cast<std::uint32_t>(live_));
    for (const Slot& s : slots_) {
      if (s.state != 1) continue;
      out.append(reinterpret_cast<const char*>(s.hash.data()), 32);
      out.append(reinterpret_cast<const char*>(s.key_id.data()), 16);
      PutStr(out, teams_[s.team]);
      PutStr(out, vpcs_[s.vpc]);
      const auto& set = model_sets_[s.model_set];
      PutU32(out, s.model_set == 0 ? 0xFFFFFFFFu : static_cast<std::uint32_t>(set.size()));
      for (std::uint32_t m : set) PutStr(out, models_[m]);
      PutU32(out, s.revision);
      out.push_back(static_cast<char>((s.batch ? 1 : 0) | (s.legacy ? 2 : 0)));
    }
  }
  common::Sha256Digest sum = common::Sha256Of(out);
  out.append(reinterpret_cast<const char*>(sum.data()), sum.size());
  std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f.write(out.data(), static_cast<std::streamsize>(out.size()));
    f.flush();
    if (!f) return common::Unavailable("cannot write snapshot " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return common::Unavailable("cannot rename snapshot to " + path);
  return common::Status::Ok();
}

common::Status SecretIndex::LoadSnapshot(const std::string& path,
                                         std::map<std::int32_t, std::int64_t>* offsets) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return common::NotFound("no snapshot at " + path);
  std::stringstream buffer;
  buffer << f.rdbuf();
  std::string data = buffer.str();
  if (data.size() < 8 + 32 || data.compare(0, 8, kSnapshotMagic) != 0) {
    return common::DataLoss("snapshot " + path + " is not a keyledger validator snapshot");
  }
  std::string_view body(data.data(), data.size() - 32);
  common::Sha256Digest sum = common::Sha256Of(body);
  if (std::memcmp(sum.data(), data.data() + body.size(), 32) != 0) {
    return common::DataLoss("snapshot " + path + " is damaged (checksum mismatch)");
  }
  Cursor c(body.substr(8));
  std::uint32_t n;
  std::map<std::int32_t, std::int64_t> loaded;
  if (!c.U32(n)) return common::DataLoss("snapshot is truncated");
  for (std::uint32_t i = 0; i < n; ++i) {
    std::uint32_t p;
    std::int64_t o;
    if (!c.U32(p) || !c.I64(o)) return common::DataLoss("snapshot is truncated");
    loaded[static_cast<std::int32_t>(p)] = o;
  }
  SecretIndex fresh(catalog_);
  std::uint32_t count;
  if (!c.U32(count)) return common::DataLoss("snapshot is truncated");
  for (std::uint32_t i = 0; i < count; ++i) {
    Slot s;
    std::string team, vpc;
    std::uint32_t models;
    if (!c.Bytes(s.hash.data(), 32) || !c.Bytes(s.key_id.data(), 16) || !c.Str(team) || !c.Str(vpc) ||
        !c.U32(models)) {
      return common::DataLoss("snapshot is truncated");
    }
    std::vector<std::string> list;
    if (models != 0xFFFFFFFFu) {
      for (std::uint32_t m = 0; m < models; ++m) {
        std::string id;
        if (!c.Str(id)) return common::DataLoss("snapshot is truncated");
        list.push_back(std::move(id));
      }
    }
    std::uint8_t flags;
    if (!c.U32(s.revision) || !c.Bytes(&flags, 1)) return common::DataLoss("snapshot is truncated");
    s.team = fresh.Intern(fresh.teams_, fresh.team_ids_, team);
    s.vpc = fresh.Intern(fresh.vpcs_, fresh.vpc_ids_, vpc);
    s.model_set = models == 0xFFFFFFFFu ? 0 : fresh.InternModelSet(list);
    s.batch = flags & 1;
    s.legacy = flags & 2;
    fresh.InsertLocked(s);
  }
  std::unique_lock lock(mu_);
  slots_ = std::move(fresh.slots_);
  live_ = fresh.live_;
  used_ = fresh.used_;
  keys_ = std::move(fresh.keys_);
  keys_used_ = fresh.keys_used_;
  teams_ = std::move(fresh.teams_);
  vpcs_ = std::move(fresh.vpcs_);
  team_ids_ = std::move(fresh.team_ids_);
  vpc_ids_ = std::move(fresh.vpc_ids_);
  models_ = std::move(fresh.models_);
  model_ids_ = std::move(fresh.model_ids_);
  model_sets_ = std::move(fresh.model_sets_);
  model_set_ids_ = std::move(fresh.model_set_ids_);
  *offsets = std::move(loaded);
  return common::Status::Ok();
}

}  // namespace keyledger::validator
