// Reference for the HTTP benchmarks: the same Beast/coroutine transport (http::Server, same
// thread count) answering every request with a fixed small JSON body, so the ratio isolates what
// the admin API adds (JWT verification, routing, RocksDB reads, JSON) over the transport.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "keyledger/http/server.h"

namespace {
volatile std::sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }
}  // namespace

int main(int argc, char** argv) {
  using namespace keyledger;
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);
  common::SystemClock clock;
  common::Logger log(stderr, &clock);
  http::ServerOptions options;
  options.port = static_cast<std::uint16_t>(argc > 1 ? std::atoi(argv[1]) : 0);
  http::Server server(
      options,
      [](const http::Request&) {
        http::Response r;
        r.body = R"({"status":"ok","message":"fixed small JSON body"})";
        return r;
      },
      [](const http::Request&) { return false; }, &log);
  if (!server.Start().ok()) return 1;
  std::printf("%u\n", server.port());
  std::fflush(stdout);
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  server.Shutdown();
  return 0;
}
