// libFuzzer target: the secret format check (secret.h) on any input, and secret generation from
// any random stream. Invariants, each a __builtin_trap when broken:
//   - CheckSecretFormat never crashes, and a rejection never echoes the presented body;
//   - a secret that passes is canonical: prefix + body + the one checksum its body has, so it
//     round-trips, every single-character change to it is rejected, and its hash and hint are
//     stable functions of its text;
//   - GenerateSecret always produces a secret that passes, whatever bytes the source hands out;
//   - Crc32 matches a bitwise reference and Base62Fixed decodes back to its value.
// Build with the `fuzz` preset; run: build/fuzz/common/fuzz_secret_parser
// build/fuzz/fuzz-corpus/fuzz_secret_parser (the build tree's copy of tests/fuzz/secret_parser).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "keyledger/common/crypto.h"
#include "keyledger/common/secret.h"

namespace {

using namespace keyledger::common;

constexpr std::string_view kBase62 =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

std::uint32_t ReferenceCrc32(std::string_view bytes) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char b : bytes) {
    crc ^= b;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

int Base62Digit(char c) {
  size_t pos = kBase62.find(c);
  return pos == std::string_view::npos ? -1 : static_cast<int>(pos);
}

// Hands out the fuzzer's bytes first, then a stream seeded by them, so generation terminates
// (its rejection sampling needs bytes below 248 eventually) and covers every byte value.
class ScriptedRandom final : public RandomSource {
 public:
  explicit ScriptedRandom(std::string_view script)
      : script_(script), fallback_(ReferenceCrc32(script) + 1) {}
  Status Fill(std::span<std::uint8_t> out) override {
    for (std::uint8_t& b : out) {
      if (used_ < script_.size()) {
        b = static_cast<std::uint8_t>(script_[used_++]);
      } else {
        std::uint8_t one;
        Status s = fallback_.Fill(std::span<std::uint8_t>(&one, 1));
        if (!s.ok()) return s;
        b = one;
      }
    }
    return Status::Ok();
  }

 private:
  std::string_view script_;
  size_t used_ = 0;
  SeededRandom fallback_;
};

void CheckAcceptedSecret(const std::string& secret) {
  Check(secret.size() == kSecretLength);
  Check(secret.compare(0, kSecretPrefix.size(), kSecretPrefix) == 0);
  std::string_view body = std::string_view(secret).substr(kSecretPrefix.size(), kSecretBodyLength);
  for (char c : body) Check(Base62Digit(c) >= 0);
  // Round trip: the secret is exactly what its body determines.
  std::string rebuilt = std::string(kSecretPrefix) + std::string(body) +
                        Base62Fixed(Crc32(body), kSecretChecksumLength);
  Check(rebuilt == secret);
  // The hash and hint are functions of the text alone.
  SecretHash hash = HashSecret(secret);
  Check(hash == HashSecret(std::string(secret)));
  Check(hash == Sha256Of(secret));
  Check(SecretHint(secret) == secret.substr(secret.size() - kSecretHintLength));
  // CRC-32 catches every single-character substitution in the body or the checksum.
  for (size_t i = kSecretPrefix.size(); i < secret.size(); ++i) {
    std::string typo = secret;
    typo[i] = kBase62[(Base62Digit(typo[i]) + 1 + i) % kBase62.size()];
    if (typo[i] == secret[i]) continue;
    Check(!CheckSecretFormat(typo).ok());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);

  // 1. The input as a presented secret.
  Status checked = CheckSecretFormat(input);
  if (checked.ok()) {
    CheckAcceptedSecret(std::string(input));
  } else {
    Check(checked.code() == StatusCode::kInvalidArgument);
    // Never echo the body: any 12 base62 characters of it must not appear in the message.
    if (input.size() >= kSecretPrefix.size() + 12) {
      std::string_view window = input.substr(kSecretPrefix.size(), 12);
      bool base62 = true;
      for (char c : window) base62 = base62 && Base62Digit(c) >= 0;
      if (base62) Check(checked.message().find(window) == std::string::npos);
    }
  }

  // 2. The input's body with its correct checksum always passes.
  if (size >= kSecretBodyLength) {
    std::string body;
    for (size_t i = 0; i < kSecretBodyLength; ++i) body += kBase62[data[i] % kBase62.size()];
    std::string secret =
        std::string(kSecretPrefix) + body + Base62Fixed(Crc32(body), kSecretChecksumLength);
    Check(CheckSecretFormat(secret).ok());
    CheckAcceptedSecret(secret);
  }

  // 3. Generation from any byte stream yields a secret that passes.
  ScriptedRandom random(input);
  Result<std::string> generated = GenerateSecret(random);
  Check(generated.ok());
  Check(CheckSecretFormat(*generated).ok());
  CheckAcceptedSecret(*generated);

  // 4. The building blocks against references.
  Check(Crc32(input) == ReferenceCrc32(input));
  if (size >= 9) {
    std::uint64_t value;
    std::memcpy(&value, data, sizeof value);
    size_t width = data[8] % 12;
    std::string digits = Base62Fixed(value, width);
    Check(digits.size() == width);
    std::uint64_t decoded = 0, modulus = 1;
    bool wraps = false;
    for (char c : digits) {
      int d = Base62Digit(c);
      Check(d >= 0);
      decoded = decoded * 62 + static_cast<std::uint64_t>(d);
    }
    for (size_t i = 0; i < width && !wraps; ++i) {
      if (modulus > UINT64_MAX / 62) wraps = true;
      modulus *= 62;
    }
    // Fewer digits than the value needs keep its low-order digits.
    if (!wraps) Check(decoded == value % modulus);
  }
  return 0;
}
