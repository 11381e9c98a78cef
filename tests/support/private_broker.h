// A broker of the test's own (compose/kafka/broker.sh), for tests that kill and restart it
// without disturbing the shared broker other tests use. Stopped and removed on destruction.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

namespace keyledger::testing {

class PrivateBroker {
 public:
  // With `cut_advertised` ("127.0.0.1:PORT"), the broker also has a CUT listener (cut_port())
  // that advertises that address: where the test's TcpProxy listens (tests/support/tcp_proxy.h).
  explicit PrivateBroker(const std::string& cut_advertised = "") {
    dir_ = (std::filesystem::temp_directory_path() /
            ("keyledger-private-broker-" + std::to_string(std::random_device{}())))
               .string();
    ok_ = Run("start", cut_advertised.empty() ? "" : "KEYLEDGER_BROKER_CUT_ADVERTISED=" + cut_advertised + " ") == 0;
    std::ifstream in(dir_ + "/bootstrap");
    std::getline(in, bootstrap_);
    std::ifstream cut(dir_ + "/cut_port");
    cut >> cut_port_;
  }
  // The broker's CUT listener (0 without one).
  std::uint16_t cut_port() const { return cut_port_; }
  ~PrivateBroker() {
    Run("stop");
    std::filesystem::remove_all(dir_);
    std::filesystem::remove(dir_ + ".script.log");
  }
  bool ok() const { return ok_ && !bootstrap_.empty(); }
  const std::string& bootstrap() const { return bootstrap_; }
  // SIGKILL, keeping data and ports; Resume starts it again as it was.
  bool Kill() { return Run("kill") == 0; }
  bool Resume() { return Run("resume") == 0; }

 private:
  int Run(const std::string& verb, const std::string& env = "") {
    std::string cmd = env + "bash '" + std::string(KEYLEDGER_SOURCE_ROOT) + "/compose/kafka/broker.sh' " +
                      verb + " '" + dir_ + "' >/dev/null 2>>'" + dir_ + ".script.log'";
    return std::system(cmd.c_str());
  }
  std::string dir_;
  std::string bootstrap_;
  bool ok_ = false;
  std::uint16_t cut_port_ = 0;
};

}  // namespace keyledger::testing
