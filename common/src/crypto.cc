#include "keyledger/common/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <climits>
#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace keyledger::common {

namespace {

struct EvpMdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const noexcept { EVP_MD_CTX_free(ctx); }
};
struct EvpMdDeleter {
  void operator()(EVP_MD* md) const noexcept { EVP_MD_free(md); }
};

constexpr char kHexDigits[] = "0123456789abcdef";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

struct Sha256::State {
  std::unique_ptr<EVP_MD, EvpMdDeleter> md;
  std::unique_ptr<EVP_MD_CTX, EvpMdCtxDeleter> ctx;
};

Sha256::Sha256() : state_(std::make_unique<State>()) {
  // Fetching once avoids OpenSSL 3's implicit per-init algorithm lookup.
  state_->md.reset(EVP_MD_fetch(nullptr, "SHA256", nullptr));
  state_->ctx.reset(EVP_MD_CTX_new());
  // Both fail only when OpenSSL cannot allocate or has no default provider: not recoverable.
  if (!state_->md || !state_->ctx) std::abort();
  Reset();
}

Sha256::~Sha256() = default;

void Sha256::Reset() {
  if (EVP_DigestInit_ex2(state_->ctx.get(), state_->md.get(), nullptr) != 1) std::abort();
}

void Sha256::Update(std::span<const std::uint8_t> bytes) {
  if (EVP_DigestUpdate(state_->ctx.get(), bytes.data(), bytes.size()) != 1) std::abort();
}

void Sha256::Update(std::string_view bytes) {
  Update(std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
}

Sha256Digest Sha256::Finish() {
  Sha256Digest digest{};
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(state_->ctx.get(), digest.data(), &len) != 1 || len != digest.size()) {
    std::abort();
  }
  Reset();
  return digest;
}

Sha256Digest Sha256::Digest(std::string_view bytes) {
  Update(bytes);
  return Finish();
}

Sha256Digest Sha256Of(std::string_view bytes) {
  thread_local Sha256 hasher;
  return hasher.Digest(bytes);
}

Sha256Digest Sha256Of(std::span<const std::uint8_t> bytes) {
  return Sha256Of(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

std::string HexEncode(std::span<const std::uint8_t> bytes) {
  std::string out;
  out.resize(bytes.size() * 2);
  for (size_t i = 0; i < bytes.size(); ++i) {
    out[2 * i] = kHexDigits[bytes[i] >> 4];
    out[2 * i + 1] = kHexDigits[bytes[i] & 0xF];
  }
  return out;
}

Result<Sha256Digest> ParseSha256Hex(std::string_view hex, std::string_view field) {
  if (hex.size() != 64) {
    return InvalidArgument(std::string(field) + " must be 64 hex digits (got " +
                           std::to_string(hex.size()) + " characters)");
  }
  Sha256Digest digest{};
  for (size_t i = 0; i < 32; ++i) {
    int hi = HexValue(hex[2 * i]);
    int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return InvalidArgument(std::string(field) + " must be hex digits only");
    digest[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return digest;
}

bool ConstantTimeEquals(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Status OsRandom::Fill(std::span<std::uint8_t> out) {
  size_t done = 0;
  while (done < out.size()) {
    int chunk = static_cast<int>(std::min<size_t>(out.size() - done, INT_MAX));
    if (RAND_bytes(out.data() + done, chunk) != 1) {
      return Unavailable("the system random generator failed (RAND_bytes)");
    }
    done += static_cast<size_t>(chunk);
  }
  return Status::Ok();
}

std::uint64_t SeededRandom::Next() {
  // splitmix64; the state step is one atomic add, so threads sharing a source never race
  constexpr std::uint64_t kGamma = 0x9E3779B97F4A7C15ull;
  std::uint64_t z = state_.fetch_add(kGamma, std::memory_order_relaxed) + kGamma;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

Status SeededRandom::Fill(std::span<std::uint8_t> out) {
  size_t i = 0;
  while (i < out.size()) {
    std::uint64_t v = Next();
    for (int b = 0; b < 8 && i < out.size(); ++b, ++i) {
      out[i] = static_cast<std::uint8_t>(v >> (8 * b));
    }
  }
  return Status::Ok();
}

Result<std::string> NewUuidV4(RandomSource& random) {
  std::array<std::uint8_t, 16> b{};
  KL_RETURN_IF_ERROR(random.Fill(b));
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0F) | 0x40);
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3F) | 0x80);
  std::string hex = HexEncode(b);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20, 12);
}

bool IsUuid(std::string_view text) {
  if (text.size() != 36) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') return false;
    } else if (HexValue(text[i]) < 0) {
      return false;
    }
  }
  return true;
}

}  // namespace keyledger::common
