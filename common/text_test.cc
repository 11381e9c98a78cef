#include "keyledger/common/text.h"

#include <gtest/gtest.h>

namespace keyledger::common {
namespace {

TEST(ParseInt64, AcceptsDecimalsInRange) {
  EXPECT_EQ(ParseInt64("0", 0, 10), 0);
  EXPECT_EQ(ParseInt64("007", 0, 10), 7);
  EXPECT_EQ(ParseInt64("-5", -10, 10), -5);
  EXPECT_EQ(ParseInt64("9223372036854775807", 0, INT64_MAX), INT64_MAX);
  EXPECT_EQ(ParseInt64("-9223372036854775808", INT64_MIN, 0), INT64_MIN);
}

TEST(ParseInt64, RejectsEverythingElse) {
  for (const char* bad : {"", "-", "abc", "1a", " 1", "1 ", "+1", "1.0", "0x10", "11",
                          "9223372036854775808", "99999999999999999999"}) {
    EXPECT_FALSE(ParseInt64(bad, 0, 10).has_value()) << bad;
  }
  EXPECT_FALSE(ParseInt64("-1", 0, 10).has_value());
  EXPECT_FALSE(ParseInt64("-9223372036854775809", INT64_MIN, 0).has_value());
}

TEST(TrimSpaces, TrimsSpacesAndTabsOnly) {
  EXPECT_EQ(TrimSpaces(" \tab c\t "), "ab c");
  EXPECT_EQ(TrimSpaces("\n"), "\n");
}

}  // namespace
}  // namespace keyledger::common
