#include "keyledger/api/render.h"

#include <gtest/gtest.h>

namespace keyledger::api {
namespace {

namespace json = boost::json;

events::KeyState Key() {
  events::KeyState k;
  k.key_id = "00000000-0000-4000-8000-000000000001";
  k.team_id = "team-acme";
  k.name = "prod";
  k.creator_id = "user-olga";
  k.creator_name = "Olga";
  k.created_at_micros = 1795384512000000;
  k.all_models = false;
  k.models = {"openai-gpt-4o", "retired-model"};
  k.secret_hint = "abcd";
  k.revision = 3;
  return k;
}

TEST(Render, TheApiKeyObjectListsTheModelsItCanCallTodayAsObjects) {
  events::Catalog catalog = events::Catalog::Default();
  json::object info = KeyInfoJson(Key(), catalog, 1795384512000000, std::nullopt);
  EXPECT_EQ(info.at("uuid").as_string(), "00000000-0000-4000-8000-000000000001");
  EXPECT_EQ(info.at("created_at").as_string(), "2026-11-22T21:55:12Z");
  EXPECT_TRUE(info.at("vpc_uuid").is_null());
  const auto& models = info.at("models").as_array();
  ASSERT_EQ(models.size(), 1u);  // the retired model is not callable any more
  EXPECT_EQ(models[0].at("owned_by").as_string(), "openai");
  EXPECT_FALSE(info.contains("deleted"));
  EXPECT_FALSE(info.contains("secret_key"));
}

// A list page builds its whole answer in one arena: the key object must be allocated from the
// storage it is given (one built on the heap and then put into the arena's array is copied into
// it, string by string), and its JSON is the same as the heap-built one's.
TEST(Render, TheApiKeyObjectIsBuiltInTheStorageItIsGiven) {
  events::KeyState k = Key();
  k.vpc_uuid = "5f1e0c3a-9d2b-4c7e-8a61-0b3d2f4e6a71";
  k.expires_at_micros = 1795384512000000 + 60'000000;
  k.batch_inference = true;
  projector::LastUse used{1795384512000000 / 60'000000, "openai-gpt-4o", ""};
  json::monotonic_resource arena;
  const json::storage_ptr sp(&arena);
  json::object info = KeyInfoJson(k, events::Catalog::Default(), 1795384512000000, used, sp);
  EXPECT_EQ(info.storage().get(), &arena);
  EXPECT_EQ(json::serialize(info), json::serialize(KeyInfoJson(k, events::Catalog::Default(), 1795384512000000, used)));
  EXPECT_GE(info.at("models").as_array().size(), 2u);  // a callable model and Batch Inference
}

TEST(Render, ABatchKeyShowsBatchInferenceAmongItsModels) {
  events::KeyState k = Key();
  k.all_models = true;
  k.models.clear();
  k.batch_inference = true;
  json::object info = KeyInfoJson(k, events::Catalog::Default(), 1795384512000000, std::nullopt);
  const auto& models = info.at("models").as_array();
  EXPECT_EQ(models.back().at("name").as_string(), "Batch Inference");
}

TEST(Render, AKeyShowsItsExpiryWhetherItHasExpiredAndItsLastUse) {
  events::KeyState k = Key();
  json::object never = KeyInfoJson(k, events::Catalog::Default(), 1795384512000000, std::nullopt);
  EXPECT_TRUE(never.at("expires_at").is_null());
  EXPECT_FALSE(never.at("expired").as_bool());
  EXPECT_TRUE(never.at("last_used_at").is_null());

  k.expires_at_micros = 1795384512000000 + 60'000000;
  projector::LastUse used{1795384512000000 / 60'000000, "openai-gpt-4o", ""};
  json::object before = KeyInfoJson(k, events::Catalog::Default(), k.expires_at_micros - 1, used);
  EXPECT_EQ(before.at("expires_at").as_string(), "2026-11-22T21:56:12Z");
  EXPECT_FALSE(before.at("expired").as_bool());
  EXPECT_EQ(before.at("last_used_at").as_string(), "2026-11-22T21:55:00Z");  // to the minute
  EXPECT_TRUE(KeyInfoJson(k, events::Catalog::Default(), k.expires_at_micros, used).at("expired").as_bool());
  EXPECT_EQ(KeyStateJson(k).at("expires_at").as_string(), "2026-11-22T21:56:12Z");
}

TEST(Render, UsageListsEveryDayOfTheRangeOldestFirstWithZerosBetween) {
  const std::int64_t today = 1795384512000000 / 86400'000000;
  json::object u = UsageJson("k1", std::nullopt, {{today - 2, 5, 1}, {today, 7, 0}}, today - 3, today);
  const auto& usage = u.at("usage").as_object();
  EXPECT_TRUE(usage.at("last_used_at").is_null());
  EXPECT_TRUE(usage.at("last_used_model").is_null());
  const auto& days = usage.at("days").as_array();
  ASSERT_EQ(days.size(), 4u);
  EXPECT_EQ(days[0].at("date").as_string(), "2026-11-19");
  EXPECT_EQ(days[0].at("allowed").to_number<std::int64_t>(), 0);
  EXPECT_EQ(days[1].at("allowed").to_number<std::int64_t>(), 5);
  EXPECT_EQ(days[1].at("denied").to_number<std::int64_t>(), 1);
  EXPECT_EQ(days[3].at("date").as_string(), "2026-11-22");
  EXPECT_EQ(days[3].at("allowed").to_number<std::int64_t>(), 7);
}

TEST(Render, AKeyAsOfAPointInTimeNamesItsScopeByIdAndSaysIfDeleted) {
  events::KeyState k = Key();
  k.deleted = true;
  json::object state = KeyStateJson(k);
  EXPECT_EQ(state.at("models").as_array().size(), 2u);
  EXPECT_EQ(state.at("models").as_array()[1].as_string(), "retired-model");
  EXPECT_TRUE(state.at("deleted").as_bool());
}

TEST(Render, AnAuditPageCarriesBeforeAndAfterAndItsCursor) {
  replay::AuditPage page;
  replay::AuditRecord r;
  r.event.event_id = "e1";
  r.event.payload = events::KeyRenamed{"a", "b"};
  r.before = Key();
  r.after = Key();
  r.after.name = "b";
  page.records.push_back(r);
  json::object out = AuditPageJson(page);
  EXPECT_TRUE(out.at("next_cursor").is_null());
  const auto& record = out.at("audit_events").as_array()[0];
  EXPECT_EQ(record.at("event_type").as_string(), "key_renamed");
  EXPECT_EQ(record.at("after").at("name").as_string(), "b");
  EXPECT_EQ(record.at("before").at("name").as_string(), "prod");
  page.next_cursor = "abcd";
  EXPECT_EQ(AuditPageJson(page).at("next_cursor").as_string(), "abcd");
}

TEST(Render, TheCatalogIsInTheOpenAiListShape) {
  json::object list = CatalogJson(events::Catalog::Default());
  EXPECT_EQ(list.at("object").as_string(), "list");
  EXPECT_EQ(list.at("data").as_array()[0].at("object").as_string(), "model");
}

}  // namespace
}  // namespace keyledger::api
