// `seedscope api`: the read-only HTTP API over the observatory database, until SIGINT/SIGTERM.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "crawler/app/api_server.hpp"
#include "crawler/app/app_log.hpp"
#include "crawler/app/cli_options.hpp"
#include "crawler/app/commands.hpp"
#include "crawler/app/exclude_file.hpp"
#include "crawler/app/home.hpp"
#include "crawler/app/report.hpp"
#include "crawler/runtime/shutdown.hpp"
#include "crawler/runtime/timer.hpp"
#include "storage/database.hpp"

namespace seedscope::app {

int cmd_api(const std::filesystem::path& dir, const std::string& listen,
            const std::optional<std::string>& db) {
  Home home = open_home(dir, /*require_config=*/false);
  if (db) home.config.db_file = *db;
  // Refuse a missing or foreign file at start rather than on every request.
  { auto check = storage::Database::open_read_only(home.db_file()); }
  const Logger log = logger("api");
  ApiServer server(home.db_file(), listen,
                   exclude_file_path(home.dir, home.config.crawler.exclude_file), log);
  log.info("serving the API (read-only)",
           {{"db", home.db_file().string()},
            {"url", fmt::format("http://{}/api/v1/networks", server.local_address())}});
  // The server runs on its own thread; this one waits for SIGINT/SIGTERM.
  runtime::Loop loop;
  runtime::Timer wait(loop);
  wait.start(Millis(std::chrono::hours(24 * 365 * 100)), [] {});
  int signum = 0;
  runtime::StopRequest stop(loop, [&](int s) {
    signum = s;
    wait.stop();
  });
  loop.run();
  log.info("stopped", {{"signal", signum}});
  return 0;
}

Command add_api_command(CLI::App& app) {
  CLI::App* sub = app.add_subcommand(
      "api", "serve the peer lists over HTTP as JSON and text (read-only database)");
  struct Raw {
    std::string listen = "127.0.0.1:26661", db;
  };
  auto raw = std::make_shared<Raw>();
  sub->add_option("--listen", raw->listen, "address to serve on")->capture_default_str();
  add_db_option(sub, raw->db);
  return {sub, [raw](const std::filesystem::path& home) {
            return cmd_api(home, raw->listen, db_option(raw->db));
          }};
}

} // namespace seedscope::app
