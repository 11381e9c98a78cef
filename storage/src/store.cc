#include "keyledger/storage/store.h"

#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>
#include <sys/statvfs.h>

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

std::string_view ColumnName(Column column) {
  switch (column) {
    case Column::kKeys: return "keys";
    case Column::kSecretLookup: return "secret_lookup";
    case Column::kViewMine: return "view_mine";
    case Column::kViewLegacy: return "view_legacy";
    case Column::kViewTeam: return "view_team";
    case Column::kAuditByKey: return "audit_by_key";
    case Column::kAuditByTeamTime: return "audit_by_team_time";
    case Column::kAuditByActor: return "audit_by_actor";
    case Column::kEvents: return "events";
    case Column::kMeta: return "meta";
  }
  return "unknown";
}

struct Store::Handles {
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> columns;  // index = Column; owned, released first
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

Store::Store(std::unique_ptr<Handles> handles, std::string path, StoreOptions options)
    : handles_(std::move(handles)), path_(std::move(path)), options_(options) {}

Store::~Store() = default;

Result<std::unique_ptr<Store>> Store::Open(const std::string& path, const StoreOptions& options) {
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
  for (Column c : kAllColumns) descriptors.emplace_back(std::string(ColumnName(c)), cf_options);

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
  return std::unique_ptr<Store>(new Store(std::move(h), path, options));
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
  std::array<std::vector<Mutation>, kColumnCount> columns;
  // Every key and value, back to back: one growing buffer instead of two allocations per
  // mutation (the projector adds about ten mutations per event).
  std::string bytes;

  void Add(Column column, std::string_view key, std::string_view value, bool is_delete) {
    Mutation m{bytes.size(), static_cast<std::uint32_t>(key.size()),
               static_cast<std::uint32_t>(value.size()), is_delete};
    bytes.append(key);
    bytes.append(value);
    columns[static_cast<int>(column)].push_back(m);
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

void Store::Batch::Put(Column column, std::string_view key, std::string_view value) {
  rep_->Add(column, key, value, false);
}

void Store::Batch::Delete(Column column, std::string_view key) {
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
  return b;
}

Status Store::Write(Batch& batch) {
  if (options_.min_free_bytes > 0) {
    struct statvfs fs;
    if (statvfs(path_.c_str(), &fs) == 0) {
      std::uint64_t free_bytes = static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize;
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
  for (int c = 0; c < kColumnCount; ++c) {
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

Result<std::optional<std::string>> Store::Get(Column column, std::string_view key) const {
  std::string value;
  rocksdb::Status s = handles_->db->Get(rocksdb::ReadOptions(),
                                        handles_->columns[static_cast<int>(column)], SliceOf(key),
                                        &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocks(s, "reading store " + path_);
  return std::optional<std::string>(std::move(value));
}

Status Store::Scan(Column column, std::string_view lower, std::string_view upper,
                   const Visitor& visit, bool reverse) const {
  rocksdb::ReadOptions ro;
  rocksdb::Slice upper_slice = SliceOf(upper);
  rocksdb::Slice lower_slice = SliceOf(lower);
  if (!upper.empty()) ro.iterate_upper_bound = &upper_slice;
  ro.iterate_lower_bound = &lower_slice;
  std::unique_ptr<rocksdb::Iterator> it(
      handles_->db->NewIterator(ro, handles_->columns[static_cast<int>(column)]));
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
  return FromRocks(it->status(), "scanning " + std::string(ColumnName(column)));
}

Status Store::ScanPrefix(Column column, std::string_view prefix, const Visitor& visit) const {
  // The smallest key greater than every key with this prefix.
  std::string upper(prefix);
  while (!upper.empty() && static_cast<unsigned char>(upper.back()) == 0xFF) upper.pop_back();
  if (!upper.empty()) upper.back() = static_cast<char>(static_cast<unsigned char>(upper.back()) + 1);
  return Scan(column, prefix, upper, visit);
}

Status Store::Checkpoint(const std::string& path) const {
  rocksdb::Checkpoint* raw = nullptr;
  KL_RETURN_IF_ERROR(FromRocks(rocksdb::Checkpoint::Create(handles_->db.get(), &raw), "checkpoint"));
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  return FromRocks(checkpoint->CreateCheckpoint(path), "checkpoint to " + path);
}

void AppendBigEndian32(std::string& out, std::uint32_t v) {
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>(v >> (8 * i)));
}
void AppendBigEndian64(std::string& out, std::uint64_t v) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>(v >> (8 * i)));
}
std::uint32_t ReadBigEndian32(std::string_view b) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(b[static_cast<size_t>(i)]);
  return v;
}
std::uint64_t ReadBigEndian64(std::string_view b) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(b[static_cast<size_t>(i)]);
  return v;
}

}  // namespace keyledger::storage
