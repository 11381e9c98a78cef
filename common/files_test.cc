#include "keyledger/common/files.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

namespace keyledger::common {
namespace {

class FilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/keyledger-files-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
  FileSystem* files_ = DefaultFileSystem();
};

TEST_F(FilesTest, DurableWriteReplacesTheFileAndLeavesNoTempFile) {
  std::string path = JoinPath(dir_, "LIVE");
  ASSERT_TRUE(files_->WriteFileDurably(path, "gen-000001\n").ok());
  ASSERT_TRUE(files_->WriteFileDurably(path, "gen-000002\n").ok());
  EXPECT_EQ(*files_->ReadFile(path), "gen-000002\n");
  EXPECT_EQ(*files_->ListDirectory(dir_), std::vector<std::string>{"LIVE"});
}

TEST_F(FilesTest, MissingFilesAndDirectoriesAreNotFound) {
  EXPECT_EQ(files_->ReadFile(JoinPath(dir_, "absent")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(files_->ListDirectory(JoinPath(dir_, "absent")).status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(files_->Exists(JoinPath(dir_, "absent")));
  EXPECT_TRUE(files_->RemoveFile(JoinPath(dir_, "absent")).ok());
}

TEST_F(FilesTest, AWriteIntoAMissingDirectoryFailsWithThePath) {
  Status s = files_->WriteFileDurably(JoinPath(dir_, "no/such/LIVE"), "x");
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("no/such/LIVE.tmp"), std::string::npos) << s.message();
}

TEST_F(FilesTest, DirectoriesAreCreatedListedAndRemoved) {
  ASSERT_TRUE(files_->CreateDirectories(JoinPath(dir_, "a/b")).ok());
  ASSERT_TRUE(files_->WriteFileDurably(JoinPath(dir_, "a/b/f"), "1").ok());
  EXPECT_EQ(*files_->ListDirectory(JoinPath(dir_, "a")), std::vector<std::string>{"b"});
  ASSERT_TRUE(files_->RemoveAll(JoinPath(dir_, "a")).ok());
  EXPECT_FALSE(files_->Exists(JoinPath(dir_, "a")));
  EXPECT_GT(*files_->FreeBytes(dir_), 0u);
}

TEST(JoinPath, AddsOneSlash) {
  EXPECT_EQ(JoinPath("a", "b"), "a/b");
  EXPECT_EQ(JoinPath("a/", "b"), "a/b");
}

}  // namespace
}  // namespace keyledger::common
