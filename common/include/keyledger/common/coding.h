// The one endian-neutral codec of keyledger (LevelDB's util/coding.h): every integer that crosses
// the disk or the wire (store keys, read-model records, the validator snapshot) goes through it.
//
//   Fixed32 / Fixed64  big-endian, so byte order is numeric order (store keys sort by them)
//   Varint             LEB128, 1 to 10 bytes; SignedVarint zig-zags first
//   Bytes              a Varint length, then the bytes
//
// Encoder appends to a string it owns; Decoder reads a view and, on any overrun or malformed
// varint, sets failed() and returns zero values from then on, so a caller checks once at the end.
// Thread: values; one thread at a time per object.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace keyledger::common {

inline void PutFixed32(std::string& out, std::uint32_t v) {
  char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
               static_cast<char>(v)};
  out.append(b, 4);
}

inline void PutFixed64(std::string& out, std::uint64_t v) {
  PutFixed32(out, static_cast<std::uint32_t>(v >> 32));
  PutFixed32(out, static_cast<std::uint32_t>(v));
}

// `bytes` must hold at least 4 (8) bytes.
inline std::uint32_t DecodeFixed32(std::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  return static_cast<std::uint32_t>(p[0]) << 24 | static_cast<std::uint32_t>(p[1]) << 16 |
         static_cast<std::uint32_t>(p[2]) << 8 | static_cast<std::uint32_t>(p[3]);
}

inline std::uint64_t DecodeFixed64(std::string_view bytes) {
  return static_cast<std::uint64_t>(DecodeFixed32(bytes)) << 32 | DecodeFixed32(bytes.substr(4));
}

inline std::string Fixed64String(std::uint64_t v) {
  std::string s;
  PutFixed64(s, v);
  return s;
}

inline void PutVarint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

class Encoder {
 public:
  void U8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void Bool(bool v) { U8(v ? 1 : 0); }
  void Fixed32(std::uint32_t v) { PutFixed32(out_, v); }
  void Fixed64(std::uint64_t v) { PutFixed64(out_, v); }
  void Varint(std::uint64_t v) { PutVarint(out_, v); }
  void SignedVarint(std::int64_t v) {
    Varint(static_cast<std::uint64_t>(v) << 1 ^ static_cast<std::uint64_t>(v >> 63));
  }
  void Bytes(std::string_view s) {
    Varint(s.size());
    out_.append(s);
  }
  // Bytes of a known, fixed length (a digest): no length prefix.
  template <size_t N>
  void Raw(const std::array<std::uint8_t, N>& bytes) {
    out_.append(reinterpret_cast<const char*>(bytes.data()), N);
  }
  const std::string& view() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

class Decoder {
 public:
  explicit Decoder(std::string_view in) : in_(in) {}
  std::uint8_t U8() {
    if (!Need(1)) return 0;
    return static_cast<std::uint8_t>(in_[pos_++]);
  }
  bool Bool() { return U8() != 0; }
  std::uint32_t Fixed32() {
    if (!Need(4)) return 0;
    std::uint32_t v = DecodeFixed32(in_.substr(pos_));
    pos_ += 4;
    return v;
  }
  std::uint64_t Fixed64() {
    if (!Need(8)) return 0;
    std::uint64_t v = DecodeFixed64(in_.substr(pos_));
    pos_ += 8;
    return v;
  }
  std::uint64_t Varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64 && !failed_; shift += 7) {
      if (!Need(1)) return 0;
      auto b = static_cast<std::uint8_t>(in_[pos_++]);
      v |= static_cast<std::uint64_t>(b & 0x7F) << shift;
      if ((b & 0x80) == 0) return v;
    }
    failed_ = true;
    return 0;
  }
  std::int64_t SignedVarint() {
    std::uint64_t u = Varint();
    return static_cast<std::int64_t>(u >> 1) ^ -static_cast<std::int64_t>(u & 1);
  }
  // A view into the input: it lives as long as the input does.
  std::string_view BytesView() {
    std::uint64_t n = Varint();
    if (failed_ || n > in_.size() - pos_) {
      failed_ = true;
      return {};
    }
    std::string_view s = in_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  std::string Bytes() { return std::string(BytesView()); }
  template <size_t N>
  void Raw(std::array<std::uint8_t, N>& out) {
    if (!Need(N)) return;
    std::memcpy(out.data(), in_.data() + pos_, N);
    pos_ += N;
  }
  bool failed() const { return failed_; }
  // Everything was read and nothing failed.
  bool done() const { return !failed_ && pos_ == in_.size(); }
  size_t remaining() const { return failed_ ? 0 : in_.size() - pos_; }

 private:
  bool Need(size_t n) {
    if (failed_ || in_.size() - pos_ < n) {
      failed_ = true;
      return false;
    }
    return true;
  }
  std::string_view in_;
  size_t pos_ = 0;
  bool failed_ = false;
};

}  // namespace keyledger::common
