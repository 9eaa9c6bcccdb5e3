// The command line (CLI11): the global --home, --log_level, --log_format and --log-file, and
// one subcommand per cmd_*.cpp, each of which adds its own options (add_*_command in
// commands.hpp).
#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "crawler/app/app_log.hpp"
#include "crawler/app/cli_options.hpp"
#include "crawler/app/commands.hpp"
#include "crawler/app/home.hpp"
#include "crawler/app/output.hpp"
#include "crawler/app/version.hpp"

namespace seedscope::app {

int run_cli(int argc, char** argv) {
  CLI::App app{"seedscope: a seed node and crawler for Tendermint / CometBFT p2p networks"};
  app.require_subcommand(1);
  app.fallthrough(); // --home also after the subcommand
  app.set_version_flag("--version", version_text, "print what `seedscope version` prints");
  std::string home = default_home_dir().string();
  app.add_option("--home", home,
                 "home directory (config/config.toml, config/node_key.json); default: "
                 "$SEEDSCOPE_HOME, else ~/.seedscope")
      ->capture_default_str();
  std::string log_level;
  std::string log_format;
  std::string log_file;
  app.add_option("--log_level", log_level,
                 "log level, Tendermint's syntax: info, or p2p:debug,*:error (default: "
                 "config.toml's log_level, else info)");
  app.add_option("--log_format", log_format,
                 "plain (Tendermint's), json or logfmt (default: config.toml's log_format, else "
                 "plain)");
  app.add_option("--log-file", log_file,
                 "append log lines to this file instead of stderr (reopened on SIGHUP)");
  const Command commands[] = {
      add_init_command(app),   add_show_node_id_command(app), add_start_command(app),
      add_probe_command(app),  add_addrbook_command(app),     add_netsim_command(app),
      add_demo_command(app),   add_crawl_command(app),        add_export_command(app),
      add_api_command(app),    add_stats_command(app),        add_version_command(app),
      add_config_command(app),
  };
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForVersion&) {
    // As `seedscope version` (CLI11 would add a newline and not check the write).
    try {
      return cmd_version();
    } catch (const std::exception& e) {
      print_err("seedscope: {}\n", e.what());
      return 1;
    }
  } catch (const CLI::ParseError& e) {
    // --help is an "error" with code 0; everything else is a usage error: 2.
    if (e.get_exit_code() == 0) return app.exit(e);
    app.exit(e, std::cout, std::cerr); // CLI11's message (and help hint) on stderr
    return 2;
  }
  try {
    if (home.empty()) throw UsageError("--home: an empty path (use --home . for this directory)");
    set_log_flags(log_level_option(log_level), log_format_option(log_format));
    if (!log_file.empty()) set_log_file(path_option(log_file));
    for (const Command& c : commands)
      if (*c.app) return c.run(home);
  } catch (const UsageError& e) {
    print_err("seedscope: {}\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    // One line per problem (a config file may have several), each prefixed.
    std::string_view what = e.what();
    while (!what.empty()) {
      const auto nl = what.find('\n');
      print_err("seedscope: {}\n", what.substr(0, nl));
      if (nl == std::string_view::npos) break;
      what.remove_prefix(nl + 1);
    }
    return 1;
  }
  return 1;
}

} // namespace seedscope::app
