#include "keyledger/events/partition_guard.h"

#include "keyledger/events/codec.h"
#include "keyledger/events/hash_chain.h"

namespace keyledger::events {

std::int32_t PartitionForTeam(std::string_view team_id, std::int32_t partition_count) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : team_id) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return static_cast<std::int32_t>(h % static_cast<std::uint64_t>(partition_count));
}

PartitionGuard::PartitionGuard(std::int32_t partition, std::int32_t partition_count, PartitionPosition position)
    : partition_(partition), partition_count_(partition_count), position_(std::move(position)) {}

PartitionGuard::Step PartitionGuard::Next(std::int64_t offset, std::string_view bytes) {
  Step step;
  if (offset < position_.next_offset) return step;  // read again after a re-read or a restart
  auto event = Decode(bytes);
  if (event.ok() && !event->is_key_event()) {
    const auto& skip = std::get<RecordSkipped>(event->payload);
    step.event = std::move(*event);
    const PartitionHalt* halt = position_.halt ? &*position_.halt : nullptr;
    if (halt != nullptr && skip.partition == partition_ && skip.offset == halt->offset &&
        skip.record_sha256 == halt->record_sha256) {
      step.verdict = Verdict::kSkipHonoured;
      step.reread_from = halt->offset + 1;
      position_.alt_head = halt->record_sha256;
      position_.next_offset = halt->offset + 1;
      position_.halt.reset();
      return step;
    }
    step.verdict = halted() ? Verdict::kHalted : Verdict::kIgnored;
    step.why = skip.partition != partition_ ? "the skip names partition " + std::to_string(skip.partition)
               : halt == nullptr            ? "the partition is not halted (already skipped, or never halted here)"
                                            : "the skip names offset " + std::to_string(skip.offset) +
                                       " or another record than the halt at offset " + std::to_string(halt->offset);
    if (!halted()) position_.next_offset = offset + 1;
    return step;
  }
  if (halted()) {
    step.verdict = Verdict::kHalted;
    return step;
  }
  auto halt = [&](std::string reason) {
    HaltAt(offset, bytes, std::move(reason));
    step.verdict = Verdict::kHalted;
    step.newly_halted = true;
    step.why = position_.halt->reason;
    return step;
  };
  if (!event.ok()) return halt("undecodable event: " + event.status().message());
  if (PartitionForTeam(event->team_id, partition_count_) != partition_) {
    return halt("event " + event->event_id + " of team " + event->team_id + " is in the wrong partition");
  }
  if (event->prev_hash != position_.head && !(position_.alt_head && event->prev_hash == *position_.alt_head)) {
    return halt("hash chain broken: event " + event->event_id + " has prev_hash " + common::HexEncode(event->prev_hash) +
                ", expected " + common::HexEncode(position_.head));
  }
  step.verdict = Verdict::kApply;
  step.event = std::move(*event);
  return step;
}

void PartitionGuard::Applied(std::int64_t offset, std::string_view bytes) {
  position_.head = EventHash(bytes);
  position_.alt_head.reset();
  position_.next_offset = offset + 1;
}

void PartitionGuard::HaltAt(std::int64_t offset, std::string_view bytes, std::string reason) {
  position_.halt = PartitionHalt{offset, common::Sha256Of(bytes), std::move(reason)};
  position_.next_offset = offset;
}

void PartitionGuard::Passed(std::int64_t offset) {
  if (!halted() && offset >= position_.next_offset) position_.next_offset = offset + 1;
}

}  // namespace keyledger::events
