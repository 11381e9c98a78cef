#include "keyledger/validator/usage.h"

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

UsageRecorder::UsageRecorder(size_t max_entries) : max_entries_(max_entries) {}

void UsageRecorder::Record(const std::array<std::uint8_t, 16>& key_id, std::string_view team_id, std::int64_t now_micros,
                           bool allowed, std::string_view model, std::string_view source_vpc) {
  Key key{key_id, MinuteOf(now_micros)};
  const size_t h = KeyHash{}(key);
  Shard& shard = shards_[(h >> 7) % kShards];
  common::MutexLock lock(&shard.mu);
  auto it = shard.entries.find(key);
  if (it == shard.entries.end()) {
    if (entries_.load(std::memory_order_relaxed) >= max_entries_) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    it = shard.entries.emplace(key, Entry{}).first;
    it->second.team_id = team_id;
    entries_.fetch_add(1, std::memory_order_relaxed);
  }
  Entry& e = it->second;
  if (allowed) {
    ++e.allowed;
    if (e.last_model != model) e.last_model = model;
    if (e.last_source_vpc != source_vpc) e.last_source_vpc = source_vpc;
  } else {
    ++e.denied;
  }
  e.dirty = true;
}

std::vector<events::UsageRecord> UsageRecorder::Collect(const std::string& replica_id, std::int64_t now_micros) {
  const std::int64_t keep_from = MinuteOf(now_micros) - 1;
  std::vector<events::UsageRecord> out;
  for (Shard& shard : shards_) {
    common::MutexLock lock(&shard.mu);
    for (auto it = shard.entries.begin(); it != shard.entries.end();) {
      Entry& e = it->second;
      if (e.dirty) {
        out.push_back(events::UsageRecord{replica_id, UuidText(it->first.key_id), e.team_id, it->first.minute, e.allowed,
                                          e.denied, e.last_model, e.last_source_vpc});
        e.dirty = false;
      }
      // A minute over for a while is sent for the last time above; checks recorded for it after
      // this (a clock step back) start a new entry.
      if (it->first.minute < keep_from) {
        it = shard.entries.erase(it);
        entries_.fetch_sub(1, std::memory_order_relaxed);
      } else {
        ++it;
      }
    }
  }
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
  while (true) {
    {
      common::MutexLock lock(&mu_);
      const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.flush_interval_ms);
      while (!stop_ && std::chrono::steady_clock::now() < until) {
        wake_.WaitFor(&mu_, std::chrono::duration_cast<std::chrono::microseconds>(until - std::chrono::steady_clock::now()));
      }
      if (stop_) return;
    }
    Flush();
  }
}

}  // namespace keyledger::validator
