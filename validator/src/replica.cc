#include "keyledger/validator/replica.h"


#include "keyledger/events/codec.h"

namespace keyledger::validator {

Replica::Replica(ReplicaOptions options, const events::Catalog* catalog, common::Logger* logger,
                 const common::Clock* clock)
    : options_(std::move(options)), logger_(logger), clock_(clock), index_(catalog) {
  if (options_.files == nullptr) options_.files = common::DefaultFileSystem();
}

Replica::~Replica() { Stop(); }

common::Status Replica::Start() {
  KL_ASSIGN_OR_RETURN(std::int32_t partitions, storage::PartitionCount(options_.kafka, options_.topic, 10000));
  std::map<std::int32_t, std::int64_t> start;
  for (std::int32_t p = 0; p < partitions; ++p) start[p] = 0;
  if (!options_.snapshot_path.empty()) {
    std::map<std::int32_t, std::int64_t> offsets;
    common::Status loaded = index_.LoadSnapshot(options_.snapshot_path, &offsets, options_.files);
    if (loaded.ok()) {
      for (const auto& [p, o] : offsets) start[p] = o;
      common::MutexLock lock(&mu_);
      stats_.loaded_snapshot = true;
      logger_->Info("validator loaded its snapshot", {{"keys", index_.size()}, {"path", options_.snapshot_path}});
    } else if (loaded.code() != common::StatusCode::kNotFound) {
      // A damaged snapshot is not trusted: rebuild from the beginning of the log.
      logger_->Warn("validator snapshot ignored", {{"error", loaded.message()}});
    }
  }
  partition_count_ = partitions;
  positions_ = start;
  KL_ASSIGN_OR_RETURN(reader_, storage::LogReader::Create(options_.kafka, options_.topic, start));
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
  return common::Status::Ok();
}

void Replica::Stop() {
  stop_ = true;
  if (thread_.joinable()) {
    thread_.join();
    common::Status s = Snapshot();
    if (!s.ok()) logger_->Warn("validator could not write its snapshot", {{"error", s.message()}});
  }
  reader_.reset();
}

common::Status Replica::Snapshot() {
  if (options_.snapshot_path.empty()) return common::Status::Ok();
  return index_.SaveSnapshot(options_.snapshot_path, positions_, options_.files);
}

void Replica::Loop() {
  std::int64_t last_lag = 0;
  std::int64_t last_snapshot = clock_->MonotonicMillis();
  std::set<std::int32_t> halted;
  while (!stop_) {
    auto records = reader_->Poll(50, 5000);
    if (records.ok()) {
      std::uint64_t applied = 0, bad = 0;
      for (const auto& r : *records) {
        if (halted.count(r.partition)) continue;
        auto event = events::Decode(r.value);
        if (!event.ok()) {
          halted.insert(r.partition);
          ++bad;
          logger_->Error("validator halted a partition on an undecodable event",
                         {{"partition", r.partition}, {"offset", r.offset}, {"error", event.status().message()}});
          continue;
        }
        index_.Apply(*event);
        positions_[r.partition] = r.offset + 1;
        ++applied;
      }
      common::MutexLock lock(&mu_);
      stats_.events_applied += applied;
      stats_.undecodable_events += bad;
      stats_.halted_partitions = halted;
      std::uint64_t mask = 0;
      bool beyond = false;
      for (std::int32_t p : halted) {
        if (p < 64) mask |= std::uint64_t{1} << p;
        else beyond = true;
      }
      halted_mask_.store(mask, std::memory_order_release);
      halted_beyond_mask_.store(beyond, std::memory_order_release);
      if (reader_->AtEnd()) {
        caught_up_ = true;
        checks_ready_.store(true, std::memory_order_release);
      }
    }
    const std::int64_t now = clock_->MonotonicMillis();
    if (now - last_lag >= 1000) {
      std::map<std::int32_t, std::int64_t> lag;
      // Cached watermarks (from fetch responses): a broker round trip here would stall the
      // consumer loop and delay revocations.
      for (const auto& [p, pos] : positions_) {
        std::int64_t high = reader_->CachedHighWatermark(p);
        // A gap of one is the commit marker after the last read event, not lag.
        std::int64_t behind = high < 0 ? 0 : high - std::max(pos, reader_->Position(p));
        lag[p] = behind <= 1 ? 0 : behind;
      }
      common::MutexLock lock(&mu_);
      stats_.lag = std::move(lag);
      last_lag = now;
    }
    if (options_.snapshot_interval_ms > 0 &&
        now - last_snapshot >= options_.snapshot_interval_ms) {
      common::Status s = Snapshot();
      if (!s.ok()) logger_->Warn("validator could not write its snapshot", {{"error", s.message()}});
      last_snapshot = now;
    }
  }
}

Decision Replica::Check(const CheckRequest& request) const {
  Decision d = index_.Check(request);
  if (!d.allowed) return d;
  bool vouched = checks_ready_.load(std::memory_order_acquire);
  if (vouched) {
    std::uint64_t mask = halted_mask_.load(std::memory_order_acquire);
    bool beyond = halted_beyond_mask_.load(std::memory_order_acquire);
    if (mask != 0 || beyond) {
      std::int32_t p = storage::PartitionForTeam(d.team_id, partition_count_);
      vouched = p < 64 ? !(mask >> p & 1) : !beyond;
    }
  }
  if (!vouched) {
    d.allowed = false;
    d.reason = DenyReason::kNotReady;
  }
  return d;
}

bool Replica::Ready(std::string* why) const {
  common::MutexLock lock(&mu_);
  if (!stats_.halted_partitions.empty()) {
    *why = "halted on an undecodable event in " + std::to_string(stats_.halted_partitions.size()) + " partition(s)";
    return false;
  }
  if (!caught_up_) {
    *why = "still reading the log";
    return false;
  }
  return true;
}

ReplicaStats Replica::stats() const {
  common::MutexLock lock(&mu_);
  return stats_;
}

}  // namespace keyledger::validator
