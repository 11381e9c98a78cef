// What the admin API reads, and nothing more: one view of the read models at a time (a request
// holds the view it started with, so it never mixes two store generations). LiveStore and its
// Generation implement it; the API's handler tests use a fake (api/testing/fakes.h).
// Thread: implementations are thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "keyledger/common/status.h"
#include "keyledger/events/catalog.h"
#include "keyledger/events/key_rules.h"
#include "keyledger/projector/projector.h"
#include "keyledger/projector/read_model.h"
#include "keyledger/replay/audit.h"

namespace keyledger::replay {

class ReadView {
 public:
  virtual ~ReadView() = default;
  virtual common::Result<std::optional<projector::KeyRecord>> GetKey(const std::string& key_id) const = 0;
  virtual common::Result<projector::ReadModel::Page> ListView(const events::Caller& caller, events::View view,
                                                              size_t page, size_t per_page) const = 0;
  // At most `limit` events of a key from revision `from` (ReadModel::KeyHistoryPage).
  virtual common::Result<std::vector<projector::ReadModel::HistoryEntry>> KeyHistory(const std::string& key_id,
                                                                                     std::uint64_t from, size_t limit,
                                                                                     bool newest_first) const = 0;
  // The event stored at `locator` (nothing if none is), for receipts addressed by partition and offset.
  virtual common::Result<std::optional<events::Event>> FindEvent(projector::EventLocator locator) const = 0;
  virtual common::Result<AuditPage> QueryAudit(const AuditQuery& query) const = 0;
  virtual common::Result<std::optional<events::KeyState>> KeyAsOf(const std::string& team_id, const std::string& key_id,
                                                                  const AsOf& as_of) const = 0;
  virtual common::Result<std::vector<events::KeyState>> CallableAsOf(const std::string& team_id,
                                                                     const std::string& model,
                                                                     const std::string& source_vpc, const AsOf& as_of,
                                                                     const events::Catalog& catalog) const = 0;
  // Blocks until the event at (partition, offset) is applied (read-your-writes); see Projector.
  virtual common::Status WaitForOffset(std::int32_t partition, std::int64_t offset, int timeout_ms) = 0;
  virtual projector::ProjectorStats projector_stats() const = 0;
  // Halted partitions and the skips honoured so far (ReadModel::Halts and Skips).
  virtual common::Result<std::vector<projector::Halt>> Halts() const = 0;
  virtual common::Result<std::vector<std::string>> Skips() const = 0;
};

class ReadSide {
 public:
  virtual ~ReadSide() = default;
  // The current view; never null once started.
  virtual std::shared_ptr<ReadView> Acquire() const = 0;
};

}  // namespace keyledger::replay
