// `seedscope stats`: the crawl summary from the observatory database: per network the nodes
// seen, reachable now, software versions and public RPC; addresses by state; contacts of the
// last hour by outcome. Reads only; the crawler may be running.
#include <chrono>
#include <filesystem>
#include <iterator>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "crawler/app/cli_options.hpp"
#include "crawler/app/commands.hpp"
#include "crawler/app/home.hpp"
#include "crawler/app/output.hpp"
#include "storage/database.hpp"
#include "storage/queries.hpp"

namespace seedscope::app {

int cmd_stats(const std::filesystem::path& dir, const std::optional<std::string>& db_override) {
  Home home = open_home(dir, /*require_config=*/false);
  if (db_override) home.config.db_file = *db_override;
  const auto file = home.db_file();
  if (!std::filesystem::exists(file))
    throw std::runtime_error(
        fmt::format("no database at {} (run `seedscope crawl` first)", file.string()));
  auto db = storage::Database::open_read_only(file);

  std::string out; // written whole at the end: a result that cannot be written is an error
  fmt::format_to(std::back_inserter(out), "database {}\n", file.string());
  {
    // Counts as the crawl summary, the metrics and the API have them (storage/queries.hpp).
    fmt::format_to(std::back_inserter(out), "\n{:<24} {:>7} {:>9} {:>11} {:>9} {:>8} {:>8}  {}\n",
                   "network", "nodes", "reachable", "misbehaving", "addresses", "versions",
                   "with_rpc", "last seen (UTC)");
    for (const auto& n : storage::network_counts(db)) {
      fmt::format_to(std::back_inserter(out), "{:<24} {:>7} {:>9} {:>11} {:>9} {:>8} {:>8}  {}{}\n",
                     n.network, n.nodes, n.reachable, n.misbehaving, n.addresses, n.versions,
                     n.with_rpc, utc_time(n.last_seen, false),
                     n.confirmed ? "" : "  (known only from inbound peers)");
    }
  }
  fmt::format_to(std::back_inserter(out), "\nversions\n");
  for (const auto& n : storage::versions_by_network(db, 8)) {
    fmt::format_to(std::back_inserter(out), "  {}\n", n.network);
    for (const auto& v : n.top)
      fmt::format_to(std::back_inserter(out), "    {:<28} {:>7}\n", v.version, v.nodes);
  }
  fmt::format_to(std::back_inserter(out), "\naddresses");
  for (const auto& s : storage::addresses_by_state(db))
    fmt::format_to(std::back_inserter(out), "  {}={}", s.state, s.addresses);
  fmt::format_to(std::back_inserter(out), "\n");
  fmt::format_to(std::back_inserter(out), "\ncontacts in the last hour of crawling\n");
  for (const auto& c : storage::recent_contacts(db, std::chrono::hours(1)))
    fmt::format_to(std::back_inserter(out), "  {:<20} {:>8}   avg handshake {:.1f} ms\n", c.outcome,
                   c.contacts, c.avg_handshake_ms);
  fmt::format_to(std::back_inserter(out), "\nadvertised-by edges: {}\n",
                 storage::advertised_edges(db));
  if (!write_result(std::move(out))) throw std::runtime_error("cannot write the summary to stdout");
  return 0;
}

Command add_stats_command(CLI::App& app) {
  CLI::App* sub = app.add_subcommand("stats", "print the crawl summary from the database");
  auto db = std::make_shared<std::string>();
  add_db_option(sub, *db);
  return {sub, [db](const std::filesystem::path& home) { return cmd_stats(home, db_option(*db)); }};
}

} // namespace seedscope::app
