// A batch decoded and applied on the projector's thread, to be written on the committer's.
// Private to projector/.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "keyledger/projector/projector.h"
#include "keyledger/projector/records.h"
#include "keyledger/storage/store.h"

namespace keyledger::projector {

struct Projector::Prepared {
  storage::Store::Batch batch;
  std::map<std::int32_t, PartitionState> touched;  // each partition's state after the batch
  std::vector<Halt> halts;                         // new halts
  std::vector<events::RecordSkipped> skips;        // honoured skips
  // Partitions read again from an offset (after an honoured skip): seek the reader there.
  std::map<std::int32_t, std::int64_t> reread;
  std::uint64_t applied = 0;
};

}  // namespace keyledger::projector
