// Golden encoded events: bytes written once by events_golden_writer and checked in under
// events/testdata/v<N>/. They are decoded by this test forever; a schema change that cannot read
// them (or changes their hash, which would break existing hash chains) fails here. Never
// regenerate existing files: add a new version directory instead.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <vector>

#include "event_fixtures.h"
#include "keyledger/events/codec.h"
#include "keyledger/events/hash_chain.h"

namespace keyledger::events {
namespace {

std::string ReadGolden(const std::string& name, const std::string& version = "v1") {
  std::string path = std::string(KEYLEDGER_SOURCE_ROOT) + "/events/testdata/" + version + "/" + name;
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
// Schema version 2: a creation with an expiry, and an operator's skip of a bad record.
constexpr char V2_KEY_CREATED_SHA256[] = "4a7fcd94ac56505dfbb418a76995e8a5f07ef964a76377b6d4374ec3877a9f77";
constexpr char V2_RECORD_SKIPPED_SHA256[] = "b9f77463b3aab429fd2677ac1ce6987f25121340dbf5aa0f88dcc90183c9cb00";

struct Golden {
  const char* file;
  Event expected;
  const char* sha256;  // Of the file's bytes: pins the encoding the hash chain depends on.
};

// Each file decodes to its fixture, with `schema_version`, and hashes as recorded.
void ExpectGoldens(const std::string& version, std::uint16_t schema_version, const std::vector<Golden>& goldens) {
  for (const Golden& g : goldens) {
    SCOPED_TRACE(version + "/" + g.file);
    std::string bytes = ReadGolden(g.file, version);
    ASSERT_FALSE(bytes.empty());
    auto decoded = Decode(bytes);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(decoded->schema_version, schema_version);
    EXPECT_EQ(*decoded, g.expected);
    EXPECT_EQ(common::HexEncode(EventHash(bytes)), g.sha256);
  }
}

TEST(GoldenEvents, SchemaVersion1DecodesForever) {
  ExpectGoldens("v1", 1,
                {
                    {"key_created.bin", testing::SampleCreated(), KEY_CREATED_SHA256},
                    {"key_renamed.bin", testing::SampleRenamed(), KEY_RENAMED_SHA256},
                    {"key_regenerated.bin", testing::SampleRegenerated(), KEY_REGENERATED_SHA256},
                    {"key_deleted.bin", testing::SampleDeleted(), KEY_DELETED_SHA256},
                });
}

TEST(GoldenEvents, SchemaVersion2DecodesForever) {
  ExpectGoldens("v2", 2,
                {
                    {"key_created.bin", testing::SampleCreatedV2(), V2_KEY_CREATED_SHA256},
                    {"record_skipped.bin", testing::SampleRecordSkipped(), V2_RECORD_SKIPPED_SHA256},
                });
}

}  // namespace
}  // namespace keyledger::events
