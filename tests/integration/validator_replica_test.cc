// A Replica on the real broker, in process: it never vouches for a secret it cannot be sure of.
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>

#include "keyledger/common/secret.h"
#include "keyledger/storage/kafka.h"
#include "keyledger/events/codec.h"
#include "keyledger/events/hash_chain.h"
#include "keyledger/events/key_rules.h"
#include "keyledger/events/partition_guard.h"
#include "keyledger/validator/replica.h"
#include "support/test_broker.h"

namespace keyledger {
namespace {

// Regression: a replica whose partition was halted by a corrupt record kept allowing a secret
// whose deletion sits behind that record; and an operator's skip is the way past it.
TEST(Replica, DoesNotAllowSecretsOfAHaltedPartitionButKeepsServingTheOthers) {
  KL_REQUIRE_BROKER(bootstrap);
  const std::string topic = testing::UniqueTopic("keyledger.it.replica");
  storage::KafkaConfig config{bootstrap, {}};
  ASSERT_TRUE(storage::CreateTopic(config, topic, 2, {}, 30000).ok());
  // Two teams on different partitions.
  std::string team_a = "team-a", team_b;
  for (int i = 0; team_b.empty(); ++i) {
    std::string t = "team-b" + std::to_string(i);
    if (events::PartitionForTeam(t, 2) != events::PartitionForTeam(team_a, 2)) team_b = t;
  }
  const std::int32_t pa = events::PartitionForTeam(team_a, 2), pb = events::PartitionForTeam(team_b, 2);
  common::OsRandom random;
  events::Catalog catalog = events::Catalog::Default();
  std::map<std::int32_t, events::HashChain> chains;
  auto event_bytes = [&](events::Event e, std::int32_t partition) {
    e.prev_hash = chains[partition].head();
    std::string bytes = *events::Encode(e);
    chains[partition].Advance(bytes);
    return bytes;
  };
  auto create = [&](const std::string& team, const std::string& secret, events::KeyState* state) {
    events::Caller owner{"owner", "Owner", team, events::Role::kOwner};
    events::CreateKeyCommand c{*common::NewUuidV4(random), "key of " + team, true, {}, false, "",
                               common::HashSecret(secret), common::SecretHint(secret)};
    events::CommandContext ctx{*common::NewUuidV4(random), 1795384512000000, "r", "", ""};
    auto e = events::DecideCreate(std::nullopt, owner, c, catalog, ctx);
    *state = *events::Apply(std::nullopt, *e);
    return *e;
  };
  std::string secret_a = *common::GenerateSecret(random), secret_b = *common::GenerateSecret(random);
  events::KeyState key_a, key_b;
  events::Event created_a = create(team_a, secret_a, &key_a);
  events::Event created_b = create(team_b, secret_b, &key_b);
  events::Caller owner_a{"owner", "Owner", team_a, events::Role::kOwner};
  events::CommandContext ctx{*common::NewUuidV4(random), 1795384513000000, "r2", "", ""};
  events::Event deleted_a = *events::DecideDelete(key_a, owner_a, {key_a.key_id, key_a.name, {}}, ctx);

  auto producer = storage::TransactionalProducer::Create(config, "replica-test-" + topic);
  ASSERT_TRUE(producer.ok());
  ASSERT_TRUE((*producer)->InitTransactions(30000).ok());
  ASSERT_TRUE((*producer)->BeginTransaction().ok());
  std::vector<storage::DeliveryReport> reports(4);
  ASSERT_TRUE((*producer)->Produce(topic, pa, team_a, event_bytes(created_a, pa), &reports[0]).ok());
  ASSERT_TRUE((*producer)->Produce(topic, pb, team_b, event_bytes(created_b, pb), &reports[1]).ok());
  ASSERT_TRUE((*producer)->Produce(topic, pa, team_a, "not an event", &reports[2]).ok());
  ASSERT_TRUE((*producer)->Produce(topic, pa, team_a, event_bytes(deleted_a, pa), &reports[3]).ok());
  ASSERT_TRUE((*producer)->CommitTransaction(30000).ok());

  common::SystemClock clock;
  common::Logger logger(stderr, &clock, common::LogLevel::kError);
  validator::ReplicaOptions options;
  options.kafka = config;
  options.topic = topic;
  validator::Replica replica(options, &catalog, &logger, &clock);
  // Before it has read the log it vouches for nothing.
  EXPECT_EQ(replica.Check({secret_a, "openai-gpt-4o", "", false}).reason, validator::DenyReason::kUnknown);
  ASSERT_TRUE(replica.Start().ok());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!replica.Check({secret_b, "openai-gpt-4o", "", false}).allowed) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "replica never allowed team B's key";
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  auto halted = [&replica] {
    std::set<std::int32_t> out;
    for (const auto& p : replica.stats().partitions) {
      if (p.halt) out.insert(p.partition);
    }
    return out;
  };
  EXPECT_EQ(halted(), std::set<std::int32_t>{pa});
  validator::Decision a = replica.Check({secret_a, "openai-gpt-4o", "", false});
  EXPECT_FALSE(a.allowed);
  EXPECT_EQ(a.reason, validator::DenyReason::kPartitionHalted);
  // The halt leaves the replica ready for every other team.
  std::string why;
  while (!replica.Ready(&why)) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << why;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }

  // The operator's skip of exactly that record: the replica reads on, and the deletion behind the
  // bad record takes effect.
  events::RecordSkipped skip;
  skip.partition = pa;
  skip.offset = reports[2].offset;
  skip.record_sha256 = common::Sha256Of("not an event");
  skip.note = "test garbage";
  events::RecordSkipped wrong = skip;
  wrong.record_sha256 = common::Sha256Of("another record");
  events::Caller op{"op-ivan", "Ivan", "", events::Role::kOperator};
  auto skip_bytes = [&](const events::RecordSkipped& s) {
    events::CommandContext c{*common::NewUuidV4(random), 1795384514000000, "r3", "", ""};
    return *events::Encode(*events::DecideSkip(op, s, c));
  };
  ASSERT_TRUE((*producer)->BeginTransaction().ok());
  storage::DeliveryReport skip_reports[2];
  ASSERT_TRUE((*producer)->Produce(topic, pa, "", skip_bytes(wrong), &skip_reports[0]).ok());
  ASSERT_TRUE((*producer)->Produce(topic, pa, "", skip_bytes(skip), &skip_reports[1]).ok());
  ASSERT_TRUE((*producer)->CommitTransaction(30000).ok());
  while (replica.Check({secret_a, "openai-gpt-4o", "", false}).reason != validator::DenyReason::kUnknown) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the replica never honoured the skip";
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(halted().empty());
  EXPECT_EQ(replica.stats().skips_honoured, 1u);
  EXPECT_TRUE(replica.Check({secret_b, "openai-gpt-4o", "", false}).allowed);
  replica.Stop();
}

// Regression: a replica started before its topic existed exited ("does not exist"), so replicas
// started beside a new deployment crash-looped; and it read only the partitions of its start.
TEST(Replica, WaitsForItsTopicSayingSoAndPicksUpNewPartitions) {
  KL_REQUIRE_BROKER(bootstrap);
  const std::string topic = testing::UniqueTopic("keyledger.it.replica-wait");
  storage::KafkaConfig config{bootstrap, {}};
  events::Catalog catalog = events::Catalog::Default();
  common::OsRandom random;
  common::SystemClock clock;
  common::Logger logger(stderr, &clock, common::LogLevel::kError);
  validator::ReplicaOptions options;
  options.kafka = config;
  options.topic = topic;
  options.metadata_interval_ms = 200;
  validator::Replica replica(options, &catalog, &logger, &clock);
  ASSERT_TRUE(replica.Start().ok());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  std::string why;
  while (replica.Ready(&why) || why.find("does not exist yet") == std::string::npos) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "never said it waits for the topic: " << why;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(storage::CreateTopic(config, topic, 1, {}, 30000).ok());
  auto produce = [&](std::int32_t partition, std::int32_t count, const std::string& team, std::string* secret) {
    *secret = *common::GenerateSecret(random);
    events::Caller owner{"owner", "Owner", team, events::Role::kOwner};
    events::CreateKeyCommand c{*common::NewUuidV4(random), "k", true, {}, false, "", common::HashSecret(*secret),
                               common::SecretHint(*secret)};
    events::CommandContext ctx{*common::NewUuidV4(random), 1795384512000000, "r", "", ""};
    auto e = events::DecideCreate(std::nullopt, owner, c, catalog, ctx);
    ASSERT_TRUE(e.ok());
    ASSERT_EQ(events::PartitionForTeam(team, count), partition);
    auto producer = storage::TransactionalProducer::Create(config, "wait-" + topic + std::to_string(partition));
    ASSERT_TRUE(producer.ok());
    ASSERT_TRUE((*producer)->InitTransactions(30000).ok());
    ASSERT_TRUE((*producer)->BeginTransaction().ok());
    storage::DeliveryReport report;
    ASSERT_TRUE((*producer)->Produce(topic, partition, team, *events::Encode(*e), &report).ok());
    ASSERT_TRUE((*producer)->CommitTransaction(30000).ok());
  };
  std::string first, second;
  produce(0, 1, "team-a", &first);
  while (!replica.Check({first, "openai-gpt-4o", "", false}).allowed) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the replica never read the new topic";
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // Two more partitions; an event for a team of the third one (under the new count).
  ASSERT_TRUE(storage::AddPartitions(config, topic, 3, 30000).ok());
  std::string team;
  for (int i = 0; team.empty(); ++i) {
    if (events::PartitionForTeam("team-n" + std::to_string(i), 3) == 2) team = "team-n" + std::to_string(i);
  }
  produce(2, 3, team, &second);
  while (!replica.Check({second, "openai-gpt-4o", "", false}).allowed) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the replica never read the new partition";
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(replica.stats().partitions.size(), 3u);
  replica.Stop();
}

}  // namespace
}  // namespace keyledger
