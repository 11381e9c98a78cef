#include "keyledger/replay/live_store.h"

#include <chrono>
#include <filesystem>

namespace keyledger::replay {

namespace fs = std::filesystem;

Generation::~Generation() {
  if (projector_) projector_->Stop();
  projector_.reset();
  store_.reset();
}

LiveStore::LiveStore(StoreRoot root, LiveStoreOptions options, common::Logger* logger,
                     const common::Clock* clock)
    : root_(std::move(root)), options_(std::move(options)), logger_(logger), clock_(clock) {}

LiveStore::~LiveStore() { Stop(); }

common::Result<std::shared_ptr<Generation>> LiveStore::Open(const std::string& name) {
  auto generation = std::make_shared<Generation>();
  generation->name_ = name;
  generation->dir_ = (fs::path(root_.path()) / name).string();
  storage::StoreOptions so;
  so.write_ahead_log = false;
  so.min_free_bytes = options_.min_free_bytes;
  KL_ASSIGN_OR_RETURN(generation->store_, storage::Store::Open(generation->dir_, so));
  generation->projector_ = std::make_unique<projector::Projector>(options_.projector, generation->store_.get(),
                                                                  logger_, clock_);
  KL_RETURN_IF_ERROR(generation->projector_->Start());
  return generation;
}

common::Status LiveStore::Start() {
  KL_RETURN_IF_ERROR(root_.Live().status());
  KL_ASSIGN_OR_RETURN(std::string name, root_.LiveName());
  KL_ASSIGN_OR_RETURN(auto generation, Open(name));
  {
    std::lock_guard lock(mu_);
    current_ = std::move(generation);
  }
  root_.RemoveStale(logger_);
  stop_ = false;
  watcher_ = std::thread([this] { Watch(); });
  return common::Status::Ok();
}

void LiveStore::Stop() {
  stop_ = true;
  if (watcher_.joinable()) watcher_.join();
  std::lock_guard lock(mu_);
  current_.reset();
}

std::shared_ptr<Generation> LiveStore::Acquire() const {
  std::lock_guard lock(mu_);
  return current_;
}

void LiveStore::Watch() {
  std::weak_ptr<Generation> retired;
  std::string retired_dir;
  while (!stop_.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(options_.poll_interval_ms));
    if (!retired_dir.empty() && retired.expired()) {
      std::error_code ec;
      fs::remove_all(retired_dir, ec);
      logger_->Info("removed the retired store generation", {{"dir", retired_dir}});
      retired_dir.clear();
    }
    auto name = root_.LiveName();
    std::shared_ptr<Generation> current = Acquire();
    if (!name.ok() || name->empty() || !current || *name == current->name()) continue;
    // The rebuild closes its store before publishing, so opening it succeeds; if not (another
    // process still holds it), try again at the next poll.
    auto next = Open(*name);
    if (!next.ok()) {
      logger_->Warn("cannot open the published store generation yet", {{"generation", *name},
                                                                          {"error", next.status().message()}});
      continue;
    }
    // Never go backwards: the new generation must have applied what the current one has.
    common::Status caught_up = common::Status::Ok();
    for (const auto& [p, offset] : current->projector().stats().next_offsets) {
      if (offset <= 0) continue;
      caught_up = (*next)->projector().WaitForOffset(p, offset - 1, options_.switch_catch_up_timeout_ms);
      if (!caught_up.ok() && caught_up.code() != common::StatusCode::kDataLoss) break;
      caught_up = common::Status::Ok();
    }
    if (!caught_up.ok()) {
      logger_->Warn("the published generation did not catch up; keeping the current one",
                    {{"generation", *name}, {"error", caught_up.message()}});
      continue;
    }
    {
      std::lock_guard lock(mu_);
      current_ = *next;
    }
    switches_.fetch_add(1);
    logger_->Info("switched to a rebuilt store generation", {{"from", current->name()}, {"to", *name}});
    retired = current;
    retired_dir = current->dir_;
  }
}

}  // namespace keyledger::replay
