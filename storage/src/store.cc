#include "keyledger/storage/store.h"

#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>

#include <algorithm>

namespace keyledger::storage {

using common::Result;
using common::Status;

namespace {

Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::Ok();
  std::string message = std::string(what) + ": " + s.ToString();
  if (s.IsCorruption()) return common::DataLoss(message);
  if (s.IsInvalidArgument()) return common::InvalidArgument(message);
  if (s.IsNotFound()) return common::NotFound(message);
  return common::Unavailable(message);  // I/O errors, no space, read-only file system, busy
}

rocksdb::Slice SliceOf(std::string_view v) { return rocksdb::Slice(v.data(), v.size()); }

}  // namespace

struct Store::Handles {
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> columns;  // index = ColumnId; owned, released first
  rocksdb::ColumnFamilyHandle* default_column = nullptr;
  bool write_ahead_log = true;
  ~Handles() {
    if (db) {
      if (!write_ahead_log) {
        // Without a WAL the memtables are the only copy of recent writes: flush them now.
        rocksdb::FlushOptions flush;
        db->Flush(flush, columns).PermitUncheckedError();
      }
      for (auto* h : columns) db->DestroyColumnFamilyHandle(h);
      if (default_column) db->DestroyColumnFamilyHandle(default_column);
      db->Close().PermitUncheckedError();
    }
  }
};

Store::Store(std::unique_ptr<Handles> handles, std::string path, StoreOptions options,
             std::vector<std::string> column_names)
    : handles_(std::move(handles)), path_(std::move(path)), options_(options),
      column_names_(std::move(column_names)) {}

Store::~Store() = default;

Result<std::unique_ptr<Store>> Store::Open(const std::string& path, const StoreOptions& options,
                                           std::span<const std::string_view> column_families) {
  rocksdb::Options db_options;
  db_options.create_if_missing = options.create_if_missing;
  db_options.create_missing_column_families = !options.read_only;
  db_options.max_background_jobs = 2;
  db_options.max_open_files = 512;
  db_options.keep_log_file_num = 3;
  db_options.atomic_flush = !options.write_ahead_log;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  rocksdb::ColumnFamilyOptions cf_options;
  cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  cf_options.write_buffer_size = options.write_buffer_bytes;

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, cf_options);
  std::vector<std::string> names(column_families.begin(), column_families.end());
  for (const std::string& name : names) descriptors.emplace_back(name, cf_options);

  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s =
      options.read_only
          ? rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(db_options), path, descriptors,
                                         &handles, &raw)
          : rocksdb::DB::Open(rocksdb::DBOptions(db_options), path, descriptors, &handles, &raw);
  if (!s.ok()) return FromRocks(s, "opening store " + path);
  auto h = std::make_unique<Handles>();
  h->db.reset(raw);
  h->default_column = handles[0];
  h->columns.assign(handles.begin() + 1, handles.end());
  h->write_ahead_log = options.write_ahead_log || options.read_only;
  return std::unique_ptr<Store>(new Store(std::move(h), path, options, std::move(names)));
}

struct Store::Batch::Rep {
  // One mutation: its key and value are slices of `bytes` (offsets, as `bytes` grows).
  struct Mutation {
    size_t key_offset;
    std::uint32_t key_size;
    std::uint32_t value_size;  // the value follows the key in `bytes`
    bool is_delete;
  };
  // Per column family, in arrival order; sorted (stable, last one wins) once, in Write.
  std::vector<std::vector<Mutation>> columns;
  // Every key and value, back to back: one growing buffer instead of two allocations per
  // mutation (the projector adds about ten mutations per event).
  std::string bytes;

  void Add(ColumnId column, std::string_view key, std::string_view value, bool is_delete) {
    Mutation m{bytes.size(), static_cast<std::uint32_t>(key.size()),
               static_cast<std::uint32_t>(value.size()), is_delete};
    bytes.append(key);
    bytes.append(value);
    columns[static_cast<size_t>(column.index)].push_back(m);
  }
  std::string_view Key(const Mutation& m) const {
    return std::string_view(bytes).substr(m.key_offset, m.key_size);
  }
  std::string_view Value(const Mutation& m) const {
    return std::string_view(bytes).substr(m.key_offset + m.key_size, m.value_size);
  }
};

Store::Batch::Batch() : rep_(std::make_unique<Rep>()) {}
Store::Batch::~Batch() = default;
Store::Batch::Batch(Batch&&) noexcept = default;
Store::Batch& Store::Batch::operator=(Batch&&) noexcept = default;

void Store::Batch::Put(ColumnId column, std::string_view key, std::string_view value) {
  rep_->Add(column, key, value, false);
}

void Store::Batch::Delete(ColumnId column, std::string_view key) {
  rep_->Add(column, key, {}, true);
}

size_t Store::Batch::count() const {
  size_t n = 0;
  for (const auto& m : rep_->columns) n += m.size();
  return n;
}

void Store::Batch::Clear() {
  for (auto& m : rep_->columns) m.clear();
  rep_->bytes.clear();
}

Store::Batch Store::NewBatch() const {
  Batch b;
  b.store_ = this;
  b.rep_->columns.resize(column_names_.size());
  return b;
}

Status Store::Write(Batch& batch) {
  if (options_.min_free_bytes > 0) {
    common::FileSystem* files = options_.files ? options_.files : common::DefaultFileSystem();
    if (auto free = files->FreeBytes(path_); free.ok()) {
      std::uint64_t free_bytes = *free;
      if (free_bytes < options_.min_free_bytes) {
        return common::Unavailable("disk nearly full: " + std::to_string(free_bytes >> 20) + " MiB free under " +
                                   path_ + ", the store needs at least " +
                                   std::to_string(options_.min_free_bytes >> 20) + " MiB; nothing was written");
      }
    }
  }
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync_writes;
  wo.disableWAL = !options_.write_ahead_log;
  const Batch::Rep& rep = *batch.rep_;
  // Room for every key and value plus RocksDB's per-record header (tag, column, two varints).
  rocksdb::WriteBatch wb(rep.bytes.size() + 24 * batch.count() + 64);
  if (batch.rep_->columns.size() != column_names_.size()) {
    return common::Internal("a batch of another store was written to " + path_);
  }
  for (size_t c = 0; c < column_names_.size(); ++c) {
    rocksdb::ColumnFamilyHandle* handle = handles_->columns[c];
    auto& mutations = batch.rep_->columns[c];
    // In key order: the memtable's skip list inserts ascending keys fastest.
    std::stable_sort(mutations.begin(), mutations.end(),
                     [&rep](const auto& a, const auto& b) { return rep.Key(a) < rep.Key(b); });
    for (size_t i = 0; i < mutations.size(); ++i) {
      const auto& m = mutations[i];
      std::string_view key = rep.Key(m);
      // Of several mutations of one key, only the last one counts.
      if (i + 1 < mutations.size() && rep.Key(mutations[i + 1]) == key) continue;
      rocksdb::Status s = m.is_delete ? wb.Delete(handle, SliceOf(key))
                                      : wb.Put(handle, SliceOf(key), SliceOf(rep.Value(m)));
      if (!s.ok()) return FromRocks(s, "building a write batch");
    }
  }
  return FromRocks(handles_->db->Write(wo, &wb), "writing to store " + path_);
}

Result<std::optional<std::string>> Store::Get(ColumnId column, std::string_view key) const {
  std::string value;
  rocksdb::Status s = handles_->db->Get(rocksdb::ReadOptions(),
                                        handles_->columns[static_cast<size_t>(column.index)], SliceOf(key),
                                        &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocks(s, "reading store " + path_);
  return std::optional<std::string>(std::move(value));
}

Status Store::Scan(ColumnId column, std::string_view lower, std::string_view upper,
                   const Visitor& visit, bool reverse) const {
  rocksdb::ReadOptions ro;
  rocksdb::Slice upper_slice = SliceOf(upper);
  rocksdb::Slice lower_slice = SliceOf(lower);
  if (!upper.empty()) ro.iterate_upper_bound = &upper_slice;
  ro.iterate_lower_bound = &lower_slice;
  std::unique_ptr<rocksdb::Iterator> it(
      handles_->db->NewIterator(ro, handles_->columns[static_cast<size_t>(column.index)]));
  if (reverse) {
    if (upper.empty()) {
      it->SeekToLast();
    } else {
      it->SeekForPrev(upper_slice);
      if (it->Valid() && it->key() == upper_slice) it->Prev();
    }
  } else {
    it->Seek(lower_slice);
  }
  for (; it->Valid(); reverse ? it->Prev() : it->Next()) {
    rocksdb::Slice k = it->key(), v = it->value();
    if (!visit(std::string_view(k.data(), k.size()), std::string_view(v.data(), v.size()))) break;
  }
  return FromRocks(it->status(), "scanning " + column_name(column));
}

Status Store::ScanPrefix(ColumnId column, std::string_view prefix, const Visitor& visit) const {
  return Scan(column, prefix, PrefixSuccessor(prefix), visit);
}

std::string PrefixSuccessor(std::string_view prefix) {
  std::string upper(prefix);
  while (!upper.empty() && static_cast<unsigned char>(upper.back()) == 0xFF) upper.pop_back();
  if (!upper.empty()) upper.back() = static_cast<char>(static_cast<unsigned char>(upper.back()) + 1);
  return upper;
}

Status Store::Checkpoint(const std::string& path) const {
  rocksdb::Checkpoint* raw = nullptr;
  KL_RETURN_IF_ERROR(FromRocks(rocksdb::Checkpoint::Create(handles_->db.get(), &raw), "checkpoint"));
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  return FromRocks(checkpoint->CreateCheckpoint(path), "checkpoint to " + path);
}

}  // namespace keyledger::storage
