// A child process of a test (usually the keyledger binary): its stderr goes to a log file, stdout
// to /dev/null (ctest's pipe stays free), and it dies with the test process (PR_SET_PDEATHSIG), so
// a crashed test never leaves it behind. Destruction stops it: SIGTERM, then SIGKILL after 20 s.
#pragma once

#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace keyledger::testing {

struct ChildOptions {
  // RLIMIT_FSIZE for the child (0: unlimited). SIGXFSZ is ignored, so a write past the limit fails
  // with EFBIG the way a full disk fails with ENOSPC.
  std::uint64_t file_size_limit = 0;
  // Standard output into the log too (commands that print their answer); otherwise /dev/null.
  bool stdout_to_log = false;
};

class ChildProcess {
 public:
  ChildProcess(std::vector<std::string> args, std::string log_path, ChildOptions options = {})
      : log_(std::move(log_path)) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::fflush(nullptr);  // or the child's freopen would write our buffered output a second time
    pid_ = fork();
    if (pid_ == 0) {
      FILE* f = std::freopen(log_.c_str(), "a", stderr);
      (void)f;
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      FILE* out = std::freopen(options.stdout_to_log ? log_.c_str() : "/dev/null", options.stdout_to_log ? "a" : "w", stdout);
      (void)out;
      if (options.file_size_limit > 0) {
        signal(SIGXFSZ, SIG_IGN);
        rlimit limit{options.file_size_limit, options.file_size_limit};
        setrlimit(RLIMIT_FSIZE, &limit);
      }
      // The child gets stdin, stdout and stderr only: a socket of the test's (a TcpProxy's
      // connection or listener) inherited by a child would stay open after the test closes it.
      close_range(3, ~0u, 0);
      execv(argv[0], argv.data());
      _exit(127);
    }
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess() { Stop(); }

  bool running() const { return pid_ > 0; }
  const std::string& log() const { return log_; }
  std::string LogText() const {
    std::ifstream in(log_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  // The exit code once the child has exited (128 + signal if a signal ended it), or nullopt if it
  // is still running after `timeout`.
  std::optional<int> Wait(std::chrono::milliseconds timeout) {
    if (pid_ <= 0) return exit_code_;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        Reap(status);
        return exit_code_;
      }
      if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  // SIGKILL, the crash at a random point; returns once the child is gone.
  void Kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    Reap(status);
  }
  // Graceful stop (SIGTERM, SIGKILL after 20 s); returns the exit code (or -1 if never started).
  int Stop() {
    if (pid_ <= 0) return exit_code_.value_or(-1);
    ::kill(pid_, SIGTERM);
    if (!Wait(std::chrono::seconds(20))) Kill();
    return exit_code_.value_or(-1);
  }

 private:
  void Reap(int status) {
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    pid_ = -1;
  }
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  std::string log_;
};

}  // namespace keyledger::testing
