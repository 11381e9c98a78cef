// Mutexes the compiler can check (Abseil's Mutex, MutexLock and CondVar, on top of the standard
// library): members written `T x_ KL_GUARDED_BY(mu_);` are read and written only with mu_ held,
// which clang's -Wthread-safety proves at compile time.
//
// Waiting: write the loop out, so that the analysis sees the condition read under the lock:
//   MutexLock lock(&mu_);
//   while (!ready_) cv_.Wait(&mu_);
// Thread: these are the synchronisation; every method is thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <shared_mutex>

#include "keyledger/common/thread_annotations.h"

namespace keyledger::common {

class KL_CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;
  void Lock() KL_ACQUIRE() { mu_.lock(); }
  void Unlock() KL_RELEASE() { mu_.unlock(); }
  // Tells the analysis that the caller holds the lock (for code it cannot follow).
  void AssertHeld() const KL_THREAD_ANNOTATION(assert_capability(this)) {}

 private:
  friend class CondVar;
  std::mutex mu_;
};

class KL_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex* mu) KL_ACQUIRE(mu) : mu_(mu) { mu_->Lock(); }
  ~MutexLock() KL_RELEASE() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* mu_;
};

// A condition variable for Mutex. Wait* release the mutex while waiting and hold it again when
// they return; spurious wake-ups happen, so callers re-check their condition in a loop.
class CondVar {
 public:
  void Wait(Mutex* mu) KL_REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    cv_.wait(lock);
    lock.release();
  }
  // False once `timeout` has passed (the condition may still have come true meanwhile).
  bool WaitFor(Mutex* mu, std::chrono::microseconds timeout) KL_REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    bool signalled = cv_.wait_for(lock, timeout) == std::cv_status::no_timeout;
    lock.release();
    return signalled;
  }
  void Signal() { cv_.notify_one(); }
  void SignalAll() { cv_.notify_all(); }

 private:
  std::condition_variable cv_;
};

// A reader-writer lock: any number of readers, or one writer.
class KL_CAPABILITY("shared mutex") SharedMutex {
 public:
  SharedMutex() = default;
  SharedMutex(const SharedMutex&) = delete;
  SharedMutex& operator=(const SharedMutex&) = delete;
  void Lock() KL_ACQUIRE() { mu_.lock(); }
  void Unlock() KL_RELEASE() { mu_.unlock(); }
  void ReaderLock() KL_ACQUIRE_SHARED() { mu_.lock_shared(); }
  void ReaderUnlock() KL_RELEASE_SHARED() { mu_.unlock_shared(); }

 private:
  std::shared_mutex mu_;
};

class KL_SCOPED_CAPABILITY WriterMutexLock {
 public:
  explicit WriterMutexLock(SharedMutex* mu) KL_ACQUIRE(mu) : mu_(mu) { mu_->Lock(); }
  ~WriterMutexLock() KL_RELEASE() { mu_->Unlock(); }
  WriterMutexLock(const WriterMutexLock&) = delete;
  WriterMutexLock& operator=(const WriterMutexLock&) = delete;

 private:
  SharedMutex* mu_;
};

class KL_SCOPED_CAPABILITY ReaderMutexLock {
 public:
  explicit ReaderMutexLock(SharedMutex* mu) KL_ACQUIRE_SHARED(mu) : mu_(mu) { mu_->ReaderLock(); }
  ~ReaderMutexLock() KL_RELEASE() { mu_->ReaderUnlock(); }
  ReaderMutexLock(const ReaderMutexLock&) = delete;
  ReaderMutexLock& operator=(const ReaderMutexLock&) = delete;

 private:
  SharedMutex* mu_;
};

}  // namespace keyledger::common
