// Whole-path benchmarks against a real broker (issue 3):
//   writer     commands/s through Writer::SubmitAsync with group commit, acknowledged only after
//              the transaction committed; reference: plain librdkafka transactional produce of
//              the same encoded events in transactions of the same size
//   projector  events/s from the broker into RocksDB read models; reference: a plain
//              read_committed consume of the same topic
// Uses $KEYLEDGER_BOOTSTRAP, or starts a private broker (compose/kafka/broker.sh) and stops it.
// Figures are printed, never asserted. Run with the release preset:
//   build/release/bench/bench_ledger [--commands N] [--events N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <future>
#include <string>
#include <map>
#include <vector>

#include <unistd.h>

#include "keyledger/common/secret.h"
#include "keyledger/projector/layout.h"
#include "keyledger/projector/projector.h"
#include "keyledger/writer/writer.h"
#include "bench_broker.h"
#include "bench_result.h"
#include "support/event_stream.h"
#include "support/temp_dir.h"

namespace {

using namespace keyledger;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

using bench::Broker;

std::string Topic(const std::string& name) {
  return "keyledger.bench." + name + "." + std::to_string(getpid());
}

double ReferenceProduce(const storage::KafkaConfig& config, size_t count, size_t per_txn) {
  const std::string topic = Topic("ref-produce");
  if (!storage::CreateTopic(config, topic, 12, {}, 30000).ok()) return 0;
  testing::EventStream stream(12, 500, 1);
  std::vector<testing::StreamRecord> records;
  records.reserve(count);
  for (size_t i = 0; i < count; ++i) records.push_back(stream.Next());
  auto producer = storage::TransactionalProducer::Create(config, "bench-ref-" + topic);
  if (!producer.ok() || !(*producer)->InitTransactions(30000).ok()) return 0;
  auto start = Clock::now();
  std::vector<storage::DeliveryReport> reports(per_txn);
  for (size_t done = 0; done < count;) {
    size_t n = std::min(per_txn, count - done);
    if (!(*producer)->BeginTransaction().ok()) return 0;
    for (size_t i = 0; i < n; ++i) {
      const auto& r = records[done + i];
      if (!(*producer)->Produce(topic, r.partition, r.team_id, r.bytes, &reports[i]).ok()) return 0;
    }
    if (!(*producer)->CommitTransaction(60000).ok()) return 0;
    done += n;
  }
  return static_cast<double>(count) / Seconds(start);
}

struct WriterFigures {
  double per_second = 0;
  double p50_ms = 0, p99_ms = 0;
  double mean_batch = 0;
};

WriterFigures WriterThroughput(const storage::KafkaConfig& config, size_t count, size_t window) {
  const std::string topic = Topic("writer");
  WriterFigures f;
  if (!storage::CreateTopic(config, topic, 12, {}, 30000).ok()) return f;
  events::Catalog catalog = events::Catalog::Default();
  common::SystemClock clock;
  common::OsRandom random;
  common::Logger logger(stderr, &clock, common::LogLevel::kWarn);
  writer::WriterOptions options;
  options.kafka = config;
  options.topic = topic;
  options.max_batch_commands = 5000;
  writer::Writer w(options, &catalog, &clock, &random, &logger);
  if (!w.Start(30000).ok()) return f;
  std::vector<events::Caller> callers;
  for (int t = 0; t < 500; ++t) {
    callers.push_back({"user-" + std::to_string(t), "User", "team-" + std::to_string(t), events::Role::kOwner});
  }
  common::SeededRandom secrets(3);
  std::vector<common::SecretHash> hashes;
  for (size_t i = 0; i < count; ++i) hashes.push_back(common::HashSecret(*common::GenerateSecret(secrets)));

  std::deque<std::pair<Clock::time_point, std::future<common::Result<writer::CommandOutcome>>>> in_flight;
  std::vector<double> latencies;
  latencies.reserve(count);
  size_t failed = 0;
  auto start = Clock::now(), last_progress = start;
  auto collect = [&] {
    auto& [sent, fut] = in_flight.front();
    auto r = fut.get();
    if (!r.ok()) ++failed;
    latencies.push_back(std::chrono::duration<double, std::milli>(Clock::now() - sent).count());
    in_flight.pop_front();
  };
  for (size_t i = 0; i < count; ++i) {
    events::CreateKeyCommand c;
    c.name = "bench " + std::to_string(i);
    c.all_models = true;
    c.secret_sha256 = hashes[i];
    c.secret_hint = "bnch";
    in_flight.emplace_back(Clock::now(),
                           w.SubmitAsync({callers[i % callers.size()], c, "req", "", ""}));
    while (in_flight.size() >= window) collect();
    if (Clock::now() - last_progress > std::chrono::seconds(2)) {
      std::fprintf(stderr, "  writer: %zu/%zu commands, %.0f/s\n", i, count, i / Seconds(start));
      last_progress = Clock::now();
    }
  }
  while (!in_flight.empty()) collect();
  f.per_second = static_cast<double>(count) / Seconds(start);
  auto stats = w.stats();
  f.mean_batch = stats.transactions_committed ? static_cast<double>(stats.commands_acknowledged) /
                                                    static_cast<double>(stats.transactions_committed)
                                              : 0;
  std::sort(latencies.begin(), latencies.end());
  f.p50_ms = latencies[latencies.size() / 2];
  f.p99_ms = latencies[latencies.size() * 99 / 100];
  if (failed) std::fprintf(stderr, "  writer: %zu commands failed\n", failed);
  w.Stop();
  return f;
}

std::pair<double, double> ProjectorThroughput(const storage::KafkaConfig& config, size_t count) {
  const std::string topic = Topic("projector");
  if (!storage::CreateTopic(config, topic, 12, {}, 30000).ok()) return {0, 0};
  testing::EventStream stream(12, 2000, 9);
  auto fill_start = Clock::now();
  std::fprintf(stderr, "  projector: appending %zu events...\n", count);
  if (!testing::AppendStream(config, topic, stream, count, 2000, "bench-fill-" + topic).ok()) return {0, 0};
  std::fprintf(stderr, "  projector: appended in %.1fs\n", Seconds(fill_start));

  std::map<std::int32_t, std::int64_t> start_offsets;
  for (int p = 0; p < 12; ++p) start_offsets[p] = 0;
  auto reader = storage::LogReader::Create(config, topic, start_offsets);
  if (!reader.ok()) return {0, 0};
  size_t consumed = 0;
  auto start = Clock::now();
  while (!(*reader)->AtEnd()) {
    auto batch = (*reader)->Poll(200, 20000);
    if (!batch.ok()) return {0, 0};
    consumed += batch->size();
  }
  double reference = static_cast<double>(consumed) / Seconds(start);
  reader->reset();

  testing::TempDir dir;
  common::SystemClock clock;
  common::Logger logger(stderr, &clock, common::LogLevel::kWarn);
  auto store = projector::OpenReadModelStore(dir.path("db"), {});
  if (!store.ok()) return {reference, 0};
  projector::ProjectorOptions options;
  options.kafka = config;
  options.topic = topic;
  projector::Projector p(options, store->get(), &logger, &clock);
  start = Clock::now();
  if (!p.RunUntil(600000).ok()) return {reference, 0};
  double projected = static_cast<double>(p.stats().events_applied) / Seconds(start);
  if (p.stats().events_applied != count) {
    std::fprintf(stderr, "  projector applied %llu of %zu events\n",
                 static_cast<unsigned long long>(p.stats().events_applied), count);
  }
  return {reference, projected};
}

}  // namespace

int main(int argc, char** argv) {
  size_t commands = 100000, events = 500000, window = 4000;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--commands") commands = std::strtoull(argv[i + 1], nullptr, 10);
    if (flag == "--events") events = std::strtoull(argv[i + 1], nullptr, 10);
    if (flag == "--window") window = std::strtoull(argv[i + 1], nullptr, 10);
  }
  Broker broker;
  if (broker.bootstrap.empty()) {
    std::fprintf(stderr, "no broker\n");
    return 1;
  }
  storage::KafkaConfig config{broker.bootstrap, {}};
  std::fprintf(stderr, "writer, %zu commands, %zu in flight...\n", commands, window);
  WriterFigures w = WriterThroughput(config, commands, window);
  // The reference uses the writer's own mean transaction size, so both pay the same commits.
  size_t per_txn = std::max<size_t>(1, static_cast<size_t>(w.mean_batch + 0.5));
  std::fprintf(stderr, "reference produce of %zu events, %zu per transaction...\n", commands, per_txn);
  double ref_produce = ReferenceProduce(config, commands, per_txn);
  std::fprintf(stderr, "projector, %zu events...\n", events);
  auto [ref_consume, projected] = ProjectorThroughput(config, events);

  std::printf("| benchmark | keyledger | reference (same run) | ratio | target |\n");
  std::printf("|---|---|---|---|---|\n");
  std::printf("| writer: create commands/s (group commit, acked after commit; p50 %.1f ms, p99 %.1f ms, mean %.0f commands/txn) | %.0f | %.0f (plain transactional produce of the same events, %zu/txn) | %.2f | >= 20000/s |\n",
              w.p50_ms, w.p99_ms, w.mean_batch, w.per_second, ref_produce, per_txn,
              ref_produce > 0 ? w.per_second / ref_produce : 0);
  std::printf("| projector: events/s into RocksDB | %.0f | %.0f (plain read_committed consume) | %.2f | >= 200000/s |\n",
              projected, ref_consume, ref_consume > 0 ? projected / ref_consume : 0);
  bench::PrintResult({"writer.create",
                      "writer: create commands/s, group commit, acked after commit",
                      w.per_second, "commands/s", ref_produce,
                      bench::Format("plain transactional produce of the same events, %zu/txn",
                                    per_txn),
                      "value >= 20000",
                      bench::Format("p50 %.0f ms, p99 %.0f ms at %zu in flight, %.0f commands/txn, "
                                    "%zu commands",
                                    w.p50_ms, w.p99_ms, window, w.mean_batch, commands)});
  bench::PrintResult({"projector.apply", "projector: events/s into RocksDB", projected, "events/s",
                      ref_consume, "plain read_committed consume", "value >= 200000",
                      bench::Format("%zu events", events)});
  return 0;
}
