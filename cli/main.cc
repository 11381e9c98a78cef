// keyledger: the composition root. main() parses the command line and runs one subcommand; each
// subcommand (one file each in cli/) builds its components and hands them their dependencies.
#include "command.h"
#include "process.h"

int main(int argc, char** argv) {
  using namespace keyledger;
  const std::atomic<bool>* stop = cli::InstallSignalHandlers();
  CLI::App app{"keyledger: the system of record for model access keys", "keyledger"};
  app.require_subcommand(1);
  // A flag given twice takes its last value (scripts append overrides to a base command line).
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.set_help_all_flag("--help-all", "every subcommand's flags");
  std::vector<std::pair<CLI::App*, cli::Runner>> commands;
  for (auto add : {cli::AddServe, cli::AddValidator, cli::AddProject, cli::AddReplay, cli::AddVerify, cli::AddAudit,
                   cli::AddAsOf, cli::AddImportLegacy, cli::AddSkip, cli::AddHalts, cli::AddToken,
                   cli::AddCatalog}) {
    cli::Runner run = add(app);
    // The subcommand `add` just added (get_subcommands with a filter lists all, parsed or not).
    commands.emplace_back(app.get_subcommands([](const CLI::App*) { return true; }).back(), std::move(run));
  }
  if (argc == 2 && std::string_view(argv[1]) == "help") {
    std::fputs(app.help("", CLI::AppFormatMode::All).c_str(), stdout);
    return 0;
  }
  if (argc > 1 && argv[1][0] != '-') {
    bool known = false;
    for (const auto& [command, run] : commands) known = known || command->get_name() == argv[1];
    if (!known) {
      std::fprintf(stderr, "keyledger: unknown subcommand '%s'\nRun 'keyledger help' for the subcommands and their flags.\n",
                   argv[1]);
      return 2;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // Unknown flags, missing required ones, values that do not parse: exit status 2 with a line
    // naming the flag and the value.
    std::fprintf(stderr, "keyledger: %s\nRun 'keyledger help' for the subcommands and their flags.\n", e.what());
    return 2;
  }
  common::SystemClock clock;
  common::Logger log(stderr, &clock);
  cli::Env env{&log, &clock, stop};
  for (auto& [command, run] : commands) {
    if (command->parsed()) return run(env);
  }
  return 2;
}
