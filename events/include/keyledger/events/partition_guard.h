// How every consumer of the log walks one partition: which records it applies, where it halts,
// and how an operator's skip moves it past a bad record. The writer, the projector (and so
// replay), the validators and verify all use this one rule, so they pass a bad record the same
// way, deterministically.
//
// A record is applied when it decodes, belongs to the partition (team -> partition), and chains
// to the partition's head (right after a skip: to the head, or to the skipped record's bytes,
// since the next event may have been chained across a damaged event or around inserted garbage).
// Otherwise the partition halts at it, and nothing more is applied. A consumer that also checks
// the key rules (the writer and the projector) halts with HaltAt when an event does not apply.
//
// A RecordSkipped control event, appended by an operator through the writer, names a partition,
// an offset and the SHA-256 of the record there. It is honoured by a consumer halted at exactly
// that record: the halt clears and the consumer must re-read from the offset after the bad record
// (the records between it and the skip, then the skip again, now ignored). Any other skip is
// ignored. Skips are outside the hash chain: never checked against it, never advancing it.
//
// Thread: one PartitionGuard per partition and consumer thread. Pure: no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "keyledger/common/crypto.h"
#include "keyledger/events/event.h"

namespace keyledger::events {

// The partition a team's events go to: FNV-1a 64 of the team id modulo the partition count.
// Stable across processes, versions and machines (it is part of the log's layout).
std::int32_t PartitionForTeam(std::string_view team_id, std::int32_t partition_count);

struct PartitionHalt {
  std::int64_t offset = 0;
  common::Sha256Digest record_sha256{};  // of the record's bytes
  std::string reason;
  friend bool operator==(const PartitionHalt&, const PartitionHalt&) = default;
};

// What a consumer keeps (and persists, if it persists anything) per partition.
struct PartitionPosition {
  std::int64_t next_offset = 0;  // the next record to look at (halted: the halted record)
  common::Sha256Digest head{};   // hash of the last applied event
  std::optional<common::Sha256Digest> alt_head;  // right after a skip: the skipped record's hash
  std::optional<PartitionHalt> halt;
  friend bool operator==(const PartitionPosition&, const PartitionPosition&) = default;
};

class PartitionGuard {
 public:
  enum class Verdict {
    kApply,         // apply `event`, then call Applied (or HaltAt if it does not apply)
    kHalted,        // the partition is halted (now, or already): nothing to apply
    kSkipHonoured,  // the halt is cleared: re-read the partition from `reread_from`
    kIgnored,       // nothing to do: an old offset, or a skip that is not for this halt
  };
  struct Step {
    Verdict verdict = Verdict::kIgnored;
    Event event;               // kApply: the key event; kSkip*: the skip
    std::string why;           // kHalted (new halt) and kIgnored skips: what happened, for logs
    bool newly_halted = false; // kHalted: this record caused the halt
    std::int64_t reread_from = 0;
  };

  PartitionGuard(std::int32_t partition, std::int32_t partition_count, PartitionPosition position = {});

  Step Next(std::int64_t offset, std::string_view bytes);
  // The event of the last kApply step was applied.
  void Applied(std::int64_t offset, std::string_view bytes);
  // The event of the last kApply step does not apply (key rules): halt at it.
  void HaltAt(std::int64_t offset, std::string_view bytes, std::string reason);
  // After a kIgnored skip or a record the consumer passes over: the next record to look at.
  void Passed(std::int64_t offset);

  const PartitionPosition& position() const { return position_; }
  bool halted() const { return position_.halt.has_value(); }
  std::int32_t partition() const { return partition_; }
  void set_partition_count(std::int32_t count) { partition_count_ = count; }

 private:
  std::int32_t partition_;
  std::int32_t partition_count_;
  PartitionPosition position_;
};

}  // namespace keyledger::events
