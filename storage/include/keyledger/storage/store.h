// The RocksDB side of storage: one database with the column families its user names when it
// opens it (the projector's layout is projector/layout.h; this adapter knows none of it), atomic
// WriteBatches, point reads, ordered scans and checkpoints. RocksDB types never leave this
// adapter; failures are Status (Unavailable for I/O errors such as a full or read-only disk,
// DataLoss for corruption).
//
// Thread: a Store is thread-safe (RocksDB is); a Batch belongs to one thread. Shutdown order:
// column-family handles are released before the DB is closed, in ~Store.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "keyledger/common/files.h"
#include "keyledger/common/status.h"

namespace keyledger::storage {

// A column family: its position in the list of names the store was opened with. Any enum
// converts, so a user names its families with an enum of its own.
struct ColumnId {
  template <typename E>
    requires std::is_enum_v<E>
  constexpr ColumnId(E column) : index(static_cast<int>(column)) {}  // NOLINT: implicit by design
  constexpr explicit ColumnId(int i) : index(i) {}
  int index;
};

struct StoreOptions {
  bool create_if_missing = true;
  bool read_only = false;
  // fsync the WAL on every write: survives power loss, not only process crashes.
  bool sync_writes = false;
  // Without a write-ahead log, every column family is flushed together (atomic flush), so after
  // a crash the store is exactly as of some earlier Write: right for stores rebuilt from Kafka,
  // where the lost tail is re-projected from the stored offsets. Writes are much cheaper.
  bool write_ahead_log = true;
  size_t block_cache_bytes = 64u << 20;
  // Memtable size per column family; without a WAL this bounds the work lost in a crash.
  size_t write_buffer_bytes = 32u << 20;
  // Write refuses (Unavailable, "disk nearly full ...") while the filesystem holding the store has
  // less free space than this, before RocksDB meets a failed write: Debian's RocksDB 7.8 aborts the
  // process on a write after a failed file write, so stopping early is the clean way out. 0: off.
  std::uint64_t min_free_bytes = 0;
  // Where the free space is asked (null: the machine's filesystem).
  common::FileSystem* files = nullptr;
};

class Store {
 public:
  // `column_families` names the store's column families in ColumnId order (the list must be
  // the same every time a store is opened).
  static common::Result<std::unique_ptr<Store>> Open(const std::string& path, const StoreOptions& options,
                                                     std::span<const std::string_view> column_families);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Accumulates puts and deletes applied atomically by Write.
  //
  // Mutations are kept per column family in key order and a later mutation of the same key
  // replaces an earlier one; Write hands them to RocksDB sorted, which lets the memtable reuse
  // its insertion point (several times faster than random-order inserts for UUID keys).
  class Batch {
   public:
    Batch();
    ~Batch();
    Batch(Batch&&) noexcept;
    Batch& operator=(Batch&&) noexcept;
    void Put(ColumnId column, std::string_view key, std::string_view value);
    void Delete(ColumnId column, std::string_view key);
    // Mutations added (before collapsing repeated keys).
    size_t count() const;
    void Clear();

   private:
    friend class Store;
    struct Rep;
    std::unique_ptr<Rep> rep_;
    const Store* store_ = nullptr;
  };

  Batch NewBatch() const;
  common::Status Write(Batch& batch);

  // NotFound is a value here: nullopt.
  common::Result<std::optional<std::string>> Get(ColumnId column, std::string_view key) const;

  // Visits keys in [lower, upper) in order (or reverse order); `visit` returns false to stop.
  // An empty `upper` means "no upper bound". The iterator's status is checked after the scan.
  using Visitor = std::function<bool(std::string_view key, std::string_view value)>;
  common::Status Scan(ColumnId column, std::string_view lower, std::string_view upper,
                      const Visitor& visit, bool reverse = false) const;
  // Visits every key starting with `prefix`.
  common::Status ScanPrefix(ColumnId column, std::string_view prefix, const Visitor& visit) const;

  // A consistent, openable copy of the database at `path` (hard links where possible).
  common::Status Checkpoint(const std::string& path) const;

  const std::string& path() const { return path_; }
  int column_count() const { return static_cast<int>(column_names_.size()); }
  const std::string& column_name(ColumnId column) const { return column_names_[static_cast<size_t>(column.index)]; }

 private:
  struct Handles;
  Store(std::unique_ptr<Handles> handles, std::string path, StoreOptions options,
        std::vector<std::string> column_names);
  std::unique_ptr<Handles> handles_;
  std::string path_;
  StoreOptions options_;
  std::vector<std::string> column_names_;
};

// The smallest key greater than every key that starts with `prefix` ("" when there is none): the
// exclusive upper bound of a prefix scan.
std::string PrefixSuccessor(std::string_view prefix);

}  // namespace keyledger::storage
