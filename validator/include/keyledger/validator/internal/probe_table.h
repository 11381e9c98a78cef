// A linear-probing hash table over fixed-size entries, the one used for both of the secret
// index's tables (secret hash -> key, key id -> slot). Each entry carries a state byte: empty,
// live, or a tombstone left by an erase. A lookup probes from the hash's home slot to the first
// empty slot; an insert reuses the first tombstone on that path once it knows the entry is not
// already there. The table grows (doubling) before it is 70% used, tombstones included.
// Internal to validator/ (only secret_index.h includes it). Thread: the owner's lock.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace keyledger::validator::internal {

enum EntryState : std::uint8_t { kEmpty = 0, kLive = 1, kTombstone = 2 };
inline constexpr size_t kNpos = static_cast<size_t>(-1);

template <class Entry>
class ProbeTable {
 public:
  explicit ProbeTable(size_t capacity = 1024) : entries_(capacity) {}

  // The live entry `same` accepts among those of `hash`; kNpos if none.
  template <class Same>
  size_t Find(std::uint64_t hash, const Same& same) const {
    const size_t mask = entries_.size() - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
      const Entry& e = entries_[i];
      if (e.state == kEmpty) return kNpos;
      if (e.state == kLive && same(e)) return i;
    }
  }

  // Puts `entry` in place of the live entry `same` accepts, or in a free slot. Returns its index;
  // `*grew` says whether the table was rehashed first (every index moved).
  template <class Same, class HashOf>
  size_t Upsert(std::uint64_t hash, Entry entry, const Same& same, const HashOf& hash_of, bool* grew) {
    *grew = false;
    if ((used_ + 1) * 10 > entries_.size() * 7) {
      Rehash(std::max<size_t>(1024, std::bit_ceil((live_ + 1) * 2)), hash_of);
      *grew = true;
    }
    const size_t mask = entries_.size() - 1;
    size_t free = kNpos;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
      Entry& e = entries_[i];
      if (e.state == kLive && same(e)) {
        entry.state = kLive;
        e = entry;
        return i;
      }
      if (e.state == kTombstone && free == kNpos) free = i;
      if (e.state == kEmpty) {
        if (free == kNpos) {
          free = i;
          ++used_;
        }
        entry.state = kLive;
        entries_[free] = entry;
        ++live_;
        return free;
      }
    }
  }

  void Erase(size_t index) {
    entries_[index].state = kTombstone;
    --live_;
  }

  const Entry& at(size_t index) const { return entries_[index]; }
  Entry& at(size_t index) { return entries_[index]; }
  size_t capacity() const { return entries_.size(); }
  size_t live() const { return live_; }
  size_t memory_bytes() const { return entries_.capacity() * sizeof(Entry); }
  void Reset(size_t capacity) {
    entries_.assign(capacity, Entry{});
    live_ = used_ = 0;
  }

  template <class HashOf>
  void Rehash(size_t capacity, const HashOf& hash_of) {
    std::vector<Entry> old(capacity);
    old.swap(entries_);
    live_ = used_ = 0;
    const size_t mask = entries_.size() - 1;
    for (Entry& e : old) {
      if (e.state != kLive) continue;
      size_t i = hash_of(e) & mask;
      while (entries_[i].state != kEmpty) i = (i + 1) & mask;
      entries_[i] = e;
      ++live_;
      ++used_;
    }
  }

 private:
  std::vector<Entry> entries_;
  size_t live_ = 0;
  size_t used_ = 0;  // live entries and tombstones
};

}  // namespace keyledger::validator::internal
