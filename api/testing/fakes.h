// In-memory fakes of the admin API's two interfaces, for handler tests and the API fuzzer:
// FakeLedger is a command sink that decides commands with the real key rules (events/key_rules.h)
// and keeps every event, and a read side whose one view answers from those events. Failures are
// injected per call: the next command's status, the read side's status; a halt of its one
// partition is set by the test and cleared by an operator's skip of exactly that record.
// Thread: thread-safe (one lock).
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "keyledger/common/clock.h"
#include "keyledger/common/crypto.h"
#include "keyledger/common/mutex.h"
#include "keyledger/events/catalog.h"
#include "keyledger/replay/read_side.h"
#include "keyledger/writer/command_sink.h"

namespace keyledger::api::testing {

class FakeLedger final : public writer::CommandSink, public replay::ReadSide {
 public:
  FakeLedger(const events::Catalog* catalog, const common::Clock* clock, common::RandomSource* random);
  ~FakeLedger() override;

  // CommandSink.
  common::Result<writer::CommandOutcome> Submit(writer::CommandRequest request) override KL_EXCLUDES(mu_);
  writer::WriterStats stats() const override KL_EXCLUDES(mu_);
  std::map<std::int32_t, std::int64_t> CommittedOffsets() const override KL_EXCLUDES(mu_);
  std::map<std::int32_t, events::PartitionHalt> Halts() const override KL_EXCLUDES(mu_);
  std::optional<events::KeyState> KeyState(const std::string& key_id) const override KL_EXCLUDES(mu_);
  std::optional<std::string> SecretOwner(const common::SecretHash& hash) const override KL_EXCLUDES(mu_);
  // ReadSide.
  std::shared_ptr<replay::ReadView> Acquire() const override;

  // Faults and inspection.
  void FailNextCommand(common::Status status) KL_EXCLUDES(mu_);
  // The next command is carried out (its event is in the fake log) but answered with `status`,
  // as when a commit's outcome could not be confirmed.
  void LandNextCommandUnconfirmed(common::Status status) KL_EXCLUDES(mu_);
  void FailReads(common::Status status) KL_EXCLUDES(mu_);  // OK: reads work again
  // Every list page, history page and audit query takes this long (a heavy read), outside the lock.
  void SetHeavyReadMillis(int ms) { heavy_read_ms_.store(ms); }
  void SetWriterState(writer::WriterState state) KL_EXCLUDES(mu_);
  void SetProjectorBehind(bool behind) KL_EXCLUDES(mu_);
  // Halts the fake's one partition (0) at `halt`: key commands are refused until a skip of it.
  void SetHalt(events::PartitionHalt halt) KL_EXCLUDES(mu_);
  size_t event_count() const KL_EXCLUDES(mu_);
  std::vector<writer::CommandRequest> requests() const KL_EXCLUDES(mu_);

 private:
  class View;
  struct Stored {
    events::Event event;
    std::int64_t offset;
  };
  const events::Catalog* catalog_;
  const common::Clock* clock_;
  common::RandomSource* random_;
  std::shared_ptr<View> view_;
  mutable common::Mutex mu_;
  std::map<std::string, events::KeyState> keys_ KL_GUARDED_BY(mu_);
  std::vector<Stored> log_ KL_GUARDED_BY(mu_);  // one partition
  std::map<std::string, writer::CommandOutcome> idempotency_ KL_GUARDED_BY(mu_);
  std::vector<writer::CommandRequest> requests_ KL_GUARDED_BY(mu_);
  std::optional<common::Status> next_failure_ KL_GUARDED_BY(mu_);
  std::optional<common::Status> next_unconfirmed_ KL_GUARDED_BY(mu_);
  common::Status read_failure_ KL_GUARDED_BY(mu_);
  writer::WriterState state_ KL_GUARDED_BY(mu_) = writer::WriterState::kReady;
  bool projector_behind_ KL_GUARDED_BY(mu_) = false;
  std::optional<events::PartitionHalt> halt_ KL_GUARDED_BY(mu_);
  std::vector<std::string> skips_ KL_GUARDED_BY(mu_);
  std::atomic<int> heavy_read_ms_{0};
};

}  // namespace keyledger::api::testing
