#include "keyledger/common/secret.h"

#include <openssl/crypto.h>

#include <array>

namespace keyledger::common {

namespace {

constexpr std::string_view kBase62 =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

constexpr std::array<std::uint32_t, 256> MakeCrcTable() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}

constexpr std::array<std::uint32_t, 256> kCrcTable = MakeCrcTable();

bool IsBase62(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

}  // namespace

std::uint32_t Crc32(std::string_view bytes) {
  std::uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : bytes) c = kCrcTable[(c ^ b) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

std::string Base62Fixed(std::uint64_t value, size_t width) {
  std::string out(width, '0');
  for (size_t i = width; i-- > 0;) {
    out[i] = kBase62[value % 62];
    value /= 62;
  }
  return out;
}

Result<std::string> GenerateSecret(RandomSource& random) {
  std::string secret(kSecretPrefix);
  secret.reserve(kSecretLength);
  std::array<std::uint8_t, 64> pool{};
  size_t used = pool.size();
  while (secret.size() < kSecretPrefix.size() + kSecretBodyLength) {
    if (used == pool.size()) {
      KL_RETURN_IF_ERROR(random.Fill(pool));
      used = 0;
    }
    std::uint8_t b = pool[used++];
    // Rejection sampling: 248 = 4 * 62, so `b % 62` is uniform over the accepted bytes.
    if (b >= 248) continue;
    secret.push_back(kBase62[b % 62]);
  }
  OPENSSL_cleanse(pool.data(), pool.size());
  std::string_view body(secret.data() + kSecretPrefix.size(), kSecretBodyLength);
  secret += Base62Fixed(Crc32(body), kSecretChecksumLength);
  return secret;
}

Status CheckPresentedSecret(std::string_view secret) {
  if (secret.empty()) return InvalidArgument("the secret is empty");
  if (secret.size() > kMaxPresentedSecretLength) {
    return InvalidArgument("the secret is longer than " + std::to_string(kMaxPresentedSecretLength) + " characters");
  }
  for (unsigned char c : secret) {
    if (c <= 0x20 || c >= 0x7f) return InvalidArgument("the secret has a character that is not printable ASCII");
  }
  if (secret.substr(0, kSecretPrefix.size()) == kSecretPrefix) return CheckSecretFormat(secret);
  return Status::Ok();
}

void Wipe(std::string& text) {
  if (!text.empty()) OPENSSL_cleanse(text.data(), text.size());
  text.clear();
}

Status CheckSecretFormat(std::string_view secret) {
  if (secret.substr(0, kSecretPrefix.size()) != kSecretPrefix) {
    return InvalidArgument("secret does not start with sk-do-v1-");
  }
  if (secret.size() != kSecretLength) {
    return InvalidArgument("secret has " + std::to_string(secret.size()) +
                           " characters, expected " + std::to_string(kSecretLength));
  }
  std::string_view rest = secret.substr(kSecretPrefix.size());
  for (char c : rest) {
    if (!IsBase62(c)) return InvalidArgument("secret contains a character outside base62");
  }
  std::string_view body = rest.substr(0, kSecretBodyLength);
  std::string_view checksum = rest.substr(kSecretBodyLength);
  std::string expected = Base62Fixed(Crc32(body), kSecretChecksumLength);
  if (!ConstantTimeEquals(checksum, expected)) {
    return InvalidArgument("secret checksum does not match (mistyped or truncated secret)");
  }
  return Status::Ok();
}

SecretHash HashSecret(std::string_view secret) { return Sha256Of(secret); }

std::string SecretHint(std::string_view secret) {
  if (secret.size() <= kSecretHintLength) return std::string(secret);
  return std::string(secret.substr(secret.size() - kSecretHintLength));
}

}  // namespace keyledger::common
