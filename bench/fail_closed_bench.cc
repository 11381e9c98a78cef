// Time from losing the brokers to failing closed: a validator process reads a private broker
// only through a TCP proxy (the broker's CUT listener, tests/support/tcp_proxy.h); the proxy is
// made a black hole (as a network partition is) and the time until the validator first refuses a
// live secret (503 `stale`) is measured, then the proxy is healed and the validator must allow
// the secret again. Repeated --cuts times; median and max are reported. The bound it must keep
// is --max-staleness + 1 s (README: the freshness guarantee); there is no same-run reference, as
// for revocation propagation.
//   build/release/bench/bench_fail_closed [--cuts N] [--max-staleness MS]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>

#include "bench_result.h"
#include "support/http_client.h"
#include "support/private_broker.h"
#include "support/server_process.h"
#include "support/tcp_proxy.h"
#include "support/temp_dir.h"
#include "support/tokens.h"

namespace {

using namespace keyledger;
namespace kt = keyledger::testing;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

int Check(std::uint16_t port, const std::string& secret) {
  return kt::HttpCall(port, "POST", "/v1/chat/completions", "",
                           {{"Authorization", "Bearer " + secret}, {"X-Keyledger-Model", "openai-gpt-4o"}})
      .status;
}

}  // namespace

int main(int argc, char** argv) {
  int cuts = 10, max_staleness_ms = 2000;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--cuts") cuts = std::max(1, std::atoi(argv[i + 1]));
    if (flag == "--max-staleness") max_staleness_ms = std::max(100, std::atoi(argv[i + 1]));
  }
  kt::TempDir dir;
  const std::uint16_t proxy_port = kt::TcpProxy::FreePort();
  std::fprintf(stderr, "starting a private broker with a CUT listener...\n");
  kt::PrivateBroker broker("127.0.0.1:" + std::to_string(proxy_port));
  if (!broker.ok() || broker.cut_port() == 0) {
    std::fprintf(stderr, "the private broker did not start\n");
    return 1;
  }
  kt::TcpProxy proxy(proxy_port, broker.cut_port());
  if (!proxy.listening()) return 1;
  kt::ServerProcess api(broker.bootstrap(), "keyledger.key-events", dir.path());
  if (!api.WaitReady(60s)) {
    std::fprintf(stderr, "serve did not become ready: %s\n", api.LogText().c_str());
    return 1;
  }
  kt::ServerProcess validator({"validator", "--bootstrap", "127.0.0.1:" + std::to_string(proxy_port), "--listen",
                                    "127.0.0.1:0", "--max-staleness", std::to_string(max_staleness_ms)},
                                   dir.path(), "validator");
  if (!validator.WaitReady(60s)) {
    std::fprintf(stderr, "the validator did not become ready: %s\n", validator.LogText().c_str());
    return 1;
  }
  auto created = kt::HttpCall(api.port(), "POST", "/v2/gen-ai/models/api_keys", R"({"name":"bench","all_models":true})",
                                   {{"Authorization", "Bearer " + kt::TestToken("olga", "team-acme", "owner")}});
  if (created.status != 201) return 1;
  const std::string secret(
      boost::json::parse(created.body).at("api_key_info").at("secret_key").as_string());
  auto wait_allowed = [&](std::chrono::seconds limit) {
    auto deadline = Clock::now() + limit;
    while (Check(validator.port(), secret) != 200) {
      if (Clock::now() > deadline) return false;
      std::this_thread::sleep_for(10ms);
    }
    return true;
  };
  if (!wait_allowed(30s)) return 1;

  std::vector<double> fail_closed, recovered;
  for (int cut = 0; cut < cuts; ++cut) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200 + 97 * cut % 500));  // not in step with the probe
    proxy.Cut();
    const auto at = Clock::now();
    while (Check(validator.port(), secret) == 200) {
      if (Clock::now() - at > std::chrono::milliseconds(max_staleness_ms * 10)) break;
      std::this_thread::sleep_for(5ms);
    }
    fail_closed.push_back(Ms(Clock::now() - at));
    if (!proxy.Restore()) return 1;
    const auto healed = Clock::now();
    if (!wait_allowed(60s)) {
      std::fprintf(stderr, "the validator did not allow the secret again within 60 s\n");
      return 1;
    }
    recovered.push_back(Ms(Clock::now() - healed));
    std::fprintf(stderr, "  cut %d/%d: failed closed after %.0f ms, allowed again %.0f ms after healing\n", cut + 1,
                 cuts, fail_closed.back(), recovered.back());
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  };
  const double max = *std::max_element(fail_closed.begin(), fail_closed.end());
  bench::Result r;
  r.name = "validator.fail_closed";
  r.label = bench::Format("validator: time from losing the brokers to failing closed, --max-staleness %d ms (%d cuts)",
                          max_staleness_ms, cuts);
  r.value = max;
  r.unit = "ms";
  r.target = bench::Format("value <= %d", max_staleness_ms + 1000);
  r.detail = bench::Format("max; median %.0f ms; back to allowing %.0f ms (median) after the brokers return",
                           median(fail_closed), median(recovered));
  bench::PrintResult(r);
  return 0;
}
