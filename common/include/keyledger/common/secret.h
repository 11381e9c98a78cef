// Model access key secrets (SPEC section 2).
//
// Format: "sk-do-v1-" + 42 base62 characters drawn from a CSPRNG (250 bits) + the CRC32 of the
// body as 6 base62 digits. The checksum lets a validator reject mistyped or truncated secrets
// offline. A secret is shown once; only its SHA-256 and a 4-character hint are ever kept.
// Nothing here puts the secret into an error message.
// Thread: free functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "keyledger/common/crypto.h"
#include "keyledger/common/status.h"

namespace keyledger::common {

using SecretHash = Sha256Digest;

inline constexpr std::string_view kSecretPrefix = "sk-do-v1-";
inline constexpr size_t kSecretBodyLength = 42;
inline constexpr size_t kSecretChecksumLength = 6;
inline constexpr size_t kSecretLength = kSecretPrefix.size() + kSecretBodyLength + kSecretChecksumLength;
inline constexpr size_t kSecretHintLength = 4;

// A new secret from `random` (OsRandom in production). The random bytes it was made from are
// wiped; the caller wipes the secret (Wipe) once it has been shown.
Result<std::string> GenerateSecret(RandomSource& random);

// The longest secret looked up (legacy secrets of older systems included).
inline constexpr size_t kMaxPresentedSecretLength = 512;

// Whether `secret` may be a secret at all: 1 to kMaxPresentedSecretLength printable ASCII
// characters without spaces, and, if it has the sk-do-v1- prefix, a valid keyledger secret
// (a mistyped one is refused without a lookup). Legacy secrets of any other format pass: they
// are known by their SHA-256 only. InvalidArgument saying which check failed, never echoing.
Status CheckPresentedSecret(std::string_view secret);

// Overwrites the bytes of `text` (OPENSSL_cleanse, which the compiler cannot elide), then empties
// it: for plaintext secrets once they are no longer needed.
void Wipe(std::string& text);

// OK when `secret` has the prefix, length, alphabet and checksum of a keyledger secret;
// otherwise InvalidArgument saying which check failed (never echoing the input).
Status CheckSecretFormat(std::string_view secret);

SecretHash HashSecret(std::string_view secret);

// The last 4 characters, shown in lists so users can tell keys apart.
std::string SecretHint(std::string_view secret);

// CRC-32 (IEEE 802.3, as zlib computes it).
std::uint32_t Crc32(std::string_view bytes);

// `value` as exactly `width` base62 digits (0-9A-Za-z), most significant first.
std::string Base62Fixed(std::uint64_t value, size_t width);

}  // namespace keyledger::common
