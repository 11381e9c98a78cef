#include "keyledger/storage/store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include <unistd.h>

namespace keyledger::storage {
namespace {

using common::Result;

// The store knows no layout of its own: tests name their column families.
enum class Column { kKeys, kMeta, kViewMine, kViewTeam, kEvents };
constexpr std::string_view kColumns[] = {"keys", "meta", "view_mine", "view_team", "events"};

Result<std::unique_ptr<Store>> OpenStore(const std::string& path, const StoreOptions& options = {}) {
  return Store::Open(path, options, kColumns);
}

class TempDir {
 public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("keyledger-store-test-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string path(const std::string& sub = "db") const { return (path_ / sub).string(); }

 private:
  std::filesystem::path path_;
};

TEST(Store, BatchIsAppliedAtomicallyAndSurvivesReopen) {
  TempDir dir;
  {
    auto store = OpenStore(dir.path());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    auto batch = (*store)->NewBatch();
    batch.Put(Column::kKeys, "k1", "v1");
    batch.Put(Column::kMeta, "offset", "42");
    batch.Delete(Column::kKeys, "absent");
    EXPECT_EQ(batch.count(), 3u);
    ASSERT_TRUE((*store)->Write(batch).ok());
  }
  auto store = OpenStore(dir.path());
  ASSERT_TRUE(store.ok());
  EXPECT_EQ(**(*store)->Get(Column::kKeys, "k1"), "v1");
  EXPECT_EQ(**(*store)->Get(Column::kMeta, "offset"), "42");
  EXPECT_FALSE((*store)->Get(Column::kKeys, "offset")->has_value());  // columns are separate
}

TEST(Store, OfSeveralMutationsOfOneKeyInABatchTheLastOneCounts) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_TRUE(store.ok());
  {
    auto seed = (*store)->NewBatch();
    seed.Put(Column::kKeys, "deleted-later", "old");
    ASSERT_TRUE((*store)->Write(seed).ok());
  }
  const std::string binary_key("k\0\xff\x01", 4), binary_value("\0value\0", 7);
  auto batch = (*store)->NewBatch();
  batch.Put(Column::kKeys, "b", "first");
  batch.Put(Column::kKeys, "a", "only");
  batch.Put(Column::kKeys, "b", "second");
  batch.Delete(Column::kKeys, "deleted-later");
  batch.Delete(Column::kKeys, "c");
  batch.Put(Column::kKeys, "c", "put after delete");
  batch.Put(Column::kKeys, "d", "deleted after put");
  batch.Delete(Column::kKeys, "d");
  batch.Put(Column::kKeys, "empty", "");
  batch.Put(Column::kViewTeam, binary_key, binary_value);
  batch.Put(Column::kViewTeam, "b", "other column");
  // Large enough that the batch's buffer grows many times while keys and values are added.
  for (int i = 0; i < 5000; ++i) {
    batch.Put(Column::kEvents, "event-" + std::to_string(i), std::string(100, static_cast<char>('a' + i % 26)));
  }
  EXPECT_EQ(batch.count(), 5011u);
  ASSERT_TRUE((*store)->Write(batch).ok());

  EXPECT_EQ(**(*store)->Get(Column::kKeys, "a"), "only");
  EXPECT_EQ(**(*store)->Get(Column::kKeys, "b"), "second");
  EXPECT_FALSE((*store)->Get(Column::kKeys, "deleted-later")->has_value());
  EXPECT_EQ(**(*store)->Get(Column::kKeys, "c"), "put after delete");
  EXPECT_FALSE((*store)->Get(Column::kKeys, "d")->has_value());
  auto empty = (*store)->Get(Column::kKeys, "empty");
  ASSERT_TRUE(empty.ok() && empty->has_value());
  EXPECT_EQ(**empty, "");
  EXPECT_EQ(**(*store)->Get(Column::kViewTeam, binary_key), binary_value);
  EXPECT_EQ(**(*store)->Get(Column::kViewTeam, "b"), "other column");
  for (int i : {0, 1, 2499, 4999}) {
    EXPECT_EQ(**(*store)->Get(Column::kEvents, "event-" + std::to_string(i)),
              std::string(100, static_cast<char>('a' + i % 26)));
  }
  // A cleared batch writes nothing.
  auto cleared = (*store)->NewBatch();
  cleared.Put(Column::kKeys, "never", "x");
  cleared.Clear();
  EXPECT_EQ(cleared.count(), 0u);
  ASSERT_TRUE((*store)->Write(cleared).ok());
  EXPECT_FALSE((*store)->Get(Column::kKeys, "never")->has_value());
}

TEST(Store, ScansInOrderBothWaysWithinBounds) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_TRUE(store.ok());
  auto batch = (*store)->NewBatch();
  for (const char* k : {"a/1", "a/2", "a/3", "b/1", "a\xff"}) batch.Put(Column::kViewMine, k, k);
  ASSERT_TRUE((*store)->Write(batch).ok());
  std::vector<std::string> seen;
  auto collect = [&](std::string_view k, std::string_view) { seen.emplace_back(k); return true; };
  ASSERT_TRUE((*store)->ScanPrefix(Column::kViewMine, "a/", collect).ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"a/1", "a/2", "a/3"}));
  seen.clear();
  ASSERT_TRUE((*store)->Scan(Column::kViewMine, "a/", "a/3", collect, /*reverse=*/true).ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"a/2", "a/1"}));
  seen.clear();
  ASSERT_TRUE((*store)->Scan(Column::kViewMine, "a/2", "", [&](std::string_view k, std::string_view) {
    seen.emplace_back(k);
    return seen.size() < 2;
  }).ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"a/2", "a/3"}));
}

TEST(Store, OpeningAnUnwritableDirectoryIsUnavailableNotACrash) {
  if (geteuid() == 0) {
    // root ignores directory permissions; use a path under a regular file instead.
    TempDir dir;
    std::string file = dir.path("file");
    { std::ofstream(file) << "x"; }
    auto store = OpenStore(file + "/db");
    ASSERT_FALSE(store.ok());
    EXPECT_NE(store.status().message().find("opening store"), std::string::npos);
    return;
  }
  auto store = OpenStore("/proc/keyledger-cannot-write-here");
  ASSERT_FALSE(store.ok());
}

TEST(Store, CheckpointIsAnOpenableCopy) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_TRUE(store.ok());
  auto batch = (*store)->NewBatch();
  batch.Put(Column::kEvents, "e", "payload");
  ASSERT_TRUE((*store)->Write(batch).ok());
  ASSERT_TRUE((*store)->Checkpoint(dir.path("copy")).ok());
  auto copy = OpenStore(dir.path("copy"), {.create_if_missing = false, .read_only = true});
  ASSERT_TRUE(copy.ok()) << copy.status().ToString();
  EXPECT_EQ(**(*copy)->Get(Column::kEvents, "e"), "payload");
}

}  // namespace
}  // namespace keyledger::storage
