// `seedscope config show`: the effective configuration as TOML, each value with the place it
// came from (default, config.toml:line, a SEEDSCOPE_ variable, a flag). `seedscope config
// check`: validates the home's config.toml (or --file), the environment and the flags, lists
// every problem on stderr and exits 1, or says what was checked on stdout and exits 0.
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "crawler/app/cli_options.hpp"
#include "crawler/app/commands.hpp"
#include "crawler/app/exclude_file.hpp"
#include "crawler/app/home.hpp"
#include "crawler/app/output.hpp"

namespace seedscope::app {

namespace {

namespace fs = std::filesystem;

struct ConfigArgs {
  std::string file; // check this file instead of the home's config/config.toml
  std::vector<ConfigOverride> flags;
  std::string home_origin; // "--home", "SEEDSCOPE_HOME" or "default"
};

EffectiveConfig resolve(const fs::path& home, const ConfigArgs& args, fs::path& file,
                        bool& has_file) {
  file = args.file.empty() ? home / "config" / "config.toml" : fs::path(args.file);
  has_file = !args.file.empty() || config_file_exists(file); // a file given must be read
  return resolve_config(config_inputs(file, has_file, args.flags));
}

int cmd_config_show(const fs::path& home, const ConfigArgs& args) {
  fs::path file;
  bool has_file = false;
  const EffectiveConfig e = resolve(home, args, file, has_file);
  std::string out = "# seedscope's effective configuration: defaults < config file < SEEDSCOPE_*\n"
                    "# environment < flags. Each value is followed by where it came from.\n";
  out += fmt::format("# home: {} ({})\n", home.string(), args.home_origin);
  out += has_file ? fmt::format("# config file: {}\n", file.string())
                  : fmt::format("# config file: {} (none: defaults)\n", file.string());
  out += "\n" + render_effective(e);
  if (!write_result(out)) throw std::runtime_error("cannot write the configuration to stdout");
  return 0;
}

int cmd_config_check(const fs::path& home, const ConfigArgs& args) {
  fs::path file;
  bool has_file = false;
  EffectiveConfig e;
  std::vector<std::string> problems;
  auto add = [&](std::string_view what) {
    while (!what.empty()) {
      const auto nl = what.find('\n');
      problems.emplace_back(what.substr(0, nl));
      if (nl == std::string_view::npos) break;
      what.remove_prefix(nl + 1);
    }
  };
  bool resolved = false;
  try {
    e = resolve(home, args, file, has_file);
    resolved = true;
    if (!has_file)
      throw ConfigError(fmt::format("{} not found (run `seedscope init --home {}` first)",
                                    file.string(), home.string()));
  } catch (const ConfigError& error) {
    add(error.what());
  }
  // The exclude list the configuration names is configuration too.
  if (resolved) {
    try {
      ExcludeFile exclude(exclude_file_path(home, e.config.crawler.exclude_file));
    } catch (const ConfigError& error) {
      add(error.what());
    }
  }
  if (!problems.empty()) {
    for (const std::string& p : problems) print_err("{}\n", p);
    print_err("config check: {} problem{}\n", problems.size(), problems.size() == 1 ? "" : "s");
    return 1;
  }
  std::size_t from[4] = {};
  for (const auto& [name, origin] : e.origins) ++from[static_cast<int>(origin.source)];
  const std::string ok = fmt::format(
      "ok: {}: {} settings from the file, {} from the environment, {} from flags, {} defaults\n",
      file.string(), from[static_cast<int>(ConfigSource::kFile)],
      from[static_cast<int>(ConfigSource::kEnvironment)],
      from[static_cast<int>(ConfigSource::kFlag)], from[static_cast<int>(ConfigSource::kDefault)]);
  if (!write_result(ok)) throw std::runtime_error("cannot write the result to stdout");
  return 0;
}

} // namespace

Command add_config_command(CLI::App& app) {
  CLI::App* sub = app.add_subcommand("config", "show or check the effective configuration");
  sub->require_subcommand(1);
  CLI::App* show = sub->add_subcommand(
      "show", "print the effective configuration (TOML) and where each value came from");
  CLI::App* check = sub->add_subcommand(
      "check", "validate config.toml, SEEDSCOPE_* variables and flags; list every problem");
  auto args = std::make_shared<ConfigArgs>();
  for (CLI::App* s : {show, check})
    s->add_option("--file", args->file, "a config file instead of the home's config/config.toml");
  auto show_flags = std::make_shared<SettingFlags>(show);
  auto check_flags = std::make_shared<SettingFlags>(check);
  const CLI::Option* home_option = app.get_option("--home");
  return {sub, [=](const fs::path& home) {
            ConfigArgs a = *args;
            const char* env = std::getenv(std::string(kHomeVariable).c_str());
            a.home_origin = home_option->count() != 0     ? "--home"
                            : env != nullptr && *env != 0 ? std::string(kHomeVariable)
                                                          : "default";
            if (*show) {
              a.flags = show_flags->given();
              return cmd_config_show(home, a);
            }
            a.flags = check_flags->given();
            return cmd_config_check(home, a);
          }};
}

} // namespace seedscope::app
