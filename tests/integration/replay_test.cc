// Replay, verify, point-in-time and audit queries, and the legacy import, against the real broker
// and real RocksDB.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <sstream>

#include "keyledger/common/secret.h"
#include "keyledger/events/codec.h"
#include "keyledger/projector/layout.h"
#include "keyledger/projector/read_model.h"
#include "keyledger/replay/audit.h"
#include "keyledger/replay/legacy_import.h"
#include "keyledger/replay/rebuild.h"
#include "keyledger/replay/verify.h"
#include "keyledger/api/render.h"
#include "keyledger/writer/writer.h"
#include "support/event_stream.h"
#include "support/temp_dir.h"
#include "support/test_broker.h"
#include "support/topic_log.h"

namespace keyledger {
namespace {

namespace fs = std::filesystem;

struct Logged {
  storage::LogRecord record;
  events::Event event;
};

struct Env {
  std::string bootstrap;
  std::string topic;
  int partitions;
  storage::KafkaConfig config;
  common::SystemClock clock;
  common::Logger logger{stderr, &clock, common::LogLevel::kWarn};
  testing::TempDir dir;

  Env(std::string b, int p, const std::string& prefix) : bootstrap(std::move(b)), partitions(p) {
    config.bootstrap_servers = bootstrap;
    topic = testing::UniqueTopic(prefix);
    common::Status s = storage::CreateTopic(config, topic, partitions, {}, 30000);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  replay::RebuildOptions Options(const std::string& t = "") const {
    replay::RebuildOptions o;
    o.kafka = config;
    o.topic = t.empty() ? topic : t;
    return o;
  }
  std::unique_ptr<storage::Store> Project(const std::string& name) {
    storage::StoreOptions so;
    so.write_ahead_log = false;
    auto store = projector::OpenReadModelStore(dir.path(name), so);
    EXPECT_TRUE(store.ok());
    common::Status s = replay::ProjectInto(store->get(), Options(), std::nullopt, &logger, &clock);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return std::move(*store);
  }
  // Every record of a topic in log order per partition, decoded.
  std::vector<Logged> ReadAll(const std::string& t) {
    auto log = testing::ReadTopic(config, t, partitions);
    EXPECT_TRUE(log.complete);
    std::vector<Logged> out;
    for (auto& l : log.records) {
      EXPECT_TRUE(l.decoded) << "partition " << l.record.partition << " offset " << l.record.offset;
      out.push_back({std::move(l.record), std::move(l.event)});
    }
    return out;
  }
};

bool SameChecksums(const std::vector<replay::ColumnChecksum>& a, const std::vector<replay::ColumnChecksum>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].entries != b[i].entries || a[i].sha256 != b[i].sha256) return false;
  }
  return true;
}

TEST(Replay, InterruptedRebuildResumesAndEqualsAStraightProjection) {
  KL_REQUIRE_BROKER(bootstrap);
  Env env(bootstrap, 4, "keyledger.it.replay");
  testing::EventStream stream(4, 40, 7);
  ASSERT_TRUE(testing::AppendStream(env.config, env.topic, stream, 6000, 500, "gen-" + env.topic).ok());
  auto straight = env.Project("straight");
  auto expected = replay::Checksums(*straight);
  ASSERT_TRUE(expected.ok());

  replay::StoreRoot root(env.dir.path("root"));
  std::atomic<bool> cancel{false};
  replay::RebuildOptions options = env.Options();
  options.max_batch_events = 250;
  options.max_events_per_second = 4000;
  options.cancel = &cancel;
  options.progress_interval_ms = 50;
  std::uint64_t seen_at_cancel = 0;
  options.progress = [&](const replay::Progress& p) {
    EXPECT_GT(p.total, 0u);
    if (p.done >= 1500 && !cancel) {
      seen_at_cancel = p.done;
      cancel = true;
    }
  };
  auto first = replay::Rebuild(root, options, &env.logger, &env.clock);
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.status().message(), "interrupted");
  EXPECT_GE(seen_at_cancel, 1500u);
  EXPECT_EQ(*root.LiveName(), "gen-000001");  // nothing published
  ASSERT_TRUE(fs::exists(env.dir.path("root/gen-000002/REBUILDING")));

  options.cancel = nullptr;
  options.max_events_per_second = 0;
  options.progress = nullptr;
  auto second = replay::Rebuild(root, options, &env.logger, &env.clock);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_TRUE(second->resumed);
  EXPECT_LT(second->events_applied, 6000u - 1000u) << "the resumed run started over";
  EXPECT_EQ(*root.LiveName(), "gen-000002");
  EXPECT_FALSE(fs::exists(env.dir.path("root/gen-000002/REBUILDING")));
  storage::StoreOptions ro;
  ro.read_only = true;
  auto rebuilt = projector::OpenReadModelStore(env.dir.path("root/gen-000002"), ro);
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status().ToString();
  auto actual = replay::Checksums(**rebuilt);
  ASSERT_TRUE(actual.ok());
  EXPECT_TRUE(SameChecksums(*expected, *actual));
}

// Copies `from` into a new topic of the same partitioning, letting `edit` alter or drop (return
// false) records; returns the new topic and, per source (partition, offset), the copy's offset.
std::string CopyTopic(Env& env, const std::vector<Logged>& log, const std::string& suffix,
                      const std::function<bool(const Logged&, std::string&)>& edit,
                      std::map<std::pair<int, std::int64_t>, std::int64_t>* offsets) {
  std::string copy = env.topic + suffix;
  EXPECT_TRUE(storage::CreateTopic(env.config, copy, env.partitions, {}, 30000).ok());
  auto producer = storage::TransactionalProducer::Create(env.config, "copy-" + copy);
  EXPECT_TRUE(producer.ok());
  EXPECT_TRUE((*producer)->InitTransactions(30000).ok());
  EXPECT_TRUE((*producer)->BeginTransaction().ok());
  std::vector<storage::DeliveryReport> reports(log.size());
  std::vector<bool> sent(log.size());
  for (size_t i = 0; i < log.size(); ++i) {
    std::string bytes = log[i].record.value;
    if (!edit(log[i], bytes)) continue;
    sent[i] = true;
    EXPECT_TRUE((*producer)->Produce(copy, log[i].record.partition, log[i].event.team_id, bytes, &reports[i]).ok());
  }
  EXPECT_TRUE((*producer)->CommitTransaction(60000).ok());
  for (size_t i = 0; i < log.size(); ++i) {
    if (sent[i]) (*offsets)[{log[i].record.partition, log[i].record.offset}] = reports[i].offset;
  }
  return copy;
}

TEST(Verify, CatchesAnAlteredEventAMissingEventAndATamperedStore) {
  KL_REQUIRE_BROKER(bootstrap);
  Env env(bootstrap, 2, "keyledger.it.verify");
  testing::EventStream stream(2, 10, 11);
  ASSERT_TRUE(testing::AppendStream(env.config, env.topic, stream, 400, 100, "gen-" + env.topic).ok());
  auto store = env.Project("live");
  replay::VerifyOptions options;
  options.rebuild = env.Options();
  options.scratch_dir = env.dir.path("scratch");

  auto clean = replay::Verify(*store, options, &env.logger, &env.clock);
  ASSERT_TRUE(clean.ok()) << clean.status().ToString();
  EXPECT_TRUE(clean->ok()) << clean->Text();
  EXPECT_EQ(clean->events, 400u);
  EXPECT_NE(clean->Text().find("OK:"), std::string::npos);

  auto log = env.ReadAll(env.topic);
  ASSERT_EQ(log.size(), 400u);
  // The victim: the 50th event of partition 1 (not its last).
  std::vector<size_t> in_p1;
  for (size_t i = 0; i < log.size(); ++i) {
    if (log[i].record.partition == 1) in_p1.push_back(i);
  }
  ASSERT_GT(in_p1.size(), 60u);
  const Logged& victim = log[in_p1[50]];
  const Logged& after_victim = log[in_p1[51]];

  // 1. The event re-produced with altered bytes (a different actor name, validly encoded).
  std::map<std::pair<int, std::int64_t>, std::int64_t> altered_offsets;
  std::string altered = CopyTopic(env, log, ".altered", [&](const Logged& l, std::string& bytes) {
    if (&l == &victim) {
      events::Event e = l.event;
      e.actor.display_name += " (forged)";
      bytes = *events::Encode(e);
    }
    return true;
  }, &altered_offsets);
  options.rebuild.topic = altered;
  auto report = replay::Verify(*store, options, &env.logger, &env.clock);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_FALSE(report->ok());
  ASSERT_EQ(report->log_problems.size(), 1u) << report->Text();
  EXPECT_EQ(report->log_problems[0].partition, 1);
  EXPECT_EQ(report->log_problems[0].offset, (altered_offsets[{1, after_victim.record.offset}]));
  EXPECT_NE(report->log_problems[0].what.find("hash chain broken"), std::string::npos);
  EXPECT_NE(report->Text().find("LOG PROBLEM partition 1 offset " +
                                std::to_string(report->log_problems[0].offset)), std::string::npos);

  // 2. A missing event.
  std::map<std::pair<int, std::int64_t>, std::int64_t> missing_offsets;
  std::string missing = CopyTopic(env, log, ".missing", [&](const Logged& l, std::string&) { return &l != &victim; },
                                  &missing_offsets);
  options.rebuild.topic = missing;
  report = replay::Verify(*store, options, &env.logger, &env.clock);
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->log_problems.size(), 1u) << report->Text();
  EXPECT_EQ(report->log_problems[0].partition, 1);
  EXPECT_EQ(report->log_problems[0].offset, (missing_offsets[{1, after_victim.record.offset}]));

  // 3. The log is fine but a key record in the store was edited.
  options.rebuild.topic = env.topic;
  ASSERT_TRUE(store->Checkpoint(env.dir.path("tampered")).ok());
  {
    auto tampered = projector::OpenReadModelStore(env.dir.path("tampered"), {});
    ASSERT_TRUE(tampered.ok());
    projector::ReadModel model(tampered->get());
    auto record = model.GetKey(victim.event.key_id);
    ASSERT_TRUE(record.ok() && record->has_value());
    (*record)->state.name = "renamed behind the log's back";
    auto batch = (*tampered)->NewBatch();
    batch.Put(projector::Column::kKeys, victim.event.key_id, projector::EncodeKeyRecord(**record));
    ASSERT_TRUE((*tampered)->Write(batch).ok());
    report = replay::Verify(**tampered, options, &env.logger, &env.clock);
  }
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->log_problems.empty()) << report->Text();
  EXPECT_EQ(report->differing_columns, std::vector<std::string>{"keys"}) << report->Text();
  EXPECT_NE(report->Text().find("DIFFERS column family keys"), std::string::npos);
}

// The test's own fold: a key's visible attributes after a sequence of events.
struct FoldedKey {
  std::string name;
  bool all_models = false;
  std::vector<std::string> models;
  std::string vpc;
  std::string hint;
  std::uint64_t revision = 0;
  bool deleted = false;
};

void FoldOne(std::map<std::string, FoldedKey>& keys, const events::Event& e) {
  FoldedKey& k = keys[e.key_id];
  k.revision = e.key_revision;
  if (const auto* c = std::get_if<events::KeyCreated>(&e.payload)) {
    k.name = c->name;
    k.all_models = c->all_models;
    k.models = c->models;
    k.vpc = c->vpc_uuid;
    k.hint = c->secret_hint;
  } else if (const auto* r = std::get_if<events::KeyRenamed>(&e.payload)) {
    k.name = r->new_name;
  } else if (const auto* g = std::get_if<events::KeyRegenerated>(&e.payload)) {
    k.hint = g->secret_hint;
  } else {
    k.deleted = true;
  }
}

TEST(PointInTime, KeyStatesAndCallableKeysMatchAnIndependentFoldOfTheLog) {
  KL_REQUIRE_BROKER(bootstrap);
  Env env(bootstrap, 3, "keyledger.it.pit");
  testing::EventStream stream(3, 8, 23, /*with_vpcs=*/true);
  ASSERT_TRUE(testing::AppendStream(env.config, env.topic, stream, 2000, 250, "gen-" + env.topic).ok());
  auto store = env.Project("live");
  auto log = env.ReadAll(env.topic);
  ASSERT_EQ(log.size(), 2000u);
  events::Catalog catalog = events::Catalog::Default();
  common::SeededRandom random(99);
  int checked_keys = 0, checked_sets = 0, nonempty_sets = 0, vpc_keys_seen = 0;
  for (int round = 0; round < 60; ++round) {
    const Logged& pivot = log[random.Next() % log.size()];
    const std::string& team = pivot.event.team_id;
    const bool by_time = round % 2 == 0;
    replay::AsOf as_of;
    if (by_time) {
      as_of.time_micros = pivot.event.occurred_at_micros + (round % 4 == 0 ? 500 : 0);
    } else {
      as_of.offset = pivot.record.offset;
    }
    // The fold: the team's events in log order, up to the point.
    std::map<std::string, FoldedKey> keys;
    for (const Logged& l : log) {
      if (l.event.team_id != team) continue;
      if (by_time && l.event.occurred_at_micros > *as_of.time_micros) break;
      if (!by_time && l.record.offset > *as_of.offset) break;
      FoldOne(keys, l.event);
    }
    // Every key of the team (some not yet created at the point).
    std::set<std::string> team_keys;
    for (const Logged& l : log) {
      if (l.event.team_id == team) team_keys.insert(l.event.key_id);
    }
    for (const std::string& id : team_keys) {
      auto state = replay::KeyAsOf(*store, team, id, as_of);
      ASSERT_TRUE(state.ok()) << state.status().ToString();
      auto it = keys.find(id);
      ASSERT_EQ(state->has_value(), it != keys.end()) << id;
      if (!*state) continue;
      EXPECT_EQ((*state)->name, it->second.name);
      EXPECT_EQ((*state)->revision, it->second.revision);
      EXPECT_EQ((*state)->deleted, it->second.deleted);
      EXPECT_EQ((*state)->secret_hint, it->second.hint);
      EXPECT_EQ((*state)->vpc_uuid, it->second.vpc);
      ++checked_keys;
    }
    // Another team's key is absent, never revealed.
    for (const Logged& l : log) {
      if (l.event.team_id != team) {
        auto foreign = replay::KeyAsOf(*store, team, l.event.key_id, as_of);
        ASSERT_TRUE(foreign.ok());
        EXPECT_FALSE(foreign->has_value());
        break;
      }
    }
    for (const char* model : {"openai-gpt-4o", "alibaba-qwen3-32b"}) {
      for (const std::string& vpc : {std::string(), std::string(testing::EventStream::kVpcs[0])}) {
        std::set<std::string> expected;
        for (const auto& [id, k] : keys) {
          if (k.deleted) continue;
          if (!k.vpc.empty() && k.vpc != vpc) continue;
          if (!k.all_models && std::find(k.models.begin(), k.models.end(), model) == k.models.end()) continue;
          expected.insert(id);
          if (!k.vpc.empty()) ++vpc_keys_seen;
        }
        auto callable = replay::CallableAsOf(*store, team, model, vpc, as_of, catalog);
        ASSERT_TRUE(callable.ok()) << callable.status().ToString();
        std::set<std::string> actual;
        for (const auto& k : *callable) actual.insert(k.key_id);
        EXPECT_EQ(actual, expected) << team << " " << model << " vpc=" << vpc;
        ++checked_sets;
        if (!expected.empty()) ++nonempty_sets;
      }
    }
  }
  // The comparison had substance.
  EXPECT_GT(checked_keys, 200);
  EXPECT_GT(nonempty_sets, checked_sets / 2);
  EXPECT_GT(vpc_keys_seen, 0);
}

TEST(Audit, FiltersPagesBothWaysAndCarriesBeforeAndAfter) {
  KL_REQUIRE_BROKER(bootstrap);
  Env env(bootstrap, 2, "keyledger.it.audit");
  testing::EventStream stream(2, 4, 5);
  ASSERT_TRUE(testing::AppendStream(env.config, env.topic, stream, 600, 100, "gen-" + env.topic).ok());
  auto store = env.Project("live");
  auto log = env.ReadAll(env.topic);
  const std::string team = log[0].event.team_id;
  std::vector<const Logged*> team_events;
  for (const Logged& l : log) {
    if (l.event.team_id == team) team_events.push_back(&l);
  }
  ASSERT_GT(team_events.size(), 60u);

  auto collect = [&](replay::AuditQuery q) {
    std::vector<replay::AuditRecord> all;
    for (int pages = 0; pages < 1000; ++pages) {
      auto page = replay::QueryAudit(*store, q);
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      if (!page.ok()) break;
      EXPECT_LE(page->records.size(), q.limit);
      for (auto& r : page->records) all.push_back(std::move(r));
      if (page->next_cursor.empty()) break;
      q.cursor = page->next_cursor;
    }
    return all;
  };
  auto ids = [](const std::vector<replay::AuditRecord>& records) {
    std::vector<std::string> out;
    for (const auto& r : records) out.push_back(r.event.event_id);
    return out;
  };
  auto expected_ids = [&](const std::function<bool(const events::Event&)>& keep, bool newest) {
    std::vector<const Logged*> kept;
    for (const Logged* l : team_events) {
      if (keep(l->event)) kept.push_back(l);
    }
    std::stable_sort(kept.begin(), kept.end(), [](const Logged* a, const Logged* b) {
      return std::pair(a->event.occurred_at_micros, a->record.offset) <
             std::pair(b->event.occurred_at_micros, b->record.offset);
    });
    if (newest) std::reverse(kept.begin(), kept.end());
    std::vector<std::string> out;
    for (const Logged* l : kept) out.push_back(l->event.event_id);
    return out;
  };

  replay::AuditQuery q;
  q.team_id = team;
  q.limit = 7;
  auto all = [](const events::Event&) { return true; };
  EXPECT_EQ(ids(collect(q)), expected_ids(all, true));
  q.order = replay::AuditOrder::kOldestFirst;
  EXPECT_EQ(ids(collect(q)), expected_ids(all, false));

  const std::string actor = team_events[3]->event.actor.user_id;
  q.actor_id = actor;
  q.event_type = events::EventType::kKeyRenamed;
  auto renames = collect(q);
  EXPECT_EQ(ids(renames), expected_ids([&](const events::Event& e) {
    return e.actor.user_id == actor && e.type() == events::EventType::kKeyRenamed;
  }, false));
  ASSERT_FALSE(renames.empty());
  for (const auto& r : renames) {
    ASSERT_TRUE(r.before.has_value());
    const auto& renamed = std::get<events::KeyRenamed>(r.event.payload);
    EXPECT_EQ(r.before->name, renamed.old_name);
    EXPECT_EQ(r.after.name, renamed.new_name);
    EXPECT_EQ(r.after.revision, r.before->revision + 1);
    std::string json = boost::json::serialize(api::AuditRecordJson(r));
    EXPECT_NE(json.find("\"actor\":{\"id\":\"" + actor + "\""), std::string::npos) << json;
    EXPECT_NE(json.find("\"request_id\":\"" + r.event.request_id + "\""), std::string::npos);
    EXPECT_EQ(json.find("sk-do-v1-"), std::string::npos);
  }

  // One key's events, and a time window.
  q = {};
  q.team_id = team;
  q.key_id = team_events[0]->event.key_id;
  q.limit = 2;
  auto of_key = collect(q);
  EXPECT_EQ(ids(of_key), expected_ids([&](const events::Event& e) { return e.key_id == q.key_id; }, true));
  EXPECT_FALSE(of_key.back().before.has_value());  // the creation
  q = {};
  q.team_id = team;
  q.since_micros = team_events[10]->event.occurred_at_micros;
  q.until_micros = team_events[40]->event.occurred_at_micros;
  q.limit = 5;
  EXPECT_EQ(ids(collect(q)), expected_ids([&](const events::Event& e) {
    return e.occurred_at_micros >= *q.since_micros && e.occurred_at_micros < *q.until_micros;
  }, true));

  // A cursor is a position: one of another query resumes there in this one (another team's
  // index holds none of this team's events); a malformed one is refused. An empty time range
  // holds nothing. Another team's key yields nothing.
  replay::AuditQuery first;
  first.team_id = team;
  first.limit = 1;
  auto page = replay::QueryAudit(*store, first);
  ASSERT_TRUE(page.ok() && !page->next_cursor.empty());
  EXPECT_EQ(page->next_cursor.size(), 40u);
  replay::AuditQuery other = first;
  other.team_id = team + "x";
  other.cursor = page->next_cursor;
  auto elsewhere = replay::QueryAudit(*store, other);
  ASSERT_TRUE(elsewhere.ok()) << elsewhere.status().ToString();
  EXPECT_TRUE(elsewhere->records.empty());
  for (const char* bad : {"zz", "00", "0123456789abcdef0123456789abcdef0123456g"}) {
    other.cursor = bad;
    EXPECT_EQ(replay::QueryAudit(*store, other).status().code(), common::StatusCode::kInvalidArgument) << bad;
  }
  replay::AuditQuery backwards = first;
  backwards.since_micros = 2000;
  backwards.until_micros = 1000;
  auto none = replay::QueryAudit(*store, backwards);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->records.empty());
  other.cursor.clear();
  other.key_id = team_events[0]->event.key_id;
  auto foreign = replay::QueryAudit(*store, other);
  ASSERT_TRUE(foreign.ok());
  EXPECT_TRUE(foreign->records.empty());

  // The export streams the whole history oldest first.
  std::vector<std::string> exported;
  ASSERT_TRUE(replay::ExportTeam(*store, team, [&](const replay::AuditRecord& r) {
    exported.push_back(r.event.event_id);
    return true;
  }).ok());
  EXPECT_EQ(exported, expected_ids(all, false));
}

// An audit page costs its own records, not the key's history: each revision's state is stored with
// it (layout 3), so a page of a key's latest events answers right even with the key's creation
// event gone from the store (a page that folded the history would fail). A store from before
// layout 3 answers by folding, and its projector's next start rewrites it to the same bytes a
// straight projection has.
TEST(Audit, APageReadsOnlyItsOwnRevisionsAndAnOlderStoreIsUpgradedToTheSameBytes) {
  KL_REQUIRE_BROKER(bootstrap);
  Env env(bootstrap, 2, "keyledger.it.audit-page");
  testing::EventStream stream(2, 2, 11);
  ASSERT_TRUE(testing::AppendStream(env.config, env.topic, stream, 400, 100, "gen-" + env.topic).ok());
  auto store = env.Project("live");
  auto log = env.ReadAll(env.topic);
  // The key with the longest history, and its states folded from the log.
  std::map<std::string, std::vector<const Logged*>> by_key;
  for (const Logged& l : log) by_key[l.event.key_id].push_back(&l);
  auto longest = std::max_element(by_key.begin(), by_key.end(),
                                  [](const auto& a, const auto& b) { return a.second.size() < b.second.size(); });
  const std::string key_id = longest->first;
  const std::vector<const Logged*>& history = longest->second;
  ASSERT_GE(history.size(), 4u);
  std::vector<events::KeyState> states;
  std::optional<events::KeyState> current;
  for (const Logged* l : history) {
    auto next = events::Apply(current, l->event);
    ASSERT_TRUE(next.ok());
    states.push_back(*next);
    current = *next;
  }
  replay::AuditQuery q;
  q.team_id = history[0]->event.team_id;
  q.key_id = key_id;
  q.limit = 2;  // newest first: the last two revisions
  auto check_latest_page = [&](const char* when) {
    auto page = replay::QueryAudit(*store, q);
    ASSERT_TRUE(page.ok()) << when << ": " << page.status().ToString();
    ASSERT_EQ(page->records.size(), 2u) << when;
    for (size_t i = 0; i < 2; ++i) {
      const size_t rev = history.size() - i;  // 1-based
      EXPECT_EQ(page->records[i].event.key_revision, rev) << when;
      EXPECT_EQ(page->records[i].after, states[rev - 1]) << when;
      ASSERT_TRUE(page->records[i].before.has_value()) << when;
      EXPECT_EQ(*page->records[i].before, states[rev - 2]) << when;
    }
  };
  check_latest_page("as projected");
  auto projected = replay::Checksums(*store);
  ASSERT_TRUE(projected.ok());

  const std::string creation_locator =
      projector::layout::Locator({history[0]->record.partition, history[0]->record.offset});
  auto creation = store->Get(projector::Column::kEvents, creation_locator);
  ASSERT_TRUE(creation.ok() && creation->has_value());
  storage::Store::Batch batch = store->NewBatch();
  batch.Delete(projector::Column::kEvents, creation_locator);
  ASSERT_TRUE(store->Write(batch).ok());
  check_latest_page("without the creation event");
  batch.Clear();
  batch.Put(projector::Column::kEvents, creation_locator, **creation);
  ASSERT_TRUE(store->Write(batch).ok());

  // The store as layout 2 left it: locators only, version 2.
  batch.Clear();
  ASSERT_TRUE(store->Scan(projector::Column::kAuditByKey, "", "", [&](std::string_view k, std::string_view v) {
    EXPECT_GT(v.size(), projector::layout::kLocatorSize);
    batch.Put(projector::Column::kAuditByKey, k, v.substr(0, projector::layout::kLocatorSize));
    return true;
  }).ok());
  batch.Put(projector::Column::kMeta, projector::layout::kLayoutVersionKey, projector::layout::LayoutVersionValue(2));
  ASSERT_TRUE(store->Write(batch).ok());
  check_latest_page("layout 2, by folding");
  auto downgraded = replay::Checksums(*store);
  ASSERT_TRUE(downgraded.ok());
  EXPECT_FALSE(SameChecksums(*downgraded, *projected));
  ASSERT_TRUE(replay::ProjectInto(store.get(), env.Options(), std::nullopt, &env.logger, &env.clock).ok());
  auto upgraded = replay::Checksums(*store);
  ASSERT_TRUE(upgraded.ok());
  EXPECT_TRUE(SameChecksums(*upgraded, *projected));
  check_latest_page("upgraded");
}

TEST(LegacyImport, AppendsThroughTheWriterOnceAndRefusesConflictsWithoutAppending) {
  KL_REQUIRE_BROKER(bootstrap);
  Env env(bootstrap, 2, "keyledger.it.import");
  events::Catalog catalog = events::Catalog::Default();
  common::OsRandom random;
  writer::WriterOptions wo;
  wo.kafka = env.config;
  wo.topic = env.topic;
  auto writer = std::make_unique<writer::Writer>(wo, &catalog, &env.clock, &random, &env.logger);
  ASSERT_TRUE(writer->Start(30000).ok());
  // A live key made through the API path, whose secret a bad import line reuses.
  std::string live_secret = *common::GenerateSecret(random);
  events::CreateKeyCommand create;
  create.name = "new style";
  create.all_models = true;
  create.secret_sha256 = common::HashSecret(live_secret);
  create.secret_hint = common::SecretHint(live_secret);
  ASSERT_TRUE(writer->Submit({{"u-1", "Ada", "team-a", events::Role::kOwner}, create, "r", "", ""}).ok());

  std::string file;
  std::vector<std::string> secrets;
  for (int i = 0; i < 120; ++i) {
    secrets.push_back(*common::GenerateSecret(random));
    file += R"({"team_id":"team-)" + std::string(i % 2 ? "a" : "b") + R"(","creator_id":"u-)" + std::to_string(i) +
            R"(","creator_name":"Old )" + std::to_string(i) + R"(","name":"legacy )" + std::to_string(i) +
            R"(","created_at":"2022-01-0)" + std::to_string(1 + i % 9) + R"(T00:00:00Z","secret":")" +
            secrets.back() + "\"}\n";
  }
  events::Caller op{"legacy-import", "legacy-import", "", events::Role::kOperator};
  auto parse = [](const std::string& text) {
    std::istringstream in(text);
    std::vector<std::string> errors;
    auto lines = replay::ParseLegacyLines(in, &errors);
    EXPECT_TRUE(errors.empty());
    return lines;
  };
  auto log_size = [&] { return env.ReadAll(env.topic).size(); };

  // A line whose secret belongs to a live key: the whole file is refused, nothing appended.
  std::string bad = file + R"({"team_id":"team-a","creator_id":"u","creator_name":"n","name":"dup","created_at":"2022-01-01T00:00:00Z","secret":")" +
                    live_secret + "\"}\n";
  auto refused = replay::ImportLegacy(*writer, parse(bad), op, nullptr, env.clock);
  ASSERT_TRUE(refused.ok());
  ASSERT_EQ(refused->errors.size(), 1u);
  EXPECT_EQ(refused->errors[0].rfind("line 121: the secret is already in use", 0), 0u) << refused->errors[0];
  EXPECT_EQ(refused->imported, 0u);
  EXPECT_EQ(log_size(), 1u);

  int progress_calls = 0;
  auto imported = replay::ImportLegacy(*writer, parse(file), op, [&](const replay::Progress&) { ++progress_calls; }, env.clock);
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  EXPECT_TRUE(imported->errors.empty());
  EXPECT_EQ(imported->imported, 120u);
  EXPECT_GT(progress_calls, 0);
  EXPECT_EQ(log_size(), 121u);

  // Again, with a fresh writer (as a second run of the command would): nothing appended.
  writer->Stop();
  writer = std::make_unique<writer::Writer>(wo, &catalog, &env.clock, &random, &env.logger);
  ASSERT_TRUE(writer->Start(30000).ok());
  auto again = replay::ImportLegacy(*writer, parse(file), op, nullptr, env.clock);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->imported, 0u);
  EXPECT_EQ(again->already_present, 120u);
  EXPECT_EQ(log_size(), 121u);

  // The imported keys are legacy keys in the read models, and their secrets are looked up.
  auto store = env.Project("live");
  projector::ReadModel model(store.get());
  auto page = model.ListView({"u-9", "Nine", "team-a", events::Role::kMember}, events::View::kLegacy, 1, 200);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->total, 60u);
  for (const auto& k : page->keys) EXPECT_TRUE(k.legacy && k.all_models && k.vpc_uuid.empty() && !k.batch_inference);
  auto lookup = model.LookupSecret(common::HashSecret(secrets[7]));
  ASSERT_TRUE(lookup.ok() && lookup->has_value());
  EXPECT_TRUE((*lookup)->legacy);
  EXPECT_EQ((*lookup)->team_id, "team-a");
}

}  // namespace
}  // namespace keyledger
