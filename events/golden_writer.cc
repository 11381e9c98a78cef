// Writes events/testdata/v<current>/*.bin (now v2) from the fixtures and prints their SHA-256 for
// golden_test.cc. Run only when introducing a new schema version; never overwrite old files.
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "event_fixtures.h"
#include "keyledger/events/codec.h"
#include "keyledger/events/hash_chain.h"

int main(int argc, char** argv) {
  using namespace keyledger::events;
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTPUT_DIR\n", argv[0]);
    return 2;
  }
  std::filesystem::path dir(argv[1]);
  std::filesystem::create_directories(dir);
  // The samples of the current schema version (earlier versions' files stay as they were).
  const std::pair<const char*, Event> samples[] = {
      {"key_created.bin", testing::SampleCreatedV2()},
      {"record_skipped.bin", testing::SampleRecordSkipped()},
  };
  for (const auto& [name, event] : samples) {
    if (std::filesystem::exists(dir / name)) {
      std::fprintf(stderr, "refusing to overwrite %s\n", (dir / name).c_str());
      return 1;
    }
    auto bytes = Encode(event);
    if (!bytes.ok()) {
      std::fprintf(stderr, "%s: %s\n", name, bytes.status().ToString().c_str());
      return 1;
    }
    std::ofstream(dir / name, std::ios::binary) << *bytes;
    std::printf("%s %s\n", name, keyledger::common::HexEncode(EventHash(*bytes)).c_str());
  }
  return 0;
}
