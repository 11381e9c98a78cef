// A directory of static files (a built web bundle) held in memory and served read-only: loaded
// once at start, so a request can never reach outside it (no path is ever opened per request),
// and answered with a content type by extension and the caller's headers.
// Thread: immutable after Load; Find from any thread.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "keyledger/common/status.h"

namespace keyledger::http {

struct StaticFile {
  std::string content;
  std::string content_type;
};

class StaticFiles {
 public:
  // Every regular file under `dir` (symbolic links are not followed), by its path relative to
  // it ("index.html", "assets/app-1a2b.js"). InvalidArgument naming the problem: no such
  // directory, no index.html, more than 1000 files or 64 MiB.
  static common::Result<std::shared_ptr<const StaticFiles>> Load(const std::string& dir);

  // The file at `relative` ("" is index.html); nullptr if there is none.
  const StaticFile* Find(std::string_view relative) const;
  size_t size() const { return files_.size(); }

 private:
  std::map<std::string, StaticFile, std::less<>> files_;
};

// "text/html; charset=utf-8" for .html, and so on; application/octet-stream when unknown.
std::string_view ContentTypeFor(std::string_view path);

}  // namespace keyledger::http
