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

  // Any keyledger subcommand that takes --port-file (added here) and serves HTTP. A validator
  // also gets its admin listener on a free port (--admin-listen, --admin-port-file): admin_port().
  ServerProcess(std::vector<std::string> args, const std::string& dir, const std::string& name)
      : port_file_(dir + "/" + name + ".port"),
        admin_port_file_(!args.empty() && args[0] == "validator" ? dir + "/" + name + ".admin.port" : ""),
        child_(WithPortFile(std::move(args), port_file_, admin_port_file_), dir + "/" + name + ".log") {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      port_ = ReadPort(port_file_);
      if (!admin_port_file_.empty()) admin_port_ = ReadPort(admin_port_file_);
      if (port_ != 0 && (admin_port_file_.empty() || admin_port_ != 0)) break;
      if (child_.Wait(std::chrono::milliseconds(50))) break;
    }
    if (admin_port_file_.empty()) admin_port_ = port_;
  }
  // 0 if the server did not come up (see log()).
  std::uint16_t port() const { return port_; }
  // Where /healthz, /readyz and /metrics are: a validator's admin listener, else port().
  std::uint16_t admin_port() const { return admin_port_; }
  // Listening comes before the server has caught up with the log: true once /readyz answers 200,
  // false if it has not within `timeout`.
  bool WaitReady(std::chrono::milliseconds timeout) const {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (admin_port_ == 0 || HttpCall(admin_port_, "GET", "/readyz").status != 200) {
      if (admin_port_ == 0 || std::chrono::steady_clock::now() >= deadline) return false;
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
  static std::vector<std::string> WithPortFile(std::vector<std::string> args, const std::string& port_file,
                                               const std::string& admin_port_file) {
    std::remove(port_file.c_str());
    args.insert(args.begin(), KEYLEDGER_BINARY);
    args.push_back("--port-file");
    args.push_back(port_file);
    if (!admin_port_file.empty()) {
      std::remove(admin_port_file.c_str());
      args.insert(args.end(), {"--admin-listen", "127.0.0.1:0", "--admin-port-file", admin_port_file});
    }
    return args;
  }
  static std::uint16_t ReadPort(const std::string& file) {
    std::ifstream in(file);
    int port = 0;
    return in >> port && port > 0 && port < 65536 ? static_cast<std::uint16_t>(port) : 0;
  }
  std::string port_file_;
  std::string admin_port_file_;
  ChildProcess child_;
  std::uint16_t port_ = 0;
  std::uint16_t admin_port_ = 0;
};

}  // namespace keyledger::testing
