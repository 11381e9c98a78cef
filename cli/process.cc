#include "process.h"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <string>

namespace keyledger::cli {

namespace {

std::atomic<bool> g_stop{false};

void OnStopSignal(int) { g_stop.store(true); }

// A last structured line when the process dies of a fatal signal (for example RocksDB's abort on
// a write after a failed file write), then the default action (exit status 128+N). Only
// async-signal-safe calls.
void OnFatalSignal(int signal) {
  const char* name = signal == SIGABRT ? "SIGABRT" : signal == SIGSEGV ? "SIGSEGV" : signal == SIGBUS ? "SIGBUS" : "SIGFPE";
  constexpr char kHead[] = "{\"level\":\"fatal\",\"msg\":\"keyledger is terminating on a fatal signal; stores are "
                           "left at a consistent log prefix and the next start resumes from it\",\"signal\":\"";
  ssize_t written = write(STDERR_FILENO, kHead, sizeof kHead - 1);
  written = write(STDERR_FILENO, name, std::strlen(name));
  written = write(STDERR_FILENO, "\"}\n", 3);
  (void)written;
  std::signal(signal, SIG_DFL);
  std::raise(signal);
}

}  // namespace

const std::atomic<bool>* InstallSignalHandlers() {
  std::signal(SIGINT, OnStopSignal);
  std::signal(SIGTERM, OnStopSignal);
  for (int fatal : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE}) std::signal(fatal, OnFatalSignal);
  return &g_stop;
}

common::Status DisableCoreDumps() {
  rlimit none{0, 0};
  if (setrlimit(RLIMIT_CORE, &none) != 0) {
    return common::Internal(std::string("cannot disable core dumps: ") + std::strerror(errno));
  }
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
    return common::Internal(std::string("cannot make the process undumpable: ") + std::strerror(errno));
  }
  return common::Status::Ok();
}

}  // namespace keyledger::cli
