// Locates the real Kafka broker the integration tests run against.
//
// ctest starts one broker per test run (fixture `kafka`, compose/kafka/broker.sh) and passes its
// state directory in KEYLEDGER_BROKER_DIR; KEYLEDGER_BOOTSTRAP overrides it with an external
// broker. Without either, tests that need a broker fail: they are never silently skipped.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <string>

namespace keyledger::testing {

inline std::string BrokerBootstrap() {
  if (const char* env = std::getenv("KEYLEDGER_BOOTSTRAP"); env && *env) return env;
  const char* dir = std::getenv("KEYLEDGER_BROKER_DIR");
  if (dir == nullptr || *dir == '\0') return "";
  std::ifstream in(std::string(dir) + "/bootstrap");
  std::string bootstrap;
  std::getline(in, bootstrap);
  return bootstrap;
}

// A topic name no other test (or earlier run against the same broker) uses.
inline std::string UniqueTopic(const std::string& prefix) {
  std::random_device rd;
  return prefix + "-" + std::to_string(rd()) + std::to_string(rd());
}

}  // namespace keyledger::testing

#define KL_REQUIRE_BROKER(var)                                                              \
  const std::string var = ::keyledger::testing::BrokerBootstrap();                          \
  ASSERT_FALSE(var.empty()) << "no Kafka broker: run through ctest (fixture `kafka`) or set " \
                               "KEYLEDGER_BOOTSTRAP"
