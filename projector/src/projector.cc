#include "keyledger/projector/projector.h"

#include <chrono>
#include <cstring>
#include <unordered_map>

#include "keyledger/events/codec.h"
#include "keyledger/events/hash_chain.h"
#include "keyledger/events/key_rules.h"

namespace keyledger::projector {

using common::Result;
using common::Status;
using storage::Column;

namespace {

std::string DigestBytes(const common::Sha256Digest& d) {
  return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

std::string BigEndian64(std::uint64_t v) {
  std::string s;
  storage::AppendBigEndian64(s, v);
  return s;
}

std::string NewestFirst(std::int64_t created_at_micros, const std::string& key_id) {
  std::string s = BigEndian64(~static_cast<std::uint64_t>(created_at_micros));
  s += key_id;
  return s;
}

std::string MineKey(const events::KeyState& k) {
  std::string s = k.team_id;
  s.push_back('\0');
  s += k.creator_id;
  s.push_back('\0');
  return s + NewestFirst(k.created_at_micros, k.key_id);
}

std::string TeamKey(const events::KeyState& k) {
  std::string s = k.team_id;
  s.push_back('\0');
  return s + NewestFirst(k.created_at_micros, k.key_id);
}

SecretRecord SecretRecordOf(const events::KeyState& k) {
  return SecretRecord{k.key_id, k.team_id, k.all_models, k.models, k.batch_inference,
                      k.vpc_uuid, k.legacy, k.revision};
}

// Puts the read-model changes of one applied event into `batch`.
void WriteEffects(storage::Store::Batch& batch, const std::optional<events::KeyState>& before,
                  const events::KeyState& after, const events::Event& event,
                  const storage::LogRecord& record) {
  EventLocator locator{record.partition, record.offset};
  std::string loc = LocatorKey(locator);
  batch.Put(Column::kKeys, after.key_id,
            EncodeKeyRecord(KeyRecord{after, record.partition, record.offset}));

  if (before && !before->deleted &&
      (after.deleted || before->secret_sha256 != after.secret_sha256)) {
    batch.Delete(Column::kSecretLookup, DigestBytes(before->secret_sha256));
  }
  // A rename leaves the secret and what it may do unchanged: no write.
  if (!after.deleted && (!before || before->secret_sha256 != after.secret_sha256)) {
    batch.Put(Column::kSecretLookup, DigestBytes(after.secret_sha256),
              EncodeSecretRecord(SecretRecordOf(after)));
  }

  if (!before) {
    if (after.legacy) {
      batch.Put(Column::kViewLegacy, TeamKey(after), after.creator_id);
    } else {
      batch.Put(Column::kViewMine, MineKey(after), "");
      batch.Put(Column::kViewTeam, TeamKey(after), after.creator_id);
    }
  } else if (after.deleted) {
    if (after.legacy) {
      batch.Delete(Column::kViewLegacy, TeamKey(after));
    } else {
      batch.Delete(Column::kViewMine, MineKey(after));
      batch.Delete(Column::kViewTeam, TeamKey(after));
    }
  }

  std::string by_key = after.key_id;
  by_key.push_back('\0');
  by_key += BigEndian64(event.key_revision);
  batch.Put(Column::kAuditByKey, by_key, loc);

  std::string time = BigEndian64(static_cast<std::uint64_t>(event.occurred_at_micros));
  std::string by_team = event.team_id;
  by_team.push_back('\0');
  batch.Put(Column::kAuditByTeamTime, by_team + time + loc,
            std::string(1, static_cast<char>(event.type())));
  std::string by_actor = event.team_id;
  by_actor.push_back('\0');
  by_actor += event.actor.user_id;
  by_actor.push_back('\0');
  batch.Put(Column::kAuditByActor, by_actor + time + loc,
            std::string(1, static_cast<char>(event.type())));

  batch.Put(Column::kEvents, loc, record.value);
}

}  // namespace

Projector::Projector(ProjectorOptions options, storage::Store* store, common::Logger* logger,
                     const common::Clock* clock)
    : options_(std::move(options)), store_(store), logger_(logger), clock_(clock),
      read_model_(store) {}

Projector::~Projector() { Stop(); }

Status Projector::Load() {
  KL_ASSIGN_OR_RETURN(partition_count_,
                      storage::PartitionCount(options_.kafka, options_.topic, 10000));
  KL_ASSIGN_OR_RETURN(auto offsets, read_model_.Offsets());
  KL_ASSIGN_OR_RETURN(auto halts, read_model_.Halts());
  cache_.clear();
  std::lock_guard lock(mu_);
  partitions_.clear();
  for (std::int32_t p = 0; p < partition_count_; ++p) {
    PartitionState& ps = partitions_[p];
    if (auto it = offsets.find(p); it != offsets.end()) ps.next_offset = it->second;
    KL_ASSIGN_OR_RETURN(auto head, store_->Get(Column::kMeta, ChainKey(p)));
    if (head && head->size() == ps.chain_head.size()) {
      std::memcpy(ps.chain_head.data(), head->data(), head->size());
    }
    KL_ASSIGN_OR_RETURN(auto alt, store_->Get(Column::kMeta, AltChainKey(p)));
    if (alt && alt->size() == 32) {
      common::Sha256Digest d;
      std::memcpy(d.data(), alt->data(), d.size());
      ps.alt_head = d;
    }
  }
  stats_.halts = 0;
  for (const Halt& h : halts) {
    partitions_[h.partition].halted = true;
    ++stats_.halts;
    logger_->Error("projection of partition halted", {{"partition", h.partition},
                                                       {"offset", h.offset},
                                                       {"reason", h.reason}});
  }
  for (const auto& [p, ps] : partitions_) stats_.next_offsets[p] = ps.next_offset;
  prepared_ = partitions_;
  return Status::Ok();
}

Status Projector::OpenReader() {
  std::map<std::int32_t, std::int64_t> start;
  {
    std::lock_guard lock(mu_);
    for (const auto& [p, ps] : partitions_) start[p] = ps.next_offset;
  }
  reader_.reset();
  KL_ASSIGN_OR_RETURN(reader_, storage::LogReader::Create(options_.kafka, options_.topic, start));
  return Status::Ok();
}

// A batch decoded and applied on the projector's thread, to be written on the committer's.
struct Projector::Prepared {
  storage::Store::Batch batch;
  std::map<std::int32_t, PartitionState> touched;  // each partition's state after the batch
  std::vector<Halt> halts;
  std::uint64_t applied = 0;
};

// Writes prepared batches on a thread of its own, one at a time and in order, so that the
// projector's thread decodes and applies the next batch while the store writes this one (the
// two take about the same time). Destruction waits for the batch in hand.
class Projector::Committer {
 public:
  explicit Committer(Projector* projector) : projector_(projector), thread_([this] { Run(); }) {}
  ~Committer() {
    {
      std::unique_lock lock(mu_);
      idle_.wait(lock, [&] { return !next_ && !busy_; });
      quit_ = true;
    }
    work_.notify_all();
    thread_.join();
  }
  Committer(const Committer&) = delete;
  Committer& operator=(const Committer&) = delete;

  // Waits for the previous batch's write. If that failed, returns its error and drops `next`
  // (nothing after a failed write is written); otherwise hands `next` over and returns.
  Status Submit(std::unique_ptr<Prepared> next) {
    std::unique_lock lock(mu_);
    idle_.wait(lock, [&] { return !next_ && !busy_; });
    if (!failed_.ok()) return failed_;
    next_ = std::move(next);
    work_.notify_all();
    return Status::Ok();
  }
  // Waits until every batch handed over is written; the first write error, if any.
  Status Drain() {
    std::unique_lock lock(mu_);
    idle_.wait(lock, [&] { return !next_ && !busy_; });
    return failed_;
  }
  // The first write error so far, without waiting.
  Status failure() const {
    std::lock_guard lock(mu_);
    return failed_;
  }

 private:
  void Run() {
    std::unique_lock lock(mu_);
    while (true) {
      work_.wait(lock, [&] { return next_ != nullptr || quit_; });
      if (!next_) return;
      std::unique_ptr<Prepared> batch = std::move(next_);
      busy_ = true;
      lock.unlock();
      Status written = projector_->Commit(*batch);
      batch.reset();  // the batch's memory is freed here too, off the projector's thread
      lock.lock();
      busy_ = false;
      if (!written.ok() && failed_.ok()) failed_ = written;
      idle_.notify_all();
    }
  }

  Projector* projector_;
  mutable std::mutex mu_;
  std::condition_variable work_;  // next_ set, or quit_
  std::condition_variable idle_;  // nothing handed over and nothing being written
  std::unique_ptr<Prepared> next_;
  bool busy_ = false;
  bool quit_ = false;
  Status failed_ = Status::Ok();
  std::thread thread_;  // last: starts once the members above exist
};

Result<std::unique_ptr<Projector::Prepared>> Projector::Prepare(
    const std::vector<storage::LogRecord>& records) {
  auto prepared = std::make_unique<Prepared>();
  prepared->batch = store_->NewBatch();
  storage::Store::Batch& batch = prepared->batch;
  std::map<std::int32_t, PartitionState>& touched = prepared->touched;
  std::unordered_map<std::string, events::KeyState> pending;
  for (const auto& r : records) {
    if (!touched.count(r.partition)) touched[r.partition] = prepared_[r.partition];
  }
  for (const storage::LogRecord& record : records) {
    PartitionState& ps = touched[record.partition];
    if (ps.halted || record.offset < ps.next_offset) continue;
    auto halt = [&](const std::string& reason) {
      ps.halted = true;
      Halt h{record.partition, record.offset, reason, common::Sha256Of(record.value)};
      batch.Put(Column::kMeta, HaltKey(record.partition), EncodeHalt(h));
      prepared->halts.push_back(std::move(h));
    };
    auto event = events::Decode(record.value);
    if (!event.ok()) {
      halt("undecodable event: " + event.status().message());
      continue;
    }
    if (event->prev_hash != ps.chain_head && !(ps.alt_head && event->prev_hash == *ps.alt_head)) {
      halt("hash chain broken: event " + event->event_id + " has prev_hash " +
           common::HexEncode(event->prev_hash) + ", expected " + common::HexEncode(ps.chain_head));
      continue;
    }
    if (storage::PartitionForTeam(event->team_id, partition_count_) != record.partition) {
      halt("event " + event->event_id + " of team " + event->team_id + " is in the wrong partition");
      continue;
    }
    std::optional<events::KeyState> before;
    if (auto it = pending.find(event->key_id); it != pending.end()) {
      before = it->second;
    } else if (auto cached = cache_.find(event->key_id); cached != cache_.end()) {
      before = cached->second;
    } else {
      // Not prepared recently, so written already (the batch being written is all in cache_).
      KL_ASSIGN_OR_RETURN(auto stored, read_model_.GetKey(event->key_id));
      if (stored) before = std::move(stored->state);
    }
    auto after = events::Apply(before, *event);
    if (!after.ok()) {
      halt("event does not apply: " + after.status().message());
      continue;
    }
    WriteEffects(batch, before, *after, *event, record);
    pending[event->key_id] = std::move(*after);
    ps.chain_head = events::EventHash(record.value);
    if (ps.alt_head) {
      ps.alt_head.reset();
      batch.Delete(Column::kMeta, AltChainKey(record.partition));
    }
    ps.next_offset = record.offset + 1;
    ++prepared->applied;
  }
  for (const auto& [p, ps] : touched) {
    batch.Put(Column::kMeta, OffsetKey(p), BigEndian64(static_cast<std::uint64_t>(ps.next_offset)));
    batch.Put(Column::kMeta, ChainKey(p), DigestBytes(ps.chain_head));
  }
  // The next batch starts from this one's states, written or not. If its write fails, the
  // projector stops, and a restart (Load) reads states from the store again.
  for (const auto& [p, ps] : touched) prepared_[p] = ps;
  constexpr size_t kMaxCachedKeys = 1u << 20;
  if (cache_.size() + pending.size() > kMaxCachedKeys) cache_.clear();
  for (auto& [key_id, state] : pending) cache_[key_id] = std::move(state);
  return prepared;
}

Status Projector::Commit(Prepared& prepared) {
  KL_RETURN_IF_ERROR(store_->Write(prepared.batch));
  {
    std::lock_guard lock(mu_);
    for (auto& [p, ps] : prepared.touched) {
      partitions_[p] = ps;
      stats_.next_offsets[p] = ps.next_offset;
    }
    stats_.events_applied += prepared.applied;
    stats_.batches_written += 1;
    stats_.halts += prepared.halts.size();
    stats_.decode_errors += prepared.halts.size();
  }
  applied_cv_.notify_all();
  for (const Halt& h : prepared.halts) {
    logger_->Error("projection of partition halted", {{"partition", h.partition},
                                                       {"offset", h.offset},
                                                       {"reason", h.reason}});
  }
  return Status::Ok();
}

Status Projector::Start() {
  KL_RETURN_IF_ERROR(Load());
  KL_RETURN_IF_ERROR(OpenReader());
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
  return Status::Ok();
}

void Projector::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  reader_.reset();
}

void Projector::Loop() {
  Committer committer(this);
  auto stop_failed = [&](const Status& error) {
    // The reader is past these records; only a restart from the stored offsets can retry them.
    logger_->Error("projector stopped: cannot write the store", {{"error", error.message()}});
    std::lock_guard lock(mu_);
    for (auto& [p, ps] : partitions_) ps.halted = true;
    stats_.failure = "cannot write the store: " + error.message();
    applied_cv_.notify_all();
  };
  auto last_warning = std::chrono::steady_clock::time_point();
  while (!stop_) {
    if (Status failed = committer.failure(); !failed.ok()) return stop_failed(failed);
    auto records = reader_->Poll(options_.poll_timeout_ms, options_.max_batch_events);
    if (!records.ok()) {
      auto now = std::chrono::steady_clock::now();
      if (now - last_warning > std::chrono::seconds(10)) {
        logger_->Warn("projector cannot read the log", {{"error", records.status().message()}});
        last_warning = now;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    if (records->empty()) continue;
    auto batch_start = std::chrono::steady_clock::now();
    auto prepared = Prepare(*records);
    Status handed = prepared.ok() ? committer.Submit(std::move(*prepared)) : prepared.status();
    if (!handed.ok()) {
      Status written = committer.Drain();
      return stop_failed(written.ok() ? handed : written);
    }
    if (options_.max_events_per_second > 0) {
      auto budget = std::chrono::microseconds(records->size() * 1000000 / options_.max_events_per_second);
      std::this_thread::sleep_until(batch_start + budget);
    }
  }
  if (Status written = committer.Drain(); !written.ok()) stop_failed(written);
}

Status Projector::RunUntil(int timeout_ms,
                           const std::optional<std::map<std::int32_t, std::int64_t>>& stop_at) {
  KL_RETURN_IF_ERROR(Load());
  KL_RETURN_IF_ERROR(OpenReader());
  Committer committer(this);
  // Every return waits for the batch being written; its error, if any, comes first.
  auto finish = [&](const Status& status) {
    Status written = committer.Drain();
    return written.ok() ? status : written;
  };
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  auto reached = [&] {
    if (!stop_at) return false;
    for (const auto& [p, ps] : prepared_) {
      if (ps.halted) continue;
      auto it = stop_at->find(p);
      std::int64_t target = it == stop_at->end() ? 0 : it->second;
      if (ps.next_offset < target) return false;
    }
    return true;
  };
  while (true) {
    if (reached()) return finish(Status::Ok());
    if (options_.cancel != nullptr && options_.cancel->load()) return finish(common::Unavailable("interrupted"));
    auto batch_start = std::chrono::steady_clock::now();
    if (std::chrono::steady_clock::now() > deadline) {
      return finish(common::Unavailable("projector did not catch up within " + std::to_string(timeout_ms) + " ms"));
    }
    auto polled = reader_->Poll(options_.poll_timeout_ms, options_.max_batch_events);
    if (!polled.ok()) return finish(polled.status());
    std::vector<storage::LogRecord> records = std::move(*polled);
    // At the end of the log there is nothing more to wait for, even if stop_at lies beyond it
    // (a shorter log than the one stop_at came from: verify compares against such logs).
    const bool log_exhausted = records.empty() && reader_->AtEnd();
    if (stop_at) {
      std::vector<storage::LogRecord> kept;
      for (auto& r : records) {
        auto it = stop_at->find(r.partition);
        if (it != stop_at->end() && r.offset < it->second) kept.push_back(std::move(r));
      }
      records = std::move(kept);
    }
    if (!records.empty()) {
      auto prepared = Prepare(records);
      if (!prepared.ok()) return finish(prepared.status());
      if (Status handed = committer.Submit(std::move(*prepared)); !handed.ok()) return finish(handed);
    }
    if (log_exhausted) return finish(Status::Ok());
    if (options_.max_events_per_second > 0 && !records.empty()) {
      auto budget = std::chrono::microseconds(records.size() * 1000000 / options_.max_events_per_second);
      std::this_thread::sleep_until(batch_start + budget);
    }
  }
}

Status Projector::WaitForOffset(std::int32_t partition, std::int64_t offset, int timeout_ms) {
  std::unique_lock lock(mu_);
  bool done = applied_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] {
    auto it = partitions_.find(partition);
    return it != partitions_.end() && (it->second.next_offset > offset || it->second.halted);
  });
  if (!done) {
    return common::Unavailable("projector has not applied partition " + std::to_string(partition) +
                               " offset " + std::to_string(offset) + " yet");
  }
  const PartitionState& ps = partitions_[partition];
  if (ps.next_offset <= offset) {
    return common::DataLoss("projection of partition " + std::to_string(partition) +
                            " halted before offset " + std::to_string(offset));
  }
  return Status::Ok();
}

ProjectorStats Projector::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

Result<std::int64_t> Projector::Lag(int timeout_ms) {
  std::map<std::int32_t, std::int64_t> next;
  {
    std::lock_guard lock(mu_);
    for (const auto& [p, ps] : partitions_) next[p] = ps.next_offset;
  }
  // A separate short-lived reader: the projector's own reader belongs to its thread.
  KL_ASSIGN_OR_RETURN(auto reader, storage::LogReader::Create(options_.kafka, options_.topic, next));
  std::int64_t lag = 0;
  for (const auto& [p, offset] : next) {
    KL_ASSIGN_OR_RETURN(auto marks, reader->Watermarks(p, timeout_ms));
    // The high watermark counts transaction markers; a gap of one past the last applied event
    // is the commit marker, not lag.
    std::int64_t behind = marks.second - offset;
    if (behind > 1) lag += behind;
  }
  return lag;
}

Status SkipHaltedEvent(storage::Store* store, std::int32_t partition, std::int64_t offset,
                       const std::string& note, const common::Clock& clock) {
  KL_ASSIGN_OR_RETURN(auto raw, store->Get(Column::kMeta, HaltKey(partition)));
  if (!raw) return common::NotFound("partition " + std::to_string(partition) + " is not halted");
  KL_ASSIGN_OR_RETURN(Halt halt, DecodeHalt(*raw));
  if (halt.offset != offset) {
    return common::Conflict("partition " + std::to_string(partition) + " halted at offset " +
                            std::to_string(halt.offset) + ", not " + std::to_string(offset));
  }
  storage::Store::Batch batch = store->NewBatch();
  batch.Delete(Column::kMeta, HaltKey(partition));
  std::string record = "{\"skipped_at\":\"" + common::FormatRfc3339(clock.NowMicros()) +
                       "\",\"reason\":";
  common::AppendJsonString(record, halt.reason);
  record += ",\"note\":";
  common::AppendJsonString(record, note);
  record += ",\"record_sha256\":\"" + common::HexEncode(halt.record_sha256) + "\"}";
  batch.Put(Column::kMeta, SkipKey(partition, offset), record);
  batch.Put(Column::kMeta, OffsetKey(partition), BigEndian64(static_cast<std::uint64_t>(offset + 1)));
  // If the skipped record was a chained event with a damaged payload, the next event links to
  // its bytes; if it was inserted garbage, the next event links to the current head. Accept both.
  batch.Put(Column::kMeta, AltChainKey(partition), DigestBytes(halt.record_sha256));
  return store->Write(batch);
}

}  // namespace keyledger::projector
