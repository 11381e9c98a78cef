// Crash consistency: the projector (the keyledger binary) is killed with SIGKILL at random points
// while projecting a stream of 50,000 events (12,000 under a sanitizer). After every kill, the
// store must equal a clean replay of exactly the prefix of the log it claims to have applied; at
// the end, a clean replay of the whole log. Stores are compared by a checksum per column family
// computed here, with RocksDB directly, by code the projector does not use.
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <chrono>
#include <map>
#include <random>
#include <thread>

#include "keyledger/common/crypto.h"
#include "keyledger/projector/layout.h"
#include "keyledger/projector/projector.h"
#include "support/child_process.h"
#include "support/event_stream.h"
#include "support/sanitized.h"
#include "support/temp_dir.h"
#include "support/test_broker.h"

namespace keyledger {
namespace {

constexpr int kPartitions = 4;
// Under ASan or TSan the projector runs several times slower; fewer events and kills keep the test
// to under a minute there, and most kills still land inside the stream (support/sanitized.h).
constexpr size_t kEvents = testing::FullOrSanitized<size_t>(50000, 12000);
constexpr int kKills = testing::FullOrSanitized(30, 12);

// Column family name -> SHA-256 over its (key length, key, value length, value) sequence.
std::map<std::string, std::string> ChecksumPerColumnFamily(const std::string& path) {
  rocksdb::Options options;
  std::vector<std::string> names;
  rocksdb::Status s = rocksdb::DB::ListColumnFamilies(options, path, &names);
  EXPECT_TRUE(s.ok()) << s.ToString();
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& n : names) descriptors.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  s = rocksdb::DB::OpenForReadOnly(options, path, descriptors, &handles, &db);
  EXPECT_TRUE(s.ok()) << s.ToString();
  std::map<std::string, std::string> sums;
  if (!s.ok()) return sums;
  for (size_t i = 0; i < handles.size(); ++i) {
    common::Sha256 hash;
    size_t count = 0;
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), handles[i]));
    for (it->SeekToFirst(); it->Valid(); it->Next(), ++count) {
      std::string k = it->key().ToString(), v = it->value().ToString();
      hash.Update(std::to_string(k.size()) + ":" + k + std::to_string(v.size()) + ":" + v);
    }
    EXPECT_TRUE(it->status().ok());
    sums[names[i]] = common::HexEncode(hash.Finish()) + "/" + std::to_string(count);
  }
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  delete db;
  return sums;
}

// The two durability modes of the projector's store:
//   atomic flush  the default: no WAL, every column family flushed together (small memtables
//                 here, so flushes are frequent and kills land before, during and after them)
//   wal           --sync: a write-ahead log replayed at open
enum class Mode { kAtomicFlush, kWal };

std::unique_ptr<testing::ChildProcess> SpawnProjector(Mode mode, const std::string& bootstrap,
                                                     const std::string& topic, const std::string& db,
                                                     const std::string& log_path) {
  // Paced so that the kills below land throughout the stream, many inside a batch write.
  std::vector<std::string> args = {KEYLEDGER_BINARY, "project", "--bootstrap", bootstrap,
                                   "--topic", topic, "--db", db,
                                   "--max-events-per-second", "3000", "--max-batch", "256",
                                   "--write-buffer-kb", "128"};
  if (mode == Mode::kWal) args.push_back("--sync");
  return std::make_unique<testing::ChildProcess>(args, log_path);
}

class ProjectorCrash : public ::testing::TestWithParam<Mode> {};

TEST_P(ProjectorCrash, StoreEqualsAReplayOfALogPrefixAfterEverySigkill) {
  KL_REQUIRE_BROKER(bootstrap);
  const std::uint64_t seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::printf("crash test seed %llu\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  testing::TempDir dir;
  storage::KafkaConfig config{bootstrap, {}};
  const std::string topic = testing::UniqueTopic("keyledger.it.crash");
  ASSERT_TRUE(storage::CreateTopic(config, topic, kPartitions, {}, 30000).ok());
  testing::EventStream stream(kPartitions, 200, seed);
  ASSERT_TRUE(testing::AppendStream(config, topic, stream, kEvents, 500, "gen-" + topic).ok());

  common::SystemClock clock;
  common::Logger logger(stderr, &clock, common::LogLevel::kWarn);
  projector::ProjectorOptions options;
  options.kafka = config;
  options.topic = topic;
  const std::string live = dir.path("live"), reference = dir.path("reference");

  std::vector<std::int64_t> totals;  // sum of stored offsets after each kill
  std::int64_t last_total = -1;
  int extra_ms = 0;
  for (int kill = 0; kill < kKills; ++kill) {
    auto projector = SpawnProjector(GetParam(), bootstrap, topic, live, dir.path("projector.log"));
    ASSERT_TRUE(projector->running());
    // Kill relative to the moment it starts projecting, so that slow starts (sanitizer builds) do
    // not turn every kill into a kill before the first write.
    auto started = std::chrono::steady_clock::now();
    while (projector->LogText().find("projector running") == std::string::npos &&
           std::chrono::steady_clock::now() - started < std::chrono::seconds(60)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(150 + rng() % 450 + extra_ms));
    projector->Kill();

    std::map<std::int32_t, std::int64_t> offsets;
    {
      // Opening read-write replays the WAL exactly as the next projector start would.
      auto store = projector::OpenReadModelStore(live, {});
      ASSERT_TRUE(store.ok()) << store.status().ToString();
      auto stored = projector::ReadModel(store->get()).Offsets();
      ASSERT_TRUE(stored.ok());
      offsets = *stored;
    }
    std::int64_t total = 0;
    for (const auto& [p, o] : offsets) total += o;
    EXPECT_GE(total, last_total) << "stored offsets went backwards";
    // Nothing became durable before this kill (a slow, sanitizer-instrumented start, or no flush
    // yet without a WAL): give the next run longer, so kills keep landing inside the stream.
    extra_ms = total == last_total ? std::min(2 * extra_ms + 250, 8000) : extra_ms / 2;
    last_total = total;
    totals.push_back(total);

    {
      auto store = projector::OpenReadModelStore(reference, {});
      ASSERT_TRUE(store.ok());
      projector::Projector replay(options, store->get(), &logger, &clock);
      ASSERT_TRUE(replay.RunUntil(120000, offsets).ok());
    }
    auto got = ChecksumPerColumnFamily(live);
    auto want = ChecksumPerColumnFamily(reference);
    ASSERT_EQ(got, want) << "after kill " << kill << " the store is not a replay of a log prefix";
  }

  // Let one run finish, then compare with a clean replay of the whole log.
  {
    auto store = projector::OpenReadModelStore(live, {});
    ASSERT_TRUE(store.ok());
    projector::Projector finish(options, store->get(), &logger, &clock);
    ASSERT_TRUE(finish.RunUntil(120000).ok());
  }
  {
    auto store = projector::OpenReadModelStore(dir.path("clean"), {});
    ASSERT_TRUE(store.ok());
    projector::Projector clean(options, store->get(), &logger, &clock);
    ASSERT_TRUE(clean.RunUntil(120000).ok());
    EXPECT_EQ(clean.stats().events_applied, kEvents);
    EXPECT_EQ(clean.stats().halts, 0u);
  }
  EXPECT_EQ(ChecksumPerColumnFamily(live), ChecksumPerColumnFamily(dir.path("clean")));
  std::int64_t end_total = 0;
  {
    auto store = projector::OpenReadModelStore(live, {});
    ASSERT_TRUE(store.ok());
    auto final_offsets = projector::ReadModel(store->get()).Offsets();
    ASSERT_TRUE(final_offsets.ok());
    for (const auto& [p, o] : *final_offsets) end_total += o;
  }
  int mid_stream_kills = 0;
  std::string trace;
  for (std::int64_t t : totals) {
    mid_stream_kills += t > 0 && t < end_total;
    trace += " " + std::to_string(t);
  }
  std::printf("kills: %d, of which mid-stream: %d; stored offset sums:%s of %lld\n", kKills,
              mid_stream_kills, trace.c_str(), static_cast<long long>(end_total));
  EXPECT_GE(mid_stream_kills, kKills / 2) << "too few kills landed inside the stream";
}

INSTANTIATE_TEST_SUITE_P(Modes, ProjectorCrash, ::testing::Values(Mode::kAtomicFlush, Mode::kWal),
                         [](const ::testing::TestParamInfo<Mode>& param_info) {
                           return param_info.param == Mode::kWal ? std::string("Wal")
                                                           : std::string("AtomicFlush");
                         });

}  // namespace
}  // namespace keyledger
