// Replay benchmarks against a real broker (issue 6):
//   replay   events/s of a full rebuild (replay::Rebuild into a new generation); reference: a plain
//            read_committed consume of the same topic in the same run (ratio = replay / consume)
//   verify   events/s of `verify` (log walk with decoding and hash chains, rebuild, checksums)
//   history  p50/p99 of ReadModel::KeyHistory and of an audit query on one key with 1,000 events
// Uses $KEYLEDGER_BOOTSTRAP, or starts a private broker (compose/kafka/broker.sh) and stops it.
// Figures are printed, never asserted. Run with the release preset:
//   build/release/bench/bench_replay [--events N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <unistd.h>

#include "keyledger/common/secret.h"
#include "keyledger/events/codec.h"
#include "keyledger/events/hash_chain.h"
#include "keyledger/events/key_rules.h"
#include "keyledger/projector/layout.h"
#include "keyledger/projector/read_model.h"
#include "keyledger/replay/audit.h"
#include "keyledger/replay/rebuild.h"
#include "keyledger/replay/verify.h"
#include "bench_broker.h"
#include "bench_result.h"
#include "support/event_stream.h"
#include "support/temp_dir.h"

namespace {

using namespace keyledger;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) { return std::chrono::duration<double>(Clock::now() - since).count(); }

using bench::Broker;

double Percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(q * (v.size() - 1))];
}

}  // namespace

int main(int argc, char** argv) {
  size_t events = 1000000;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--events") events = std::strtoull(argv[i + 1], nullptr, 10);
  }
  Broker broker;
  if (broker.bootstrap.empty()) {
    std::fprintf(stderr, "no broker\n");
    return 1;
  }
  common::SystemClock clock;
  common::Logger logger(stderr, &clock, common::LogLevel::kWarn);
  storage::KafkaConfig config{broker.bootstrap, {}};
  const int partitions = 12;
  std::string topic = "keyledger.bench.replay-" + std::to_string(getpid());
  if (!storage::CreateTopic(config, topic, partitions, {}, 30000).ok()) return 1;
  testing::EventStream stream(partitions, 5000, 2026);
  std::fprintf(stderr, "filling the topic with %zu events...\n", events);
  if (!testing::AppendStream(config, topic, stream, events, 5000, "bench-fill-" + topic).ok()) return 1;
  testing::TempDir dir;

  // Reference: a plain read_committed consume of the whole topic.
  std::map<std::int32_t, std::int64_t> start;
  for (int p = 0; p < partitions; ++p) start[p] = 0;
  auto t0 = Clock::now();
  size_t consumed = 0;
  {
    auto reader = storage::LogReader::Create(config, topic, start);
    while (!(*reader)->AtEnd()) consumed += (*reader)->Poll(200, 20000)->size();
  }
  double consume_s = Seconds(t0);

  replay::RebuildOptions options;
  options.kafka = config;
  options.topic = topic;
  replay::StoreRoot root(dir.path("root"));
  t0 = Clock::now();
  auto rebuilt = replay::Rebuild(root, options, &logger, &clock);
  double replay_s = Seconds(t0);
  if (!rebuilt.ok()) {
    std::fprintf(stderr, "replay failed: %s\n", rebuilt.status().ToString().c_str());
    return 1;
  }
  std::printf("replay   %zu events: %.0f events/s (%.1f s); plain consume %.0f events/s; ratio %.2fx; target 200000/s %s\n",
              consumed, consumed / replay_s, replay_s, consumed / consume_s, consume_s / replay_s,
              consumed / replay_s >= 200000 ? "MET" : "MISSED");
  bench::PrintResult({"replay.rebuild",
                      bench::Format("replay: full rebuild of %zu events into a new generation",
                                    consumed),
                      consumed / replay_s, "events/s", consumed / consume_s,
                      "plain read_committed consume", "value >= 200000",
                      bench::Format("%.1f s", replay_s)});

  {
    storage::StoreOptions ro;
    ro.read_only = true;
    auto live = projector::OpenReadModelStore(*root.Live(), ro);
    replay::VerifyOptions vo;
    vo.rebuild = options;
    vo.scratch_dir = dir.path("scratch");
    t0 = Clock::now();
    auto report = replay::Verify(**live, vo, &logger, &clock);
    double verify_s = Seconds(t0);
    if (!report.ok() || !report->ok()) {
      std::fprintf(stderr, "verify failed\n");
      return 1;
    }
    std::printf("verify   %zu events: %.0f events/s overall (%.1f s: log walk %.1f s at %.0f events/s, rebuild+compare %.1f s)\n",
                consumed, consumed / verify_s, verify_s, report->log_seconds, consumed / report->log_seconds,
                verify_s - report->log_seconds);
    bench::PrintResult({"replay.verify",
                        bench::Format("verify: %zu events (log walk with decode + hash chains, "
                                      "rebuild, checksums)",
                                      consumed),
                        consumed / verify_s, "events/s", std::nullopt, "", "",
                        bench::Format("%.1f s; log walk %.0f events/s", verify_s,
                                      consumed / report->log_seconds)});
  }

  // One key with 1,000 events (a creation and 999 renames) in its own topic.
  std::string key_topic = topic + ".key";
  if (!storage::CreateTopic(config, key_topic, 1, {}, 30000).ok()) return 1;
  {
    auto producer = storage::TransactionalProducer::Create(config, "bench-key-" + key_topic);
    if (!producer.ok() || !(*producer)->InitTransactions(30000).ok() || !(*producer)->BeginTransaction().ok()) return 1;
    common::SeededRandom random(5);
    events::Catalog catalog = events::Catalog::Default();
    events::Caller owner{"u", "U", "team-bench", events::Role::kOwner};
    std::string secret = *common::GenerateSecret(random);
    events::CreateKeyCommand c{*common::NewUuidV4(random), "k0", true, {}, false, "", common::HashSecret(secret),
                               common::SecretHint(secret)};
    events::HashChain chain;
    std::optional<events::KeyState> state;
    std::vector<storage::DeliveryReport> reports(1000);
    for (int i = 0; i < 1000; ++i) {
      events::CommandContext ctx{*common::NewUuidV4(random), 1795384512000000 + i, "r", "", ""};
      auto e = i == 0 ? events::DecideCreate(state, owner, c, catalog, ctx)
                      : events::DecideRename(state, owner, {c.key_id, "k" + std::to_string(i), {}}, ctx);
      e->prev_hash = chain.head();
      std::string bytes = *events::Encode(*e);
      chain.Advance(bytes);
      state = *events::Apply(state, *e);
      if (!(*producer)->Produce(key_topic, 0, "team-bench", bytes, &reports[i]).ok()) return 1;
    }
    if (!(*producer)->CommitTransaction(30000).ok()) return 1;
    storage::StoreOptions so;
    so.write_ahead_log = false;
    auto store = projector::OpenReadModelStore(dir.path("key-store"), so);
    replay::RebuildOptions ko = options;
    ko.topic = key_topic;
    if (!replay::ProjectInto(store->get(), ko, std::nullopt, &logger, &clock).ok()) return 1;
    projector::ReadModel model(store->get());
    std::vector<double> history_ms, audit_ms;
    for (int i = 0; i < 300; ++i) {
      auto t = Clock::now();
      auto h = model.KeyHistory(c.key_id);
      history_ms.push_back(Seconds(t) * 1000);
      if (!h.ok() || h->size() != 1000) return 1;
      replay::AuditQuery q;
      q.team_id = "team-bench";
      q.key_id = c.key_id;
      q.limit = 1000;
      t = Clock::now();
      auto page = replay::QueryAudit(**store, q);
      audit_ms.push_back(Seconds(t) * 1000);
      if (!page.ok() || page->records.size() != 1000) return 1;
    }
    std::printf("history  1000 events on one key: KeyHistory p50 %.2f ms p99 %.2f ms; audit query (with before/after) p50 %.2f ms p99 %.2f ms\n",
                Percentile(history_ms, 0.5), Percentile(history_ms, 0.99), Percentile(audit_ms, 0.5),
                Percentile(audit_ms, 0.99));
    bench::PrintResult({"history.key_history",
                        "key history: KeyHistory of one key with 1,000 events, p99",
                        Percentile(history_ms, 0.99), "ms", std::nullopt, "", "",
                        bench::Format("p50 %.2f ms", Percentile(history_ms, 0.5))});
    bench::PrintResult({"history.audit",
                        "key history: audit query with before/after, one key with 1,000 events, p99",
                        Percentile(audit_ms, 0.99), "ms", std::nullopt, "", "",
                        bench::Format("p50 %.2f ms", Percentile(audit_ms, 0.5))});
  }
  return 0;
}
