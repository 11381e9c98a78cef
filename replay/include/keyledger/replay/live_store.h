// The read side `serve` answers from: the live generation of a store root (store_root.h) with
// its projector, switched to a newly published generation without stopping queries.
//
// A watcher thread polls ROOT/LIVE. When it names a new generation, the watcher opens it, starts
// a projector on it, waits until that projector has applied at least everything the current one
// had (so nothing a client has seen goes missing) and has no partition halted on a bad record (a
// halted partition is never "caught up"; such a generation is refused, logged, until another is
// published), and then swaps the pointer that Acquire hands out. Requests hold a shared_ptr to the generation they started with, so a query never sees a
// mix of two stores and never fails because of the switch; the old generation's projector stops
// and its store closes when the last such request finishes, and its directory is removed.
//
// Thread: Acquire is thread-safe; the watcher thread is owned by LiveStore.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "keyledger/common/clock.h"
#include "keyledger/common/log.h"
#include "keyledger/common/mutex.h"
#include "keyledger/common/status.h"
#include "keyledger/projector/projector.h"
#include "keyledger/replay/read_side.h"
#include "keyledger/replay/store_root.h"
#include "keyledger/storage/store.h"

namespace keyledger::replay {

class Generation final : public ReadView {
 public:
  ~Generation() override;
  const std::string& name() const { return name_; }
  projector::Projector& projector() { return *projector_; }
  const storage::Store& store() const { return *store_; }

  common::Result<std::optional<projector::KeyRecord>> GetKey(const std::string& key_id) const override;
  common::Result<projector::ReadModel::Page> ListView(const events::Caller& caller, events::View view, size_t page,
                                                      size_t per_page) const override;
  common::Result<std::vector<projector::ReadModel::HistoryEntry>> KeyHistory(const std::string& key_id, std::uint64_t from,
                                                                             size_t limit,
                                                                             bool newest_first) const override;
  common::Result<std::optional<events::Event>> FindEvent(projector::EventLocator locator) const override;
  common::Result<AuditPage> QueryAudit(const AuditQuery& query) const override;
  common::Result<std::optional<events::KeyState>> KeyAsOf(const std::string& team_id, const std::string& key_id,
                                                          const AsOf& as_of) const override;
  common::Result<std::vector<events::KeyState>> CallableAsOf(const std::string& team_id, const std::string& model,
                                                             const std::string& source_vpc, const AsOf& as_of,
                                                             const events::Catalog& catalog) const override;
  common::Status WaitForOffset(std::int32_t partition, std::int64_t offset, int timeout_ms) override;
  projector::ProjectorStats projector_stats() const override;
  common::Result<std::vector<projector::Halt>> Halts() const override;
  common::Result<std::vector<std::string>> Skips() const override;

 private:
  friend class LiveStore;
  std::string name_;
  std::string dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<projector::Projector> projector_;
};

struct LiveStoreOptions {
  projector::ProjectorOptions projector;
  int poll_interval_ms = 500;
  int switch_catch_up_timeout_ms = 60000;
  std::uint64_t min_free_bytes = 0;  // see storage::StoreOptions
};

class LiveStore final : public ReadSide {
 public:
  // `logger` and `clock` must outlive the LiveStore.
  LiveStore(StoreRoot root, LiveStoreOptions options, common::Logger* logger, const common::Clock* clock);
  ~LiveStore() override;

  // Opens the live generation, starts its projector and the watcher.
  common::Status Start() KL_EXCLUDES(mu_);
  // Stops the watcher; the generation closes when the last holder releases it.
  void Stop() KL_EXCLUDES(mu_);

  std::shared_ptr<ReadView> Acquire() const override KL_EXCLUDES(mu_);
  std::shared_ptr<Generation> AcquireGeneration() const KL_EXCLUDES(mu_);
  std::uint64_t switches() const { return switches_.load(); }

 private:
  common::Result<std::shared_ptr<Generation>> Open(const std::string& name);
  void Watch();

  StoreRoot root_;
  LiveStoreOptions options_;
  common::Logger* logger_;
  const common::Clock* clock_;
  mutable common::Mutex mu_;
  std::shared_ptr<Generation> current_ KL_GUARDED_BY(mu_);
  std::atomic<std::uint64_t> switches_{0};
  std::atomic<bool> stop_{false};
  std::thread watcher_;
};

}  // namespace keyledger::replay
