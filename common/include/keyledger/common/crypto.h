// SHA-256, hex, constant-time comparison and the CSPRNG, over OpenSSL. The only place in
// keyledger that includes OpenSSL's digest and random headers.
//
// Thread: Sha256 objects are single-threaded (one per thread); the free functions are
// thread-safe (they use a thread-local Sha256).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "keyledger/common/status.h"

namespace keyledger::common {

using Sha256Digest = std::array<std::uint8_t, 32>;

// Incremental SHA-256 that keeps its OpenSSL context for reuse (no per-call allocation).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Reset();
  void Update(std::span<const std::uint8_t> bytes);
  void Update(std::string_view bytes);
  Sha256Digest Finish();  // Also resets, so the object can hash the next input.

  // One-shot digest of `bytes`.
  Sha256Digest Digest(std::string_view bytes);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

Sha256Digest Sha256Of(std::string_view bytes);
Sha256Digest Sha256Of(std::span<const std::uint8_t> bytes);

std::string HexEncode(std::span<const std::uint8_t> bytes);
// 64 lower- or upper-case hex digits -> digest; InvalidArgument naming `field` otherwise.
Result<Sha256Digest> ParseSha256Hex(std::string_view hex, std::string_view field);

// Compares without data-dependent timing (CRYPTO_memcmp); different lengths compare unequal.
bool ConstantTimeEquals(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b);
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// Source of randomness, injected so tests can be deterministic. Secrets, key ids and event ids
// in production come from OsRandom only.
// Implementations are thread-safe: the writer's thread and the callers that hand it commands
// (tests, the API) may draw from one source at once.
class RandomSource {
 public:
  virtual ~RandomSource() = default;
  // Fills `out` entirely or returns Unavailable.
  virtual Status Fill(std::span<std::uint8_t> out) = 0;
};

// OpenSSL's CSPRNG (RAND_bytes). Thread-safe.
class OsRandom final : public RandomSource {
 public:
  Status Fill(std::span<std::uint8_t> out) override;
};

// Reproducible pseudo-random bytes for tests and benchmarks; never for secrets in production.
// Thread-safe (each Next() is one atomic step of the state); reproducible when one thread draws.
class SeededRandom final : public RandomSource {
 public:
  explicit SeededRandom(std::uint64_t seed) : state_(seed ? seed : 0x9E3779B97F4A7C15ull) {}
  Status Fill(std::span<std::uint8_t> out) override;
  std::uint64_t Next();

 private:
  std::atomic<std::uint64_t> state_;
};

// Random (version 4) UUID in the canonical 8-4-4-4-12 lower-case form.
Result<std::string> NewUuidV4(RandomSource& random);
bool IsUuid(std::string_view text);

}  // namespace keyledger::common
