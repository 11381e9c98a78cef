// In-process validator figures at 1,000,000 keys (issue 5), printed as markdown rows:
//   checks/s on one thread, p50/p99 per check, as a ratio to the floor measured in this run
//   (format check + SHA-256 of the secret + one lookup in a std::unordered_map), and resident
//   memory per key of the index (RSS growth while loading, and the index's own accounting).
//   build/release/bench/bench_validator [KEYS] [CHECKS]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <unistd.h>

#include "keyledger/common/secret.h"
#include "keyledger/common/clock.h"
#include "keyledger/validator/secret_index.h"
#include "keyledger/validator/usage.h"
#include "bench_result.h"

namespace {

using namespace keyledger;
using Clock = std::chrono::steady_clock;

size_t RssBytes() {
  std::ifstream statm("/proc/self/statm");
  size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

double Percentile(std::vector<double>& v, double p) {
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(p * static_cast<double>(v.size() - 1))];
}

}  // namespace

int main(int argc, char** argv) {
  const size_t keys = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
  const size_t checks = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 3000000;
  events::Catalog catalog = events::Catalog::Default();
  common::SeededRandom random(5);
  std::fprintf(stderr, "generating %zu secrets...\n", keys);
  std::vector<std::string> secrets(keys);
  std::vector<events::Event> created(keys);
  for (size_t i = 0; i < keys; ++i) {
    secrets[i] = *common::GenerateSecret(random);
    events::Event& e = created[i];
    e.event_id = *common::NewUuidV4(random);
    e.key_id = *common::NewUuidV4(random);
    e.team_id = "team-" + std::to_string(i % 20000);
    e.key_revision = 1;
    events::KeyCreated c;
    c.all_models = i % 3 != 0;
    if (!c.all_models) c.models = {"openai-gpt-4o", "alibaba-qwen3-32b"};
    c.vpc_uuid = i % 7 == 0 ? "5f0c8e3a-2b7d-4c1e-9a6f-1d2e3f4a5b6c" : "";
    c.secret_sha256 = common::HashSecret(secrets[i]);
    e.payload = c;
  }
  std::fprintf(stderr, "loading the index...\n");
  size_t rss_before = RssBytes();
  validator::SecretIndex index(&catalog);
  for (const auto& e : created) index.Apply(e);
  size_t rss_after = RssBytes();
  created.clear();
  created.shrink_to_fit();

  std::vector<size_t> order(checks);
  for (auto& o : order) o = random.Next() % keys;

  // keyledger's check, with the wall clock read per check as the replica does (for expiry).
  common::SystemClock wall;
  std::vector<double> samples;
  samples.reserve(checks / 16 + 1);
  size_t allowed = 0;
  auto start = Clock::now();
  for (size_t i = 0; i < checks; ++i) {
    const std::string& s = secrets[order[i]];
    if (i % 16 == 0) {
      auto t0 = Clock::now();
      allowed += index.Check({s, "openai-gpt-4o", "", false}, wall.NowMicros()).allowed;
      samples.push_back(std::chrono::duration<double, std::nano>(Clock::now() - t0).count());
    } else {
      allowed += index.Check({s, "openai-gpt-4o", "", false}, wall.NowMicros()).allowed;
    }
  }
  double check_secs = std::chrono::duration<double>(Clock::now() - start).count();
  double p50 = Percentile(samples, 0.50), p99 = Percentile(samples, 0.99);

  // The floor: the same format check and SHA-256, one lookup in a plain hash map.
  std::unordered_map<std::string, std::uint32_t> plain;
  plain.reserve(keys);
  for (size_t i = 0; i < keys; ++i) {
    auto h = common::HashSecret(secrets[i]);
    plain.emplace(std::string(reinterpret_cast<const char*>(h.data()), h.size()), static_cast<std::uint32_t>(i));
  }
  size_t found = 0;
  start = Clock::now();
  for (size_t i = 0; i < checks; ++i) {
    const std::string& s = secrets[order[i]];
    if (!common::CheckSecretFormat(s).ok()) continue;
    auto h = common::HashSecret(s);
    found += plain.count(std::string(reinterpret_cast<const char*>(h.data()), h.size()));
  }
  double floor_secs = std::chrono::duration<double>(Clock::now() - start).count();

  // Usage recording (issue 17): the replica's check with and without counting each decision in a
  // UsageRecorder (folded every 100 ms on another thread, as the publisher does), alternated three
  // times each on the same keys; the medians are compared.
  validator::UsageRecorder recorder;
  auto timed_checks = [&](bool record) {
    size_t n = std::min<size_t>(checks, 1000000), ok = 0;
    auto t0 = Clock::now();
    for (size_t i = 0; i < n; ++i) {
      const std::string& s = secrets[order[i]];
      const std::int64_t now = wall.NowMicros();
      validator::Decision d = index.Check({s, "openai-gpt-4o", "", false}, now);
      if (record && !d.key_id.empty()) recorder.Record(d.key_bytes, d.team_id, now, d.allowed, "openai-gpt-4o", "");
      ok += d.allowed;
    }
    double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    if (ok == 0) std::fprintf(stderr, "no check allowed\n");
    return static_cast<double>(n) / secs;
  };
  std::vector<double> with_usage, without_usage;
  for (int round = 0; round < 3; ++round) {
    without_usage.push_back(timed_checks(false));
    // As in the validator, the publisher's thread folds the recorder's buffers every 100 ms.
    std::atomic<bool> stop_folding{false};
    std::thread folder([&] {
      while (!stop_folding) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        recorder.Fold();
      }
    });
    with_usage.push_back(timed_checks(true));
    stop_folding = true;
    folder.join();
  }
  const double usage_on = Percentile(with_usage, 0.5), usage_off = Percentile(without_usage, 0.5);
  std::fprintf(stderr, "usage recording: %zu (key, minute) entries, %llu checks not counted\n", recorder.entries(),
               static_cast<unsigned long long>(recorder.dropped_checks()));

  double rate = static_cast<double>(checks) / check_secs;
  double floor_rate = static_cast<double>(checks) / floor_secs;
  std::printf("| in-process checks/s, 1 thread, %zu keys (p50 %.0f ns, p99 %.0f ns; %zu allowed) | %.0f | %.0f (format check + SHA-256 + std::unordered_map lookup) | %.2f | >= 1,000,000/s |\n",
              keys, p50, p99, allowed, rate, floor_rate, rate / floor_rate);
  std::printf("| resident memory per key at %zu keys (index accounting %.0f B/key) | %.0f B | - | - | <= 200 B |\n",
              keys, static_cast<double>(index.MemoryBytes()) / static_cast<double>(keys),
              static_cast<double>(rss_after - rss_before) / static_cast<double>(keys));
  bench::PrintResult({"validator.in_process",
                      bench::Format("validator in-process checks/s, 1 thread, %zu keys", keys),
                      rate, "checks/s", floor_rate,
                      "format check + SHA-256 + std::unordered_map lookup", "value >= 1000000",
                      bench::Format("p50 %.0f ns, p99 %.0f ns", p50, p99)});
  std::printf("| in-process checks/s with usage recording, 1 thread | %.0f | %.0f (the same checks without it) | %.2f | >= 0.95 |\n",
              usage_on, usage_off, usage_on / usage_off);
  bench::PrintResult({"validator.usage_recording",
                      "validator in-process checks/s with usage recording on, 1 thread",
                      usage_on, "checks/s", usage_off, "the same checks with usage recording off", "ratio >= 0.95",
                      bench::Format("median of 3 alternated runs each; %zu keys checked at random fill the recorder's "
                                    "cap of (key, minute) aggregates, and %llu of the checks were not counted",
                                    keys, static_cast<unsigned long long>(recorder.dropped_checks()))});
  bench::PrintResult({"validator.memory",
                      bench::Format("validator resident memory per key at %zu keys", keys),
                      static_cast<double>(rss_after - rss_before) / static_cast<double>(keys),
                      "B/key", std::nullopt, "", "value <= 200",
                      bench::Format("index accounting %.0f B/key",
                                    static_cast<double>(index.MemoryBytes()) /
                                        static_cast<double>(keys))});
  return found == checks ? 0 : 1;
}
