// Runs `keyledger serve` as a child process for end-to-end tests and stops it (SIGTERM, then
// SIGKILL after 20 s) when the test ends.
#pragma once

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace keyledger::testing {

inline constexpr char kJwtSecret[] = "e2e-secret-0123456789abcdef0123456789";

class ServerProcess {
 public:
  // `keyledger serve` with its state under `dir`.
  ServerProcess(const std::string& bootstrap, const std::string& topic, const std::string& dir,
                std::vector<std::string> extra = {})
      : ServerProcess(Args(bootstrap, topic, dir, std::move(extra)), dir, "server") {}

  // Any keyledger subcommand that takes --port-file (added here) and serves HTTP.
  ServerProcess(std::vector<std::string> args, const std::string& dir, const std::string& name) {
    port_file_ = dir + "/" + name + ".port";
    std::remove(port_file_.c_str());
    args.insert(args.begin(), KEYLEDGER_BINARY);
    args.push_back("--port-file");
    args.push_back(port_file_);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    log_ = dir + "/" + name + ".log";
    pid_ = fork();
    if (pid_ == 0) {
      FILE* f = std::freopen(log_.c_str(), "a", stderr);
      (void)f;
      // Die with the test process, and keep ctest's output pipe free, so a crashed test
      // never leaves a server behind or hangs ctest.
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      FILE* out = std::freopen("/dev/null", "w", stdout);
      (void)out;
      execv(KEYLEDGER_BINARY, argv.data());
      _exit(127);
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      std::ifstream in(port_file_);
      int port = 0;
      if (in >> port && port > 0) {
        port_ = static_cast<std::uint16_t>(port);
        break;
      }
      int status;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ~ServerProcess() { Stop(); }
  // 0 if the server did not come up (see log()).
  std::uint16_t port() const { return port_; }
  const std::string& log() const { return log_; }
  // Graceful stop; returns the exit status (or -1).
  int Stop() {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGTERM);
    int status = 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  static std::vector<std::string> Args(const std::string& bootstrap, const std::string& topic,
                                       const std::string& dir, std::vector<std::string> extra) {
    std::vector<std::string> args = {"serve", "--bootstrap", bootstrap, "--topic", topic,
                                     "--db", dir + "/db", "--listen", "127.0.0.1:0",
                                     "--jwt-secret", kJwtSecret, "--partitions", "3",
                                     "--commands-per-second", "1000"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  std::string port_file_;
  std::string log_;
};

}  // namespace keyledger::testing
