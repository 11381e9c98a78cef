#include "keyledger/projector/usage.h"

#include <algorithm>

#include "keyledger/common/coding.h"
#include "keyledger/common/crypto.h"
#include "keyledger/events/usage.h"
#include "keyledger/projector/layout.h"

namespace keyledger::projector {

using common::Result;
using common::Status;

namespace {

// Offsets are stored as the key read models store theirs (layout::OffsetKey, OffsetValue); beside
// them, each partition's newest minute.
std::string NewestKey(std::int32_t partition) {
  std::string k = "newest";
  common::PutFixed32(k, static_cast<std::uint32_t>(partition));
  return k;
}
std::string MinutePrefix(std::int32_t partition, std::int64_t minute) {
  std::string k;
  common::PutFixed32(k, static_cast<std::uint32_t>(partition));
  common::PutFixed64(k, static_cast<std::uint64_t>(minute));
  return k;
}
std::string MinuteKey(std::int32_t partition, const events::UsageRecord& r) {
  std::string k = MinutePrefix(partition, r.minute);
  k += r.replica_id;
  k.push_back('\0');
  k += r.key_id;
  return k;
}
std::string DayKey(std::string_view key_id, std::int64_t day) {
  std::string k(key_id);
  k.push_back('\0');
  common::PutFixed32(k, static_cast<std::uint32_t>(day));
  return k;
}

struct Counts {
  std::uint64_t allowed = 0, denied = 0;
};
std::string EncodeCounts(Counts c) {
  common::Encoder e;
  e.Varint(c.allowed);
  e.Varint(c.denied);
  return e.Take();
}
std::optional<Counts> DecodeCounts(std::string_view v) {
  common::Decoder d(v);
  Counts c{d.Varint(), d.Varint()};
  if (!d.done()) return std::nullopt;
  return c;
}
std::string EncodeLastUse(const LastUse& u) {
  common::Encoder e;
  e.SignedVarint(u.minute);
  e.Bytes(u.model);
  e.Bytes(u.source_vpc);
  return e.Take();
}
std::optional<LastUse> DecodeLastUse(std::string_view v) {
  common::Decoder d(v);
  LastUse u;
  u.minute = d.SignedVarint();
  u.model = d.Bytes();
  u.source_vpc = d.Bytes();
  if (!d.done()) return std::nullopt;
  return u;
}

// A batch's writes, read back before the store by later records of the same batch.
class Overlay {
 public:
  explicit Overlay(storage::Store* store) : store_(store), batch_(store->NewBatch()) {}
  Result<std::optional<std::string>> Get(UsageColumn c, const std::string& key) {
    auto& m = writes_[static_cast<size_t>(c)];
    if (auto it = m.find(key); it != m.end()) return it->second;
    return store_->Get(c, key);
  }
  void Put(UsageColumn c, const std::string& key, std::string value) {
    batch_.Put(c, key, value);
    writes_[static_cast<size_t>(c)][key] = std::move(value);
  }
  void Delete(UsageColumn c, const std::string& key) {
    batch_.Delete(c, key);
    writes_[static_cast<size_t>(c)][key] = std::nullopt;
  }
  Status Write() { return store_->Write(batch_); }

 private:
  storage::Store* store_;
  storage::Store::Batch batch_;
  std::array<std::map<std::string, std::optional<std::string>>, 4> writes_;
};

Result<Counts> CountsAt(Overlay& o, UsageColumn c, const std::string& key) {
  KL_ASSIGN_OR_RETURN(auto v, o.Get(c, key));
  if (!v) return Counts{};
  auto counts = DecodeCounts(*v);
  if (!counts) return common::DataLoss("usage store: malformed counts in " + std::string(kUsageColumnNames[static_cast<size_t>(c)]));
  return *counts;
}

}  // namespace

Result<std::unique_ptr<storage::Store>> OpenUsageStore(const std::string& path, const storage::StoreOptions& options) {
  return storage::Store::Open(path, options, kUsageColumnNames);
}

Status FoldUsage(storage::Store* store, const std::vector<storage::LogRecord>& records, UsageFoldStats* stats) {
  Overlay o(store);
  std::map<std::int32_t, std::int64_t> next_offset;
  std::map<std::int32_t, std::pair<std::int64_t, std::int64_t>> newest;  // partition -> (before, now)
  for (const storage::LogRecord& rec : records) {
    next_offset[rec.partition] = rec.offset + 1;
    auto n = newest.find(rec.partition);
    if (n == newest.end()) {
      KL_ASSIGN_OR_RETURN(auto v, o.Get(UsageColumn::kMeta, NewestKey(rec.partition)));
      const std::int64_t before = v && v->size() == 8 ? static_cast<std::int64_t>(common::DecodeFixed64(*v)) : 0;
      n = newest.emplace(rec.partition, std::pair{before, before}).first;
    }
    auto r = events::DecodeUsageRecord(rec.value);
    if (!r.ok()) {
      ++stats->bad;
      continue;
    }
    n->second.second = std::max(n->second.second, r->minute);
    if (r->minute < n->second.second - kDedupMinutes) {
      ++stats->late;
      continue;
    }
    const std::string minute_key = MinuteKey(rec.partition, *r);
    KL_ASSIGN_OR_RETURN(Counts seen, CountsAt(o, UsageColumn::kMinutes, minute_key));
    const std::uint64_t more_allowed = r->allowed > seen.allowed ? r->allowed - seen.allowed : 0;
    const std::uint64_t more_denied = r->denied > seen.denied ? r->denied - seen.denied : 0;
    if (more_allowed == 0 && more_denied == 0) {
      ++stats->duplicates;
      continue;
    }
    ++stats->records;
    o.Put(UsageColumn::kMinutes, minute_key, EncodeCounts({seen.allowed + more_allowed, seen.denied + more_denied}));
    const std::string day_key = DayKey(r->key_id, r->minute / (24 * 60));
    KL_ASSIGN_OR_RETURN(Counts day, CountsAt(o, UsageColumn::kDays, day_key));
    o.Put(UsageColumn::kDays, day_key, EncodeCounts({day.allowed + more_allowed, day.denied + more_denied}));
    if (more_allowed > 0) {
      KL_ASSIGN_OR_RETURN(auto last, o.Get(UsageColumn::kLastUsed, r->key_id));
      std::optional<LastUse> current = last ? DecodeLastUse(*last) : std::nullopt;
      if (!current || r->minute >= current->minute) {
        o.Put(UsageColumn::kLastUsed, r->key_id, EncodeLastUse({r->minute, r->last_model, r->last_source_vpc}));
      }
    }
  }
  for (const auto& [partition, offset] : next_offset) {
    o.Put(UsageColumn::kMeta, layout::OffsetKey(partition), layout::OffsetValue(offset));
  }
  for (const auto& [partition, minutes] : newest) {
    const auto [before, now] = minutes;
    if (now == before) continue;
    o.Put(UsageColumn::kMeta, NewestKey(partition), common::Fixed64String(static_cast<std::uint64_t>(now)));
    // The window moved: prune the entries that fell out of it (only this partition's).
    const std::string lower = MinutePrefix(partition, 0);
    const std::string upper = MinutePrefix(partition, std::max<std::int64_t>(0, now - kDedupMinutes));
    std::vector<std::string> old;
    KL_RETURN_IF_ERROR(store->Scan(UsageColumn::kMinutes, lower, upper, [&old](std::string_view k, std::string_view) {
      old.emplace_back(k);
      return true;
    }));
    for (const std::string& k : old) o.Delete(UsageColumn::kMinutes, k);
    stats->pruned += old.size();
  }
  return o.Write();
}

Result<std::map<std::int32_t, std::int64_t>> UsageOffsets(const storage::Store& store) {
  std::map<std::int32_t, std::int64_t> out;
  KL_RETURN_IF_ERROR(store.ScanPrefix(UsageColumn::kMeta, layout::kOffsetPrefix, [&out](std::string_view k, std::string_view v) {
    auto partition = layout::PartitionOfOffsetKey(k);
    auto offset = layout::ParseOffsetValue(v);
    if (partition && offset) out[*partition] = *offset;
    return true;
  }));
  return out;
}

Result<std::string> UsageChecksum(const storage::Store& store) {
  common::Sha256 sha;
  for (UsageColumn c : {UsageColumn::kMinutes, UsageColumn::kDays, UsageColumn::kLastUsed}) {
    std::uint64_t n = 0;
    KL_RETURN_IF_ERROR(store.Scan(c, "", "", [&](std::string_view k, std::string_view v) {
      std::string framed;
      common::PutVarint(framed, k.size());
      framed += k;
      common::PutVarint(framed, v.size());
      framed += v;
      sha.Update(framed);
      ++n;
      return true;
    }));
    sha.Update(std::string(kUsageColumnNames[static_cast<size_t>(c)]) + ":" + std::to_string(n));
  }
  auto digest = sha.Finish();
  return common::HexEncode(digest);
}

Result<std::optional<LastUse>> UsageReads::LastUsed(std::string_view key_id) const {
  KL_ASSIGN_OR_RETURN(auto v, store_->Get(UsageColumn::kLastUsed, key_id));
  if (!v) return std::optional<LastUse>();
  auto u = DecodeLastUse(*v);
  if (!u) return common::DataLoss("usage store: malformed last use of key " + std::string(key_id));
  return u;
}

Result<std::vector<DayUsage>> UsageReads::Days(std::string_view key_id, std::int64_t first_day,
                                               std::int64_t last_day) const {
  std::vector<DayUsage> out;
  const std::string lower = DayKey(key_id, std::max<std::int64_t>(0, first_day));
  const std::string upper = DayKey(key_id, std::max<std::int64_t>(0, last_day + 1));
  bool malformed = false;
  KL_RETURN_IF_ERROR(store_->Scan(UsageColumn::kDays, lower, upper, [&](std::string_view k, std::string_view v) {
    auto c = DecodeCounts(v);
    if (!c || k.size() < 4) {
      malformed = true;
      return false;
    }
    out.push_back({static_cast<std::int64_t>(common::DecodeFixed32(k.substr(k.size() - 4))), c->allowed, c->denied});
    return true;
  }));
  if (malformed) return common::DataLoss("usage store: malformed day counts of key " + std::string(key_id));
  return out;
}

UsageProjector::UsageProjector(UsageProjectorOptions options, storage::Store* store, common::Logger* logger,
                               const common::Clock* clock)
    : options_(std::move(options)), store_(store), logger_(logger), clock_(clock) {}

UsageProjector::~UsageProjector() { Stop(); }

void UsageProjector::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void UsageProjector::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

UsageProjectorStats UsageProjector::stats() const {
  common::MutexLock lock(&mu_);
  return stats_;
}

std::map<std::int32_t, std::int64_t> UsageProjector::positions() const {
  common::MutexLock lock(&mu_);
  return positions_;
}

void UsageProjector::Fail(const Status& s) {
  common::MutexLock lock(&mu_);
  ++stats_.errors;
  stats_.last_error = s.ToString();
}

void UsageProjector::Loop() {
  std::unique_ptr<storage::LogReader> reader;
  std::int32_t partitions = 0;
  std::int64_t next_metadata = 0, last_warning = 0;
  auto warn = [&](const char* what, const Status& s) {
    Fail(s);
    const std::int64_t now = clock_->MonotonicMicros();
    if (now - last_warning > 10'000000) {
      last_warning = now;
      logger_->Warn(what, {{"topic", options_.topic}, {"error", s.ToString()}});
    }
  };
  while (!stop_) {
    const std::int64_t now = clock_->MonotonicMicros();
    if (now >= next_metadata) {
      next_metadata = now + static_cast<std::int64_t>(options_.metadata_interval_ms) * 1000;
      auto count = storage::PartitionCount(options_.kafka, options_.topic, 5000);
      if (!count.ok()) {
        {
          common::MutexLock lock(&mu_);
          stats_.waiting_for = "the usage topic " + options_.topic + ": " + count.status().ToString();
        }
        if (!reader) {
          clock_->SleepForMillis(200);
          next_metadata = 0;
          continue;
        }
      } else {
        {
          common::MutexLock lock(&mu_);
          stats_.waiting_for.clear();
        }
        if (*count > partitions) {
          auto stored = UsageOffsets(*store_);
          if (!stored.ok()) {
            warn("cannot read the usage offsets", stored.status());
            clock_->SleepForMillis(1000);
            next_metadata = 0;
            continue;
          }
          std::map<std::int32_t, std::int64_t> start;
          for (std::int32_t p = partitions; p < *count; ++p) start[p] = stored->count(p) ? stored->at(p) : 0;
          Status s = Status::Ok();
          if (!reader) {
            auto created = storage::LogReader::Create(options_.kafka, options_.topic, start);
            if (created.ok()) {
              reader = std::move(*created);
            } else {
              s = created.status();
            }
          } else {
            s = reader->AddPartitions(start);
          }
          if (!s.ok()) {
            warn("cannot read the usage topic", s);
            clock_->SleepForMillis(1000);
            next_metadata = 0;
            continue;
          }
          {
            common::MutexLock lock(&mu_);
            for (const auto& [p, o] : start) positions_[p] = o;
          }
          partitions = *count;
        }
      }
    }
    auto batch = reader->Poll(options_.poll_timeout_ms, options_.max_batch_records);
    if (!batch.ok()) {
      warn("reading the usage topic failed", batch.status());
      clock_->SleepForMillis(200);
      continue;
    }
    if (batch->empty()) continue;
    UsageFoldStats folded;
    Status s = FoldUsage(store_, *batch, &folded);
    if (!s.ok()) {
      // Nothing of the batch was written: read it again from the stored offsets.
      warn("cannot write usage to the store", s);
      reader.reset();
      partitions = 0;
      next_metadata = 0;
      clock_->SleepForMillis(1000);
      continue;
    }
    common::MutexLock lock(&mu_);
    ++stats_.batches;
    stats_.folded.records += folded.records;
    stats_.folded.duplicates += folded.duplicates;
    stats_.folded.late += folded.late;
    stats_.folded.bad += folded.bad;
    stats_.folded.pruned += folded.pruned;
    for (const auto& r : *batch) positions_[r.partition] = r.offset + 1;
  }
}

}  // namespace keyledger::projector
