// What validator replicas say about themselves, and how the API turns that into revocation
// receipts ("old secret denied on N of N validators").
//
// Every replica publishes a heartbeat (its id, its wall clock, and per partition the offset up to
// which its index has applied the log, its staleness and whether it is halted) to the replica
// status topic (compacted, keyed by replica id): at least every heartbeat interval and right
// after it applied a regenerate or a delete. The published `applied` is read after the index was
// updated, so a heartbeat never claims more than the replica has applied.
//
// ReplicaBoard (the API side) keeps the latest heartbeat of each replica it has heard from within
// `forget_after_ms`; a replica not heard from for `silent_after_ms` is silent. A receipt for a
// revoking event at (partition, offset) lists every known replica as applied (its heartbeat says
// applied > offset, with how long after the event it first said so), behind, or silent.
//
// Thread: ReplicaBoard is thread-safe; its consumer thread (Start) is its own.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "keyledger/common/clock.h"
#include "keyledger/common/log.h"
#include "keyledger/common/mutex.h"
#include "keyledger/common/status.h"
#include "keyledger/storage/kafka.h"

namespace keyledger::validator {

// The status topic beside a key-event topic: "<topic>.replica-status".
inline std::string StatusTopicFor(const std::string& event_topic) { return event_topic + ".replica-status"; }

struct ReplicaHeartbeat {
  struct Partition {
    std::int32_t partition = 0;
    std::int64_t applied = 0;        // next offset to apply: everything before it is in the index
    std::int64_t staleness_ms = -1;  // -1: never confirmed with the brokers
    bool halted = false;
    friend bool operator==(const Partition&, const Partition&) = default;
  };
  std::string replica_id;
  std::int64_t at_ms = 0;  // the replica's wall clock when it built the heartbeat
  bool ready = false;
  std::int64_t max_staleness_ms = 0;
  std::vector<Partition> partitions;
  friend bool operator==(const ReplicaHeartbeat&, const ReplicaHeartbeat&) = default;
};

// JSON: {"replica_id", "at_ms", "ready", "max_staleness_ms", "partitions": [{"p","applied","staleness_ms","halted"}]}.
std::string EncodeHeartbeat(const ReplicaHeartbeat& heartbeat);
// DataLoss naming the problem for anything else (a record on the status topic from another tool).
common::Result<ReplicaHeartbeat> DecodeHeartbeat(std::string_view json);

struct Receipt {
  enum class State { kApplied, kBehind, kSilent };
  struct Replica {
    std::string replica_id;
    State state = State::kBehind;
    std::int64_t applied = 0;               // its applied offset for the event's partition
    std::optional<std::int64_t> took_ms;    // applied: from the event to its first heartbeat saying so
    std::int64_t heard_ms_ago = 0;
  };
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::vector<Replica> replicas;  // by replica id
  size_t applied() const;
  bool complete() const { return !replicas.empty() && applied() == replicas.size(); }
};
std::string_view ReceiptStateName(Receipt::State state);  // "applied", "behind", "silent"

// The replica's side: publishes `heartbeat()` to the status topic every `interval_ms` and as soon
// as Poke() is called (after a revocation was applied; pokes closer together than 5 ms are one).
// A broker that cannot be reached just makes the replica silent on the board; delivery failures
// are counted and logged (at most every 10 s).
struct HeartbeatOptions {
  storage::KafkaConfig kafka;
  std::string topic;  // StatusTopicFor(the key-event topic)
  std::string replica_id;
  int interval_ms = 1000;
};

class HeartbeatPublisher {
 public:
  HeartbeatPublisher(HeartbeatOptions options, std::function<ReplicaHeartbeat()> heartbeat, common::Logger* logger,
                     const common::Clock* clock);
  ~HeartbeatPublisher();
  void Start();
  void Stop() KL_EXCLUDES(mu_);
  void Poke() KL_EXCLUDES(mu_);
  std::uint64_t published() const { return published_.load(); }
  std::uint64_t failed() const { return failed_.load(); }

 private:
  void Loop() KL_EXCLUDES(mu_);

  HeartbeatOptions options_;
  std::function<ReplicaHeartbeat()> heartbeat_;
  common::Logger* logger_;
  const common::Clock* clock_;
  common::Mutex mu_;
  common::CondVar poked_;
  bool poke_ KL_GUARDED_BY(mu_) = false;
  bool stop_ KL_GUARDED_BY(mu_) = false;
  std::atomic<std::uint64_t> published_{0};
  std::atomic<std::uint64_t> failed_{0};
  std::thread thread_;
};

struct ReplicaBoardOptions {
  storage::KafkaConfig kafka;
  std::string topic;  // StatusTopicFor(the key-event topic)
  int silent_after_ms = 3000;      // three missed heartbeats at the default interval
  int forget_after_ms = 600000;    // a replica gone for 10 minutes is no longer counted
};

class ReplicaBoard {
 public:
  ReplicaBoard(ReplicaBoardOptions options, common::Logger* logger, const common::Clock* clock);
  ~ReplicaBoard();
  ReplicaBoard(const ReplicaBoard&) = delete;
  ReplicaBoard& operator=(const ReplicaBoard&) = delete;

  // Reads the status topic from its start on a thread of its own (it is compacted: the latest
  // heartbeat of every replica). The topic need not exist yet.
  common::Status Start();
  void Stop();

  // A heartbeat as it arrived (the consumer thread calls this; tests may too).
  void Receive(const ReplicaHeartbeat& heartbeat) KL_EXCLUDES(mu_);

  // The receipt now for the revoking event at (partition, offset), which happened at
  // `event_at_ms` (wall clock). Every replica heard from within forget_after_ms is listed.
  Receipt ReceiptFor(std::int32_t partition, std::int64_t offset, std::int64_t event_at_ms) const KL_EXCLUDES(mu_);
  // The receipt once every known replica has applied the event (complete), or at `timeout_ms`.
  // A silent replica is waited for too: it may be cut off and still allowing the old secret, so
  // only its heartbeat saying it applied the event, or its being forgotten, ends the wait early.
  Receipt WaitForReceipt(std::int32_t partition, std::int64_t offset, std::int64_t event_at_ms, int timeout_ms)
      KL_EXCLUDES(mu_);

  struct ReplicaView {
    ReplicaHeartbeat last;
    std::int64_t heard_ms_ago = 0;
    bool silent = false;
  };
  std::vector<ReplicaView> Replicas() const KL_EXCLUDES(mu_);
  std::uint64_t heartbeats_received() const { return received_.load(); }

 private:
  struct Known {
    ReplicaHeartbeat last;
    std::int64_t heard_micros = 0;  // our monotonic clock
    // Per partition: (applied, the replica's at_ms) each time applied grew, oldest first.
    std::map<std::int32_t, std::deque<std::pair<std::int64_t, std::int64_t>>> progress;
  };
  Receipt ReceiptLocked(std::int32_t partition, std::int64_t offset, std::int64_t event_at_ms) const KL_REQUIRES(mu_);
  void Loop();

  ReplicaBoardOptions options_;
  common::Logger* logger_;
  const common::Clock* clock_;
  mutable common::Mutex mu_;
  common::CondVar changed_;
  std::map<std::string, Known> replicas_ KL_GUARDED_BY(mu_);
  std::atomic<std::uint64_t> received_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace keyledger::validator
