#include "keyledger/validator/replica.h"

#include <algorithm>
#include <deque>

namespace keyledger::validator {

namespace {

constexpr int kLogEveryMs = 10000;  // rate limit of repeated warnings

}  // namespace

Replica::Replica(ReplicaOptions options, const events::Catalog* catalog, common::Logger* logger,
                 const common::Clock* clock)
    : options_(std::move(options)), logger_(logger), clock_(clock), index_(catalog) {
  if (options_.files == nullptr) options_.files = common::DefaultFileSystem();
}

Replica::~Replica() { Stop(); }

common::Status Replica::Start() {
  if (!options_.snapshot_path.empty()) {
    SecretIndex::Positions positions;
    common::Status loaded = index_.LoadSnapshot(options_.snapshot_path, &positions, options_.files);
    if (loaded.ok()) {
      for (auto& [p, pos] : positions) guards_.emplace(p, events::PartitionGuard(p, 0, std::move(pos)));
      common::MutexLock lock(&mu_);
      stats_.loaded_snapshot = true;
      logger_->Info("validator loaded its snapshot", {{"keys", static_cast<std::uint64_t>(index_.size())},
                                                      {"path", options_.snapshot_path}});
    } else if (loaded.code() != common::StatusCode::kNotFound) {
      // A damaged snapshot, or one of another format, is not trusted: rebuild from the log.
      logger_->Warn("validator snapshot ignored; reading the log from the start", {{"error", loaded.message()}});
    }
  }
  {
    common::MutexLock lock(&mu_);
    stats_.waiting_for = "asking the brokers for topic " + options_.topic;
  }
  last_snapshot_ms_ = clock_->MonotonicMillis();
  stop_ = false;
  prober_ = std::thread([this] { Probe(); });
  consumer_ = std::thread([this] { Loop(); });
  return common::Status::Ok();
}

void Replica::Stop() {
  stop_ = true;
  if (prober_.joinable()) prober_.join();
  if (consumer_.joinable()) {
    consumer_.join();
    common::Status s = Snapshot();
    if (!s.ok()) logger_->Warn("validator could not write its snapshot", {{"error", s.message()}});
  }
  reader_.reset();
}

common::Status Replica::Snapshot() {
  if (options_.snapshot_path.empty() || table_.load() == nullptr) return common::Status::Ok();
  SecretIndex::Positions positions;
  for (const auto& [p, guard] : guards_) positions[p] = guard.position();
  return index_.SaveSnapshot(options_.snapshot_path, positions, options_.files);
}

void Replica::LogRateLimited(std::int64_t* last, const char* what, const common::Status& error) {
  std::int64_t now = clock_->MonotonicMillis();
  if (*last != 0 && now - *last < kLogEveryMs) return;
  *last = now;
  logger_->Warn(what, {{"error", error.message()}});
}

common::Status Replica::Grow(std::int32_t count) {
  const PartitionTable* old = table_.load(std::memory_order_acquire);
  auto table = std::make_unique<PartitionTable>(count);
  std::map<std::int32_t, std::int64_t> added;
  for (std::int32_t p = 0; p < count; ++p) {
    if (old != nullptr && p < old->count) {
      table->read_to[p] = old->read_to[p].load();
      table->confirmed_micros[p] = old->confirmed_micros[p].load();
      table->log_end[p] = old->log_end[p].load();
      table->halted[p] = old->halted[p].load();
      table->applied[p] = old->applied[p].load();
      continue;
    }
    auto [it, fresh] = guards_.emplace(p, events::PartitionGuard(p, count));
    const events::PartitionPosition& pos = it->second.position();
    table->read_to[p] = pos.next_offset;
    table->applied[p] = pos.next_offset;
    table->halted[p] = pos.halt.has_value();
    added[p] = pos.next_offset;
  }
  for (auto& [p, guard] : guards_) guard.set_partition_count(count);
  if (reader_ && !added.empty()) KL_RETURN_IF_ERROR(reader_->AddPartitions(added));
  {
    common::MutexLock lock(&mu_);
    for (const auto& [p, guard] : guards_) halts_[p] = guard.position().halt;
    table_.store(table.get(), std::memory_order_release);
    tables_.push_back(std::move(table));
  }
  if (old != nullptr) logger_->Info("validator reads new partitions", {{"partitions", count}});
  return common::Status::Ok();
}

void Replica::ApplyRecords(const std::vector<storage::LogRecord>& records) {
  const PartitionTable* table = table_.load(std::memory_order_acquire);
  std::uint64_t applied = 0, halts = 0, skips = 0;
  bool revoked = false;
  std::vector<std::int32_t> reread;  // re-positioned by a skip: their later records in this batch are dropped
  for (const storage::LogRecord& r : records) {
    if (std::find(reread.begin(), reread.end(), r.partition) != reread.end()) continue;
    auto it = guards_.find(r.partition);
    if (it == guards_.end()) continue;
    events::PartitionGuard& guard = it->second;
    events::PartitionGuard::Step step = guard.Next(r.offset, r.value);
    switch (step.verdict) {
      case events::PartitionGuard::Verdict::kApply:
        index_.Apply(step.event);
        guard.Applied(r.offset, r.value);
        ++applied;
        revoked = revoked || step.event.revokes_secret();
        break;
      case events::PartitionGuard::Verdict::kHalted:
        if (step.newly_halted) {
          ++halts;
          table->halted[r.partition] = true;
          logger_->Error("validator halted a partition on a record it cannot apply",
                         {{"partition", r.partition}, {"offset", r.offset}, {"reason", step.why}});
        }
        break;
      case events::PartitionGuard::Verdict::kSkipHonoured: {
        ++skips;
        const auto& skip = std::get<events::RecordSkipped>(step.event.payload);
        logger_->Warn("validator passes over a record an operator skipped",
                      {{"partition", r.partition}, {"offset", skip.offset}, {"operator", step.event.actor.user_id},
                       {"note", skip.note}});
        table->halted[r.partition] = false;
        reread.push_back(r.partition);
        if (common::Status s = reader_->Seek(r.partition, step.reread_from); !s.ok()) {
          logger_->Warn("validator cannot seek; it reopens its reader", {{"error", s.message()}});
          reader_.reset();  // recreated from the guards' positions
        }
        break;
      }
      case events::PartitionGuard::Verdict::kIgnored:
        guard.Passed(r.offset);
        if (!step.why.empty()) {
          logger_->Warn("validator ignores a skip record", {{"partition", r.partition}, {"offset", r.offset},
                                                            {"why", step.why}});
        }
        break;
    }
    if (!reader_) break;
  }
  // The index has these events now: say so (heartbeats read `applied` after this).
  for (const auto& [p, guard] : guards_) {
    if (p < table->count) table->applied[p].store(guard.position().next_offset, std::memory_order_release);
  }
  if (revoked && on_revocation_) on_revocation_();
  common::MutexLock lock(&mu_);
  stats_.events_applied += applied;
  stats_.halts += halts;
  stats_.skips_honoured += skips;
  if (halts > 0 || skips > 0) {
    for (const auto& [p, guard] : guards_) halts_[p] = guard.position().halt;
  }
}

void Replica::Loop() {
  std::int64_t last_warning = 0;
  while (!stop_) {
    const std::int32_t count = topic_partitions_.load();
    if (count == 0) {
      clock_->SleepForMillis(50);
      continue;
    }
    const PartitionTable* table = table_.load(std::memory_order_acquire);
    if (table == nullptr || count > table->count) {
      if (common::Status s = Grow(count); !s.ok()) {
        LogRateLimited(&last_warning, "validator cannot read the new partitions", s);
        reader_.reset();
      }
      table = table_.load(std::memory_order_acquire);
    }
    if (!reader_) {
      std::map<std::int32_t, std::int64_t> start;
      for (const auto& [p, guard] : guards_) start[p] = guard.position().next_offset;
      auto reader = storage::LogReader::Create(options_.kafka, options_.topic, start);
      if (!reader.ok()) {
        LogRateLimited(&last_warning, "validator cannot open its reader", reader.status());
        clock_->SleepForMillis(200);
        continue;
      }
      reader_ = std::move(*reader);
    }
    auto records = reader_->Poll(50, 5000);
    if (!records.ok()) {
      {
        common::MutexLock lock(&mu_);
        ++stats_.poll_errors;
      }
      LogRateLimited(&last_warning, "validator cannot read the log", records.status());
      clock_->SleepForMillis(50);
      continue;
    }
    ApplyRecords(*records);
    if (!reader_) continue;
    for (const auto& [p, guard] : guards_) {
      if (p < table->count) table->read_to[p] = std::max(reader_->Position(p), guard.position().next_offset);
    }
    if (reader_->AtEnd() && !checks_ready_.load()) {
      {
        common::MutexLock lock(&mu_);
        caught_up_ = true;
      }
      checks_ready_.store(true, std::memory_order_release);
      logger_->Info("validator read the log to its end", {{"keys", static_cast<std::uint64_t>(index_.size())}});
    }
    std::int64_t now = clock_->MonotonicMillis();
    if (options_.snapshot_interval_ms > 0 && now - last_snapshot_ms_ >= options_.snapshot_interval_ms) {
      common::Status s = Snapshot();
      if (!s.ok()) logger_->Warn("validator could not write its snapshot", {{"error", s.message()}});
      last_snapshot_ms_ = now;
    }
  }
}

void Replica::Probe() {
  std::unique_ptr<storage::OffsetProbe> probe;
  std::int64_t last_metadata = 0, last_warning = 0;
  // Per partition: (last stable offset, when it was asked), oldest first, not yet reached.
  std::map<std::int32_t, std::deque<std::pair<std::int64_t, std::int64_t>>> pending;
  const int timeout_ms = std::clamp(options_.max_staleness_ms / 2, 100, 2000);
  auto count_error = [&](const char* what, const common::Status& s) {
    {
      common::MutexLock lock(&mu_);
      ++stats_.probe_errors;
    }
    LogRateLimited(&last_warning, what, s);
  };
  while (!stop_) {
    const std::int64_t asked = clock_->MonotonicMicros();
    if (!probe) {
      auto created = storage::OffsetProbe::Create(options_.kafka, options_.topic);
      if (!created.ok()) {
        count_error("validator cannot reach the brokers", created.status());
        clock_->SleepForMillis(options_.probe_interval_ms);
        continue;
      }
      probe = std::move(*created);
    }
    if (topic_partitions_.load() == 0 || asked / 1000 - last_metadata >= options_.metadata_interval_ms) {
      auto count = probe->PartitionCount(timeout_ms);
      if (count.ok() && *count > 0) {
        last_metadata = asked / 1000;
        if (*count > topic_partitions_.load()) topic_partitions_.store(*count);
        common::MutexLock lock(&mu_);
        stats_.waiting_for.clear();
      } else if (!count.ok() && count.status().code() == common::StatusCode::kNotFound) {
        common::MutexLock lock(&mu_);
        stats_.waiting_for = "the topic " + options_.topic + " does not exist yet";
      } else if (!count.ok()) {
        count_error("validator cannot read the topic's metadata", count.status());
      }
    }
    const PartitionTable* table = table_.load(std::memory_order_acquire);
    if (table != nullptr) {
      std::vector<std::int32_t> partitions(static_cast<size_t>(table->count));
      for (std::int32_t p = 0; p < table->count; ++p) partitions[static_cast<size_t>(p)] = p;
      auto ends = probe->LastStableOffsets(partitions, timeout_ms);
      if (ends.ok()) {
        for (const auto& [p, end] : *ends) {
          if (p >= table->count) continue;
          table->log_end[p] = end;
          auto& queue = pending[p];
          queue.emplace_back(end, asked);
          if (queue.size() > 256) queue.pop_front();  // a reader far behind confirms nothing anyway
        }
      } else {
        count_error("validator cannot ask the brokers how far the log goes", ends.status());
      }
      // A partition is confirmed as of the latest question whose answer the reader has reached.
      std::int64_t worst = INT64_MAX;
      for (std::int32_t p = 0; p < table->count; ++p) {
        auto& queue = pending[p];
        const std::int64_t read_to = table->read_to[p].load();
        std::int64_t confirmed = table->confirmed_micros[p].load();
        while (!queue.empty() && queue.front().first <= read_to) {
          confirmed = std::max(confirmed, queue.front().second);
          queue.pop_front();
        }
        table->confirmed_micros[p] = confirmed;
        worst = std::min(worst, confirmed);
      }
      worst_confirmed_micros_ = worst;
    }
    clock_->SleepForMicros(asked + options_.probe_interval_ms * 1000ll - clock_->MonotonicMicros());
  }
}

std::int64_t Replica::StalenessMs(const PartitionTable& table, std::int32_t partition, std::int64_t now) const {
  std::int64_t confirmed = table.confirmed_micros[partition].load(std::memory_order_relaxed);
  return confirmed == PartitionTable::kNeverConfirmed ? -1 : (now - confirmed) / 1000;
}

Decision Replica::Check(const CheckRequest& request) const {
  const std::int64_t wall = clock_->NowMicros();
  Decision d = index_.Check(request, wall);
  const std::int64_t now = clock_->MonotonicMicros();
  const PartitionTable* table = table_.load(std::memory_order_acquire);
  if (!d.allowed) {
    std::int64_t worst = worst_confirmed_micros_.load(std::memory_order_relaxed);
    d.staleness_ms = worst == PartitionTable::kNeverConfirmed ? -1 : (now - worst) / 1000;
    if (usage_ != nullptr && !d.key_id.empty() && checks_ready_.load(std::memory_order_relaxed)) {
      usage_->Record(d.key_bytes, d.team_id, wall, false, request.model, request.source_vpc);
    }
    return d;
  }
  auto refuse = [&d](DenyReason reason) {
    d.allowed = false;
    d.reason = reason;
    return d;
  };
  if (table == nullptr || !checks_ready_.load(std::memory_order_acquire)) return refuse(DenyReason::kNotReady);
  std::int32_t p = events::PartitionForTeam(d.team_id, table->count);
  d.staleness_ms = StalenessMs(*table, p, now);
  if (table->halted[p].load(std::memory_order_acquire)) return refuse(DenyReason::kPartitionHalted);
  if ((d.staleness_ms < 0 || d.staleness_ms > options_.max_staleness_ms) && !options_.allow_when_stale) {
    return refuse(DenyReason::kStale);
  }
  if (usage_ != nullptr) usage_->Record(d.key_bytes, d.team_id, wall, true, request.model, request.source_vpc);
  return d;
}

bool Replica::Ready(std::string* why) const {
  ReplicaStats s = stats();
  if (!s.waiting_for.empty()) {
    *why = s.waiting_for;
    return false;
  }
  {
    common::MutexLock lock(&mu_);
    if (!caught_up_) {
      *why = "still reading the log";
      return false;
    }
  }
  // A halted partition does not make the replica unready: its keys are refused
  // (partition_halted) and /readyz lists it, while every other team's keys are served.
  for (const PartitionStatus& p : s.partitions) {
    if (p.staleness_ms < 0 || p.staleness_ms > options_.max_staleness_ms) {
      *why = "partition " + std::to_string(p.partition) +
             (p.staleness_ms < 0 ? " was never confirmed with the brokers"
                                 : " was last confirmed with the brokers " + std::to_string(p.staleness_ms) +
                                       " ms ago (more than --max-staleness " + std::to_string(options_.max_staleness_ms) +
                                       " ms)");
      return false;
    }
  }
  return true;
}

ReplicaHeartbeat Replica::Heartbeat(const std::string& replica_id) const {
  ReplicaHeartbeat h;
  h.replica_id = replica_id;
  h.at_ms = clock_->NowMicros() / 1000;
  std::string why;
  h.ready = Ready(&why);
  h.max_staleness_ms = options_.max_staleness_ms;
  const std::int64_t now = clock_->MonotonicMicros();
  if (const PartitionTable* table = table_.load(std::memory_order_acquire)) {
    for (std::int32_t p = 0; p < table->count; ++p) {
      h.partitions.push_back({p, table->applied[p].load(std::memory_order_acquire), StalenessMs(*table, p, now),
                              table->halted[p].load()});
    }
  }
  return h;
}

ReplicaStats Replica::stats() const {
  const std::int64_t now = clock_->MonotonicMicros();
  common::MutexLock lock(&mu_);
  ReplicaStats s = stats_;
  const PartitionTable* table = table_.load(std::memory_order_acquire);
  if (table != nullptr) {
    for (std::int32_t p = 0; p < table->count; ++p) {
      PartitionStatus status;
      status.partition = p;
      status.read_to = table->read_to[p].load();
      status.applied = table->applied[p].load();
      status.log_end = table->log_end[p].load();
      status.staleness_ms = StalenessMs(*table, p, now);
      if (auto it = halts_.find(p); it != halts_.end()) status.halt = it->second;
      s.partitions.push_back(std::move(status));
    }
  }
  return s;
}

}  // namespace keyledger::validator
