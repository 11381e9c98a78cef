// What the keyledger binary's subcommands share: how each is registered with the command line
// parser (CLI11) and run, the flags several of them take, and small helpers. Private to cli/.
// Thread: the main thread.
#pragma once

#include <CLI/CLI.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "keyledger/common/clock.h"
#include "keyledger/common/log.h"
#include "keyledger/common/status.h"
#include "keyledger/http/client.h"
#include "keyledger/events/catalog.h"
#include "keyledger/storage/kafka.h"
#include "keyledger/storage/store.h"

namespace keyledger::cli {

// What a subcommand runs with once its flags are parsed.
struct Env {
  common::Logger* log;
  const common::Clock* clock;
  // Set by SIGINT and SIGTERM (process.h).
  const std::atomic<bool>* stop;
};
using Runner = std::function<int(const Env&)>;

// Each subcommand's file defines one of these: it adds the subcommand and its flags to `app` and
// returns what runs it.
Runner AddServe(CLI::App& app);
Runner AddProject(CLI::App& app);
Runner AddValidator(CLI::App& app);
Runner AddToken(CLI::App& app);
Runner AddCatalog(CLI::App& app);
Runner AddReplay(CLI::App& app);
Runner AddVerify(CLI::App& app);
Runner AddAudit(CLI::App& app);
Runner AddAsOf(CLI::App& app);
Runner AddImportLegacy(CLI::App& app);
Runner AddSkip(CLI::App& app);
Runner AddHalts(CLI::App& app);

// --bootstrap [KEYLEDGER_BOOTSTRAP] and --topic [KEYLEDGER_TOPIC].
struct KafkaFlags {
  std::string bootstrap = "127.0.0.1:9092";
  std::string topic = storage::kDefaultTopic;
  storage::KafkaConfig config() const { return storage::KafkaConfig{bootstrap, {}}; }
};
void AddKafkaFlags(CLI::App* command, KafkaFlags* flags);

// --catalog FILE [KEYLEDGER_CATALOG]; the built-in catalog without it.
void AddCatalogFlag(CLI::App* command, std::string* path);
common::Result<events::Catalog> LoadCatalog(const std::string& path);

// --db DIR [KEYLEDGER_DB], required.
void AddDbFlag(CLI::App* command, std::string* db, const std::string& help);

// --min-free-mb N (64): stores refuse writes, and the command stops saying so, while their disk
// has less free space than this (storage::StoreOptions::min_free_bytes).
void AddMinFreeFlag(CLI::App* command, std::int64_t* mb);

// An integer flag in [min, max] (a value outside, or not a number, is an error naming the flag).
CLI::Option* AddIntFlag(CLI::App* command, const std::string& name, std::int64_t* value, const std::string& help,
                        std::int64_t min, std::int64_t max);

// Checks HOST:PORT (http::ParseListenAddress).
CLI::Validator ListenAddress();

// Logs `what` with the error and returns 1.
int Fail(common::Logger& log, const std::string& what, const common::Status& status);

// The live generation of a store root, or a plain store directory, read-only.
common::Result<std::unique_ptr<storage::Store>> OpenStoreReadOnly(const std::string& db);

bool StderrIsTerminal();

// Operators' commands against a running serve (operator.cc): where it is and the token file.
struct OperatorFlags {
  std::string api = "http://127.0.0.1:8080";
  std::string token_file;
  std::string ca_file;
  std::int64_t timeout_ms = 30000;
};
// `token_required`: false when another mode of the command needs no serve (import-legacy --offline).
void AddOperatorFlags(CLI::App* command, OperatorFlags* flags, bool token_required = true);
// Sends the request as the token file's first operator.
common::Result<http::ClientResponse> FetchAsOperator(const OperatorFlags& flags, const std::string& method,
                                                     const std::string& path, const std::string& body,
                                                     const std::map<std::string, std::string>& extra_headers);

}  // namespace keyledger::cli
