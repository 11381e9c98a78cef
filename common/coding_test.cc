#include "keyledger/common/coding.h"

#include <gtest/gtest.h>

#include <limits>

namespace keyledger::common {
namespace {

TEST(Coding, FixedWidthIntegersAreBigEndianSoBytesSortLikeNumbers) {
  std::string a, b;
  PutFixed64(a, 255);
  PutFixed64(b, 256);
  EXPECT_EQ(a, std::string("\0\0\0\0\0\0\0\xff", 8));
  EXPECT_LT(a, b);
  std::string c;
  PutFixed32(c, 0x01020304);
  EXPECT_EQ(c, "\x01\x02\x03\x04");
  EXPECT_EQ(DecodeFixed32(c), 0x01020304u);
  EXPECT_EQ(DecodeFixed64(b), 256u);
}

TEST(Coding, EveryFieldRoundTrips) {
  Encoder e;
  e.U8(7);
  e.Bool(true);
  e.Fixed32(0xdeadbeef);
  e.Fixed64(std::numeric_limits<std::uint64_t>::max());
  e.Varint(0);
  e.Varint(300);
  e.Varint(std::numeric_limits<std::uint64_t>::max());
  e.SignedVarint(-1);
  e.SignedVarint(std::numeric_limits<std::int64_t>::min());
  e.Bytes("");
  e.Bytes(std::string("a\0b", 3));
  std::array<std::uint8_t, 4> raw{1, 2, 3, 4};
  e.Raw(raw);
  std::string bytes = e.Take();

  Decoder d(bytes);
  EXPECT_EQ(d.U8(), 7);
  EXPECT_TRUE(d.Bool());
  EXPECT_EQ(d.Fixed32(), 0xdeadbeefu);
  EXPECT_EQ(d.Fixed64(), std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(d.Varint(), 0u);
  EXPECT_EQ(d.Varint(), 300u);
  EXPECT_EQ(d.Varint(), std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(d.SignedVarint(), -1);
  EXPECT_EQ(d.SignedVarint(), std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(d.Bytes(), "");
  EXPECT_EQ(d.Bytes(), std::string("a\0b", 3));
  std::array<std::uint8_t, 4> back{};
  d.Raw(back);
  EXPECT_EQ(back, raw);
  EXPECT_TRUE(d.done());
}

TEST(Coding, TruncatedOrOverlongInputFailsOnceAndYieldsZeros) {
  Encoder e;
  e.Bytes("hello");
  std::string bytes = e.Take();
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    Decoder d(std::string_view(bytes).substr(0, cut));
    EXPECT_EQ(d.Bytes(), "");
    EXPECT_TRUE(d.failed()) << cut;
    EXPECT_EQ(d.Fixed64(), 0u);
    EXPECT_FALSE(d.done());
  }
  std::string endless(11, '\x80');
  Decoder d(endless);
  EXPECT_EQ(d.Varint(), 0u);
  EXPECT_TRUE(d.failed());
}

TEST(Coding, TrailingBytesAreNotDone) {
  const std::string bytes("\x01\x02", 2);
  Decoder d(bytes);
  EXPECT_EQ(d.U8(), 1);
  EXPECT_FALSE(d.done());
  EXPECT_EQ(d.remaining(), 1u);
}

}  // namespace
}  // namespace keyledger::common
