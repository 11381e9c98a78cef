// A store root: the directory `serve --db` points at. It holds generations of the read-model
// store, each a RocksDB directory, and a file LIVE naming the one the API answers from:
//   ROOT/LIVE            "gen-000002\n", replaced durably (temp file, fsync, rename, fsync dir)
//   ROOT/gen-000001/     an older generation, removed once nothing reads it any more
//   ROOT/gen-000002/     the live generation
//   ROOT/gen-000003/     a rebuild in progress: it holds the file REBUILDING until it is complete
//   ROOT/usage/          the usage read models (projector/usage.h), projected from the usage topic
//                        by serve; no generation, and no replay touches it
// Thread: not thread-safe; one process rebuilds a root at a time.
#pragma once

#include <string>

#include "keyledger/common/files.h"
#include "keyledger/common/log.h"
#include "keyledger/common/status.h"

namespace keyledger::replay {

inline constexpr char kUsageStoreDir[] = "usage";

class StoreRoot {
 public:
  // `files` null: the machine's filesystem.
  explicit StoreRoot(std::string path, common::FileSystem* files = nullptr);
  const std::string& path() const { return path_; }

  // The live generation's directory, creating ROOT and a first empty generation if there is none.
  common::Result<std::string> Live() const;
  // The live generation's name ("gen-000002"), or "" if ROOT has none yet.
  common::Result<std::string> LiveName() const;
  // An interrupted rebuild's directory if there is one, else a new generation's (marked REBUILDING).
  // `resumed` says which.
  common::Result<std::string> BeginRebuild(bool* resumed) const;
  // Clears the REBUILDING mark of `generation_dir` and makes it live (durable replace of LIVE).
  common::Status Publish(const std::string& generation_dir) const;
  // Removes every generation that is neither live nor being rebuilt.
  void RemoveStale(common::Logger* logger) const;
  // Removes one generation directory (a retired one).
  common::Status Remove(const std::string& generation_dir) const;

  static bool IsRoot(const std::string& path, common::FileSystem* files = nullptr);

 private:
  std::string path_;
  common::FileSystem* files_;
};

}  // namespace keyledger::replay
