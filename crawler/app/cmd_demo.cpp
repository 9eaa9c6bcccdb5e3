// `seedscope demo`, the main job: a simulated network (a netsim preset: about 1000 nodes in
// two chains, with every unreachable and misbehaving class) and a seedscope seed node that
// crawls it, in one process on loopback. Prints progress every two seconds, serves metrics,
// and stops by itself (target coverage reached, or the time is up) with a summary.
#include <sys/resource.h>

#include <chrono>
#include <csignal>
#include <map>

#include <fmt/format.h>

#include "crawler/app/commands.hpp"
#include "crawler/app/node.hpp"
#include "crawler/app/report.hpp"
#include "crawler/netsim/netsim.hpp"
#include "metrics/node_metrics.hpp"

namespace seedscope::app {

namespace {

struct NetworkProgress {
  std::string chain_id;
  std::size_t reachable = 0; // ground truth
  std::size_t known = 0;     // reachable nodes in our book
  std::optional<double> t50, t90, t99;
};

class PeerCounter final : public runtime::SwitchObserver {
public:
  void on_peer_added(const PeerInfo&) override {
    ++added;
    if (metrics) metrics->peer_added();
  }
  void on_peer_removed(const PeerInfo&, const Failure&, const std::string&) override {
    if (metrics) metrics->peer_removed();
  }
  void on_connect_failed(const runtime::UpgradeFailure& f) override {
    ++failures[fmt::format("{}/{}", to_string(f.failure.stage), to_string(f.failure.reason))];
  }
  metrics::NodeMetrics* metrics = nullptr;
  std::size_t added = 0;
  std::map<std::string, std::size_t> failures;
};

} // namespace

int cmd_demo(const DemoArgs& args) {
  crypto::init_sodium();
  const auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  netsim::SimNetwork network(netsim::preset(args.preset));
  runtime::Loop loop;
  netsim::Netsim sim(loop, network);
  sim.start();
  log_line(fmt::format("demo: netsim preset \"{}\": {} simulated nodes in {} networks on "
                       "127.x.y.z:{} ({} listening)",
                       args.preset, network.nodes().size(), network.scenario().networks.size(),
                       network.scenario().port, sim.stats().online));

  // Our seed node: answers in any network, crawls Go's way, starts from two nodes per chain.
  Config cfg = default_config();
  cfg.moniker = "seedscope-demo";
  cfg.p2p.laddr = "tcp://127.0.0.1:0";
  cfg.p2p.seed_mode = true;
  cfg.p2p.allow_duplicate_ip = true;
  cfg.p2p.max_num_outbound_peers = 400;
  cfg.p2p.max_num_inbound_peers = 400;
  cfg.p2p.handshake_timeout = Millis(5000);
  cfg.p2p.dial_timeout = Millis(2000);
  std::vector<std::string> seeds;
  std::vector<NetworkProgress> progress(network.scenario().networks.size());
  std::map<std::string, std::size_t> reachable_network; // id -> network index
  for (std::size_t i = 0; i < progress.size(); ++i) {
    progress[i].chain_id = network.scenario().networks[i].chain_id;
    std::size_t picked = 0;
    for (const auto& n : network.nodes()) {
      if (n.network != i) continue;
      if (netsim::completes_handshake(n.behaviour) && n.behaviour != netsim::Behaviour::kIncompatibleNetwork) {
        ++progress[i].reachable;
        reachable_network[n.id] = i;
      }
      if (n.behaviour == netsim::Behaviour::kNormal && picked < 2 && sim.online(n.index)) {
        seeds.push_back(n.address().to_string());
        ++picked;
      }
    }
  }
  cfg.p2p.seeds = fmt::format("{}", fmt::join(seeds, ","));

  PeerCounter counter;
  std::unique_ptr<metrics::NodeMetrics> metrics;
  if (!args.metrics_addr.empty() && args.metrics_addr != "off") {
    try {
      metrics = std::make_unique<metrics::NodeMetrics>(args.metrics_addr);
      counter.metrics = metrics.get();
      log_line("demo: metrics at " + metrics->endpoint());
    } catch (const std::exception& e) {
      log_line(fmt::format("demo: {} (continuing without metrics)", e.what()));
    }
  }
  NodeOptions options;
  options.config = cfg;
  options.key = std::make_shared<const crypto::NodeKey>(crypto::NodeKey::generate());
  options.loopback_only = true; // nothing but the simulation is ever dialed
  options.pex.crawl_period = Millis(1000);
  options.pex.min_time_between_crawls = Millis(10000);
  options.log = [](const std::string& line) { log_line("node: " + line); };
  Node node(loop, options, &counter);
  node.start();
  // A Go seed dials its seeds until one answers; the demo has a chain each, so it asks all.
  for (const auto& s : seeds)
    if (auto addr = parse_peer_address(s); addr.ok())
      if (auto net = addr->net_address()) node.pex()->dial_peer(*net, /*request_on_connect=*/true);
  log_line(fmt::format("demo: seedscope seed node {} on 127.0.0.1:{}, seeds: {} nodes; "
                       "stops at {:.0f} % of reachable nodes or after {} s",
                       node.id(), node.port(), seeds.size(), args.target * 100,
                       args.duration.count() / 1000));

  auto measure = [&] {
    for (auto& p : progress) p.known = 0;
    for (const auto& [id, net] : reachable_network)
      if (node.book().has(id)) ++progress[net].known;
    bool all = true;
    for (auto& p : progress) {
      const double share = p.reachable ? double(p.known) / double(p.reachable) : 1.0;
      if (share >= 0.5 && !p.t50) p.t50 = elapsed();
      if (share >= 0.9 && !p.t90) p.t90 = elapsed();
      if (share >= 0.99 && !p.t99) p.t99 = elapsed();
      all = all && share >= args.target;
    }
    if (metrics) {
      metrics::NodeSample s;
      s.book_new = node.book().size_new();
      s.book_old = node.book().size_old();
      s.peers_outbound = node.net().num_outbound();
      s.peers_inbound = node.net().num_peers() - node.net().num_outbound();
      s.dialing = node.net().num_dialing();
      metrics->update(s);
    }
    return all;
  };

  runtime::Timer tick(loop), end(loop);
  runtime::SignalWatcher sigint(loop), sigterm(loop);
  bool finished = false;
  auto finish = [&](const std::string& why) {
    if (finished) return;
    finished = true;
    log_line("demo: " + why);
    tick.stop();
    end.stop();
    sigint.close();
    sigterm.close();
    node.stop();
    sim.stop();
    runtime::Timer* give_up = new runtime::Timer(loop);
    give_up->start(Millis(3000), [&loop, give_up] {
      loop.stop();
      loop.defer([give_up] { delete give_up; });
    });
    give_up->unref();
  };
  std::function<void()> on_tick = [&] {
    const bool done = measure();
    std::string line = fmt::format("demo: {:5.1f} s |", elapsed());
    for (const auto& p : progress)
      line += fmt::format(" {} {}/{} reachable known |", p.chain_id, p.known, p.reachable);
    line += fmt::format(" book {} | peers {} | dialing {} | handshakes {}", node.book().size(),
                        node.net().num_peers(), node.net().num_dialing(), counter.added);
    log_line(line);
    if (done) return finish(fmt::format("target reached ({:.0f} % of reachable nodes known)",
                                        args.target * 100));
    tick.start(Millis(2000), on_tick);
  };
  tick.start(Millis(2000), on_tick);
  end.start(args.duration, [&] { finish("time is up"); });
  auto on_signal = [&](int) { finish("interrupted"); };
  if (sigint.start(SIGINT, on_signal) != 0 || sigterm.start(SIGTERM, on_signal) != 0)
    throw std::runtime_error("cannot install signal handlers");
  loop.run();

  measure();
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  fmt::print("\nseedscope demo summary ({:.1f} s, peak RSS {:.0f} MiB)\n", elapsed(),
             double(ru.ru_maxrss) / 1024.0);
  auto when = [](const std::optional<double>& t) {
    return t ? fmt::format("{:.1f} s", *t) : std::string("not reached");
  };
  for (const auto& p : progress)
    fmt::print("  {:<12} reachable nodes known {}/{} ({:.1f} %); 50 % at {}, 90 % at {}, "
               "99 % at {}\n",
               p.chain_id, p.known, p.reachable,
               p.reachable ? 100.0 * double(p.known) / double(p.reachable) : 100.0, when(p.t50),
               when(p.t90), when(p.t99));
  fmt::print("  address book: {} addresses ({} new, {} old); peers handshaken: {}\n",
             node.book().size(), node.book().size_new(), node.book().size_old(), counter.added);
  fmt::print("  failed connections by stage/reason:\n");
  for (const auto& [what, n] : counter.failures) fmt::print("    {:<40} {}\n", what, n);
  const auto& s = sim.stats();
  fmt::print("  netsim: {} connections accepted, {} handshakes, {} PEX answers\n", s.accepted,
             s.handshakes, s.pex_answers);
  return 0;
}

} // namespace seedscope::app
