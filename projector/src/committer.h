// The projector's committer thread: writes prepared batches one at a time and in order, so the
// projector's thread decodes and applies the next batch while the store writes this one (the two
// take about the same time). Private to projector/.
// Thread: Submit, Drain and failure from the projector's thread; Run on its own.
#pragma once

#include <functional>
#include <memory>
#include <thread>

#include "keyledger/common/mutex.h"
#include "keyledger/common/status.h"

namespace keyledger::projector::internal {

template <class Batch>
class Committer {
 public:
  using WriteFn = std::function<common::Status(Batch&)>;
  explicit Committer(WriteFn write) : write_(std::move(write)), thread_([this] { Run(); }) {}
  // Waits for the batch in hand.
  ~Committer() {
    {
      common::MutexLock lock(&mu_);
      while (next_ || busy_) idle_.Wait(&mu_);
      quit_ = true;
    }
    work_.SignalAll();
    thread_.join();
  }
  Committer(const Committer&) = delete;
  Committer& operator=(const Committer&) = delete;

  // Waits for the previous batch's write. If that failed, returns its error and drops `next`
  // (nothing after a failed write is written); otherwise hands `next` over and returns.
  common::Status Submit(std::unique_ptr<Batch> next) KL_EXCLUDES(mu_) {
    common::MutexLock lock(&mu_);
    while (next_ || busy_) idle_.Wait(&mu_);
    if (!failed_.ok()) return failed_;
    next_ = std::move(next);
    work_.SignalAll();
    return common::Status::Ok();
  }
  // Waits until every batch handed over is written; the first write error, if any.
  common::Status Drain() KL_EXCLUDES(mu_) {
    common::MutexLock lock(&mu_);
    while (next_ || busy_) idle_.Wait(&mu_);
    return failed_;
  }
  // The first write error so far, without waiting.
  common::Status failure() const KL_EXCLUDES(mu_) {
    common::MutexLock lock(&mu_);
    return failed_;
  }

 private:
  void Run() KL_EXCLUDES(mu_) {
    while (true) {
      std::unique_ptr<Batch> batch;
      {
        common::MutexLock lock(&mu_);
        while (!next_ && !quit_) work_.Wait(&mu_);
        if (!next_) return;
        batch = std::move(next_);
        busy_ = true;
      }
      common::Status written = write_(*batch);
      batch.reset();  // the batch's memory is freed here too, off the projector's thread
      common::MutexLock lock(&mu_);
      busy_ = false;
      if (!written.ok() && failed_.ok()) failed_ = written;
      idle_.SignalAll();
    }
  }

  WriteFn write_;
  mutable common::Mutex mu_;
  common::CondVar work_;  // next_ set, or quit_
  common::CondVar idle_;  // nothing handed over and nothing being written
  std::unique_ptr<Batch> next_ KL_GUARDED_BY(mu_);
  bool busy_ KL_GUARDED_BY(mu_) = false;
  bool quit_ KL_GUARDED_BY(mu_) = false;
  common::Status failed_ KL_GUARDED_BY(mu_) = common::Status::Ok();
  std::thread thread_;  // last: starts once the members above exist
};

}  // namespace keyledger::projector::internal
