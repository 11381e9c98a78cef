// Runs `keyledger serve` (or another serving subcommand) as a child process for end-to-end tests
// and stops it (SIGTERM, then SIGKILL after 20 s) when the test ends.
#pragma once

#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "support/child_process.h"
#include "support/http_client.h"

namespace keyledger::testing {

inline constexpr char kJwtSecret[] = "e2e-secret-0123456789abcdef0123456789";

class ServerProcess {
 public:
  // `keyledger serve` with its state under `dir`.
  ServerProcess(const std::string& bootstrap, const std::string& topic, const std::string& dir,
                std::vector<std::string> extra = {})
      : ServerProcess(Args(bootstrap, topic, dir, std::move(extra)), dir, "server") {}

  // Any keyledger subcommand that takes --port-file (added here) and serves HTTP.
  ServerProcess(std::vector<std::string> args, const std::string& dir, const std::string& name)
      : port_file_(dir + "/" + name + ".port"),
        child_(WithPortFile(std::move(args), port_file_), dir + "/" + name + ".log") {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      std::ifstream in(port_file_);
      int port = 0;
      if (in >> port && port > 0) {
        port_ = static_cast<std::uint16_t>(port);
        break;
      }
      if (child_.Wait(std::chrono::milliseconds(50))) break;
    }
  }
  // 0 if the server did not come up (see log()).
  std::uint16_t port() const { return port_; }
  // Listening comes before the server has caught up with the log: true once /readyz answers 200,
  // false if it has not within `timeout`.
  bool WaitReady(std::chrono::milliseconds timeout) const {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (port_ == 0 || HttpCall(port_, "GET", "/readyz").status != 200) {
      if (port_ == 0 || std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
  }
  const std::string& log() const { return child_.log(); }
  std::string LogText() const { return child_.LogText(); }
  // Graceful stop; returns the exit status (or -1).
  int Stop() { return child_.Stop(); }
  // SIGKILL: a crash at whatever point the server is.
  void Kill() { child_.Kill(); }
  // The exit code if the server has exited within `timeout`.
  std::optional<int> Wait(std::chrono::milliseconds timeout) { return child_.Wait(timeout); }

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
  static std::vector<std::string> WithPortFile(std::vector<std::string> args, const std::string& port_file) {
    std::remove(port_file.c_str());
    args.insert(args.begin(), KEYLEDGER_BINARY);
    args.push_back("--port-file");
    args.push_back(port_file);
    return args;
  }
  std::string port_file_;
  ChildProcess child_;
  std::uint16_t port_ = 0;
};

}  // namespace keyledger::testing
