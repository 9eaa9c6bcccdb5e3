// The command line (CLI11): global --home, subcommands init, show-node-id, start, probe,
// addrbook import|export, netsim, demo, crawl, stats.
#include <charconv>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "crawler/app/commands.hpp"
#include "crawler/app/config.hpp"
#include "crawler/app/home.hpp"
#include "crawler/app/output.hpp"

namespace seedscope::app {

namespace {

std::optional<Millis> duration_option(const std::string& text, const char* name) {
  if (text.empty()) return std::nullopt;
  auto d = parse_duration(text);
  if (!d || d->count() <= 0)
    throw std::runtime_error(fmt::format("{}: bad duration \"{}\" (expected e.g. 5s, 500ms)",
                                         name, text));
  return d;
}

// A whole number from `lo` to `hi` (CLI11 would wrap "-1" into a huge unsigned value).
std::int64_t integer_option(const std::string& text, const char* name, std::int64_t lo,
                            std::int64_t hi) {
  std::int64_t v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ptr != end || ec != std::errc() || v < lo || v > hi)
    throw std::runtime_error(
        fmt::format("{}: \"{}\" is not a whole number from {} to {}", name, text, lo, hi));
  return v;
}

// A --db path given on the command line is relative to the working directory, as any path
// on a command line (db_file in config.toml is relative to the home).
std::string db_option(const std::string& path) {
  return std::filesystem::absolute(path).lexically_normal().string();
}

// A chain ID given on the command line, checked as Tendermint checks one.
std::string chain_id_option(const std::string& text, const char* name) {
  if (Status st = validate_chain_id(text); !st)
    throw std::runtime_error(fmt::format("{}: {}", name, st.error().detail));
  return text;
}

} // namespace

int run_cli(int argc, char** argv) {
  CLI::App app{"seedscope: a seed node and crawler for Tendermint / CometBFT p2p networks"};
  app.require_subcommand(1);
  app.fallthrough(); // --home also after the subcommand
  app.set_version_flag("--version", SEEDSCOPE_VERSION_STRING);
  std::string home = default_home_dir().string();
  app.add_option("--home", home, "home directory (config/config.toml, config/node_key.json)")
      ->capture_default_str();

  CLI::App* init = app.add_subcommand("init", "create the home directory, config and node key");
  CLI::App* show = app.add_subcommand("show-node-id", "print this node's ID");
  CLI::App* start = app.add_subcommand(
      "start", "run a node from the config: listen, peer exchange (normal or seed mode), dial");
  CLI::App* probe = app.add_subcommand(
      "probe", "dial one node, complete the handshake, print its NodeInfo and timings as JSON");
  CLI::App* addrbook = app.add_subcommand(
      "addrbook", "move the address book between the database and Tendermint's addrbook.json");
  addrbook->require_subcommand(1);
  std::string book_file;
  bool book_force = false;
  CLI::App* book_import =
      addrbook->add_subcommand("import", "replace the stored address book with FILE's addresses");
  book_import->add_option("file", book_file, "addrbook.json to read")->required();
  book_import->add_flag("--force", book_force,
                        "import a file with no addresses over a stored book that has some");
  CLI::App* book_export =
      addrbook->add_subcommand("export", "write the stored address book to FILE");
  book_export->add_option("file", book_file, "addrbook.json to write (\"-\": stdout)")->required();
  CLI::App* netsim = app.add_subcommand(
      "netsim", "host a simulated Tendermint network on loopback (127.x.y.z addresses)");
  NetsimArgs netsim_args;
  std::string netsim_duration;
  netsim->add_option("--scenario", netsim_args.scenario_file, "scenario TOML file");
  netsim->add_option("--preset", netsim_args.preset, "built-in scenario: small, demo, large")
      ->capture_default_str();
  netsim->add_option("--ground-truth", netsim_args.ground_truth,
                     "write every node's ID, address, network, class to this JSON file");
  netsim->add_option("--duration", netsim_duration, "stop after this long, e.g. 60s");
  netsim->add_option("--print-preset", netsim_args.print_preset,
                     "print a preset's scenario TOML (a starting point) and exit");
  CLI::App* demo = app.add_subcommand(
      "demo", "crawl a simulated network (netsim preset) with a seedscope seed node, on loopback");
  DemoArgs demo_args;
  std::string demo_duration;
  demo->add_option("--preset", demo_args.preset, "netsim preset: small, demo, large")
      ->capture_default_str();
  demo->add_option("--duration", demo_duration, "stop after this long at most (default 90s)");
  demo->add_option("--metrics-addr", demo_args.metrics_addr,
                   "serve Prometheus metrics here (\"off\": none)")
      ->capture_default_str();
  demo->add_option("--db", demo_args.db, "keep the observatory database in this file");
  std::string demo_port, demo_offset;
  demo->add_option("--port", demo_port, "port of the simulated nodes (default: the preset's, 26656)");
  demo->add_option("--address-offset", demo_offset,
                   "shift the simulated nodes' 127.x.y.z addresses by this many places (run "
                   "beside another netsim or demo)");

  CLI::App* crawl = app.add_subcommand(
      "crawl", "crawl every network reachable from the seeds into the observatory database, "
               "and serve as a seed");
  CrawlArgs crawl_args;
  std::string crawl_network, crawl_db, crawl_laddr, crawl_duration;
  std::int64_t crawl_dials = 0;
  crawl->add_option("--seed", crawl_args.seeds, "ID@host:port (repeatable, or comma-separated)");
  crawl->add_option("--network", crawl_network, "only this chain ID (default: every network)");
  crawl->add_option("--db", crawl_db, "database file (default: [db_file] in the home)");
  crawl->add_option("--laddr", crawl_laddr, "listen address of the seed service");
  crawl->add_option("--max-concurrent-dials", crawl_dials, "contacts in flight at once");
  crawl->add_option("--duration", crawl_duration, "stop after this long, e.g. 10m");
  std::string crawl_metrics;
  crawl->add_option("--metrics-addr", crawl_metrics,
                    "Prometheus endpoint (default: prometheus_listen_addr; \"off\": none)");
  crawl->add_flag("--loopback-only", crawl_args.loopback_only,
                  "simulations: dial and learn loopback addresses only");
  CLI::App* exp = app.add_subcommand(
      "export", "print a network's peers from the database: persistent_peers, seeds, json, csv, addrbook");
  ExportArgs export_args;
  std::string export_db, seen_within;
  bool ipv4 = false, ipv6 = false;
  exp->add_option("--network", export_args.filter.network, "chain ID")->required();
  exp->add_option("--format", export_args.format,
                  "persistent_peers, seeds, json, csv or addrbook")->capture_default_str();
  exp->add_option("--min-score", export_args.filter.min_score, "minimum reliability score (0..1)")
      ->check(CLI::Range(0.0, 1.0));
  exp->add_option("--seen-within", seen_within, "last success at most this long ago, e.g. 24h");
  exp->add_flag("--reachable-only", export_args.filter.reachable_only,
                "only nodes reachable at their last contact");
  std::string export_limit;
  exp->add_option("--limit", export_limit, "at most this many nodes (1 or more; default: all)");
  exp->add_flag("--one-per-group", export_args.filter.one_per_group,
                "at most one node per /16 (IPv6: /32)");
  exp->add_flag("--ipv4", ipv4, "IPv4 addresses only");
  exp->add_flag("--ipv6", ipv6, "IPv6 addresses only");
  exp->add_option("--db", export_db, "database file (default: [db_file] in the home)");
  exp->add_option("--out", export_args.out, "write to this file (atomically) instead of stdout");
  CLI::App* api = app.add_subcommand(
      "api", "serve the peer lists over HTTP as JSON and text (read-only database)");
  std::string api_listen = "127.0.0.1:26661", api_db;
  api->add_option("--listen", api_listen, "address to serve on")->capture_default_str();
  api->add_option("--db", api_db, "database file (default: [db_file] in the home)");
  CLI::App* stats = app.add_subcommand("stats", "print the crawl summary from the database");
  std::string stats_db;
  stats->add_option("--db", stats_db, "database file (default: [db_file] in the home)");

  ProbeArgs probe_args;
  std::string network, timeout, dial_timeout;
  probe->add_option("address", probe_args.address, "ID@host:port")->required();
  probe->add_option("--network", network,
                    "chain ID to answer in (default: the config's, else the peer's own)");
  probe->add_option("--timeout", timeout,
                    "handshake timeout, e.g. 5s (default: [p2p] handshake_timeout)");
  probe->add_option("--dial-timeout", dial_timeout,
                    "TCP connect timeout, e.g. 1s (default: [p2p] dial_timeout)");

  CLI11_PARSE(app, argc, argv);

  try {
    if (*init) return cmd_init(home);
    if (*show) return cmd_show_node_id(home);
    if (*start) return cmd_start(home);
    if (*crawl) {
      if (!crawl_network.empty()) crawl_args.network = chain_id_option(crawl_network, "--network");
      if (!crawl_db.empty()) crawl_args.db = db_option(crawl_db);
      if (!crawl_laddr.empty()) crawl_args.laddr = crawl_laddr;
      if (!crawl_metrics.empty()) crawl_args.metrics_addr = crawl_metrics;
      if (crawl_dials < 0) throw std::runtime_error("--max-concurrent-dials: must be positive");
      if (crawl_dials > 0) crawl_args.max_concurrent_dials = crawl_dials;
      crawl_args.duration = duration_option(crawl_duration, "--duration");
      return cmd_crawl(home, crawl_args);
    }
    if (*exp) {
      if (ipv4 && ipv6) throw std::runtime_error("--ipv4 and --ipv6 exclude each other");
      export_args.filter.family = ipv4   ? storage::AddressFamily::kIPv4
                                  : ipv6 ? storage::AddressFamily::kIPv6
                                         : storage::AddressFamily::kAny;
      if (auto d = duration_option(seen_within, "--seen-within"))
        export_args.filter.seen_within = std::chrono::duration_cast<std::chrono::seconds>(*d);
      if (!export_db.empty()) export_args.db = db_option(export_db);
      if (exp->count("--limit") != 0)
        export_args.filter.limit =
            static_cast<std::size_t>(integer_option(export_limit, "--limit", 1, 1'000'000'000));
      return cmd_export(home, export_args);
    }
    if (*api)
      return cmd_api(home, api_listen,
                     api_db.empty() ? std::nullopt : std::optional<std::string>(db_option(api_db)));
    if (*stats)
      return cmd_stats(home, stats_db.empty() ? std::nullopt
                                              : std::optional<std::string>(db_option(stats_db)));
    if (*demo) {
      if (auto d = duration_option(demo_duration, "--duration")) demo_args.duration = *d;
      if (demo->count("--port") != 0)
        demo_args.port = static_cast<std::uint16_t>(integer_option(demo_port, "--port", 1, 65535));
      if (demo->count("--address-offset") != 0)
        demo_args.address_offset =
            static_cast<std::uint32_t>(integer_option(demo_offset, "--address-offset", 0, 100000));
      return cmd_demo(demo_args);
    }
    if (*netsim) {
      netsim_args.duration = duration_option(netsim_duration, "--duration");
      return cmd_netsim(netsim_args);
    }
    if (*book_import) return cmd_addrbook_import(home, book_file, book_force);
    if (*book_export) return cmd_addrbook_export(home, book_file);
    if (*probe) {
      if (!network.empty()) probe_args.network = chain_id_option(network, "--network");
      probe_args.timeout = duration_option(timeout, "--timeout");
      probe_args.dial_timeout = duration_option(dial_timeout, "--dial-timeout");
      return cmd_probe(home, probe_args);
    }
  } catch (const std::exception& e) {
    print_err("seedscope: {}\n", e.what());
    return 1;
  }
  return 1;
}

} // namespace seedscope::app
