// The read side `serve` answers from: the live generation of a store root (rebuild.h) with its
// projector, switched to a newly published generation without stopping queries.
//
// A watcher thread polls ROOT/LIVE. When it names a new generation, the watcher opens it, starts
// a projector on it, waits until that projector has applied at least everything the current one
// had (so nothing a client has seen goes missing), and then swaps the pointer that Acquire hands
// out. Requests hold a shared_ptr to the generation they started with, so a query never sees a
// mix of two stores and never fails because of the switch; the old generation's projector stops
// and its store closes when the last such request finishes, and its directory is removed.
//
// Thread: Acquire is thread-safe; the watcher thread is owned by LiveStore.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "keyledger/common/clock.h"
#include "keyledger/common/log.h"
#include "keyledger/common/status.h"
#include "keyledger/projector/projector.h"
#include "keyledger/replay/rebuild.h"
#include "keyledger/storage/store.h"

namespace keyledger::replay {

class Generation {
 public:
  ~Generation();
  const std::string& name() const { return name_; }
  projector::Projector& projector() { return *projector_; }
  const storage::Store& store() const { return *store_; }

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

class LiveStore {
 public:
  // `logger` and `clock` must outlive the LiveStore.
  LiveStore(StoreRoot root, LiveStoreOptions options, common::Logger* logger, const common::Clock* clock);
  ~LiveStore();

  // Opens the live generation, starts its projector and the watcher.
  common::Status Start();
  // Stops the watcher; the generation closes when the last holder releases it.
  void Stop();

  std::shared_ptr<Generation> Acquire() const;
  std::uint64_t switches() const { return switches_.load(); }

 private:
  common::Result<std::shared_ptr<Generation>> Open(const std::string& name);
  void Watch();

  StoreRoot root_;
  LiveStoreOptions options_;
  common::Logger* logger_;
  const common::Clock* clock_;
  mutable std::mutex mu_;  // Guards current_.
  std::shared_ptr<Generation> current_;
  std::atomic<std::uint64_t> switches_{0};
  std::atomic<bool> stop_{false};
  std::thread watcher_;
};

}  // namespace keyledger::replay
