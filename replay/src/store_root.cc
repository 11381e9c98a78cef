#include "keyledger/replay/store_root.h"

#include <algorithm>
#include <cstdio>

namespace keyledger::replay {

using common::Result;
using common::Status;

namespace {

constexpr char kLiveFile[] = "LIVE";
constexpr char kRebuildingMark[] = "REBUILDING";

std::string GenerationName(int n) {
  char name[32];
  std::snprintf(name, sizeof name, "gen-%06d", n);
  return name;
}

int GenerationNumber(const std::string& name) {
  if (name.size() != 10 || name.rfind("gen-", 0) != 0) return -1;
  int n = 0;
  for (char c : name.substr(4)) {
    if (c < '0' || c > '9') return -1;
    n = n * 10 + (c - '0');
  }
  return n;
}

std::string Basename(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  size_t slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

}  // namespace

StoreRoot::StoreRoot(std::string path, common::FileSystem* files)
    : path_(std::move(path)), files_(files ? files : common::DefaultFileSystem()) {}

bool StoreRoot::IsRoot(const std::string& path, common::FileSystem* files) {
  if (files == nullptr) files = common::DefaultFileSystem();
  return files->Exists(common::JoinPath(path, kLiveFile));
}

Result<std::string> StoreRoot::LiveName() const {
  auto content = files_->ReadFile(common::JoinPath(path_, kLiveFile));
  if (!content.ok()) {
    if (content.status().code() == common::StatusCode::kNotFound) return std::string();
    return content.status();
  }
  std::string name = content->substr(0, content->find('\n'));
  if (GenerationNumber(name) < 0) {
    return common::DataLoss(path_ + "/" + kLiveFile + " does not name a generation: '" + name + "'");
  }
  return name;
}

Result<std::string> StoreRoot::Live() const {
  KL_ASSIGN_OR_RETURN(std::string name, LiveName());
  if (name.empty()) {
    KL_RETURN_IF_ERROR(files_->CreateDirectories(path_));
    KL_ASSIGN_OR_RETURN(auto entries, files_->ListDirectory(path_));
    // The usage store (projector/usage.h) lives beside the generations and is no generation.
    std::erase(entries, std::string(kUsageStoreDir));
    bool fresh = entries.empty() || std::find(entries.begin(), entries.end(), GenerationName(1)) != entries.end();
    if (!fresh) return common::FailedPrecondition(path_ + " is neither empty nor a keyledger store root");
    name = GenerationName(1);
    KL_RETURN_IF_ERROR(files_->CreateDirectories(common::JoinPath(path_, name)));
    KL_RETURN_IF_ERROR(files_->WriteFileDurably(common::JoinPath(path_, kLiveFile), name + "\n"));
  }
  return common::JoinPath(path_, name);
}

Result<std::string> StoreRoot::BeginRebuild(bool* resumed) const {
  KL_RETURN_IF_ERROR(Live().status());
  KL_ASSIGN_OR_RETURN(auto entries, files_->ListDirectory(path_));
  int highest = 0;
  std::string interrupted;
  for (const std::string& name : entries) {
    int n = GenerationNumber(name);
    if (n < 0) continue;
    highest = std::max(highest, n);
    if (files_->Exists(common::JoinPath(common::JoinPath(path_, name), kRebuildingMark))) {
      interrupted = common::JoinPath(path_, name);
    }
  }
  *resumed = !interrupted.empty();
  if (*resumed) return interrupted;
  std::string dir = common::JoinPath(path_, GenerationName(highest + 1));
  KL_RETURN_IF_ERROR(files_->CreateDirectories(dir));
  KL_RETURN_IF_ERROR(files_->WriteFileDurably(common::JoinPath(dir, kRebuildingMark), "rebuild in progress\n"));
  return dir;
}

Status StoreRoot::Publish(const std::string& generation_dir) const {
  KL_RETURN_IF_ERROR(files_->RemoveFile(common::JoinPath(generation_dir, kRebuildingMark))
                         .WithContext("clearing the rebuild mark of " + generation_dir));
  return files_->WriteFileDurably(common::JoinPath(path_, kLiveFile), Basename(generation_dir) + "\n");
}

void StoreRoot::RemoveStale(common::Logger* logger) const {
  auto live = LiveName();
  if (!live.ok() || live->empty()) return;
  auto entries = files_->ListDirectory(path_);
  if (!entries.ok()) return;
  for (const std::string& name : *entries) {
    std::string dir = common::JoinPath(path_, name);
    if (GenerationNumber(name) < 0 || name == *live || files_->Exists(common::JoinPath(dir, kRebuildingMark))) continue;
    if (files_->RemoveAll(dir).ok() && logger) logger->Info("removed an old store generation", {{"generation", name}});
  }
}

Status StoreRoot::Remove(const std::string& generation_dir) const { return files_->RemoveAll(generation_dir); }

}  // namespace keyledger::replay
