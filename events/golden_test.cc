// Golden encoded events: bytes written once by events_golden_writer and checked in under
// events/testdata/v<N>/. They are decoded by this test forever; a schema change that cannot read
// them (or changes their hash, which would break existing hash chains) fails here. Never
// regenerate existing files: add a new version directory instead.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "event_fixtures.h"
#include "keyledger/events/codec.h"
#include "keyledger/events/hash_chain.h"

namespace keyledger::events {
namespace {

std::string ReadGolden(const std::string& name) {
  std::string path = std::string(KEYLEDGER_SOURCE_ROOT) + "/events/testdata/v1/" + name;
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing golden file " << path;
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// SHA-256 of each golden file, recorded when it was written.
constexpr char KEY_CREATED_SHA256[] = "b03770cf33312042232562a1613bdead316f84a35c2695bb65a4880b23bb542a";
constexpr char KEY_RENAMED_SHA256[] = "d7e5990f18b2dd3090077af2ed4b39373f0c995f65fe415e16a5f484cbe4a16f";
constexpr char KEY_REGENERATED_SHA256[] = "4d92ee7111d059392f80af8d33cb4bdbfce8b9b5d82981bebefcc1e95cfaff0e";
constexpr char KEY_DELETED_SHA256[] = "484fe08bbbb88ceeb9c716fbfad8193329bfbdb2485cd18e484c9b040f7da1bf";

struct Golden {
  const char* file;
  Event expected;
  const char* sha256;  // Of the file's bytes: pins the encoding the hash chain depends on.
};

TEST(GoldenEvents, SchemaVersion1DecodesForever) {
  const Golden goldens[] = {
      {"key_created.bin", testing::SampleCreated(), KEY_CREATED_SHA256},
      {"key_renamed.bin", testing::SampleRenamed(), KEY_RENAMED_SHA256},
      {"key_regenerated.bin", testing::SampleRegenerated(), KEY_REGENERATED_SHA256},
      {"key_deleted.bin", testing::SampleDeleted(), KEY_DELETED_SHA256},
  };
  for (const Golden& g : goldens) {
    SCOPED_TRACE(g.file);
    std::string bytes = ReadGolden(g.file);
    ASSERT_FALSE(bytes.empty());
    auto decoded = Decode(bytes);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(decoded->schema_version, 1);
    EXPECT_EQ(*decoded, g.expected);
    EXPECT_EQ(common::HexEncode(EventHash(bytes)), g.sha256);
  }
}

}  // namespace
}  // namespace keyledger::events
