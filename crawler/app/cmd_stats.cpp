// `seedscope stats`: the crawl summary from the observatory database: per network the nodes
// seen, reachable now, software versions and public RPC; addresses by state; contacts of the
// last hour by outcome; where the reachable nodes are (countries, ASNs, AS organisations) when
// geo databases were used. Reads only; the crawler may be running.
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

namespace {

constexpr std::size_t kGeoTop = 5;

// "countries  3 distinct, a third in 1, half in 2:  DE 30  US 20  other 12  unknown 1"
void format_concentration(std::string& out, const char* what, const geo::Concentration& c) {
  fmt::format_to(std::back_inserter(out),
                 "    {:<13} {} distinct, a third in {}, half in {}:", what, c.distinct, c.to_third,
                 c.to_half);
  for (const auto& s : c.top) fmt::format_to(std::back_inserter(out), "  {} {}", s.key, s.nodes);
  if (c.other > 0) fmt::format_to(std::back_inserter(out), "  other {}", c.other);
  if (c.unknown > 0) fmt::format_to(std::back_inserter(out), "  unknown {}", c.unknown);
  out += "\n";
}

void format_geo(std::string& out, storage::Database& db,
                const std::vector<storage::NetworkCounts>& networks) {
  if (storage::located_addresses(db) == 0) {
    out += "\nwhere: no address located (give MaxMind DB files: [geo] country_db and asn_db, or "
           "crawl --geo-db)\n";
    return;
  }
  out += "\nwhere the reachable nodes are\n";
  for (const auto& n : networks) {
    if (n.reachable == 0) continue;
    const auto g = storage::geo_concentration(db, n.network, kGeoTop);
    fmt::format_to(std::back_inserter(out), "  {}: {} reachable\n", n.network, g.by_asn.total);
    format_concentration(out, "countries", g.by_country);
    format_concentration(out, "ASNs", g.by_asn);
    format_concentration(out, "organisations", g.by_org);
  }
}

} // namespace

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
  const auto networks = storage::network_counts(db);
  {
    // Counts as the crawl summary, the metrics and the API have them (storage/queries.hpp).
    fmt::format_to(std::back_inserter(out), "\n{:<24} {:>7} {:>9} {:>11} {:>9} {:>8} {:>8}  {}\n",
                   "network", "nodes", "reachable", "misbehaving", "addresses", "versions",
                   "with_rpc", "last seen (UTC)");
    for (const auto& n : networks) {
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
  format_geo(out, db, networks);
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
