// The operator's skip of a record a partition halted at (projector.h, SkipHaltedEvent).
#include "keyledger/common/log.h"
#include "keyledger/projector/layout.h"
#include "keyledger/projector/projector.h"
#include "keyledger/projector/records.h"

namespace keyledger::projector {

common::Status SkipHaltedEvent(storage::Store* store, std::int32_t partition, std::int64_t offset,
                               const std::string& note, const common::Clock& clock) {
  KL_ASSIGN_OR_RETURN(auto raw, store->Get(Column::kMeta, layout::HaltKey(partition)));
  if (!raw) return common::NotFound("partition " + std::to_string(partition) + " is not halted");
  KL_ASSIGN_OR_RETURN(Halt halt, DecodeHalt(*raw));
  if (halt.offset != offset) {
    return common::Conflict("partition " + std::to_string(partition) + " halted at offset " +
                            std::to_string(halt.offset) + ", not " + std::to_string(offset));
  }
  storage::Store::Batch batch = store->NewBatch();
  batch.Delete(Column::kMeta, layout::HaltKey(partition));
  std::string record = "{\"skipped_at\":\"" + common::FormatRfc3339(clock.NowMicros()) + "\",\"reason\":";
  common::AppendJsonString(record, halt.reason);
  record += ",\"note\":";
  common::AppendJsonString(record, note);
  record += ",\"record_sha256\":\"" + common::HexEncode(halt.record_sha256) + "\"}";
  batch.Put(Column::kMeta, layout::SkipKey(partition, offset), record);
  batch.Put(Column::kMeta, layout::OffsetKey(partition), layout::OffsetValue(offset + 1));
  // If the skipped record was a chained event with a damaged payload, the next event links to
  // its bytes; if it was inserted garbage, the next event links to the current head. Accept both.
  batch.Put(Column::kMeta, layout::AltChainKey(partition), layout::DigestValue(halt.record_sha256));
  return store->Write(batch);
}

}  // namespace keyledger::projector
