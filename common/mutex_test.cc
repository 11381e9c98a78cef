#include "keyledger/common/mutex.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace keyledger::common {
namespace {

class Counter {
 public:
  void Add() KL_EXCLUDES(mu_) {
    MutexLock lock(&mu_);
    ++value_;
    cv_.SignalAll();
  }
  // Waits until the count reaches `n` or `timeout` passes; the count it saw.
  int WaitFor(int n, std::chrono::milliseconds timeout) KL_EXCLUDES(mu_) {
    MutexLock lock(&mu_);
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (value_ < n) {
      auto left = deadline - std::chrono::steady_clock::now();
      if (left <= std::chrono::steady_clock::duration::zero()) break;
      cv_.WaitFor(&mu_, std::chrono::duration_cast<std::chrono::microseconds>(left));
    }
    return value_;
  }

 private:
  Mutex mu_;
  CondVar cv_;
  int value_ KL_GUARDED_BY(mu_) = 0;
};

TEST(Mutex, WaitersSeeEveryIncrementFromOtherThreads) {
  Counter counter;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) counter.Add();
    });
  }
  EXPECT_EQ(counter.WaitFor(4000, std::chrono::seconds(30)), 4000);
  for (auto& t : threads) t.join();
}

TEST(Mutex, AWaitWithATimeoutReturnsWhenNothingHappens) {
  Counter counter;
  EXPECT_EQ(counter.WaitFor(1, std::chrono::milliseconds(20)), 0);
}

TEST(SharedMutex, ReadersShareAndAWriterExcludes) {
  SharedMutex mu;
  int value = 0;
  {
    ReaderMutexLock a(&mu);
    ReaderMutexLock b(&mu);  // a second reader does not block
  }
  std::thread writer([&] {
    WriterMutexLock lock(&mu);
    value = 1;
  });
  writer.join();
  ReaderMutexLock lock(&mu);
  EXPECT_EQ(value, 1);
}

}  // namespace
}  // namespace keyledger::common
