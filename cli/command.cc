#include "command.h"

#include <unistd.h>

#include "keyledger/http/server.h"
#include "keyledger/projector/layout.h"
#include "keyledger/replay/store_root.h"

namespace keyledger::cli {

void AddKafkaFlags(CLI::App* command, KafkaFlags* flags) {
  command->add_option("--bootstrap", flags->bootstrap, "Kafka bootstrap servers HOST:PORT[,HOST:PORT...]")
      ->envname("KEYLEDGER_BOOTSTRAP")
      ->capture_default_str();
  command->add_option("--topic", flags->topic, "the key-event topic")->envname("KEYLEDGER_TOPIC")->capture_default_str();
}

void AddCatalogFlag(CLI::App* command, std::string* path) {
  command->add_option("--catalog", *path, "model catalog and team VPCs, JSON (default: built in)")
      ->envname("KEYLEDGER_CATALOG");
}

common::Result<events::Catalog> LoadCatalog(const std::string& path) {
  if (path.empty()) return events::Catalog::Default();
  return events::Catalog::LoadFile(path);
}

void AddDbFlag(CLI::App* command, std::string* db, const std::string& help) {
  command->add_option("--db", *db, help)->envname("KEYLEDGER_DB")->required();
}

void AddMinFreeFlag(CLI::App* command, std::int64_t* mb) {
  AddIntFlag(command, "--min-free-mb", mb, "stop writing stores, and say so, below this much free disk (MiB)", 0,
             1 << 30);
}

CLI::Option* AddIntFlag(CLI::App* command, const std::string& name, std::int64_t* value, const std::string& help,
                        std::int64_t min, std::int64_t max) {
  return command->add_option(name, *value, help)->check(CLI::Range(min, max))->capture_default_str();
}

CLI::Validator ListenAddress() {
  return CLI::Validator(
      [](std::string& text) {
        http::ServerOptions options;
        common::Status s = http::ParseListenAddress(text, "the value", &options);
        return s.ok() ? std::string() : s.message();
      },
      "HOST:PORT");
}

int Fail(common::Logger& log, const std::string& what, const common::Status& status) {
  log.Error(what, {{"error", status.ToString()}});
  return 1;
}

common::Result<std::unique_ptr<storage::Store>> OpenStoreReadOnly(const std::string& db) {
  std::string dir = db;
  if (replay::StoreRoot::IsRoot(db)) {
    KL_ASSIGN_OR_RETURN(dir, replay::StoreRoot(db).Live());
  }
  storage::StoreOptions so;
  so.read_only = true;
  so.create_if_missing = false;
  return projector::OpenReadModelStore(dir, so);
}

bool StderrIsTerminal() { return isatty(fileno(stderr)) != 0; }

}  // namespace keyledger::cli
