// Length-prefixed binary encoding for read-model records. Private to projector/.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace keyledger::projector::internal {

class RecordWriter {
 public:
  void U8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void Bool(bool v) { U8(v ? 1 : 0); }
  void Varint(std::uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>((v & 0x7F) | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  void I64(std::int64_t v) { Varint(static_cast<std::uint64_t>(v) << 1 ^ static_cast<std::uint64_t>(v >> 63)); }
  void Bytes(std::string_view s) {
    Varint(s.size());
    out_.append(s);
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

// Reads what RecordWriter wrote; any overrun sets failed() and yields zero values.
class RecordReader {
 public:
  explicit RecordReader(std::string_view in) : in_(in) {}
  std::uint8_t U8() {
    if (pos_ >= in_.size()) return Fail(), 0;
    return static_cast<std::uint8_t>(in_[pos_++]);
  }
  bool Bool() { return U8() != 0; }
  std::uint64_t Varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= in_.size()) return Fail(), 0;
      auto b = static_cast<std::uint8_t>(in_[pos_++]);
      v |= static_cast<std::uint64_t>(b & 0x7F) << shift;
      if ((b & 0x80) == 0) return v;
    }
    return Fail(), 0;
  }
  std::int64_t I64() {
    std::uint64_t u = Varint();
    return static_cast<std::int64_t>(u >> 1) ^ -static_cast<std::int64_t>(u & 1);
  }
  std::string Bytes() {
    std::uint64_t n = Varint();
    if (failed_ || n > in_.size() - pos_) return Fail(), std::string();
    std::string s(in_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  bool failed() const { return failed_; }
  bool done() const { return pos_ == in_.size(); }

 private:
  void Fail() { failed_ = true; }
  std::string_view in_;
  size_t pos_ = 0;
  bool failed_ = false;
};

}  // namespace keyledger::projector::internal
