#include "keyledger/common/log.h"

#include <gtest/gtest.h>

namespace keyledger::common {
namespace {

TEST(Logger, WritesOneJsonObjectPerLineWithEscapedFields) {
  ManualClock clock(1795384512000000);
  Logger logger(stderr, &clock);
  std::string line = logger.Format(LogLevel::kWarn, "fenced", {{"partition", 3}, {"why", "a\"b\nc"}, {"ok", false}});
  EXPECT_EQ(line,
            "{\"ts\":\"2026-11-22T21:55:12Z\",\"level\":\"warn\",\"msg\":\"fenced\","
            "\"partition\":3,\"why\":\"a\\\"b\\nc\",\"ok\":false}");
}

TEST(JsonString, EscapesControlCharacters) {
  std::string out;
  AppendJsonString(out, std::string_view("\x01\x7f", 2));
  EXPECT_EQ(out, "\"\\u0001\\u007f\"");
}

}  // namespace
}  // namespace keyledger::common
