// `seedscope crawl` (and `start` with [crawler] crawl = true): the crawler and seed service on
// [p2p] laddr, recording into the observatory database ([db_file]). Resumes from what the
// database holds; SIGINT/SIGTERM (or --duration) stop it, write what is pending and print a
// summary.
#include <unistd.h>

#include <csignal>
#include <filesystem>

#include <fmt/format.h>

#include "crawler/app/commands.hpp"
#include "crawler/app/crawl_run.hpp"
#include "crawler/app/home.hpp"
#include "crawler/app/node.hpp"
#include "crawler/app/node_key_file.hpp"
#include "crawler/app/process_lock.hpp"
#include "crawler/app/report.hpp"
#include "crawler/runtime/shutdown.hpp"
#include "crawler/runtime/timer.hpp"
#include "metrics/crawler_metrics.hpp"
#include "metrics/observatory_metrics.hpp"
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
    log_line(fmt::format("created node key {} (node id {})", file.string(), key.node_id()));
    return std::make_shared<const crypto::NodeKey>(std::move(key));
  }
  return std::make_shared<const crypto::NodeKey>(load_node_key(file));
}

} // namespace

int run_crawler(const std::filesystem::path& dir, const CrawlArgs& args) {
  crypto::init_sodium();
  Home home = open_home(dir, /*require_config=*/false);
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

  // One process per home and per database, before anything in them is created or read.
  const auto db_file = home.db_file();
  const HomeLocks locks = lock_home_and_db(home.dir, db_file);

  auto options = crawler_options(config);
  options.key = key_for(home);
  options.loopback_only = args.loopback_only;
  options.log = [](const std::string& line) { log_line(line); };

  // A foreign, newer or damaged file stops start-up untouched.
  auto state = storage::load_observatory(db_file);
  std::unique_ptr<metrics::CrawlerMetrics> metrics;
  std::unique_ptr<metrics::ObservatoryMetrics> observatory_metrics;
  const std::string& maddr = args.metrics_addr ? *args.metrics_addr : config.prometheus_listen_addr;
  if (!maddr.empty() && maddr != "off") {
    metrics = std::make_unique<metrics::CrawlerMetrics>(maddr, config.metrics_namespace);
    log_line("metrics at " + metrics->endpoint());
  }

  storage::WriterOptions wopts;
  if (metrics) wopts.on_batch = [m = metrics.get()](double secs, std::uint64_t) { m->observe_batch(secs); };
  wopts.contact_retention =
      std::chrono::duration_cast<std::chrono::seconds>(config.crawler.contact_retention);
  wopts.log = [](const std::string& line) { log_line(line); };
  storage::ObservatoryWriter writer(db_file, wopts);
  options.writer = &writer;
  if (metrics)
    observatory_metrics = std::make_unique<metrics::ObservatoryMetrics>(
        metrics->registry(), db_file,
        metrics::ObservatoryMetricsOptions{.ns = config.metrics_namespace,
                                           .log = [](const std::string& line) { log_line(line); }});

  runtime::Loop loop;
  crawler::Crawler crawler(loop, options, metrics.get());
  crawler.restore(state);
  for (const auto& s : seeds) crawler.add_seed(s);
  crawler.start();
  log_line(fmt::format(
      "seedscope {} crawler id={} on {} (port {}), network={}, {} addresses from {}, {} seeds, "
      "{} concurrent dials",
      SEEDSCOPE_VERSION_STRING, options.key->node_id(), config.p2p.laddr, crawler.port(),
      config.network.empty() ? "<every network>" : config.network, state.addresses.size(),
      db_file.string(), seeds.size(), crawler.max_concurrent_dials()));
  if (state.addresses.empty() && seeds.empty())
    log_line("nothing to crawl yet: give seeds ([p2p] seeds or --seed), or wait for inbound peers");

  StatusPrinter status(config.crawler.status_interval, isatty(STDOUT_FILENO) == 1);
  runtime::Timer tick(loop);
  std::function<void()> on_tick = [&] {
    const auto st = crawler.stats();
    status.update(st, loop.now());
    if (metrics) metrics->update(st, writer.stats());
    tick.start(Millis(1000), on_tick);
  };
  tick.start(Millis(1000), on_tick);

  runtime::Timer deadline(loop);
  runtime::Timer give_up(loop);
  bool stopping = false;
  auto stop = [&](const std::string& why) {
    if (stopping) return;
    stopping = true;
    status.finish();
    log_line(why + ", shutting down");
    tick.stop();
    deadline.stop();
    crawler.stop();
    give_up.start(Millis(1500), [&] { loop.stop(); });
    give_up.unref();
  };
  runtime::StopRequest stop_request(
      loop, [&](int signum) { stop(signum == SIGINT ? "received SIGINT" : "received SIGTERM"); });
  if (args.duration) deadline.start(*args.duration, [&] { stop("--duration reached"); });
  loop.run();

  writer.stop();
  const auto st = crawler.stats();
  const auto ws = writer.stats();
  log_line(fmt::format("stopped: {} contacts, {} inbound, {} addresses known; database: {} "
                       "records in {} batches, {} dropped",
                       st.contacts, st.inbound, st.known, ws.records_written, ws.batches,
                       ws.dropped));
  // The same numbers `seedscope stats`, the metrics and the API show: from the database.
  try {
    auto db = storage::Database::open_read_only(db_file);
    for (const auto& n : storage::network_counts(db))
      log_line(network_summary_line(n));
  } catch (const storage::StorageError& e) {
    log_line(fmt::format("  cannot read the network counts back: {}", e.what()));
  }
  std::string outcomes;
  for (const auto& [o, n] : st.outcomes) outcomes += fmt::format(" {}={}", o, n);
  log_line("  outcomes:" + outcomes);
  return 0;
}

int cmd_crawl(const std::filesystem::path& home, const CrawlArgs& args) {
  return run_crawler(home, args);
}

} // namespace seedscope::app
