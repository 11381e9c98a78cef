// A command on its way through the writer. Private to writer/.
#pragma once

#include <cstdint>
#include <future>
#include <limits>
#include <memory>
#include <optional>
#include <string>

#include "keyledger/writer/writer.h"

namespace keyledger::writer {

struct Writer::Pending {
  CommandRequest request;
  std::promise<common::Result<CommandOutcome>> promise;
  bool resolved = false;  // Writer thread only.
  // In the writer's clock: a command still queued at its deadline is answered Unavailable without
  // being appended, so a caller that gave up waiting never has its command land later.
  std::int64_t deadline_micros = std::numeric_limits<std::int64_t>::max();
  // Filled while the command is in a batch:
  std::int32_t partition = -1;
  std::optional<events::Event> event;
  std::string encoded;
  events::KeyState after;
  storage::DeliveryReport report;
  std::optional<common::Status> rejection;
  bool decided_on_uncommitted = false;
  std::shared_ptr<Pending> replay_of;  // Same idempotency key earlier in the same batch.
};

}  // namespace keyledger::writer
