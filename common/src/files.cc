#include "keyledger/common/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace keyledger::common {

namespace {

namespace fs = std::filesystem;

Status IoError(const std::string& what, const std::string& path, int error) {
  return Unavailable(what + " " + path + ": " + std::strerror(error));
}

std::string DirectoryOf(const std::string& path) {
  fs::path parent = fs::path(path).parent_path();
  return parent.empty() ? "." : parent.string();
}

Status SyncDirectory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return IoError("cannot open directory", dir, errno);
  int rc = ::fsync(fd);
  int error = errno;
  ::close(fd);
  if (rc != 0) return IoError("cannot fsync directory", dir, error);
  return Status::Ok();
}

class PosixFileSystem final : public FileSystem {
 public:
  Result<std::string> ReadFile(const std::string& path) const override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return NotFound("no file " + path);
      return IoError("cannot open", path, errno);
    }
    std::string out;
    char buffer[1 << 16];
    while (true) {
      ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n < 0) {
        if (errno == EINTR) continue;
        int error = errno;
        ::close(fd);
        return IoError("cannot read", path, error);
      }
      if (n == 0) break;
      out.append(buffer, static_cast<size_t>(n));
    }
    ::close(fd);
    return out;
  }

  Status WriteFileDurably(const std::string& path, std::string_view content) override {
    std::string tmp = path + ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return IoError("cannot create", tmp, errno);
    size_t written = 0;
    while (written < content.size()) {
      ssize_t n = ::write(fd, content.data() + written, content.size() - written);
      if (n < 0) {
        if (errno == EINTR) continue;
        int error = errno;
        ::close(fd);
        ::unlink(tmp.c_str());
        return IoError("cannot write", tmp, error);
      }
      written += static_cast<size_t>(n);
    }
    if (::fsync(fd) != 0) {
      int error = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return IoError("cannot fsync", tmp, error);
    }
    if (::close(fd) != 0) {
      int error = errno;
      ::unlink(tmp.c_str());
      return IoError("cannot close", tmp, error);
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
      int error = errno;
      ::unlink(tmp.c_str());
      return IoError("cannot rename " + tmp + " to", path, error);
    }
    return SyncDirectory(DirectoryOf(path));
  }

  bool Exists(const std::string& path) const override {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0;
  }

  Status CreateDirectories(const std::string& path) override {
    std::error_code ec;
    fs::create_directories(path, ec);
    if (ec) return Unavailable("cannot create " + path + ": " + ec.message());
    return Status::Ok();
  }

  Status RemoveFile(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) {
      if (errno == ENOENT) return Status::Ok();
      return IoError("cannot remove", path, errno);
    }
    return SyncDirectory(DirectoryOf(path));
  }

  Status RemoveAll(const std::string& path) override {
    std::error_code ec;
    fs::remove_all(path, ec);
    if (ec) return Unavailable("cannot remove " + path + ": " + ec.message());
    return Status::Ok();
  }

  Result<std::vector<std::string>> ListDirectory(const std::string& path) const override {
    std::error_code ec;
    std::vector<std::string> names;
    fs::directory_iterator it(path, ec);
    if (ec) {
      if (ec == std::errc::no_such_file_or_directory) return NotFound("no directory " + path);
      return Unavailable("cannot list " + path + ": " + ec.message());
    }
    for (; it != fs::directory_iterator(); it.increment(ec)) {
      if (ec) return Unavailable("cannot list " + path + ": " + ec.message());
      names.push_back(it->path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  Result<std::uint64_t> FreeBytes(const std::string& path) const override {
    struct statvfs st;
    if (::statvfs(path.c_str(), &st) != 0) return IoError("cannot stat the filesystem of", path, errno);
    return static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize;
  }
};

}  // namespace

FileSystem* DefaultFileSystem() {
  static PosixFileSystem files;
  return &files;
}

std::string JoinPath(std::string_view dir, std::string_view name) {
  std::string out(dir);
  if (!out.empty() && out.back() != '/') out.push_back('/');
  out += name;
  return out;
}

}  // namespace keyledger::common
