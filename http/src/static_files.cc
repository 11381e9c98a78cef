#include "keyledger/http/static_files.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace keyledger::http {

namespace {
constexpr size_t kMaxFiles = 1000;
constexpr std::uintmax_t kMaxBytes = 64u << 20;
}  // namespace

std::string_view ContentTypeFor(std::string_view path) {
  struct Type {
    std::string_view extension, type;
  };
  static constexpr Type kTypes[] = {
      {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
      {".json", "application/json"}, {".map", "application/json"}, {".svg", "image/svg+xml"},
      {".png", "image/png"}, {".ico", "image/x-icon"}, {".webp", "image/webp"}, {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},
  };
  for (const Type& t : kTypes) {
    if (path.size() >= t.extension.size() && path.substr(path.size() - t.extension.size()) == t.extension) return t.type;
  }
  return "application/octet-stream";
}

common::Result<std::shared_ptr<const StaticFiles>> StaticFiles::Load(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return common::InvalidArgument("--console-dir " + dir + " is not a directory");
  auto files = std::make_shared<StaticFiles>();
  std::uintmax_t total = 0;
  for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::none, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_symlink(ec) || !it->is_regular_file(ec)) continue;
    if (files->files_.size() >= kMaxFiles) return common::InvalidArgument(dir + " holds more than 1000 files");
    total += it->file_size(ec);
    if (total > kMaxBytes) return common::InvalidArgument(dir + " holds more than 64 MiB");
    std::ifstream in(it->path(), std::ios::binary);
    if (!in) return common::Unavailable("cannot read " + it->path().string());
    std::stringstream content;
    content << in.rdbuf();
    std::string relative = fs::relative(it->path(), dir, ec).generic_string();
    StaticFile file{content.str(), std::string(ContentTypeFor(relative))};
    files->files_.emplace(std::move(relative), std::move(file));
  }
  if (ec) return common::Unavailable("cannot list " + dir + ": " + ec.message());
  if (files->Find("") == nullptr) return common::InvalidArgument(dir + " has no index.html (build the console first)");
  return std::shared_ptr<const StaticFiles>(std::move(files));
}

const StaticFile* StaticFiles::Find(std::string_view relative) const {
  if (relative.empty()) relative = "index.html";
  auto it = files_.find(relative);
  return it == files_.end() ? nullptr : &it->second;
}

}  // namespace keyledger::http
