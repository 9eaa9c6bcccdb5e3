// `seedscope version` (and `seedscope --version`, run_cli): the release, the git revision, the
// build type, the sanitizers and the protocol versions, on stdout.
#include <stdexcept>

#include <CLI/CLI.hpp>

#include "crawler/app/commands.hpp"
#include "crawler/app/output.hpp"
#include "crawler/app/version.hpp"

namespace seedscope::app {

int cmd_version() {
  if (!write_result(version_text())) throw std::runtime_error("cannot write the version to stdout");
  return 0;
}

Command add_version_command(CLI::App& app) {
  CLI::App* sub = app.add_subcommand(
      "version", "print the release, git revision, build type and protocol versions");
  return {sub, [](const std::filesystem::path&) { return cmd_version(); }};
}

} // namespace seedscope::app
