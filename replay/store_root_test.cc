#include "keyledger/replay/store_root.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

namespace keyledger::replay {
namespace {

// The machine's filesystem, with writes that fail on demand (a full or failing disk).
class FaultyFiles final : public common::FileSystem {
 public:
  common::Result<std::string> ReadFile(const std::string& p) const override { return real_->ReadFile(p); }
  common::Status WriteFileDurably(const std::string& p, std::string_view c) override {
    if (fail_writes) return common::Unavailable("cannot write " + p + ": No space left on device");
    ++durable_writes;
    return real_->WriteFileDurably(p, c);
  }
  bool Exists(const std::string& p) const override { return real_->Exists(p); }
  common::Status CreateDirectories(const std::string& p) override { return real_->CreateDirectories(p); }
  common::Status RemoveFile(const std::string& p) override { return real_->RemoveFile(p); }
  common::Status RemoveAll(const std::string& p) override { return real_->RemoveAll(p); }
  common::Result<std::vector<std::string>> ListDirectory(const std::string& p) const override {
    return real_->ListDirectory(p);
  }
  common::Result<std::uint64_t> FreeBytes(const std::string& p) const override { return real_->FreeBytes(p); }
  bool fail_writes = false;
  int durable_writes = 0;

 private:
  common::FileSystem* real_ = common::DefaultFileSystem();
};

class StoreRootTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/keyledger-root-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
  FaultyFiles files_;
};

TEST_F(StoreRootTest, ANewRootGetsAFirstGenerationNamedInLiveDurably) {
  StoreRoot root(dir_ + "/root", &files_);
  auto live = root.Live();
  ASSERT_TRUE(live.ok()) << live.status().ToString();
  EXPECT_EQ(*live, dir_ + "/root/gen-000001");
  EXPECT_EQ(*root.LiveName(), "gen-000001");
  EXPECT_EQ(files_.durable_writes, 1);
  EXPECT_TRUE(StoreRoot::IsRoot(dir_ + "/root", &files_));
}

TEST_F(StoreRootTest, ARebuildIsPublishedByReplacingLiveAndOldGenerationsGo) {
  StoreRoot root(dir_ + "/root", &files_);
  ASSERT_TRUE(root.Live().ok());
  bool resumed = true;
  auto next = root.BeginRebuild(&resumed);
  ASSERT_TRUE(next.ok());
  EXPECT_FALSE(resumed);
  EXPECT_EQ(*next, dir_ + "/root/gen-000002");
  // Interrupted: the same generation is resumed.
  auto again = root.BeginRebuild(&resumed);
  EXPECT_TRUE(resumed);
  EXPECT_EQ(*again, *next);
  ASSERT_TRUE(root.Publish(*next).ok());
  EXPECT_EQ(*root.LiveName(), "gen-000002");
  root.RemoveStale(nullptr);
  EXPECT_FALSE(files_.Exists(dir_ + "/root/gen-000001"));
  EXPECT_TRUE(files_.Exists(dir_ + "/root/gen-000002"));
}

TEST_F(StoreRootTest, APublishThatCannotWriteLiveFailsAndLeavesTheOldGenerationLive) {
  StoreRoot root(dir_ + "/root", &files_);
  ASSERT_TRUE(root.Live().ok());
  bool resumed = false;
  auto next = root.BeginRebuild(&resumed);
  ASSERT_TRUE(next.ok());
  files_.fail_writes = true;
  common::Status published = root.Publish(*next);
  EXPECT_EQ(published.code(), common::StatusCode::kUnavailable);
  EXPECT_NE(published.message().find("No space left"), std::string::npos);
  EXPECT_EQ(*root.LiveName(), "gen-000001");
}

TEST_F(StoreRootTest, ADirectoryThatIsNotARootIsRefused) {
  ASSERT_TRUE(files_.WriteFileDurably(dir_ + "/unrelated.txt", "x").ok());
  StoreRoot root(dir_, &files_);
  EXPECT_EQ(root.Live().status().code(), common::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace keyledger::replay
