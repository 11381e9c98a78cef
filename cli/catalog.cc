// keyledger catalog: print the model catalog (OpenAI list shape).
#include "command.h"
#include "keyledger/api/render.h"

namespace keyledger::cli {

Runner AddCatalog(CLI::App& app) {
  auto path = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("catalog", "print the model catalog (OpenAI list shape) and exit");
  AddCatalogFlag(cmd, path.get());
  return [path](const Env&) {
    auto catalog = LoadCatalog(*path);
    if (!catalog.ok()) {
      std::fprintf(stderr, "keyledger catalog: %s\n", catalog.status().ToString().c_str());
      return 1;
    }
    std::printf("%s\n", boost::json::serialize(api::CatalogJson(*catalog)).c_str());
    return 0;
  };
}

}  // namespace keyledger::cli
