// The whole toolchain against the real broker: key events encoded with Cap'n Proto, hash-chained
// per partition, appended by an idempotent transactional producer (librdkafka 2.0.2 -> Kafka 3.9),
// read back read_committed, decoded and verified. An aborted transaction must stay invisible.
#include <gtest/gtest.h>

#include <chrono>
#include <map>

#include "keyledger/common/crypto.h"
#include "keyledger/common/secret.h"
#include "keyledger/events/codec.h"
#include "keyledger/events/hash_chain.h"
#include "keyledger/events/key_rules.h"
#include "keyledger/storage/kafka.h"
#include "support/test_broker.h"

namespace keyledger {
namespace {

using events::Event;

constexpr int kPartitions = 3;
constexpr int kTimeoutMs = 30000;

struct Appended {
  Event event;
  std::string bytes;
};

// Builds a realistic history for `team`: keys created, renamed, regenerated and deleted,
// decided by the key rules and chained on `chain`.
std::vector<Appended> TeamHistory(const std::string& team, events::HashChain& chain,
                                  common::RandomSource& random, int keys) {
  events::Catalog catalog = events::Catalog::Default();
  events::Caller owner{"owner-of-" + team, "Owner", team, events::Role::kOwner};
  std::vector<Appended> out;
  int n = 0;
  auto context = [&] {
    return events::CommandContext{*common::NewUuidV4(random), 1795384512000000 + n++, "req", "", "corr"};
  };
  auto append = [&](Event e, std::optional<events::KeyState>& state) {
    e.prev_hash = chain.head();
    auto bytes = events::Encode(e);
    EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
    chain.Advance(*bytes);
    auto next = events::Apply(state, e);
    EXPECT_TRUE(next.ok()) << next.status().ToString();
    state = *next;
    out.push_back({std::move(e), *bytes});
  };
  for (int k = 0; k < keys; ++k) {
    std::optional<events::KeyState> state;
    std::string secret = *common::GenerateSecret(random);
    events::CreateKeyCommand create{*common::NewUuidV4(random), "key " + std::to_string(k), true,
                                    {}, k % 2 == 0, "", common::HashSecret(secret),
                                    common::SecretHint(secret)};
    append(*events::DecideCreate(state, owner, create, catalog, context()), state);
    append(*events::DecideRename(state, owner, {state->key_id, "renamed " + std::to_string(k), {}},
                                 context()), state);
    std::string fresh = *common::GenerateSecret(random);
    append(*events::DecideRegenerate(state, owner,
                                     {state->key_id, state->name, {}, common::HashSecret(fresh),
                                      common::SecretHint(fresh)},
                                     context()), state);
    if (k % 3 == 0) {
      append(*events::DecideDelete(state, owner, {state->key_id, state->name, {}}, context()), state);
    }
  }
  return out;
}

TEST(KafkaEventLog, TransactionalAppendReadCommittedDecodeAndVerifyChain) {
  KL_REQUIRE_BROKER(bootstrap);
  storage::KafkaConfig config{bootstrap, {}};
  const std::string topic = testing::UniqueTopic("keyledger.it.events");
  ASSERT_TRUE(storage::CreateTopic(config, topic, kPartitions, {{"retention.ms", "-1"}}, kTimeoutMs).ok());
  auto count = storage::PartitionCount(config, topic, kTimeoutMs);
  ASSERT_TRUE(count.ok()) << count.status().ToString();
  ASSERT_EQ(*count, kPartitions);

  common::OsRandom random;
  std::map<int, events::HashChain> chains;
  std::map<int, std::vector<Appended>> expected;  // partition -> events in log order
  std::vector<std::string> teams = {"team-acme", "team-globex", "team-initech", "team-umbrella"};

  auto producer = storage::TransactionalProducer::Create(config, "it-writer-" + topic);
  ASSERT_TRUE(producer.ok()) << producer.status().ToString();
  ASSERT_TRUE((*producer)->InitTransactions(kTimeoutMs).ok());

  // Two committed transactions, one aborted transaction between them.
  for (int txn = 0; txn < 3; ++txn) {
    ASSERT_TRUE((*producer)->BeginTransaction().ok());
    std::vector<storage::DeliveryReport> reports;
    std::vector<std::pair<int, Appended>> staged;
    for (const std::string& team : teams) {
      int partition = storage::PartitionForTeam(team, kPartitions);
      if (txn == 1) {
        // Events of the aborted transaction never enter the chains.
        events::HashChain scratch = chains[partition];
        for (auto& a : TeamHistory(team, scratch, random, 2)) staged.emplace_back(partition, std::move(a));
      } else {
        for (auto& a : TeamHistory(team, chains[partition], random, 5)) staged.emplace_back(partition, std::move(a));
      }
    }
    reports.resize(staged.size());
    for (size_t i = 0; i < staged.size(); ++i) {
      const auto& [partition, a] = staged[i];
      ASSERT_TRUE((*producer)->Produce(topic, partition, a.event.team_id, a.bytes, &reports[i]).ok());
    }
    if (txn == 1) {
      ASSERT_TRUE((*producer)->AbortTransaction(kTimeoutMs).ok());
      continue;
    }
    common::Status commit = (*producer)->CommitTransaction(kTimeoutMs);
    ASSERT_TRUE(commit.ok()) << commit.ToString();
    for (size_t i = 0; i < staged.size(); ++i) {
      ASSERT_TRUE(reports[i].status.ok()) << reports[i].status.ToString();
      EXPECT_EQ(reports[i].partition, staged[i].first);
      expected[staged[i].first].push_back(std::move(staged[i].second));
    }
  }

  std::map<std::int32_t, std::int64_t> start;
  for (int p = 0; p < kPartitions; ++p) start[p] = 0;
  auto reader = storage::LogReader::Create(config, topic, start);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  std::map<int, std::vector<storage::LogRecord>> got;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!(*reader)->AtEnd() && std::chrono::steady_clock::now() < deadline) {
    auto batch = (*reader)->Poll(500, 1000);
    ASSERT_TRUE(batch.ok()) << batch.status().ToString();
    for (auto& r : *batch) got[r.partition].push_back(std::move(r));
  }
  ASSERT_TRUE((*reader)->AtEnd()) << "reader did not reach the end of the log in time";

  size_t total = 0;
  for (int p = 0; p < kPartitions; ++p) {
    SCOPED_TRACE("partition " + std::to_string(p));
    ASSERT_EQ(got[p].size(), expected[p].size());
    events::HashChain verify;
    std::int64_t last_offset = -1;
    bool saw_gap = false;
    for (size_t i = 0; i < got[p].size(); ++i) {
      const storage::LogRecord& r = got[p][i];
      EXPECT_GT(r.offset, last_offset);
      if (last_offset >= 0 && r.offset != last_offset + 1) saw_gap = true;
      last_offset = r.offset;
      auto decoded = events::Decode(r.value);
      ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
      EXPECT_EQ(*decoded, expected[p][i].event);
      EXPECT_EQ(r.key, decoded->team_id);
      ASSERT_TRUE(verify.Append(*decoded, r.value).ok());
      ++total;
    }
    if (!got[p].empty()) {
      // Transaction markers (and the aborted records) occupy offsets: a real broker's log has gaps.
      EXPECT_TRUE(saw_gap) << "expected offset gaps from transaction markers";
      EXPECT_EQ(verify.head(), chains[p].head());
    }
  }
  EXPECT_GT(total, 0u);
  EXPECT_FALSE((*producer)->fenced());
}

TEST(KafkaEventLog, SecondProducerWithSameTransactionalIdFencesTheFirst) {
  KL_REQUIRE_BROKER(bootstrap);
  storage::KafkaConfig config{bootstrap, {}};
  const std::string topic = testing::UniqueTopic("keyledger.it.fence");
  ASSERT_TRUE(storage::CreateTopic(config, topic, 1, {}, kTimeoutMs).ok());
  const std::string id = "it-fence-" + topic;
  auto first = storage::TransactionalProducer::Create(config, id);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE((*first)->InitTransactions(kTimeoutMs).ok());
  auto second = storage::TransactionalProducer::Create(config, id);
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE((*second)->InitTransactions(kTimeoutMs).ok());

  ASSERT_TRUE((*first)->BeginTransaction().ok());
  storage::DeliveryReport report;
  common::Status produced = (*first)->Produce(topic, 0, "k", "zombie", &report);
  common::Status commit = produced.ok() ? (*first)->CommitTransaction(kTimeoutMs) : produced;
  EXPECT_FALSE(commit.ok()) << "a fenced producer committed";
  EXPECT_TRUE((*first)->fenced());
  EXPECT_FALSE((*second)->fenced());
}

}  // namespace
}  // namespace keyledger
