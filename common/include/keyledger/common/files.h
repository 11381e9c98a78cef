// Files behind one interface (LevelDB's Env), so that tests inject disk faults in process. The
// components that keep files of their own (store roots, the validator snapshot, port files) use
// it and never std::filesystem or fstreams directly; RocksDB keeps its own I/O.
//
// WriteFileDurably is the one way to replace a file that matters: write a temp file beside it,
// fsync it, rename it over the target, fsync the directory (LevelDB's SetCurrentFile). After a
// crash or power loss the target is the old content or the new, never empty or partial.
//
// Errors: NotFound for a missing file or directory (ReadFile, ListDirectory); Unavailable for any
// other I/O failure, with the path and the system's reason.
// Thread: implementations are thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "keyledger/common/status.h"

namespace keyledger::common {

class FileSystem {
 public:
  virtual ~FileSystem() = default;
  virtual Result<std::string> ReadFile(const std::string& path) const = 0;
  virtual Status WriteFileDurably(const std::string& path, std::string_view content) = 0;
  virtual bool Exists(const std::string& path) const = 0;
  virtual Status CreateDirectories(const std::string& path) = 0;
  // Removes a file (OK if it is absent) and fsyncs its directory.
  virtual Status RemoveFile(const std::string& path) = 0;
  // Removes a directory tree (OK if it is absent).
  virtual Status RemoveAll(const std::string& path) = 0;
  // Names (not paths) of the entries of a directory, sorted.
  virtual Result<std::vector<std::string>> ListDirectory(const std::string& path) const = 0;
  // Bytes available to an unprivileged writer on the filesystem holding `path`.
  virtual Result<std::uint64_t> FreeBytes(const std::string& path) const = 0;
};

// The machine's filesystem. Process-wide (like LevelDB's Env::Default): it holds no state.
FileSystem* DefaultFileSystem();

// "dir/name" without doubling a slash.
std::string JoinPath(std::string_view dir, std::string_view name);

}  // namespace keyledger::common
