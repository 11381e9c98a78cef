// A broker of the test's own (compose/kafka/broker.sh), for tests that kill and restart it
// without disturbing the shared broker other tests use. Stopped and removed on destruction.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

namespace keyledger::testing {

class PrivateBroker {
 public:
  PrivateBroker() {
    dir_ = (std::filesystem::temp_directory_path() /
            ("keyledger-private-broker-" + std::to_string(std::random_device{}())))
               .string();
    ok_ = Run("start") == 0;
    std::ifstream in(dir_ + "/bootstrap");
    std::getline(in, bootstrap_);
  }
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
  int Run(const std::string& verb) {
    std::string cmd = "bash '" + std::string(KEYLEDGER_SOURCE_ROOT) + "/compose/kafka/broker.sh' " +
                      verb + " '" + dir_ + "' >/dev/null 2>>'" + dir_ + ".script.log'";
    return std::system(cmd.c_str());
  }
  std::string dir_;
  std::string bootstrap_;
  bool ok_ = false;
};

}  // namespace keyledger::testing
