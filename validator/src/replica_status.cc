#include "keyledger/validator/replica_status.h"

#include <boost/json.hpp>

#include <algorithm>

namespace keyledger::validator {

namespace json = boost::json;

namespace {

constexpr size_t kProgressKept = 4096;  // per replica and partition: applied offsets seen growing

common::Status Bad(const std::string& what) { return common::DataLoss("replica heartbeat: " + what); }

}  // namespace

std::string EncodeHeartbeat(const ReplicaHeartbeat& h) {
  json::array partitions;
  for (const auto& p : h.partitions) {
    partitions.push_back(json::object{{"p", p.partition}, {"applied", p.applied}, {"staleness_ms", p.staleness_ms},
                                      {"halted", p.halted}});
  }
  return json::serialize(json::object{{"replica_id", h.replica_id},
                                      {"at_ms", h.at_ms},
                                      {"ready", h.ready},
                                      {"max_staleness_ms", h.max_staleness_ms},
                                      {"partitions", std::move(partitions)}});
}

common::Result<ReplicaHeartbeat> DecodeHeartbeat(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return Bad("not a JSON object");
  const json::object& o = v.as_object();
  ReplicaHeartbeat h;
  const json::value* id = o.if_contains("replica_id");
  const json::value* at = o.if_contains("at_ms");
  const json::value* ready = o.if_contains("ready");
  const json::value* max = o.if_contains("max_staleness_ms");
  const json::value* parts = o.if_contains("partitions");
  if (id == nullptr || !id->is_string() || id->as_string().empty() || id->as_string().size() > 256) {
    return Bad("replica_id must be a string of 1 to 256 characters");
  }
  if (at == nullptr || !at->is_int64()) return Bad("at_ms must be an integer");
  if (ready == nullptr || !ready->is_bool()) return Bad("ready must be true or false");
  if (max == nullptr || !max->is_int64()) return Bad("max_staleness_ms must be an integer");
  if (parts == nullptr || !parts->is_array() || parts->as_array().size() > 100000) return Bad("partitions must be an array");
  h.replica_id = std::string(id->as_string());
  h.at_ms = at->as_int64();
  h.ready = ready->as_bool();
  h.max_staleness_ms = max->as_int64();
  for (const json::value& pv : parts->as_array()) {
    if (!pv.is_object()) return Bad("each partition must be an object");
    const json::object& po = pv.as_object();
    const json::value* p = po.if_contains("p");
    const json::value* applied = po.if_contains("applied");
    const json::value* staleness = po.if_contains("staleness_ms");
    const json::value* halted = po.if_contains("halted");
    if (p == nullptr || !p->is_int64() || p->as_int64() < 0 || p->as_int64() > INT32_MAX || applied == nullptr ||
        !applied->is_int64() || applied->as_int64() < 0 || staleness == nullptr || !staleness->is_int64() ||
        halted == nullptr || !halted->is_bool()) {
      return Bad("a partition needs p, applied (integers >= 0), staleness_ms and halted");
    }
    h.partitions.push_back({static_cast<std::int32_t>(p->as_int64()), applied->as_int64(), staleness->as_int64(),
                            halted->as_bool()});
  }
  return h;
}

size_t Receipt::applied() const {
  return static_cast<size_t>(
      std::count_if(replicas.begin(), replicas.end(), [](const Replica& r) { return r.state == State::kApplied; }));
}

std::string_view ReceiptStateName(Receipt::State state) {
  switch (state) {
    case Receipt::State::kApplied: return "applied";
    case Receipt::State::kBehind: return "behind";
    case Receipt::State::kSilent: return "silent";
  }
  return "behind";
}

HeartbeatPublisher::HeartbeatPublisher(HeartbeatOptions options, std::function<ReplicaHeartbeat()> heartbeat,
                                       common::Logger* logger, const common::Clock* clock)
    : options_(std::move(options)), heartbeat_(std::move(heartbeat)), logger_(logger), clock_(clock) {}

HeartbeatPublisher::~HeartbeatPublisher() { Stop(); }

void HeartbeatPublisher::Start() {
  {
    common::MutexLock lock(&mu_);
    stop_ = false;
  }
  thread_ = std::thread([this] { Loop(); });
}

void HeartbeatPublisher::Stop() {
  {
    common::MutexLock lock(&mu_);
    stop_ = true;
  }
  poked_.SignalAll();
  if (thread_.joinable()) thread_.join();
}

void HeartbeatPublisher::Poke() {
  {
    common::MutexLock lock(&mu_);
    poke_ = true;
  }
  poked_.Signal();
}

void HeartbeatPublisher::Loop() {
  std::unique_ptr<storage::RecordProducer> producer;
  std::int64_t last_warning = 0;
  std::uint64_t failed_seen = 0, produce_errors = 0;
  std::int64_t next = clock_->MonotonicMicros();
  while (true) {
    {
      common::MutexLock lock(&mu_);
      while (!stop_ && !poke_) {
        const std::int64_t left = next - clock_->MonotonicMicros();
        if (left <= 0) break;
        poked_.WaitFor(&mu_, std::chrono::microseconds(left));
      }
      if (stop_) break;
      poke_ = false;
    }
    next = clock_->MonotonicMicros() + static_cast<std::int64_t>(options_.interval_ms) * 1000;
    if (!producer) {
      // Heartbeats go stale fast: one that cannot be delivered within the interval is dropped.
      auto created = storage::RecordProducer::Create(options_.kafka, "keyledger-validator-status",
                                                     std::max(options_.interval_ms * 2, 1000));
      if (!created.ok()) continue;
      producer = std::move(*created);
    }
    common::Status s = producer->Produce(options_.topic, 0, options_.replica_id, EncodeHeartbeat(heartbeat_()));
    producer->Poll(0);
    if (s.ok()) {
      published_.fetch_add(1);
    } else {
      ++produce_errors;
    }
    const std::uint64_t failed = producer->failed() + produce_errors;
    if (failed > failed_seen) {
      failed_.fetch_add(failed - failed_seen);
      failed_seen = failed;
      const std::int64_t now = clock_->MonotonicMillis();
      if (now - last_warning > 10000) {
        logger_->Warn("validator cannot publish its heartbeat",
                      {{"error", s.ok() ? producer->last_error() : s.message()}, {"topic", options_.topic}});
        last_warning = now;
      }
    }
    clock_->SleepForMicros(5000);  // pokes closer together than this are one heartbeat
  }
}

ReplicaBoard::ReplicaBoard(ReplicaBoardOptions options, common::Logger* logger, const common::Clock* clock)
    : options_(std::move(options)), logger_(logger), clock_(clock) {}

ReplicaBoard::~ReplicaBoard() { Stop(); }

common::Status ReplicaBoard::Start() {
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
  return common::Status::Ok();
}

void ReplicaBoard::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void ReplicaBoard::Receive(const ReplicaHeartbeat& heartbeat) {
  received_.fetch_add(1);
  {
    common::MutexLock lock(&mu_);
    Known& known = replicas_[heartbeat.replica_id];
    for (const auto& p : heartbeat.partitions) {
      auto& progress = known.progress[p.partition];
      if (progress.empty() || p.applied > progress.back().first) progress.emplace_back(p.applied, heartbeat.at_ms);
      if (progress.size() > kProgressKept) progress.pop_front();
    }
    known.last = heartbeat;
    known.heard_micros = clock_->MonotonicMicros();
    // Read back from the compacted topic at start: a replica whose own clock says this heartbeat
    // is older than forget_after_ms is gone, not just heard. (Younger ones count as heard now,
    // which at worst shows a dead replica as behind for silent_after_ms; no clock skew below 10
    // minutes can make a live replica look silent.)
    const std::int64_t age_ms = clock_->NowMicros() / 1000 - heartbeat.at_ms;
    if (age_ms > options_.forget_after_ms) known.heard_micros -= age_ms * 1000;
  }
  changed_.SignalAll();
}

Receipt ReplicaBoard::ReceiptLocked(std::int32_t partition, std::int64_t offset, std::int64_t event_at_ms) const {
  Receipt receipt;
  receipt.partition = partition;
  receipt.offset = offset;
  const std::int64_t now = clock_->MonotonicMicros();
  for (const auto& [id, known] : replicas_) {
    const std::int64_t heard_ms_ago = (now - known.heard_micros) / 1000;
    if (heard_ms_ago > options_.forget_after_ms) continue;
    Receipt::Replica r;
    r.replica_id = id;
    r.heard_ms_ago = heard_ms_ago;
    for (const auto& p : known.last.partitions) {
      if (p.partition == partition) r.applied = p.applied;
    }
    if (r.applied > offset) {
      r.state = Receipt::State::kApplied;
      // The first heartbeat we kept that says so: how long after the event the replica had it.
      if (auto it = known.progress.find(partition); it != known.progress.end()) {
        for (const auto& [applied, at_ms] : it->second) {
          if (applied > offset) {
            if (it->second.front().first <= offset) r.took_ms = std::max<std::int64_t>(0, at_ms - event_at_ms);
            break;
          }
        }
      }
    } else {
      r.state = heard_ms_ago > options_.silent_after_ms ? Receipt::State::kSilent : Receipt::State::kBehind;
    }
    receipt.replicas.push_back(std::move(r));
  }
  return receipt;
}

Receipt ReplicaBoard::ReceiptFor(std::int32_t partition, std::int64_t offset, std::int64_t event_at_ms) const {
  common::MutexLock lock(&mu_);
  return ReceiptLocked(partition, offset, event_at_ms);
}

Receipt ReplicaBoard::WaitForReceipt(std::int32_t partition, std::int64_t offset, std::int64_t event_at_ms,
                                     int timeout_ms) {
  const std::int64_t deadline = clock_->MonotonicMicros() + static_cast<std::int64_t>(timeout_ms) * 1000;
  common::MutexLock lock(&mu_);
  while (true) {
    Receipt receipt = ReceiptLocked(partition, offset, event_at_ms);
    const std::int64_t left = deadline - clock_->MonotonicMicros();
    // No replica on the board: nothing to wait for (and no receipt to claim: 0 of 0 is not complete).
    if (receipt.complete() || receipt.replicas.empty() || left <= 0) return receipt;
    // Also wake up now and then so that heard_ms_ago and silent stay true in what is returned.
    changed_.WaitFor(&mu_, std::chrono::microseconds(std::min<std::int64_t>(left, 250'000)));
  }
}

std::vector<ReplicaBoard::ReplicaView> ReplicaBoard::Replicas() const {
  common::MutexLock lock(&mu_);
  std::vector<ReplicaView> out;
  const std::int64_t now = clock_->MonotonicMicros();
  for (const auto& [id, known] : replicas_) {
    const std::int64_t ago = (now - known.heard_micros) / 1000;
    if (ago > options_.forget_after_ms) continue;
    out.push_back({known.last, ago, ago > options_.silent_after_ms});
  }
  return out;
}

void ReplicaBoard::Loop() {
  std::unique_ptr<storage::LogReader> reader;
  std::int64_t last_warning = 0;
  std::int64_t next_offset = 0;
  while (!stop_) {
    if (!reader) {
      auto created = storage::LogReader::Create(options_.kafka, options_.topic, {{0, next_offset}});
      if (!created.ok()) {
        clock_->SleepForMillis(500);
        continue;
      }
      reader = std::move(*created);
    }
    auto records = reader->Poll(100, 1000);
    if (!records.ok()) {
      const std::int64_t now = clock_->MonotonicMillis();
      if (now - last_warning > 10000) {
        logger_->Warn("cannot read the replica status topic", {{"error", records.status().message()}});
        last_warning = now;
      }
      reader.reset();
      clock_->SleepForMillis(500);
      continue;
    }
    for (const storage::LogRecord& r : *records) {
      next_offset = r.offset + 1;
      auto heartbeat = DecodeHeartbeat(r.value);
      if (heartbeat.ok()) Receive(*heartbeat);
    }
  }
}

}  // namespace keyledger::validator
