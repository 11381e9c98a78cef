// libFuzzer target: the event decoder must return a Status for any input, never crash or throw.
// Build with the `fuzz` preset (clang); run: build/fuzz/events/fuzz_event_decoder
// build/fuzz/fuzz-corpus/fuzz_event_decoder (the build tree's copy of tests/fuzz/events).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "keyledger/events/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto decoded = keyledger::events::Decode(
      std::string_view(reinterpret_cast<const char*>(data), size));
  if (decoded.ok()) {
    // A decodable event must survive a round trip through the encoder unchanged.
    auto encoded = keyledger::events::Encode(*decoded);
    if (!encoded.ok()) __builtin_trap();
    auto again = keyledger::events::Decode(*encoded);
    if (!again.ok() || !(*again == *decoded)) __builtin_trap();
  }
  return 0;
}
