#include "keyledger/validator/usage.h"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "keyledger/validator/secret_index.h"

namespace keyledger::validator {

namespace {
constexpr std::int64_t kMicrosPerMinute = 60'000'000;
std::int64_t MinuteOf(std::int64_t micros) { return micros < 0 ? 0 : micros / kMicrosPerMinute; }
}  // namespace

size_t UsageRecorder::KeyHash::operator()(const Key& k) const {
  std::uint64_t a, b;
  std::memcpy(&a, k.key_id.data(), 8);
  std::memcpy(&b, k.key_id.data() + 8, 8);
  std::uint64_t h = a ^ (b * 0x9E3779B97F4A7C15ull) ^ (static_cast<std::uint64_t>(k.minute) * 0xC2B2AE3D27D4EB4Full);
  return static_cast<size_t>(h ^ (h >> 31));
}

UsageRecorder::UsageRecorder(size_t max_entries, size_t max_buffered)
    : max_entries_(max_entries), max_buffered_(max_buffered) {}

void UsageRecorder::Record(const std::array<std::uint8_t, 16>& key_id, std::string_view team_id, std::int64_t now_micros,
                           bool allowed, std::string_view model, std::string_view source_vpc) {
  // Each thread keeps to one buffer: its lock is taken by Fold once a second, and otherwise by
  // this thread alone (unless more than kBuffers threads check).
  static std::atomic<unsigned> next_buffer{0};
  thread_local const unsigned mine = next_buffer.fetch_add(1, std::memory_order_relaxed);
  Buffer& buffer = buffers_[mine % kBuffers];
  common::MutexLock lock(&buffer.mu);
  if (buffer.checks.size() + buffer.long_checks.size() >= max_buffered_) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (!allowed) {
    model = {};
    source_vpc = {};
  }
  if (team_id.size() + model.size() + source_vpc.size() > kTextBytes) {
    buffer.long_checks.push_back(
        {key_id, now_micros, allowed, std::string(team_id), std::string(model), std::string(source_vpc)});
    return;
  }
  Buffered& b = buffer.checks.emplace_back();
  b.key_id = key_id;
  b.micros = now_micros;
  b.allowed = allowed;
  b.team_size = static_cast<std::uint8_t>(team_id.size());
  b.model_size = static_cast<std::uint8_t>(model.size());
  b.vpc_size = static_cast<std::uint8_t>(source_vpc.size());
  // std::copy, not memcpy: an empty view (a denied check's model and VPC) may have a null data().
  char* at = std::copy(team_id.begin(), team_id.end(), b.text);
  at = std::copy(model.begin(), model.end(), at);
  std::copy(source_vpc.begin(), source_vpc.end(), at);
}

void UsageRecorder::Apply(const std::array<std::uint8_t, 16>& key_id, std::int64_t micros, bool allowed,
                          std::string_view team, std::string_view model, std::string_view vpc) {
  Key key{key_id, MinuteOf(micros)};
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    if (entries_.size() >= max_entries_) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    it = entries_.emplace(key, Entry{}).first;
    it->second.team_id = team;
  }
  Entry& e = it->second;
  if (allowed) {
    ++e.allowed;
    if (e.last_model != model) e.last_model = model;
    if (e.last_source_vpc != vpc) e.last_source_vpc = vpc;
  } else {
    ++e.denied;
  }
  e.dirty = true;
}

void UsageRecorder::Fold() {
  common::MutexLock lock(&mu_);
  for (Buffer& buffer : buffers_) {
    std::vector<Buffered> checks;
    std::vector<Long> long_checks;
    {
      common::MutexLock held(&buffer.mu);
      if (buffer.checks.empty() && buffer.long_checks.empty()) continue;
      spare_.clear();
      checks.swap(buffer.checks);
      buffer.checks.swap(spare_);  // the last drained buffer's storage: no allocation on the check path
      long_checks.swap(buffer.long_checks);
    }
    for (const Buffered& b : checks) Apply(b.key_id, b.micros, b.allowed, b.team(), b.model(), b.vpc());
    for (const Long& l : long_checks) Apply(l.key_id, l.micros, l.allowed, l.team, l.model, l.vpc);
    spare_ = std::move(checks);
  }
  entry_count_.store(entries_.size(), std::memory_order_relaxed);
}

std::vector<events::UsageRecord> UsageRecorder::Collect(const std::string& replica_id, std::int64_t now_micros) {
  Fold();
  common::MutexLock lock(&mu_);
  const std::int64_t keep_from = MinuteOf(now_micros) - 1;
  std::vector<events::UsageRecord> out;
  for (auto it = entries_.begin(); it != entries_.end();) {
    Entry& e = it->second;
    if (e.dirty) {
      out.push_back(events::UsageRecord{replica_id, UuidText(it->first.key_id), e.team_id, it->first.minute, e.allowed,
                                        e.denied, e.last_model, e.last_source_vpc});
      e.dirty = false;
    }
    // A minute over for a while is sent for the last time above; checks recorded for it after
    // this (a clock step back) start a new entry.
    it = it->first.minute < keep_from ? entries_.erase(it) : std::next(it);
  }
  entry_count_.store(entries_.size(), std::memory_order_relaxed);
  return out;
}

UsagePublisher::UsagePublisher(UsagePublisherOptions options, UsageRecorder* recorder, common::Logger* logger,
                               const common::Clock* clock)
    : options_(std::move(options)), recorder_(recorder), logger_(logger), clock_(clock) {}

UsagePublisher::~UsagePublisher() { Stop(); }

common::Status UsagePublisher::Start() {
  KL_ASSIGN_OR_RETURN(producer_, storage::RecordProducer::Create(options_.kafka, "keyledger-validator-usage",
                                                                 options_.message_timeout_ms, options_.max_backlog));
  thread_ = std::thread([this] { Loop(); });
  return common::Status::Ok();
}

void UsagePublisher::Stop() {
  {
    common::MutexLock lock(&mu_);
    if (stop_) return;
    stop_ = true;
    wake_.SignalAll();
  }
  if (thread_.joinable()) thread_.join();
  if (!producer_) return;
  Flush();
  // Give what is queued a moment to be delivered; what is not is dropped with the producer.
  for (int i = 0; i < 20 && producer_->delivered() + producer_->failed() < sent_.load(); ++i) producer_->Poll(100);
}

std::uint64_t UsagePublisher::delivered() const { return producer_ ? producer_->delivered() : 0; }

std::uint64_t UsagePublisher::dropped() const { return rejected_.load() + (producer_ ? producer_->failed() : 0); }

void UsagePublisher::Flush() {
  common::MutexLock lock(&flush_mu_);
  std::vector<events::UsageRecord> records = recorder_->Collect(options_.replica_id, clock_->NowMicros());
  std::uint64_t rejected = 0;
  for (const events::UsageRecord& r : records) {
    common::Status s =
        producer_->Produce(options_.topic, storage::RecordProducer::kAnyPartition, r.team_id, events::EncodeUsageRecord(r));
    if (s.ok()) {
      sent_.fetch_add(1);
    } else {
      ++rejected;
    }
  }
  producer_->Poll(0);
  if (rejected > 0) {
    rejected_.fetch_add(rejected);
    const std::int64_t now_ms = clock_->MonotonicMicros() / 1000;
    if (now_ms - last_error_log_ms_ > 10000) {
      last_error_log_ms_ = now_ms;
      logger_->Warn("usage backlog full: usage records dropped",
                    {{"dropped", rejected}, {"dropped_total", dropped()}, {"max_backlog", options_.max_backlog}});
    }
  }
}

void UsagePublisher::Loop() {
  // The recorder's buffers are folded every 100 ms (so they stay small), and what changed is sent
  // every flush interval.
  auto next_flush = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.flush_interval_ms);
  while (true) {
    {
      common::MutexLock lock(&mu_);
      const auto until = std::min(next_flush, std::chrono::steady_clock::now() + std::chrono::milliseconds(100));
      while (!stop_ && std::chrono::steady_clock::now() < until) {
        wake_.WaitFor(&mu_, std::chrono::duration_cast<std::chrono::microseconds>(until - std::chrono::steady_clock::now()));
      }
      if (stop_) return;
    }
    if (std::chrono::steady_clock::now() >= next_flush) {
      Flush();
      next_flush = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.flush_interval_ms);
    } else {
      recorder_->Fold();
    }
  }
}

}  // namespace keyledger::validator
