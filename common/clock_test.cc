#include "keyledger/common/clock.h"

#include <gtest/gtest.h>

namespace keyledger::common {
namespace {

TEST(Rfc3339, FormatsUtcWithOptionalMicros) {
  EXPECT_EQ(FormatRfc3339(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatRfc3339(1795384512000000), "2026-11-22T21:55:12Z");
  EXPECT_EQ(FormatRfc3339(1795384512000123), "2026-11-22T21:55:12.000123Z");
}

TEST(Rfc3339, ParsesWhatItFormatsAndOffsets) {
  for (std::int64_t t : {0ll, 1795384512000000ll, 1795384512123456ll, 951782400000000ll}) {
    auto parsed = ParseRfc3339(FormatRfc3339(t));
    ASSERT_TRUE(parsed.ok()) << FormatRfc3339(t);
    EXPECT_EQ(*parsed, t);
  }
  EXPECT_EQ(*ParseRfc3339("2026-11-22T22:55:12+01:00"), 1795384512000000);
  EXPECT_EQ(*ParseRfc3339("2026-11-22T21:55:12.5Z"), 1795384512500000);
}

TEST(Rfc3339, RejectsMalformedTimestamps) {
  for (const char* bad : {"", "2026-11-22", "2026-11-22 21:55:12Z", "2026-13-22T21:55:12Z",
                          "2026-11-22T21:55:12", "2026-11-22T21:55:12.Z", "2026-11-22T21:55:12Zjunk"}) {
    EXPECT_FALSE(ParseRfc3339(bad).ok()) << bad;
  }
}

// A day the month does not have is refused, not rolled over into the next month.
TEST(Rfc3339, RejectsDaysTheMonthDoesNotHave) {
  for (const char* bad : {"2029-09-31T00:00:00Z", "2026-02-29T00:00:00Z", "2100-02-29T00:00:00Z", "2026-04-31T12:00:00Z"}) {
    EXPECT_FALSE(ParseRfc3339(bad).ok()) << bad;
  }
  for (const char* good : {"2028-02-29T00:00:00Z", "2000-02-29T00:00:00Z", "2026-12-31T23:59:59Z", "2026-01-31T00:00:00Z"}) {
    EXPECT_TRUE(ParseRfc3339(good).ok()) << good;
  }
}

}  // namespace
}  // namespace keyledger::common
