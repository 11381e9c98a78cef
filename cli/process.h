// Process-wide concerns of the binary: stop signals, the last line on a fatal signal, and core
// dumps. Private to cli/.
// Thread: InstallSignalHandlers from main before any thread starts.
#pragma once

#include <atomic>

#include "keyledger/common/status.h"

namespace keyledger::cli {

// SIGINT and SIGTERM set the returned flag; SIGABRT, SIGSEGV, SIGBUS and SIGFPE write one last
// structured line naming the signal, then take the default action.
const std::atomic<bool>* InstallSignalHandlers();

// No core file from now on (RLIMIT_CORE 0, and not dumpable): a core of `serve` or `validator`
// would hold recently issued secrets and presented ones.
common::Status DisableCoreDumps();

}  // namespace keyledger::cli
