// The broker a whole-path benchmark runs against: $KEYLEDGER_BOOTSTRAP, or a private one started
// with compose/kafka/broker.sh and stopped (its data removed) when the Broker is destroyed.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace keyledger::bench {

struct Broker {
  std::string dir;
  std::string bootstrap;  // empty if no broker could be had
  bool owned = false;
  Broker() {
    if (const char* env = std::getenv("KEYLEDGER_BOOTSTRAP"); env && *env) {
      bootstrap = env;
      return;
    }
    dir = "/tmp/keyledger-bench-broker-" + std::to_string(getpid());
    std::string cmd = "bash '" + std::string(KEYLEDGER_SOURCE_ROOT) + "/compose/kafka/broker.sh' start '" + dir + "'";
    FILE* p = popen(cmd.c_str(), "r");
    char buf[256] = {0};
    if (p && std::fgets(buf, sizeof buf, p)) bootstrap = buf;
    if (p) pclose(p);
    while (!bootstrap.empty() && bootstrap.back() == '\n') bootstrap.pop_back();
    owned = true;
  }
  ~Broker() {
    if (!owned) return;
    std::string cmd = "bash '" + std::string(KEYLEDGER_SOURCE_ROOT) + "/compose/kafka/broker.sh' stop '" + dir +
                      "' >/dev/null 2>&1; rm -rf '" + dir + "'";
    if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "stopping the bench broker failed\n");
  }
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;
};

}  // namespace keyledger::bench
