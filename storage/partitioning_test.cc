#include <gtest/gtest.h>

#include <map>

#include "keyledger/storage/kafka.h"

namespace keyledger::storage {
namespace {

// These values are part of the log layout: changing the function would move teams between
// partitions and break the single-writer ordering of existing topics.
TEST(PartitionForTeam, IsStableAcrossVersions) {
  EXPECT_EQ(PartitionForTeam("team-acme", 12), 3);
  EXPECT_EQ(PartitionForTeam("team-globex", 12), 2);
  EXPECT_EQ(PartitionForTeam("", 12), 7);
  EXPECT_EQ(PartitionForTeam("team-acme", 1), 0);
}

TEST(PartitionForTeam, SpreadsTeamsOverPartitions) {
  std::map<int, int> counts;
  for (int i = 0; i < 12000; ++i) counts[PartitionForTeam("team-" + std::to_string(i), 12)]++;
  ASSERT_EQ(counts.size(), 12u);
  for (const auto& [p, n] : counts) {
    EXPECT_GT(n, 800) << "partition " << p;
    EXPECT_LT(n, 1200) << "partition " << p;
  }
}

}  // namespace
}  // namespace keyledger::storage
