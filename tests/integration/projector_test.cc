// The projector against the real broker and a real RocksDB: views, the hashed-secret lookup,
// history, resume from stored offsets, and halting on corrupt or unchained events.
#include <gtest/gtest.h>

#include <rocksdb/db.h>

#include "keyledger/common/secret.h"
#include "keyledger/projector/projector.h"
#include "keyledger/writer/writer.h"
#include "support/event_stream.h"
#include "support/temp_dir.h"
#include "support/test_broker.h"

namespace keyledger {
namespace {

using events::Caller;
using events::Role;
using events::View;

struct Harness {
  std::string bootstrap;
  std::string topic;
  int partitions;
  events::Catalog catalog = events::Catalog::Default();
  common::SystemClock clock;
  common::OsRandom random;
  common::Logger logger{stderr, &clock, common::LogLevel::kWarn};
  testing::TempDir dir;

  Harness(std::string b, int p) : bootstrap(std::move(b)), partitions(p) {
    topic = testing::UniqueTopic("keyledger.it.projector");
    common::Status s = storage::CreateTopic({bootstrap, {}}, topic, partitions, {}, 30000);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  projector::ProjectorOptions Options() const {
    projector::ProjectorOptions o;
    o.kafka.bootstrap_servers = bootstrap;
    o.topic = topic;
    return o;
  }
  // A writer on the topic, started; null (the failure reported) if it could not start.
  std::unique_ptr<writer::Writer> StartWriter() {
    writer::WriterOptions wo;
    wo.kafka.bootstrap_servers = bootstrap;
    wo.topic = topic;
    auto w = std::make_unique<writer::Writer>(wo, &catalog, &clock, &random, &logger);
    common::Status s = w->Start(30000);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return s.ok() ? std::move(w) : nullptr;
  }
};

// The callers of the views tests: an owner and a member of acme, an owner of globex, an operator.
const Caller kOwner{"user-olga", "Olga", "team-acme", Role::kOwner};
const Caller kMember{"user-mia", "Mia", "team-acme", Role::kMember};
const Caller kOtherTeam{"user-gus", "Gus", "team-globex", Role::kOwner};
const Caller kOperator{"ops", "Importer", "", Role::kOperator};

struct Secrets {
  std::vector<std::string> all;
  common::OsRandom random;
  events::CreateKeyCommand Create(const std::string& name, bool all_models = true) {
    all.push_back(*common::GenerateSecret(random));
    events::CreateKeyCommand c;
    c.name = name;
    c.all_models = all_models;
    if (!all_models) c.models = {"openai-gpt-4o"};
    c.secret_sha256 = common::HashSecret(all.back());
    c.secret_hint = common::SecretHint(all.back());
    return c;
  }
};

TEST(Projector, BuildsViewsSecretLookupAndHistoryAndResumesFromStoredOffsets) {
  KL_REQUIRE_BROKER(bootstrap);
  Harness h(bootstrap, 3);
  std::unique_ptr<writer::Writer> writer_ptr = h.StartWriter();
  ASSERT_NE(writer_ptr, nullptr);
  writer::Writer& w = *writer_ptr;
  const Caller &owner = kOwner, &member = kMember, &other_team = kOtherTeam, &op = kOperator;
  Secrets secrets;
  auto submit = [&](const Caller& c, events::Command cmd) {
    auto r = w.Submit(writer::CommandRequest{c, std::move(cmd), "req", "", ""});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return *r;
  };
  auto o1 = submit(owner, secrets.Create("owner one"));
  auto o2 = submit(owner, secrets.Create("owner two", false));
  auto m1 = submit(member, secrets.Create("member one"));
  auto g1 = submit(other_team, secrets.Create("globex"));
  secrets.all.push_back(*common::GenerateSecret(secrets.random));
  auto legacy = submit(op, events::ImportLegacyKeyCommand{"", "team-acme", "user-mia", "Mia",
                                                          "old key", 1600000000000000,
                                                          common::HashSecret(secrets.all.back()),
                                                          common::SecretHint(secrets.all.back())});
  submit(owner, events::RenameKeyCommand{m1.key_after.key_id, "member one renamed", {}});
  std::string fresh = *common::GenerateSecret(secrets.random);
  secrets.all.push_back(fresh);
  auto regen = submit(owner, events::RegenerateKeyCommand{o1.key_after.key_id, "owner one", {},
                                                          common::HashSecret(fresh),
                                                          common::SecretHint(fresh)});
  auto deleted = submit(owner, events::DeleteKeyCommand{o2.key_after.key_id, "owner two", {}});

  auto store = projector::OpenReadModelStore(h.dir.path("db"), {});
  ASSERT_TRUE(store.ok());
  {
    projector::Projector p(h.Options(), store->get(), &h.logger, &h.clock);
    ASSERT_TRUE(p.Start().ok());
    // Read-your-writes: wait for the last acknowledged offset.
    ASSERT_TRUE(p.WaitForOffset(deleted.partition, deleted.offset, 30000).ok());
    ASSERT_TRUE(p.WaitForOffset(g1.partition, g1.offset, 30000).ok());
    const projector::ReadModel& rm = p.read_model();

    auto mine = rm.ListView(owner, View::kMine, 1, 20);
    ASSERT_TRUE(mine.ok());
    ASSERT_EQ(mine->total, 1u);  // owner two was deleted
    EXPECT_EQ(mine->keys[0].key_id, o1.key_after.key_id);
    auto member_mine = rm.ListView(member, View::kMine, 1, 20);
    ASSERT_EQ(member_mine->total, 1u);
    EXPECT_EQ(member_mine->keys[0].name, "member one renamed");
    auto legacy_view = rm.ListView(member, View::kLegacy, 1, 20);
    ASSERT_EQ(legacy_view->total, 1u);
    EXPECT_TRUE(legacy_view->keys[0].legacy);
    auto team = rm.ListView(owner, View::kTeam, 1, 20);
    ASSERT_EQ(team->total, 1u);
    EXPECT_EQ(team->keys[0].creator_name, "Mia");
    EXPECT_EQ(rm.ListView(member, View::kTeam, 1, 20).status().code(),
              common::StatusCode::kPermissionDenied);
    auto globex = rm.ListView(other_team, View::kMine, 1, 20);
    ASSERT_EQ(globex->total, 1u);

    // The hashed-secret lookup: regenerated old secret gone at once, new one live, deleted gone.
    EXPECT_FALSE(rm.LookupSecret(common::HashSecret(secrets.all[0]))->has_value());
    auto live = rm.LookupSecret(common::HashSecret(fresh));
    ASSERT_TRUE(live.ok() && live->has_value());
    EXPECT_EQ((*live)->key_id, o1.key_after.key_id);
    EXPECT_EQ((*live)->revision, 2u);
    EXPECT_FALSE(rm.LookupSecret(common::HashSecret(secrets.all[1]))->has_value());
    auto legacy_lookup = rm.LookupSecret(legacy.key_after.secret_sha256);
    ASSERT_TRUE(legacy_lookup->has_value());
    EXPECT_TRUE((*legacy_lookup)->legacy);
    EXPECT_TRUE((*legacy_lookup)->all_models);

    auto history = rm.KeyHistory(o1.key_after.key_id);
    ASSERT_TRUE(history.ok());
    ASSERT_EQ(history->size(), 2u);
    EXPECT_EQ((*history)[1].event.event_id, regen.event.event_id);
    auto deleted_record = rm.GetKey(o2.key_after.key_id);
    ASSERT_TRUE(deleted_record->has_value());
    EXPECT_TRUE((*deleted_record)->state.deleted);
    EXPECT_EQ(p.stats().events_applied, 8u);
    p.Stop();
  }
  // A second projector on the same store resumes from the stored offsets: nothing re-applied.
  projector::Projector again(h.Options(), store->get(), &h.logger, &h.clock);
  ASSERT_TRUE(again.RunUntil(30000).ok());
  EXPECT_EQ(again.stats().events_applied, 0u);
  store->reset();

  // No secret appears anywhere in the store: keys or values of any column family.
  rocksdb::Options options;
  std::vector<std::string> names;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(options, h.dir.path("db"), &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& n : names) descriptors.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  ASSERT_TRUE(rocksdb::DB::OpenForReadOnly(options, h.dir.path("db"), descriptors, &handles, &db).ok());
  size_t scanned = 0;
  for (auto* handle : handles) {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), handle));
    for (it->SeekToFirst(); it->Valid(); it->Next(), ++scanned) {
      std::string kv = it->key().ToString() + it->value().ToString();
      for (const std::string& secret : secrets.all) {
        ASSERT_EQ(kv.find(secret.substr(9, 20)), std::string::npos) << "secret stored in RocksDB";
      }
    }
    ASSERT_TRUE(it->status().ok());
  }
  EXPECT_GT(scanned, 20u);
  for (auto* handle : handles) db->DestroyColumnFamilyHandle(handle);
  delete db;
}

// Page totals are counts the projector keeps beside the views (one read per page, not a scan of
// the view); a store from before the counts is brought up to them when its projector starts, and
// a store from a newer layout is refused.
TEST(Projector, KeepsViewCountsAndUpgradesAStoreFromBeforeThem) {
  KL_REQUIRE_BROKER(bootstrap);
  Harness h(bootstrap, 3);
  std::unique_ptr<writer::Writer> writer_ptr = h.StartWriter();
  ASSERT_NE(writer_ptr, nullptr);
  writer::Writer& w = *writer_ptr;
  const Caller &owner = kOwner, &member = kMember, &other_team = kOtherTeam, &op = kOperator;
  Secrets secrets;
  writer::CommandOutcome last;
  auto submit = [&](const Caller& c, events::Command cmd) {
    auto r = w.Submit(writer::CommandRequest{c, std::move(cmd), "req", "", ""});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    last = *r;
    return *r;
  };
  std::vector<std::string> owner_keys;
  for (int i = 0; i < 3; ++i) owner_keys.push_back(submit(owner, secrets.Create("o" + std::to_string(i))).key_after.key_id);
  for (int i = 0; i < 2; ++i) submit(member, secrets.Create("m" + std::to_string(i)));
  std::vector<std::string> legacy_keys;
  for (int i = 0; i < 2; ++i) {
    std::string secret = *common::GenerateSecret(secrets.random);
    legacy_keys.push_back(submit(op, events::ImportLegacyKeyCommand{"", "team-acme", "user-mia", "Mia",
                                                                    "old " + std::to_string(i), 1600000000000000 + i,
                                                                    common::HashSecret(secret),
                                                                    common::SecretHint(secret)})
                              .key_after.key_id);
  }
  const writer::CommandOutcome globex = submit(other_team, secrets.Create("g"));  // maybe another partition
  submit(owner, events::RenameKeyCommand{owner_keys[0], "o0 renamed", {}});
  submit(owner, events::DeleteKeyCommand{owner_keys[1], "o1", {}});
  submit(owner, events::DeleteKeyCommand{legacy_keys[0], "old 0", {}});

  auto store = projector::OpenReadModelStore(h.dir.path("db"), {});
  ASSERT_TRUE(store.ok());
  auto totals = [&](const projector::ReadModel& rm) {
    std::vector<size_t> t;
    for (auto [caller, view] : {std::pair{owner, View::kMine}, std::pair{member, View::kMine},
                                std::pair{owner, View::kTeam}, std::pair{member, View::kLegacy},
                                std::pair{other_team, View::kMine}, std::pair{other_team, View::kTeam}}) {
      auto page = rm.ListView(caller, view, 1, 1);
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      t.push_back(page.ok() ? page->total : 999);
      if (page.ok()) {
        EXPECT_EQ(page->keys.size(), std::min<size_t>(page->total, 1));
      }
    }
    return t;
  };
  const std::vector<size_t> expected = {2, 2, 2, 1, 1, 0};
  auto count_at = [&](const std::string& key) -> std::int64_t {
    auto v = (*store)->Get(projector::Column::kMeta, key);
    EXPECT_TRUE(v.ok());
    return v.ok() && v->has_value() ? projector::layout::ParseCountValue(**v).value_or(-1) : 0;
  };
  {
    projector::Projector p(h.Options(), store->get(), &h.logger, &h.clock);
    ASSERT_TRUE(p.Start().ok());
    ASSERT_TRUE(p.WaitForOffset(last.partition, last.offset, 30000).ok());
    ASSERT_TRUE(p.WaitForOffset(globex.partition, globex.offset, 30000).ok());
    EXPECT_EQ(totals(p.read_model()), expected);
    EXPECT_EQ(count_at(projector::layout::ViewCountKey(View::kMine, "team-acme", "user-olga")), 2);
    EXPECT_EQ(count_at(projector::layout::ViewCountKey(View::kTeam, "team-acme")), 4);
    EXPECT_EQ(count_at(projector::layout::ViewCountKey(View::kLegacy, "team-acme")), 1);
    auto second = p.read_model().ListView(owner, View::kMine, 2, 1);
    ASSERT_TRUE(second.ok());
    ASSERT_EQ(second->keys.size(), 1u);
    EXPECT_EQ(second->total, 2u);
    p.Stop();
  }

  // The store as a build before the counts left it: no version, no counts. The scan still
  // counts right, and the next start writes the counts back.
  std::vector<std::string> meta_counts;
  ASSERT_TRUE((*store)->ScanPrefix(projector::Column::kMeta, "count", [&](std::string_view k, std::string_view) {
    meta_counts.emplace_back(k);
    return true;
  }).ok());
  // Olga's, Mia's and Gus's My keys; acme's team and legacy views; globex's team view.
  ASSERT_EQ(meta_counts.size(), 6u);
  storage::Store::Batch downgrade = (*store)->NewBatch();
  for (const std::string& k : meta_counts) downgrade.Delete(projector::Column::kMeta, k);
  downgrade.Delete(projector::Column::kMeta, projector::layout::kLayoutVersionKey);
  ASSERT_TRUE((*store)->Write(downgrade).ok());
  EXPECT_EQ(totals(projector::ReadModel(store->get())), expected);
  {
    projector::Projector p(h.Options(), store->get(), &h.logger, &h.clock);
    ASSERT_TRUE(p.Start().ok());
    EXPECT_EQ(count_at(projector::layout::ViewCountKey(View::kTeam, "team-acme")), 4);
    EXPECT_EQ(totals(p.read_model()), expected);
    // And it keeps them from there on.
    submit(member, events::DeleteKeyCommand{legacy_keys[1], "old 1", {}});
    submit(owner, secrets.Create("o3"));
    ASSERT_TRUE(p.WaitForOffset(last.partition, last.offset, 30000).ok());
    EXPECT_EQ(totals(p.read_model()), (std::vector<size_t>{3, 2, 2, 0, 1, 0}));
    EXPECT_EQ(count_at(projector::layout::ViewCountKey(View::kLegacy, "team-acme")), 0);
    p.Stop();
  }

  // A store from a newer build is refused, not miscounted.
  storage::Store::Batch newer = (*store)->NewBatch();
  newer.Put(projector::Column::kMeta, projector::layout::kLayoutVersionKey, projector::layout::LayoutVersionValue(projector::layout::kLayoutVersion + 1));
  ASSERT_TRUE((*store)->Write(newer).ok());
  projector::Projector refused(h.Options(), store->get(), &h.logger, &h.clock);
  common::Status started = refused.Start();
  EXPECT_EQ(started.code(), common::StatusCode::kFailedPrecondition) << started.ToString();
  EXPECT_NE(started.message().find("layout version " + std::to_string(projector::layout::kLayoutVersion + 1)),
            std::string::npos)
      << started.message();
}

TEST(Projector, CorruptEventHaltsItsPartitionUntilAnOperatorSkipsIt) {
  KL_REQUIRE_BROKER(bootstrap);
  Harness h(bootstrap, 2);
  storage::KafkaConfig config{bootstrap, {}};
  testing::EventStream stream(2, 20, 42);
  ASSERT_TRUE(testing::AppendStream(config, h.topic, stream, 200, 50, "gen-" + h.topic).ok());
  // A record that is not an event, in partition 1.
  auto producer = storage::TransactionalProducer::Create(config, "garbage-" + h.topic);
  ASSERT_TRUE(producer.ok());
  ASSERT_TRUE((*producer)->InitTransactions(30000).ok());
  ASSERT_TRUE((*producer)->BeginTransaction().ok());
  storage::DeliveryReport report;
  ASSERT_TRUE((*producer)->Produce(h.topic, 1, "x", "this is not a cap'n proto event", &report).ok());
  ASSERT_TRUE((*producer)->CommitTransaction(30000).ok());
  producer->reset();
  ASSERT_TRUE(testing::AppendStream(config, h.topic, stream, 200, 50, "gen-" + h.topic).ok());

  auto store = projector::OpenReadModelStore(h.dir.path("db"), {});
  ASSERT_TRUE(store.ok());
  {
    projector::Projector p(h.Options(), store->get(), &h.logger, &h.clock);
    ASSERT_TRUE(p.RunUntil(60000).ok());
    auto stats = p.stats();
    EXPECT_EQ(stats.halts, 1u);
    EXPECT_EQ(stats.decode_errors, 1u);
    EXPECT_LT(stats.events_applied, 400u);
    auto halts = p.read_model().Halts();
    ASSERT_TRUE(halts.ok());
    ASSERT_EQ(halts->size(), 1u);
    EXPECT_EQ((*halts)[0].partition, 1);
    EXPECT_EQ((*halts)[0].offset, report.offset);
    EXPECT_NE((*halts)[0].reason.find("undecodable"), std::string::npos) << (*halts)[0].reason;
    // Nothing at or past the corrupt record was applied (the offset before it may be a marker).
    EXPECT_LE(stats.next_offsets[1], report.offset);
    EXPECT_GE(stats.next_offsets[1], report.offset - 1);
    // Waiting for an offset beyond the halt reports the halt instead of hanging.
    EXPECT_EQ(p.WaitForOffset(1, report.offset + 1, 1000).code(), common::StatusCode::kDataLoss);
    // Restarting does not silently skip it.
    projector::Projector restarted(h.Options(), store->get(), &h.logger, &h.clock);
    ASSERT_TRUE(restarted.RunUntil(60000).ok());
    EXPECT_EQ(restarted.stats().halts, 1u);
    EXPECT_EQ(restarted.stats().events_applied, 0u);
  }
  // The operator's skip goes through the writer, which halted at the same record.
  writer::WriterOptions wo;
  wo.kafka = config;
  wo.topic = h.topic;
  writer::Writer w(wo, &h.catalog, &h.clock, &h.random, &h.logger);
  ASSERT_TRUE(w.Start(30000).ok());
  ASSERT_EQ(w.Halts().count(1), 1u);
  EXPECT_EQ(w.Halts().at(1).offset, report.offset);
  Caller op{"op-ivan", "Ivan", "", Role::kOperator};
  events::RecordSkipped skip;
  skip.partition = 1;
  skip.offset = report.offset;
  skip.record_sha256 = common::Sha256Of("this is not a cap'n proto event");
  skip.note = "garbage from a test";
  events::RecordSkipped wrong = skip;
  wrong.offset += 5;
  EXPECT_EQ(w.Submit(writer::CommandRequest{op, events::SkipRecordCommand{wrong}, "req", "", ""}).status().code(),
            common::StatusCode::kConflict);
  auto skipped = w.Submit(writer::CommandRequest{op, events::SkipRecordCommand{skip}, "req", "", ""});
  ASSERT_TRUE(skipped.ok()) << skipped.status().ToString();
  EXPECT_TRUE(w.Halts().empty());
  w.Stop();

  projector::Projector resumed(h.Options(), store->get(), &h.logger, &h.clock);
  ASSERT_TRUE(resumed.RunUntil(60000).ok());
  EXPECT_EQ(resumed.stats().halts, 0u);
  EXPECT_EQ(resumed.stats().skips_honoured, 1u);
  auto note = (*store)->Get(projector::Column::kMeta, projector::layout::SkipKey(1, report.offset));
  ASSERT_TRUE(note.ok() && note->has_value());
  EXPECT_NE((*note)->find("garbage from a test"), std::string::npos) << **note;
  EXPECT_NE((*note)->find("op-ivan"), std::string::npos) << **note;
  auto offsets = resumed.read_model().Offsets();
  ASSERT_TRUE(offsets.ok());
  EXPECT_GT((*offsets)[1], skipped->offset);

  // A projection from scratch (what replay does) passes the record the same way, to the same
  // store: every event, and the same skip note.
  testing::TempDir fresh_dir;
  auto fresh = projector::OpenReadModelStore(fresh_dir.path("db"), {});
  ASSERT_TRUE(fresh.ok());
  projector::Projector from_scratch(h.Options(), fresh->get(), &h.logger, &h.clock);
  ASSERT_TRUE(from_scratch.RunUntil(60000).ok());
  EXPECT_EQ(from_scratch.stats().halts, 0u);
  EXPECT_EQ(from_scratch.stats().events_applied, 400u);
  auto fresh_note = (*fresh)->Get(projector::Column::kMeta, projector::layout::SkipKey(1, report.offset));
  ASSERT_TRUE(fresh_note.ok() && fresh_note->has_value());
  EXPECT_EQ(**fresh_note, **note);
  EXPECT_EQ(*from_scratch.read_model().Offsets(), *offsets);
}

TEST(Projector, EventThatBreaksTheHashChainHaltsThePartition) {
  KL_REQUIRE_BROKER(bootstrap);
  Harness h(bootstrap, 1);
  storage::KafkaConfig config{bootstrap, {}};
  testing::EventStream stream(1, 3, 7);
  ASSERT_TRUE(testing::AppendStream(config, h.topic, stream, 20, 20, "gen-" + h.topic).ok());
  // A well-formed event whose prev_hash links to nothing.
  testing::EventStream other(1, 3, 8);
  ASSERT_TRUE(testing::AppendStream(config, h.topic, other, 1, 1, "other-" + h.topic).ok());
  auto store = projector::OpenReadModelStore(h.dir.path("db"), {});
  ASSERT_TRUE(store.ok());
  projector::Projector p(h.Options(), store->get(), &h.logger, &h.clock);
  ASSERT_TRUE(p.RunUntil(60000).ok());
  EXPECT_EQ(p.stats().events_applied, 20u);
  auto halts = p.read_model().Halts();
  ASSERT_EQ(halts->size(), 1u);
  EXPECT_NE((*halts)[0].reason.find("hash chain broken"), std::string::npos);
}

}  // namespace
}  // namespace keyledger
