#include "keyledger/projector/read_model.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

namespace keyledger::projector {
namespace {

events::KeyState SampleKey() {
  events::KeyState s;
  s.key_id = "00000000-0000-4000-8000-000000000001";
  s.team_id = "team-acme";
  s.name = "gateway \xf0\x9f\x94\x91";
  s.creator_id = "user-olga";
  s.creator_name = "Olga";
  s.created_at_micros = 1795384512000000;
  s.all_models = false;
  s.models = {"openai-gpt-4o", "alibaba-qwen3-32b"};
  s.vpc_uuid = "5f0c8e3a-2b7d-4c1e-9a6f-1d2e3f4a5b6c";
  s.secret_sha256 = common::Sha256Of("x");
  s.secret_hint = "abcd";
  s.revision = 3;
  s.updated_at_micros = -5;
  return s;
}

TEST(ReadModelRecords, KeyRecordRoundTrips) {
  KeyRecord r{SampleKey(), 7, 123456789};
  auto decoded = DecodeKeyRecord(EncodeKeyRecord(r));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->state, r.state);
  EXPECT_EQ(decoded->partition, 7);
  EXPECT_EQ(decoded->last_offset, 123456789);
}

// Version 2 records carry the key's expiry; version 1 records (stores written before expiry
// existed) still decode, as keys that never expire.
TEST(ReadModelRecords, RecordsKeepTheExpiryAndVersionOneRecordsStillDecode) {
  KeyRecord r{SampleKey(), 7, 1};
  r.state.expires_at_micros = 1798761600000000;
  auto decoded = DecodeKeyRecord(EncodeKeyRecord(r));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->state.expires_at_micros, 1798761600000000);
  SecretRecord s = SecretRecordOf(r.state);
  auto secret = DecodeSecretRecord(EncodeSecretRecord(s));
  ASSERT_TRUE(secret.ok());
  EXPECT_EQ(secret->expires_at_micros, 1798761600000000);

  KeyRecord old{SampleKey(), 7, 1};  // no expiry: version 2 ends in one zero byte
  std::string v1 = EncodeKeyRecord(old);
  ASSERT_EQ(v1.back(), '\0');
  v1.pop_back();
  v1[0] = 1;
  auto from_v1 = DecodeKeyRecord(v1);
  ASSERT_TRUE(from_v1.ok()) << from_v1.status().ToString();
  EXPECT_EQ(from_v1->state, old.state);
  std::string s1 = EncodeSecretRecord(SecretRecordOf(old.state));
  s1.pop_back();
  s1[0] = 1;
  ASSERT_TRUE(DecodeSecretRecord(s1).ok());
  v1[0] = 3;
  EXPECT_FALSE(DecodeKeyRecord(v1).ok());
}

TEST(ReadModelRecords, SecretRecordRoundTripsAndHoldsNoSecret) {
  SecretRecord s{"k", "team-acme", false, {"openai-gpt-4o"}, false, "", true, 4};
  std::string bytes = EncodeSecretRecord(s);
  auto decoded = DecodeSecretRecord(bytes);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, s);
}

TEST(ReadModelRecords, TruncatedOrForeignBytesAreDataLoss) {
  std::string bytes = EncodeKeyRecord(KeyRecord{SampleKey(), 1, 2});
  for (size_t len = 0; len < bytes.size(); ++len) {
    auto r = DecodeKeyRecord(std::string_view(bytes).substr(0, len));
    ASSERT_FALSE(r.ok()) << len;
    EXPECT_EQ(r.status().code(), common::StatusCode::kDataLoss);
  }
  EXPECT_FALSE(DecodeSecretRecord(bytes).ok());
  EXPECT_FALSE(DecodeKeyRecord(bytes + "x").ok());
  Halt h{3, 99, "undecodable event: x", common::Sha256Of("raw")};
  auto halt = DecodeHalt(EncodeHalt(h));
  ASSERT_TRUE(halt.ok());
  EXPECT_EQ(halt->offset, 99);
  EXPECT_EQ(halt->record_sha256, h.record_sha256);
}

// Regression: a view scan racing a deletion could list the deleted key (the scan saw its view
// entry, the key record read afterwards was already deleted).
TEST(ReadModelViews, ListingSkipsAKeyDeletedBetweenTheScanAndTheRecordRead) {
  char dir_template[] = "/tmp/keyledger-read-model-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  {
    auto store = OpenReadModelStore(std::string(dir_template) + "/db", {});
    ASSERT_TRUE(store.ok());
    storage::Store::Batch batch = (*store)->NewBatch();
    events::KeyState live = SampleKey(), gone = SampleKey();
    live.legacy = gone.legacy = true;
    gone.key_id = "00000000-0000-4000-8000-000000000002";
    gone.deleted = true;
    for (const events::KeyState* k : {&live, &gone}) {
      batch.Put(Column::kKeys, k->key_id, EncodeKeyRecord({*k, 0, 1}));
      batch.Put(Column::kViewLegacy, layout::ViewKey(layout::TeamViewPrefix(k->team_id), *k), k->creator_id);
    }
    ASSERT_TRUE((*store)->Write(batch).ok());
    ReadModel model(store->get());
    auto page = model.ListView({"user-olga", "Olga", "team-acme", events::Role::kMember},
                               events::View::kLegacy, 1, 20);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    ASSERT_EQ(page->keys.size(), 1u);
    EXPECT_EQ(page->keys[0].key_id, live.key_id);
    EXPECT_EQ(page->total, 1u);
  }
  std::filesystem::remove_all(dir_template);
}

// With layout version 2 a page's total is the stored count (one read), not a scan of the view: a
// count that differs from the entries shows which one the total came from.
TEST(ReadModelViews, TotalsComeFromTheStoredCountsOnceTheLayoutHasThem) {
  char dir_template[] = "/tmp/keyledger-read-model-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  {
    auto store = OpenReadModelStore(std::string(dir_template) + "/db", {});
    ASSERT_TRUE(store.ok());
    storage::Store::Batch batch = (*store)->NewBatch();
    events::KeyState mine = SampleKey(), theirs = SampleKey();
    theirs.key_id = "00000000-0000-4000-8000-000000000002";
    theirs.creator_id = "user-mia";
    for (const events::KeyState* k : {&mine, &theirs}) {
      batch.Put(Column::kKeys, k->key_id, EncodeKeyRecord({*k, 0, 1}));
      batch.Put(Column::kViewMine, layout::ViewKey(layout::MineViewPrefix(k->team_id, k->creator_id), *k), "");
      batch.Put(Column::kViewTeam, layout::ViewKey(layout::TeamViewPrefix(k->team_id), *k), k->creator_id);
    }
    batch.Put(Column::kMeta, layout::ViewCountKey(events::View::kMine, "team-acme", "user-olga"), layout::CountValue(41));
    batch.Put(Column::kMeta, layout::ViewCountKey(events::View::kTeam, "team-acme"), layout::CountValue(1000));
    ASSERT_TRUE((*store)->Write(batch).ok());
    ReadModel model(store->get());
    const events::Caller olga{"user-olga", "Olga", "team-acme", events::Role::kOwner};
    // Version 1 (no version key): counted by the scan.
    auto scanned = model.ListView(olga, events::View::kMine, 1, 20);
    ASSERT_TRUE(scanned.ok()) << scanned.status().ToString();
    EXPECT_EQ(scanned->total, 1u);
    EXPECT_EQ(model.ListView(olga, events::View::kTeam, 1, 20)->total, 1u);

    batch.Clear();
    batch.Put(Column::kMeta, layout::kLayoutVersionKey, layout::LayoutVersionValue(layout::kLayoutVersion));
    ASSERT_TRUE((*store)->Write(batch).ok());
    auto counted = model.ListView(olga, events::View::kMine, 1, 20);
    ASSERT_TRUE(counted.ok());
    ASSERT_EQ(counted->keys.size(), 1u);
    EXPECT_EQ(counted->total, 41u);
    auto team = model.ListView(olga, events::View::kTeam, 1, 20);
    ASSERT_TRUE(team.ok());
    ASSERT_EQ(team->keys.size(), 1u);
    EXPECT_EQ(team->keys[0].key_id, theirs.key_id);
    EXPECT_EQ(team->total, 1000u - 41u);  // the team's keys less the caller's own
    EXPECT_EQ(model.ListView(olga, events::View::kLegacy, 1, 20)->total, 0u);
  }
  std::filesystem::remove_all(dir_template);
}

}  // namespace
}  // namespace keyledger::projector
