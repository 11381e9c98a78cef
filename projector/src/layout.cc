#include "keyledger/projector/layout.h"

#include <algorithm>
#include <cstring>

#include "keyledger/common/coding.h"

namespace keyledger::projector {

common::Result<std::unique_ptr<storage::Store>> OpenReadModelStore(const std::string& path,
                                                                   const storage::StoreOptions& options) {
  return storage::Store::Open(path, options, kColumnNames);
}

namespace layout {

namespace {

std::string MetaKey(std::string_view kind, std::int32_t partition) {
  std::string k(kind);
  common::PutFixed32(k, static_cast<std::uint32_t>(partition));
  return k;
}

void AppendSeparated(std::string& out, std::string_view part) {
  out += part;
  out.push_back('\0');
}

}  // namespace

std::string Locator(EventLocator l) {
  std::string k;
  common::PutFixed32(k, static_cast<std::uint32_t>(l.partition));
  common::PutFixed64(k, static_cast<std::uint64_t>(l.offset));
  return k;
}

std::optional<EventLocator> ParseLocator(std::string_view bytes) {
  if (bytes.size() != kLocatorSize) return std::nullopt;
  return EventLocator{static_cast<std::int32_t>(common::DecodeFixed32(bytes)),
                      static_cast<std::int64_t>(common::DecodeFixed64(bytes.substr(4)))};
}

std::optional<EventLocator> LocatorAtStart(std::string_view value) {
  if (value.size() < kLocatorSize) return std::nullopt;
  return ParseLocator(value.substr(0, kLocatorSize));
}

std::optional<EventLocator> LocatorAtEnd(std::string_view index_key) {
  if (index_key.size() < kLocatorSize) return std::nullopt;
  return ParseLocator(index_key.substr(index_key.size() - kLocatorSize));
}

std::string SecretKey(const common::Sha256Digest& hash) { return DigestValue(hash); }

std::string MineViewPrefix(std::string_view team_id, std::string_view creator_id) {
  std::string s;
  AppendSeparated(s, team_id);
  AppendSeparated(s, creator_id);
  return s;
}

std::string TeamViewPrefix(std::string_view team_id) {
  std::string s;
  AppendSeparated(s, team_id);
  return s;
}

std::string ViewKey(std::string_view prefix, const events::KeyState& key) {
  std::string s(prefix);
  common::PutFixed64(s, ~static_cast<std::uint64_t>(key.created_at_micros));  // newest first
  s += key.key_id;
  return s;
}

std::string_view KeyIdInViewKey(std::string_view view_key, size_t prefix_size) {
  return view_key.size() < prefix_size + 8 ? std::string_view() : view_key.substr(prefix_size + 8);
}

std::string AuditByKeyPrefix(std::string_view key_id) {
  std::string s;
  AppendSeparated(s, key_id);
  return s;
}

std::string AuditByKeyKey(std::string_view key_id, std::uint64_t revision) {
  std::string s = AuditByKeyPrefix(key_id);
  common::PutFixed64(s, revision);
  return s;
}

std::string AuditByTeamPrefix(std::string_view team_id) { return TeamViewPrefix(team_id); }

std::string AuditByActorPrefix(std::string_view team_id, std::string_view actor_id) {
  return MineViewPrefix(team_id, actor_id);
}

std::string AuditTimeBound(std::string_view prefix, std::int64_t micros) {
  std::string s(prefix);
  common::PutFixed64(s, static_cast<std::uint64_t>(std::max<std::int64_t>(0, micros)));
  return s;
}

std::string AuditTimeKey(std::string_view prefix, std::int64_t micros, EventLocator locator) {
  std::string s(prefix);
  common::PutFixed64(s, static_cast<std::uint64_t>(micros));
  s += Locator(locator);
  return s;
}

std::string OffsetKey(std::int32_t p) { return MetaKey(kOffsetPrefix, p); }

std::optional<std::int32_t> PartitionOfOffsetKey(std::string_view key) {
  if (key.size() != kOffsetPrefix.size() + 4 || key.substr(0, kOffsetPrefix.size()) != kOffsetPrefix) {
    return std::nullopt;
  }
  return static_cast<std::int32_t>(common::DecodeFixed32(key.substr(kOffsetPrefix.size())));
}

std::string ChainKey(std::int32_t p) { return MetaKey("chain", p); }
std::string AltChainKey(std::int32_t p) { return MetaKey("alt", p); }
std::string HaltKey(std::int32_t p) { return MetaKey(kHaltPrefix, p); }

std::string SkipKey(std::int32_t p, std::int64_t offset) {
  std::string k = MetaKey(kSkipPrefix, p);
  common::PutFixed64(k, static_cast<std::uint64_t>(offset));
  return k;
}

std::string OffsetValue(std::int64_t next_offset) { return common::Fixed64String(static_cast<std::uint64_t>(next_offset)); }

std::optional<std::int64_t> ParseOffsetValue(std::string_view value) {
  if (value.size() != 8) return std::nullopt;
  return static_cast<std::int64_t>(common::DecodeFixed64(value));
}

std::string ViewCountKey(events::View view, std::string_view team_id, std::string_view creator_id) {
  std::string k = "count";
  switch (view) {
    case events::View::kMine:
      k.push_back('m');
      return k + MineViewPrefix(team_id, creator_id);
    case events::View::kLegacy:
      k.push_back('l');
      break;
    case events::View::kTeam:
      k.push_back('t');
      break;
  }
  return k + TeamViewPrefix(team_id);
}

std::string CountValue(std::int64_t count) { return common::Fixed64String(static_cast<std::uint64_t>(count)); }

std::optional<std::int64_t> ParseCountValue(std::string_view value) { return ParseOffsetValue(value); }

std::string LayoutVersionValue(std::uint32_t version) {
  std::string v;
  common::PutFixed32(v, version);
  return v;
}

std::optional<std::uint32_t> ParseLayoutVersionValue(std::string_view value) {
  if (value.size() != 4) return std::nullopt;
  return common::DecodeFixed32(value);
}

std::string DigestValue(const common::Sha256Digest& d) {
  return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

std::optional<common::Sha256Digest> ParseDigestValue(std::string_view value) {
  common::Sha256Digest d;
  if (value.size() != d.size()) return std::nullopt;
  std::memcpy(d.data(), value.data(), d.size());
  return d;
}

}  // namespace layout
}  // namespace keyledger::projector
