// `seedscope api`: the read-only HTTP API over the observatory database, until SIGINT/SIGTERM.
#include <pthread.h>

#include <csignal>

#include <fmt/format.h>

#include "crawler/app/api_server.hpp"
#include "crawler/app/commands.hpp"
#include "crawler/app/home.hpp"
#include "crawler/app/report.hpp"
#include "storage/database.hpp"

namespace seedscope::app {

int cmd_api(const std::filesystem::path& dir, const std::string& listen,
            const std::optional<std::string>& db) {
  Home home = open_home(dir, /*require_config=*/false);
  if (db) home.config.db_file = *db;
  // Refuse a missing or foreign file at start rather than on every request.
  { auto check = storage::Database::open_read_only(home.db_file()); }
  // SIGINT/SIGTERM are taken by sigwait below; blocked before the server starts its thread.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  ApiServer server(home.db_file(), listen);
  log_line(fmt::format("api: serving {} on http://{}/api/v1/networks (read-only)",
                       home.db_file().string(), server.local_address()));
  int signum = 0;
  sigwait(&set, &signum);
  log_line(fmt::format("api: received signal {}, stopped", signum));
  return 0;
}

} // namespace seedscope::app
