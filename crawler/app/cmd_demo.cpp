// `seedscope demo`, the main job: a simulated network (a netsim preset: about 1000 nodes in
// two chains, with every unreachable and misbehaving class) and the seedscope crawler, in one
// process on loopback. The crawler starts from the simulation's seed nodes, records into an
// observatory database, serves metrics, prints progress every two seconds, and the demo stops
// by itself (every chain's reachable nodes contacted, or the time is up) with a summary.
#include <sys/resource.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <map>

#include <fmt/format.h>

#include "crawler/app/commands.hpp"
#include "crawler/app/crawl_run.hpp"
#include "crawler/app/process_lock.hpp"
#include "crawler/app/report.hpp"
#include "crawler/netsim/netsim.hpp"
#include "crawler/runtime/shutdown.hpp"
#include "metrics/crawler_metrics.hpp"
#include "metrics/observatory_metrics.hpp"
#include "storage/observatory.hpp"
#include "storage/queries.hpp"

namespace seedscope::app {

namespace {

struct NetworkProgress {
  std::string chain_id;
  std::vector<std::string> reachable_ids; // ground truth
  std::size_t reached = 0;                // of those, handshaken with by the crawler
  std::optional<double> t50, t90, t99;
};

// A temporary directory removed at the end, unless the database is to be kept.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "seedscope-demo.XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("cannot create a temporary directory");
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

} // namespace

int cmd_demo(const DemoArgs& args) {
  crypto::init_sodium();
  const auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  netsim::Scenario scenario = netsim::preset(args.preset);
  if (args.port) scenario.port = *args.port;
  scenario.address_offset = args.address_offset;
  netsim::SimNetwork network(std::move(scenario));
  runtime::Loop loop;
  netsim::Netsim sim(loop, network);
  try {
    sim.start();
  } catch (const runtime::ListenError& e) {
    if (!e.address_in_use()) throw;
    throw std::runtime_error(fmt::format(
        "demo: {}: the simulated nodes' addresses are in use (another netsim or demo?); move "
        "this demo with --port N or --address-offset N",
        e.what()));
  }
  log_line(fmt::format("demo: netsim preset \"{}\": {} simulated nodes in {} networks on "
                       "127.x.y.z:{} (address offset {}, {} listening)",
                       args.preset, network.nodes().size(), network.scenario().networks.size(),
                       network.scenario().port, network.scenario().address_offset,
                       sim.stats().online));

  // Ground truth: the reachable nodes of each chain; the seeds: each chain's seed nodes.
  std::vector<NetworkProgress> progress(network.scenario().networks.size());
  const std::vector<PeerAddress> seeds = network.seed_addresses();
  for (std::size_t i = 0; i < progress.size(); ++i) {
    progress[i].chain_id = network.scenario().networks[i].chain_id;
    for (const auto& n : network.nodes()) {
      if (n.network != i) continue;
      if (netsim::verified_in_own_network(n.behaviour)) progress[i].reachable_ids.push_back(n.id);
    }
  }

  std::optional<TempDir> tmp;
  std::filesystem::path db_file = args.db;
  if (db_file.empty()) {
    tmp.emplace();
    db_file = tmp->path / "seedscope.db";
  }
  std::optional<ProcessLock> db_lock; // a kept database is ours alone while the demo runs
  if (!tmp) db_lock.emplace(ProcessLock::acquire(db_file.string() + ".lock",
                                                 "the database " + db_file.string()));
  auto state = storage::load_observatory(db_file);
  storage::WriterOptions wopts;
  wopts.log = [](const std::string& line) { log_line("demo: " + line); };
  storage::ObservatoryWriter writer(db_file, wopts);

  std::unique_ptr<metrics::CrawlerMetrics> metrics;
  std::unique_ptr<metrics::ObservatoryMetrics> observatory_metrics;
  if (!args.metrics_addr.empty() && args.metrics_addr != "off") {
    try {
      metrics = std::make_unique<metrics::CrawlerMetrics>(args.metrics_addr);
      observatory_metrics = std::make_unique<metrics::ObservatoryMetrics>(
          metrics->registry(), db_file,
          metrics::ObservatoryMetricsOptions{
              .interval = std::chrono::seconds(5),
              .log = [](const std::string& line) { log_line("demo: " + line); }});
      log_line("demo: metrics at " + metrics->endpoint());
    } catch (const std::exception& e) {
      log_line(fmt::format("demo: {} (continuing without metrics)", e.what()));
    }
  }

  Config cfg = default_config();
  cfg.moniker = "seedscope-demo";
  cfg.p2p.laddr = "tcp://127.0.0.1:0";
  cfg.p2p.dial_timeout = Millis(2000);
  cfg.crawler.handshake_timeout = Millis(5000);
  cfg.crawler.pex_timeout = Millis(5000);
  // Churn takes nodes off the air for 20 s at a time: retry sooner than on the internet.
  cfg.crawler.retry_base = Millis(5000);
  cfg.crawler.retry_cap = Millis(10000);
  auto options = crawler_options(cfg);
  options.key = std::make_shared<const crypto::NodeKey>(crypto::NodeKey::generate());
  options.loopback_only = true; // nothing but the simulation is ever dialed
  options.writer = &writer;
  options.log = [](const std::string& line) { log_line("crawler: " + line); };
  crawler::Crawler crawler(loop, options, metrics.get());
  crawler.restore(state);
  for (const auto& s : seeds) crawler.add_seed(s);
  crawler.start();
  log_line(fmt::format("demo: seedscope crawler {} on 127.0.0.1:{}, {} seeds, {} concurrent "
                       "dials, database {}; stops at {:.0f} % of reachable nodes contacted or "
                       "after {} s",
                       options.key->node_id(), crawler.port(), seeds.size(),
                       crawler.max_concurrent_dials(), db_file.string(), args.target * 100,
                       args.duration.count() / 1000));

  auto measure = [&](const crawler::CrawlerStats& stats) {
    bool all = true;
    const auto& nodes = crawler.nodes();
    for (auto& p : progress) {
      p.reached = 0;
      auto it = nodes.find(p.chain_id);
      if (it != nodes.end())
        for (const auto& id : p.reachable_ids)
          if (it->second.count(id) != 0) ++p.reached;
      const double share =
          p.reachable_ids.empty() ? 1.0 : double(p.reached) / double(p.reachable_ids.size());
      if (share >= 0.5 && !p.t50) p.t50 = elapsed();
      if (share >= 0.9 && !p.t90) p.t90 = elapsed();
      if (share >= 0.99 && !p.t99) p.t99 = elapsed();
      all = all && share >= args.target;
    }
    if (metrics) metrics->update(stats, writer.stats());
    return all;
  };

  runtime::Timer tick(loop), end(loop), give_up(loop);
  bool finished = false;
  auto finish = [&](const std::string& why) {
    if (finished) return;
    finished = true;
    log_line("demo: " + why);
    tick.stop();
    end.stop();
    crawler.stop();
    sim.stop();
    give_up.start(Millis(2000), [&loop] { loop.stop(); });
    give_up.unref();
  };
  std::function<void()> on_tick = [&] {
    const auto st = crawler.stats();
    const bool done = measure(st);
    std::string line = fmt::format("demo: {:5.1f} s |", elapsed());
    for (const auto& p : progress)
      line += fmt::format(" {} {}/{} reachable contacted |", p.chain_id, p.reached,
                          p.reachable_ids.size());
    line += fmt::format(" known {} | in flight {} | contacts {}", st.known, st.in_flight,
                        st.contacts);
    log_line(line);
    if (done)
      return finish(fmt::format("target reached ({:.0f} % of reachable nodes contacted)",
                                args.target * 100));
    tick.start(Millis(2000), on_tick);
  };
  tick.start(Millis(2000), on_tick);
  end.start(args.duration, [&] { finish("time is up"); });
  runtime::StopRequest stop_request(loop, [&](int) { finish("interrupted"); });
  loop.run();

  const auto st = crawler.stats();
  measure(st);
  writer.stop();
  const double total = elapsed();
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  const auto ws = writer.stats();
  print_out("\nseedscope demo summary ({:.1f} s, peak RSS {:.0f} MiB)\n", total,
             double(ru.ru_maxrss) / 1024.0);
  auto when = [](const std::optional<double>& t) {
    return t ? fmt::format("{:.1f} s", *t) : std::string("not reached");
  };
  for (const auto& p : progress)
    print_out("  {:<12} reachable nodes contacted {}/{} ({:.1f} %); 50 % at {}, 90 % at {}, "
               "99 % at {}\n",
               p.chain_id, p.reached, p.reachable_ids.size(),
               p.reachable_ids.empty() ? 100.0
                                       : 100.0 * double(p.reached) / double(p.reachable_ids.size()),
               when(p.t50), when(p.t90), when(p.t99));
  print_out("  networks seen:\n");
  try { // the numbers `seedscope stats`, the metrics and the API show
    auto db = storage::Database::open_read_only(db_file);
    for (const auto& n : storage::network_counts(db)) print_out("  {}\n", network_summary_line(n));
  } catch (const storage::StorageError& e) {
    print_out("    cannot read the network counts back: {}\n", e.what());
  }
  print_out("  contacts: {} outbound ({:.0f}/s), {} addresses known\n", st.contacts,
             double(st.contacts) / total, st.known);
  print_out("  contacts by outcome:\n");
  for (const auto& [what, n] : st.outcomes) print_out("    {:<20} {}\n", what, n);
  print_out("  database: {} records, {} rows in {} transactions ({:.1f} ms each on average)\n",
             ws.records_written, ws.rows_written, ws.batches,
             ws.batches ? ws.total_batch_ms / double(ws.batches) : 0.0);
  if (!tmp) print_out("  kept in {} (try `seedscope stats --db {}`)\n", db_file.string(), db_file.string());
  const auto& s = sim.stats();
  print_out("  netsim: {} connections accepted, {} handshakes, {} PEX answers\n", s.accepted,
             s.handshakes, s.pex_answers);
  return 0;
}

} // namespace seedscope::app
