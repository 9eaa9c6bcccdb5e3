// `seedscope crawl` (and `start` with [crawler] crawl = true): the crawler and seed service on
// [p2p] laddr, recording into the observatory database ([db_file]). Resumes from what the
// database holds; SIGINT/SIGTERM (or --duration) stop it, write what is pending and print a
// summary.
#include <unistd.h>

#include <csignal>
#include <filesystem>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "crawler/app/app_log.hpp"
#include "crawler/app/chain_registry.hpp"
#include "crawler/app/cli_options.hpp"
#include "crawler/app/commands.hpp"
#include "crawler/app/crawl_run.hpp"
#include "crawler/app/exclude_file.hpp"
#include "crawler/app/geo_annotator.hpp"
#include "crawler/app/home.hpp"
#include "crawler/app/node.hpp"
#include "crawler/app/node_key_file.hpp"
#include "crawler/app/process_lock.hpp"
#include "crawler/app/report.hpp"
#include "crawler/app/run_harness.hpp"
#include "crawler/app/version.hpp"
#include "crawler/runtime/shutdown.hpp"
#include "crawler/runtime/timer.hpp"
#include "storage/observatory.hpp"
#include "storage/queries.hpp"

namespace seedscope::app {

namespace {

std::shared_ptr<const crypto::NodeKey> key_for(const Home& home) {
  const auto file = home.node_key_file();
  if (!std::filesystem::exists(file)) {
    auto key = crypto::NodeKey::generate();
    std::filesystem::create_directories(file.parent_path());
    save_node_key(file, key);
    logger("main").info("created node key", {{"file", file.string()}, {"node_id", key.node_id()}});
    return std::make_shared<const crypto::NodeKey>(std::move(key));
  }
  return std::make_shared<const crypto::NodeKey>(load_node_key(file));
}

} // namespace

int run_crawler(const std::filesystem::path& dir, const CrawlArgs& args) {
  crypto::init_sodium();
  Home home = open_home(dir, /*require_config=*/false, args.settings);
  Config& config = home.config;
  if (args.network) config.network = *args.network;
  if (args.laddr) config.p2p.laddr = *args.laddr;
  if (args.max_concurrent_dials) config.crawler.max_concurrent_dials = *args.max_concurrent_dials;
  if (args.db) config.db_file = *args.db;
  std::vector<PeerAddress> seeds = parse_peer_list(config.p2p.seeds, "seeds");
  for (const auto& s : args.seeds) {
    auto more = parse_peer_list(s, "--seed");
    seeds.insert(seeds.end(), more.begin(), more.end());
  }
  if (!args.chain_registry.empty()) {
    const std::size_t before = seeds.size();
    const RegistryScan scan = scan_chain_registry(args.chain_registry, args.testnets);
    const Logger log = logger("crawler");
    for (const std::string& problem : scan.problems)
      log.error("chain registry: a file or entry left out", {{"problem", problem}});
    std::size_t chain_seeds = 0;
    for (const RegistryChain& chain : scan.chains)
      for (const RegistryPeer& peer : chain.peers) {
        seeds.push_back(peer.address);
        chain_seeds += peer.seed ? 1 : 0;
      }
    log.info("chain registry: starting points",
             {{"dir", args.chain_registry},
              {"chains", scan.chains.size()},
              {"seeds", chain_seeds},
              {"persistent_peers", seeds.size() - before - chain_seeds},
              {"not_live", scan.not_live},
              {"other_network_type", scan.other_networks},
              {"problems", scan.problems.size()}});
  }

  // One process per home and per database, before anything in them is created or read.
  const auto db_file = home.db_file();
  const HomeLocks locks = lock_home_and_db(home.dir, db_file);

  auto options = crawler_options(config);
  options.key = key_for(home);
  options.loopback_only = args.loopback_only || config.p2p.loopback_only;
  options.log = logger("crawler");

  // A foreign, newer or damaged file stops start-up untouched.
  auto state = storage::load_observatory(db_file);
  runtime::Loop loop;
  HarnessOptions h;
  h.metrics_addr = args.metrics_addr   ? *args.metrics_addr
                   : config.prometheus ? config.prometheus_listen_addr
                                       : "off";
  h.metrics_namespace = config.metrics_namespace;
  h.observatory = db_file;
  h.writer.contact_retention =
      std::chrono::duration_cast<std::chrono::seconds>(config.crawler.contact_retention);
  h.duration = args.duration;
  h.geo = geo_sources(home.dir, config.geo, args.geo_dbs);
  h.geo_check_interval = config.geo.check_interval;
  h.exclude_file = exclude_file_path(home.dir, config.crawler.exclude_file);
  RunHarness harness(loop, h);
  options.observer = harness.observer();
  options.exclude = harness.exclude();

  engine::Crawler crawler(loop, options);
  crawler.restore(state);
  if (GeoAnnotator* geo = harness.geo()) {
    for (const auto& a : state.addresses) geo->add(a.addr.ip);
    harness.on_geo(
        [&crawler](const IpAddress& ip, const geo::GeoInfo& info) { crawler.set_geo(ip, info); });
  }
  for (const auto& s : seeds) crawler.add_seed(s);
  try {
    crawler.start();
  } catch (const runtime::ListenError& e) {
    if (!e.address_in_use()) throw;
    throw std::runtime_error(fmt::format("{} (another node or a netsim on it? set [p2p] laddr "
                                         "or --laddr, e.g. --laddr 127.0.0.1:26666)",
                                         e.what()));
  }
  const std::size_t ignored = crawler.stats().seeds_ignored;
  const Logger log = logger("main");
  log.info("crawler started",
           {{"version", node_version()},
            {"node_id", options.key->node_id()},
            {"laddr", config.p2p.laddr},
            {"port", crawler.port()},
            {"network", config.network.empty() ? "<every network>" : config.network},
            {"addresses", state.addresses.size()},
            {"db", db_file.string()},
            {"seeds", seeds.size() - ignored},
            {"seeds_ignored", ignored},
            {"max_concurrent_dials", crawler.max_concurrent_dials()}});
  if (state.addresses.empty() && seeds.size() == ignored)
    log.info("nothing to crawl yet: give seeds ([p2p] seeds or --seed), or wait for inbound peers");

  StatusPrinter status(config.crawler.status_interval, isatty(STDOUT_FILENO) == 1,
                       logger("crawler"));
  harness.run(
      [&] {
        const auto st = crawler.stats();
        harness.update_metrics(st);
        const auto saved = harness.writer()->stats();
        status.update(st, loop.now(), &saved);
      },
      [&](const std::string&) {
        status.finish();
        crawler.stop();
      });
  harness.finish();
  storage::ObservatoryWriter& writer = *harness.writer();
  const auto st = crawler.stats();
  const auto ws = writer.stats();
  log.info("stopped", {{"contacts", st.contacts},
                       {"inbound", st.inbound},
                       {"addresses", st.known},
                       {"records_written", ws.records_written},
                       {"batches", ws.batches},
                       {"dropped", ws.dropped}});
  // The summary, on stdout: the same numbers `seedscope stats`, the metrics and the API show,
  // from the database.
  std::string summary =
      fmt::format("crawl summary: {} contacts, {} inbound, {} addresses known; database: {} "
                  "records in {} batches, {} dropped\n",
                  st.contacts, st.inbound, st.known, ws.records_written, ws.batches, ws.dropped);
  try {
    auto db = storage::Database::open_read_only(db_file);
    for (const auto& n : storage::network_counts(db)) summary += network_summary_line(n) + "\n";
  } catch (const storage::StorageError& e) {
    summary += fmt::format("  cannot read the network counts back: {}\n", e.what());
  }
  std::string outcomes;
  for (const auto& [o, n] : st.outcomes) outcomes += fmt::format(" {}={}", o, n);
  if (!outcomes.empty()) summary += "  outcomes:" + outcomes + "\n";
  write_stdout(std::move(summary));
  return 0;
}

int cmd_crawl(const std::filesystem::path& home, const CrawlArgs& args) {
  return run_crawler(home, args);
}

Command add_crawl_command(CLI::App& app) {
  CLI::App* sub = app.add_subcommand(
      "crawl", "crawl every network reachable from the seeds into the observatory database, "
               "and serve as a seed");
  struct Raw {
    CrawlArgs args;
    std::string network, db, laddr, duration, metrics, dials;
  };
  auto raw = std::make_shared<Raw>();
  sub->add_option("--seed", raw->args.seeds, "ID@host:port (repeatable, or comma-separated)");
  sub->add_option("--network", raw->network, "only this chain ID (default: every network)");
  add_db_option(sub, raw->db);
  sub->add_option("--laddr", raw->laddr, "listen address of the seed service");
  sub->add_option("--max-concurrent-dials", raw->dials, "contacts in flight at once");
  sub->add_option("--duration", raw->duration, "stop after this long, e.g. 10m");
  sub->add_option("--metrics-addr", raw->metrics,
                  "Prometheus endpoint (default: prometheus_listen_addr; \"off\": none)");
  sub->add_flag("--loopback-only", raw->args.loopback_only,
                "simulations: dial and learn loopback addresses only");
  sub->add_option("--chain-registry", raw->args.chain_registry,
                  "a local checkout of cosmos/chain-registry: every live mainnet chain's seeds "
                  "and persistent peers are starting points");
  sub->add_flag("--testnets", raw->args.testnets, "with --chain-registry: its testnets/ too");
  sub->add_option("--geo-db", raw->args.geo_dbs,
                  "a MaxMind DB file (Country, City or ASN; repeatable), besides [geo]'s");
  auto flags = std::make_shared<SettingFlags>(sub);
  return {sub, [raw, sub, flags](const std::filesystem::path& home) {
            CrawlArgs args = raw->args;
            args.settings = flags->given();
            if (args.testnets && args.chain_registry.empty())
              throw UsageError("--testnets: only with --chain-registry DIR");
            if (!args.chain_registry.empty())
              args.chain_registry = path_option(args.chain_registry);
            if (!raw->network.empty()) args.network = chain_id_option(raw->network, "--network");
            args.db = db_option(raw->db);
            if (!raw->laddr.empty()) args.laddr = raw->laddr;
            if (!raw->metrics.empty()) args.metrics_addr = raw->metrics;
            if (sub->count("--max-concurrent-dials") != 0)
              args.max_concurrent_dials =
                  integer_option(raw->dials, "--max-concurrent-dials", 1, 100000);
            args.duration = duration_option(raw->duration, "--duration");
            return cmd_crawl(home, args);
          }};
}

} // namespace seedscope::app
