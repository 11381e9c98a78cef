// The queries the API, validators, replay and tools run on a read-model store (SPEC section 4):
// a key, a secret lookup, one page of a view, a key's history, the stored offsets and halts.
// The byte layout is layout.h; the records are records.h.
// Thread: ReadModel is thread-safe (it only reads the Store).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "keyledger/common/secret.h"
#include "keyledger/common/status.h"
#include "keyledger/events/event.h"
#include "keyledger/events/key_rules.h"
#include "keyledger/projector/layout.h"
#include "keyledger/projector/records.h"
#include "keyledger/storage/store.h"

namespace keyledger::projector {

class ReadModel {
 public:
  explicit ReadModel(const storage::Store* store) : store_(store) {}

  common::Result<std::optional<KeyRecord>> GetKey(const std::string& key_id) const;
  common::Result<std::optional<SecretRecord>> LookupSecret(const common::SecretHash& hash) const;

  struct Page {
    std::vector<events::KeyState> keys;
    size_t total = 0;
  };
  // One page (from 1) of a view, newest first. PermissionDenied for a non-owner's team view.
  common::Result<Page> ListView(const events::Caller& caller, events::View view, size_t page,
                                size_t per_page) const;

  // The stored count at a view-count key (layout::ViewCountKey); 0 when none is stored.
  common::Result<std::int64_t> ViewCount(const std::string& count_key) const;

  // Every event of a key, oldest first (deleted keys included), with where it is in the log.
  struct HistoryEntry {
    EventLocator locator;
    events::Event event;
  };
  common::Result<std::vector<HistoryEntry>> KeyHistory(const std::string& key_id) const;
  // At most `limit` events of a key: oldest first from revision `from` on, or, with
  // `newest_first`, from revision `from` down (from = UINT64_MAX: the newest). O(limit) reads.
  common::Result<std::vector<HistoryEntry>> KeyHistoryPage(const std::string& key_id, std::uint64_t from, size_t limit,
                                                           bool newest_first = false) const;
  // Where revision `revision` of a key is in the log and the key's state after it (nothing for
  // the state in a store from before layout version 3); nothing if the key has no such revision.
  struct StoredRevision {
    EventLocator locator;
    std::optional<KeyRecord> after;
  };
  common::Result<std::optional<StoredRevision>> RevisionAt(const std::string& key_id, std::uint64_t revision) const;
  // The stored event at `locator`; DataLoss if an index points at nothing.
  common::Result<events::Event> EventAt(EventLocator locator) const;
  // The stored event at `locator`, or nothing if no event is stored there (a locator from outside).
  common::Result<std::optional<events::Event>> FindEvent(EventLocator locator) const;

  // Next offset to project per partition (absent partitions start at 0).
  common::Result<std::map<std::int32_t, std::int64_t>> Offsets() const;
  common::Result<std::vector<Halt>> Halts() const;
  // The operators' skips honoured so far, by partition and offset: each a JSON object (skipped_at,
  // operator, event_id, skip_offset, reason, note, record_sha256), as the projector stored it.
  common::Result<std::vector<std::string>> Skips() const;

  const storage::Store& store() const { return *store_; }

 private:
  const storage::Store* store_;
};

}  // namespace keyledger::projector
