// Event encoding/decoding and secret hashing costs, with SHA-256 of the same bytes as the
// reference measured in the same run (the floor every event pays in the hash chain).
#include <benchmark/benchmark.h>

#include "keyledger/common/secret.h"
#include "keyledger/events/codec.h"
#include "keyledger/events/hash_chain.h"

namespace {

using namespace keyledger;

events::Event SampleEvent() {
  events::Event e;
  e.event_id = "00000000-0000-4000-8000-000000000101";
  e.team_id = "team-acme";
  e.key_id = "00000000-0000-4000-8000-000000000001";
  e.key_revision = 1;
  e.actor = {"user-olga", "Olga Owner", events::Role::kOwner};
  e.occurred_at_micros = 1795384512000000;
  e.request_id = "req-1";
  events::KeyCreated c;
  c.name = "production gateway";
  c.creator_id = "user-olga";
  c.creator_name = "Olga Owner";
  c.all_models = true;
  c.secret_sha256 = common::Sha256Of("x");
  c.secret_hint = "abcd";
  e.payload = c;
  return e;
}

void BM_EncodeEvent(benchmark::State& state) {
  events::Event e = SampleEvent();
  for (auto _ : state) benchmark::DoNotOptimize(events::Encode(e));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EncodeEvent);

void BM_DecodeEvent(benchmark::State& state) {
  std::string bytes = *events::Encode(SampleEvent());
  for (auto _ : state) benchmark::DoNotOptimize(events::Decode(bytes));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecodeEvent);

void BM_Sha256OfEvent_Reference(benchmark::State& state) {
  std::string bytes = *events::Encode(SampleEvent());
  for (auto _ : state) benchmark::DoNotOptimize(events::EventHash(bytes));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Sha256OfEvent_Reference);

void BM_SecretFormatCheckAndHash(benchmark::State& state) {
  common::SeededRandom random(1);
  std::string secret = *common::GenerateSecret(random);
  for (auto _ : state) {
    benchmark::DoNotOptimize(common::CheckSecretFormat(secret));
    benchmark::DoNotOptimize(common::HashSecret(secret));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SecretFormatCheckAndHash);

}  // namespace

BENCHMARK_MAIN();
