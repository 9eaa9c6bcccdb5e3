// `seedscope stats`: the crawl summary from the observatory database: per network the nodes
// seen, reachable now, software versions and public RPC; addresses by state; contacts of the
// last hour by outcome. Reads only; the crawler may be running.
#include <filesystem>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "crawler/app/commands.hpp"
#include "crawler/app/cli_options.hpp"
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
    throw std::runtime_error(fmt::format("no database at {} (run `seedscope crawl` first)",
                                         file.string()));
  auto db = storage::Database::open_read_only(file);

  print_out("database {}\n", file.string());
  {
    // Counts as the crawl summary, the metrics and the API have them (storage/queries.hpp).
    print_out("\n{:<24} {:>7} {:>9} {:>11} {:>9} {:>8} {:>8}  {}\n", "network", "nodes",
              "reachable", "misbehaving", "addresses", "versions", "with_rpc", "last seen (UTC)");
    for (const auto& n : storage::network_counts(db)) {
      print_out("{:<24} {:>7} {:>9} {:>11} {:>9} {:>8} {:>8}  {}{}\n", n.network, n.nodes,
                n.reachable, n.misbehaving, n.addresses, n.versions, n.with_rpc,
                utc_time(n.last_seen, false),
                n.confirmed ? "" : "  (known only from inbound peers)");
    }
  }
  {
    auto st = db.prepare(
        "SELECT network, version, count(*) AS n FROM nodes GROUP BY network, version "
        "ORDER BY network, n DESC");
    print_out("\nversions\n");
    std::string current;
    int shown = 0;
    while (st.step()) {
      std::string net = st.column_text(0);
      if (net != current) {
        current = net;
        shown = 0;
        print_out("  {}\n", net);
      }
      if (shown++ < 8) print_out("    {:<28} {:>7}\n", st.column_text(1), st.column_int(2));
    }
  }
  {
    auto st = db.prepare("SELECT state, count(*) FROM addresses GROUP BY state ORDER BY state");
    print_out("\naddresses");
    while (st.step()) print_out("  {}={}", st.column_text(0), st.column_int(1));
    print_out("\n");
  }
  {
    auto st = db.prepare(
        "SELECT outcome, count(*), avg(handshake_ms) FROM contacts "
        "WHERE at >= (SELECT max(at) FROM contacts) - 3600 GROUP BY outcome ORDER BY 2 DESC");
    print_out("\ncontacts in the last hour of crawling\n");
    while (st.step()) {
      print_out("  {:<20} {:>8}   avg handshake {:.1f} ms\n", st.column_text(0),
                 st.column_int(1), st.column_double(2));
    }
  }
  {
    auto st = db.prepare("SELECT count(*) FROM advertised");
    if (st.step()) print_out("\nadvertised-by edges: {}\n", st.column_int(0));
  }
  return 0;
}

Command add_stats_command(CLI::App& app) {
  CLI::App* sub = app.add_subcommand("stats", "print the crawl summary from the database");
  auto db = std::make_shared<std::string>();
  sub->add_option("--db", *db, "database file (default: [db_file] in the home)");
  return {sub, [db](const std::filesystem::path& home) {
            return cmd_stats(home, db->empty() ? std::nullopt
                                               : std::optional<std::string>(path_option(*db)));
          }};
}

} // namespace seedscope::app
