// `seedscope demo`, the main job: a simulated network (a netsim preset: about 1000 nodes in
// two chains, with every unreachable and misbehaving class) and the seedscope crawler, in one
// process on loopback. The crawler starts from the simulation's seed nodes, records into an
// observatory database, serves metrics, prints progress every two seconds, and the demo stops
// by itself (every chain's reachable nodes contacted, or the time is up) with a summary.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <map>
#include <unordered_set>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "crawler/app/app_log.hpp"
#include "crawler/app/cli_options.hpp"
#include "crawler/app/commands.hpp"
#include "crawler/app/crawl_run.hpp"
#include "crawler/app/process_lock.hpp"
#include "crawler/app/report.hpp"
#include "crawler/app/run_harness.hpp"
#include "crawler/netsim/netsim.hpp"
#include "crawler/runtime/shutdown.hpp"
#include "storage/observatory.hpp"
#include "storage/queries.hpp"

namespace seedscope::app {

namespace {

struct NetworkProgress {
  std::string chain_id;
  std::unordered_set<std::string> reachable_ids; // ground truth
  std::unordered_set<std::string> reached;       // of those, verified by this run's contacts
  std::optional<double> t50, t90, t99;           // seconds into the demo
  double share() const {
    return reachable_ids.empty() ? 1.0 : double(reached.size()) / double(reachable_ids.size());
  }
};

// Coverage from this run's own contacts (not from what a kept database already held), timed
// at the contact that crossed each threshold.
class Progress final : public observe::Observer {
public:
  Progress(std::vector<NetworkProgress>& networks, std::function<double()> elapsed)
      : networks_(networks),
        elapsed_(std::move(elapsed)) {}
  void observe(const observe::Observation& o) override {
    const auto* c = std::get_if<observe::ContactRecord>(&o);
    if (c == nullptr || c->inbound || crawl::verdict(c->outcome) != crawl::Verdict::kVerified)
      return;
    for (auto& p : networks_) {
      if (p.chain_id != c->network || p.reachable_ids.count(c->addr.id) == 0) continue;
      if (!p.reached.insert(c->addr.id).second) continue;
      const double share = p.share(), t = elapsed_();
      if (share >= 0.5 && !p.t50) p.t50 = t;
      if (share >= 0.9 && !p.t90) p.t90 = t;
      if (share >= 0.99 && !p.t99) p.t99 = t;
    }
  }

private:
  std::vector<NetworkProgress>& networks_;
  std::function<double()> elapsed_;
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
  const Logger log = logger("main");
  logger("netsim").info("netsim started",
                        {{"preset", args.preset},
                         {"nodes", network.nodes().size()},
                         {"networks", network.scenario().networks.size()},
                         {"addr", fmt::format("127.x.y.z:{}", network.scenario().port)},
                         {"address_offset", network.scenario().address_offset},
                         {"listening", sim.stats().online}});

  // Ground truth: the reachable nodes of each chain; the seeds: each chain's seed nodes.
  std::vector<NetworkProgress> progress(network.scenario().networks.size());
  const std::vector<PeerAddress> seeds = network.seed_addresses();
  for (std::size_t i = 0; i < progress.size(); ++i) {
    progress[i].chain_id = network.scenario().networks[i].chain_id;
    for (const auto& n : network.nodes()) {
      if (n.network != i) continue;
      if (netsim::verified_in_own_network(n.behaviour)) progress[i].reachable_ids.insert(n.id);
    }
  }

  std::optional<TempDir> tmp;
  std::filesystem::path db_file = args.db;
  if (db_file.empty()) {
    tmp.emplace();
    db_file = tmp->path / "seedscope.db";
  }
  std::optional<ProcessLock> db_lock; // a kept database is ours alone while the demo runs
  if (!tmp) db_lock.emplace(lock_db(db_file));
  auto state = storage::load_observatory(db_file);
  if (!state.addresses.empty())
    log.info("the database holds addresses from an earlier run; those verified lately are not "
             "due again before recrawl_interval, and coverage counts only this run's contacts",
             {{"db", db_file.string()}, {"addresses", state.addresses.size()}});
  HarnessOptions h;
  h.metrics_addr = args.metrics_addr;
  h.metrics_optional = true; // a demo beside another one still runs
  h.observatory = db_file;
  h.observatory_interval = Millis(5000);
  h.duration = args.duration;
  h.give_up = Millis(2000);
  h.tick = Millis(2000);
  RunHarness harness(loop, h);

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
  Progress progress_observer(progress, elapsed);
  harness.add_observer(&progress_observer);
  options.observer = harness.observer();
  options.log = logger("crawler");
  engine::Crawler crawler(loop, options);
  crawler.restore(state);
  for (const auto& s : seeds) crawler.add_seed(s);
  crawler.start();
  log.info("demo crawler started", {{"node_id", options.key->node_id()},
                                    {"addr", fmt::format("127.0.0.1:{}", crawler.port())},
                                    {"seeds", seeds.size()},
                                    {"max_concurrent_dials", crawler.max_concurrent_dials()},
                                    {"db", db_file.string()},
                                    {"target_percent", fmt::format("{:.0f}", args.target * 100)},
                                    {"max_duration_s", args.duration.count() / 1000}});

  auto reached_target = [&] {
    return std::all_of(progress.begin(), progress.end(),
                       [&](const NetworkProgress& p) { return p.share() >= args.target; });
  };

  harness.run(
      [&] {
        const auto st = crawler.stats();
        harness.update_metrics(st);
        const bool done = reached_target();
        std::vector<LogField> fields{{"elapsed_s", fmt::format("{:.1f}", elapsed())}};
        for (const auto& p : progress) // the chain's reachable nodes contacted / all of them
          fields.emplace_back(p.chain_id,
                              fmt::format("{}/{}", p.reached.size(), p.reachable_ids.size()));
        fields.emplace_back("known", st.known);
        fields.emplace_back("in_flight", st.in_flight);
        fields.emplace_back("contacts", st.contacts);
        log.log(LogLevel::info, "demo progress", fields);
        if (done)
          harness.request_stop(fmt::format("target reached ({:.0f} % of reachable nodes contacted)",
                                           args.target * 100));
      },
      [&](const std::string&) {
        crawler.stop();
        sim.stop();
      });

  const auto st = crawler.stats();
  harness.finish();
  storage::ObservatoryWriter& writer = *harness.writer();
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
              p.chain_id, p.reached.size(), p.reachable_ids.size(),
              p.reachable_ids.empty() ? 100.0 : 100.0 * p.share(), when(p.t50), when(p.t90),
              when(p.t99));
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
  if (!tmp)
    print_out("  kept in {} (try `seedscope stats --db {}`)\n", db_file.string(), db_file.string());
  const auto& s = sim.stats();
  print_out("  netsim: {} connections accepted, {} handshakes, {} PEX answers\n", s.accepted,
            s.handshakes, s.pex_answers);
  return 0;
}

Command add_demo_command(CLI::App& app) {
  CLI::App* sub = app.add_subcommand(
      "demo", "crawl a simulated network (netsim preset) with a seedscope seed node, on loopback");
  struct Raw {
    DemoArgs args;
    std::string duration, port, offset;
  };
  auto raw = std::make_shared<Raw>();
  sub->add_option("--preset", raw->args.preset, "netsim preset: small, demo, large")
      ->capture_default_str()
      ->check(CLI::IsMember(netsim::preset_names()));
  sub->add_option("--duration", raw->duration, "stop after this long at most (default 90s)");
  sub->add_option("--metrics-addr", raw->args.metrics_addr,
                  "serve Prometheus metrics here (\"off\": none)")
      ->capture_default_str();
  sub->add_option("--db", raw->args.db, "keep the observatory database in this file");
  sub->add_option("--port", raw->port,
                  "port of the simulated nodes (default: the preset's, 26656)");
  sub->add_option("--address-offset", raw->offset,
                  "shift the simulated nodes' 127.x.y.z addresses by this many places (run "
                  "beside another netsim or demo)");
  return {sub, [raw, sub](const std::filesystem::path&) {
            DemoArgs args = raw->args;
            if (auto d = duration_option(raw->duration, "--duration")) args.duration = *d;
            if (sub->count("--port") != 0)
              args.port = static_cast<std::uint16_t>(integer_option(raw->port, "--port", 1, 65535));
            if (sub->count("--address-offset") != 0)
              args.address_offset = static_cast<std::uint32_t>(
                  integer_option(raw->offset, "--address-offset", 0, 100000));
            return cmd_demo(args);
          }};
}

} // namespace seedscope::app
