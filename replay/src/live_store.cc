#include "keyledger/replay/live_store.h"

namespace keyledger::replay {

using common::Result;
using common::Status;

Generation::~Generation() {
  if (projector_) projector_->Stop();
  projector_.reset();
  store_.reset();
}

Result<std::optional<projector::KeyRecord>> Generation::GetKey(const std::string& key_id) const {
  return projector_->read_model().GetKey(key_id);
}
Result<projector::ReadModel::Page> Generation::ListView(const events::Caller& caller, events::View view, size_t page,
                                                        size_t per_page) const {
  return projector_->read_model().ListView(caller, view, page, per_page);
}
Result<std::vector<projector::ReadModel::HistoryEntry>> Generation::KeyHistory(const std::string& key_id,
                                                                               std::uint64_t from, size_t limit,
                                                                               bool newest_first) const {
  return projector_->read_model().KeyHistoryPage(key_id, from, limit, newest_first);
}

Result<std::optional<events::Event>> Generation::FindEvent(projector::EventLocator locator) const {
  return projector_->read_model().FindEvent(locator);
}
Result<AuditPage> Generation::QueryAudit(const AuditQuery& query) const { return replay::QueryAudit(*store_, query); }
Result<std::optional<events::KeyState>> Generation::KeyAsOf(const std::string& team_id, const std::string& key_id,
                                                            const AsOf& as_of) const {
  return replay::KeyAsOf(*store_, team_id, key_id, as_of);
}
Result<std::vector<events::KeyState>> Generation::CallableAsOf(const std::string& team_id, const std::string& model,
                                                               const std::string& source_vpc, const AsOf& as_of,
                                                               const events::Catalog& catalog) const {
  return replay::CallableAsOf(*store_, team_id, model, source_vpc, as_of, catalog);
}
Status Generation::WaitForOffset(std::int32_t partition, std::int64_t offset, int timeout_ms) {
  return projector_->WaitForOffset(partition, offset, timeout_ms);
}
projector::ProjectorStats Generation::projector_stats() const { return projector_->stats(); }
Result<std::vector<projector::Halt>> Generation::Halts() const { return projector_->read_model().Halts(); }
Result<std::vector<std::string>> Generation::Skips() const { return projector_->read_model().Skips(); }

LiveStore::LiveStore(StoreRoot root, LiveStoreOptions options, common::Logger* logger, const common::Clock* clock)
    : root_(std::move(root)), options_(std::move(options)), logger_(logger), clock_(clock) {}

LiveStore::~LiveStore() { Stop(); }

Result<std::shared_ptr<Generation>> LiveStore::Open(const std::string& name) {
  auto generation = std::make_shared<Generation>();
  generation->name_ = name;
  generation->dir_ = common::JoinPath(root_.path(), name);
  storage::StoreOptions so;
  so.write_ahead_log = false;
  so.min_free_bytes = options_.min_free_bytes;
  KL_ASSIGN_OR_RETURN(generation->store_, projector::OpenReadModelStore(generation->dir_, so));
  generation->projector_ =
      std::make_unique<projector::Projector>(options_.projector, generation->store_.get(), logger_, clock_);
  KL_RETURN_IF_ERROR(generation->projector_->Start());
  return generation;
}

Status LiveStore::Start() {
  KL_RETURN_IF_ERROR(root_.Live().status());
  KL_ASSIGN_OR_RETURN(std::string name, root_.LiveName());
  KL_ASSIGN_OR_RETURN(auto generation, Open(name));
  {
    common::MutexLock lock(&mu_);
    current_ = std::move(generation);
  }
  root_.RemoveStale(logger_);
  stop_ = false;
  watcher_ = std::thread([this] { Watch(); });
  return Status::Ok();
}

void LiveStore::Stop() {
  stop_ = true;
  if (watcher_.joinable()) watcher_.join();
  common::MutexLock lock(&mu_);
  current_.reset();
}

std::shared_ptr<ReadView> LiveStore::Acquire() const { return AcquireGeneration(); }

std::shared_ptr<Generation> LiveStore::AcquireGeneration() const {
  common::MutexLock lock(&mu_);
  return current_;
}

void LiveStore::Watch() {
  std::weak_ptr<Generation> retired;
  std::string retired_dir;
  std::string refused;  // a published generation this process will not switch to
  while (!stop_.load()) {
    clock_->SleepForMillis(options_.poll_interval_ms);
    if (!retired_dir.empty() && retired.expired()) {
      if (root_.Remove(retired_dir).ok()) logger_->Info("removed the retired store generation", {{"dir", retired_dir}});
      retired_dir.clear();
    }
    auto name = root_.LiveName();
    std::shared_ptr<Generation> current = AcquireGeneration();
    if (!name.ok() || name->empty() || !current || *name == current->name()) continue;
    // The rebuild closes its store before publishing, so opening it succeeds; if not (another
    // process still holds it), try again at the next poll.
    auto next = Open(*name);
    if (!next.ok()) {
      logger_->Warn("cannot open the published store generation yet",
                    {{"generation", *name}, {"error", next.status().message()}});
      continue;
    }
    if (*name == refused) continue;
    // Never go backwards: the new generation must have applied what the current one has, and a
    // partition halted on a bad record is not caught up, however far it got.
    Status caught_up = Status::Ok();
    for (const auto& [p, offset] : current->projector().stats().next_offsets) {
      if (offset <= 0) continue;
      caught_up = (*next)->projector().WaitForOffset(p, offset - 1, options_.switch_catch_up_timeout_ms);
      if (!caught_up.ok()) break;
    }
    if (caught_up.ok() && (*next)->projector().stats().halts > 0) {
      caught_up = common::FailedPrecondition(std::to_string((*next)->projector().stats().halts) +
                                             " partition(s) of it are halted on a bad record");
    }
    if (!caught_up.ok()) {
      logger_->Error("the published generation is not caught up; keeping the current one",
                     {{"generation", *name}, {"error", caught_up.message()}});
      // A halt does not go away by waiting: not tried again until another generation is published.
      if (caught_up.code() != common::StatusCode::kUnavailable) refused = *name;
      continue;
    }
    {
      common::MutexLock lock(&mu_);
      current_ = *next;
    }
    switches_.fetch_add(1);
    logger_->Info("switched to a rebuilt store generation", {{"from", current->name()}, {"to", *name}});
    retired = current;
    retired_dir = current->dir_;
  }
}

}  // namespace keyledger::replay
