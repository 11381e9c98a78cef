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

// Regression (found by fuzz_api_request): bytes from a request that are not UTF-8 went into JSON
// as they were, which makes the whole line or body invalid JSON.
TEST(JsonString, ReplacesBytesThatAreNotUtf8) {
  std::string out;
  AppendJsonString(out, std::string_view("a\xff\xc3", 3));
  EXPECT_EQ(out, "\"a\xEF\xBF\xBD\xEF\xBF\xBD\"");
}

TEST(Utf8, KeepsWellFormedSequencesAndReplacesEveryOtherByte) {
  const std::string kReplacement = "\xEF\xBF\xBD";
  for (const char* valid : {"plain", "caf\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9D\x84\x9E", "\xEF\xBF\xBF",
                            "\xF4\x8F\xBF\xBF"}) {
    EXPECT_EQ(ToValidUtf8(valid), valid);
  }
  EXPECT_EQ(ToValidUtf8("\x80"), kReplacement);                          // stray continuation
  EXPECT_EQ(ToValidUtf8("\xC3"), kReplacement);                          // truncated
  EXPECT_EQ(ToValidUtf8("\xC0\xAF"), kReplacement + kReplacement);       // overlong '/'
  EXPECT_EQ(ToValidUtf8("\xE0\x80\xAF"), kReplacement + kReplacement + kReplacement);  // overlong
  EXPECT_EQ(ToValidUtf8("\xED\xA0\x80"), kReplacement + kReplacement + kReplacement);  // surrogate
  EXPECT_EQ(ToValidUtf8("\xF4\x90\x80\x80").size(), 4 * kReplacement.size());        // > U+10FFFF
  EXPECT_EQ(ToValidUtf8("\xFFok\xC3\xA9"), kReplacement + "ok\xC3\xA9");
  EXPECT_EQ(ToValidUtf8(std::string_view("a\0b", 3)), std::string("a\0b", 3));
}

TEST(JsonString, EscapesControlCharacters) {
  std::string out;
  AppendJsonString(out, std::string_view("\x01\x7f", 2));
  EXPECT_EQ(out, "\"\\u0001\\u007f\"");
}

}  // namespace
}  // namespace keyledger::common
