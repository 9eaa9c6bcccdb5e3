// `seedscope start`: runs a node from the home directory's config: the switch on [p2p] laddr,
// the PEX reactor (seed mode or normal mode), persistent peers and the address book. Each
// peer and each failed connection is logged on one line (rate limited per cause and per IP);
// SIGINT/SIGTERM stop it gracefully.
// The address book is loaded from [db_file] at start, saved within 10 s of a change and on stop.
#include <algorithm>
#include <csignal>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "core/base/log_limiter.hpp"
#include "crawler/app/app_log.hpp"
#include "crawler/app/cli_options.hpp"
#include "crawler/app/commands.hpp"
#include "crawler/app/exclude_file.hpp"
#include "crawler/app/home.hpp"
#include "crawler/app/node.hpp"
#include "crawler/app/node_key_file.hpp"
#include "crawler/app/process_lock.hpp"
#include "crawler/app/report.hpp"
#include "crawler/app/run_harness.hpp"
#include "crawler/app/version.hpp"
#include "crawler/runtime/shutdown.hpp"
#include "crawler/runtime/timer.hpp"
#include "metrics/node_metrics.hpp"
#include "storage/addr_book_store.hpp"

namespace seedscope::app {

namespace {

// Each peer and each failed connection on one line, rate limited (LogLimiter: strangers
// decide how often these happen); what was suppressed is reported every 10 s at most.
class PeerLog final : public runtime::SwitchObserver {
public:
  PeerLog(runtime::Loop& loop, Logger log) : loop_(loop), log_(std::move(log)) {}
  metrics::NodeMetrics* metrics = nullptr; // not owned; null without metrics
  // Each tick: the count of suppressed lines, when there is one and 10 s have passed (or at
  // once, `now`, when the node stops).
  void report_suppressed(bool now_or_never = false) {
    const TimePoint now = loop_.now();
    if (!now_or_never && now - last_report_ < Millis(10000)) return;
    auto counts = limiter_.take_suppressed();
    if (counts.empty()) return;
    last_report_ = now;
    std::vector<LogField> fields;
    std::uint64_t total = 0;
    for (const auto& [cause, n] : counts) total += n;
    fields.emplace_back("suppressed", total);
    // One field per cause: "peer added" -> peer_added=3.
    std::vector<std::string> keys;
    keys.reserve(counts.size());
    for (const auto& [cause, n] : counts) {
      std::string key = cause;
      std::replace(key.begin(), key.end(), ' ', '_');
      keys.push_back(std::move(key));
    }
    std::size_t i = 0;
    for (const auto& [cause, n] : counts) fields.emplace_back(keys[i++], n);
    log_.log(LogLevel::info, "log lines suppressed (rate limit) since the last report", fields);
  }
  std::uint64_t suppressed_total() const { return limiter_.suppressed_total(); }
  void on_peer_added(const PeerInfo& p) override {
    if (metrics) metrics->peer_added();
    if (!log_.enabled(LogLevel::info)) return;
    if (!limiter_.allow("peer added", p.socket.ip.to_string(), loop_.now())) return;
    log_.info("peer added", {{"peer", p.id},
                             {"addr", p.socket.dial_string()},
                             {"dir", p.outbound ? "out" : "in"},
                             {"network", p.node_info.network},
                             {"version", p.node_info.version},
                             {"moniker", p.node_info.moniker}});
  }
  void on_peer_removed(const PeerInfo& p, const Failure& why, const std::string& detail) override {
    if (metrics) metrics->peer_removed();
    if (!log_.enabled(LogLevel::info)) return;
    if (!limiter_.allow("peer removed", p.socket.ip.to_string(), loop_.now())) return;
    log_.info("peer removed", {{"peer", p.id},
                               {"addr", p.socket.dial_string()},
                               {"stage", to_string(why.stage)},
                               {"reason", to_string(why.reason)},
                               {"detail", detail}});
  }
  void on_connect_failed(const runtime::UpgradeFailure& f) override {
    if (!log_.enabled(LogLevel::info)) return;
    const std::string ip = f.remote ? f.remote->ip.to_string() : f.remote_address;
    if (!limiter_.allow("connection failed", ip, loop_.now())) return;
    // The authenticated ID, else the one dialed (an outbound ID@host:port).
    std::string id = f.peer_info ? f.peer_info->node_id : f.peer_id;
    if (id.empty()) id = f.dialed_id;
    std::vector<LogField> fields;
    if (!id.empty()) fields.emplace_back("peer", id);
    fields.emplace_back("addr", f.remote_address);
    fields.emplace_back("dir", f.direction == runtime::Direction::kOutbound ? "out" : "in");
    fields.emplace_back("stage", to_string(f.failure.stage));
    fields.emplace_back("reason", to_string(f.failure.reason));
    fields.emplace_back("detail", f.detail);
    if (f.peer_info) {
      fields.emplace_back("network", f.peer_info->network);
      fields.emplace_back("moniker", f.peer_info->moniker);
    }
    log_.log(LogLevel::info, "connection failed", fields);
  }

private:
  runtime::Loop& loop_;
  Logger log_;
  LogLimiter limiter_;
  TimePoint last_report_{};
};

} // namespace

int cmd_start(const std::filesystem::path& dir, const std::vector<ConfigOverride>& settings) {
  crypto::init_sodium();
  Home home = open_home(dir, /*require_config=*/true, settings);
  const Config& config = home.config;
  if (config.crawler.crawl) {
    CrawlArgs args;
    args.settings = settings;
    return run_crawler(dir, args);
  }

  NodeOptions options;
  options.config = config;
  options.key = std::make_shared<const crypto::NodeKey>(load_node_key(home.node_key_file()));
  options.log = logger("p2p");
  options.loopback_only = config.p2p.loopback_only; // simulations: loopback and nothing else
  // The book lives in the database: a foreign or damaged file stops start-up untouched.
  const HomeLocks locks = lock_home_and_db(home.dir, home.db_file());
  auto db = storage::Database::open(home.db_file());
  storage::SqliteAddrBookStore store(db);
  options.store = &store;

  // Tendermint's [instrumentation]: the node's metrics on prometheus_listen_addr.
  runtime::Loop loop;
  HarnessOptions h;
  h.metrics_addr = config.prometheus ? config.prometheus_listen_addr : "off";
  h.metrics_namespace = config.metrics_namespace;
  h.give_up = Millis(5000); // closing peers flush and linger a few seconds at most
  h.exclude_file = exclude_file_path(home.dir, config.crawler.exclude_file);
  RunHarness harness(loop, h);
  options.exclude = harness.exclude();
  std::unique_ptr<metrics::NodeMetrics> metrics;
  if (harness.registry())
    metrics = std::make_unique<metrics::NodeMetrics>(harness.registry(), config.metrics_namespace);

  PeerLog peer_log(loop, logger("p2p"));
  peer_log.metrics = metrics.get();
  Node node(loop, options, &peer_log);
  node.start();
  logger("main").info("node started",
                      {{"version", node_version()},
                       {"node_id", node.id()},
                       {"laddr", config.p2p.laddr},
                       {"port", node.port()},
                       {"network", config.network.empty() ? "<adopt the peer's>" : config.network},
                       {"mode", !config.p2p.pex        ? "pex off"
                                : config.p2p.seed_mode ? "seed"
                                                       : "normal"},
                       {"db", home.db_file().string()}});
  auto sample = [&] {
    peer_log.report_suppressed();
    if (!metrics) return;
    metrics::NodeSample s;
    s.book_new = node.book().size_new();
    s.book_old = node.book().size_old();
    s.peers_outbound = node.net().num_outbound();
    s.peers_inbound = node.net().num_peers() - s.peers_outbound;
    s.dialing = node.net().num_dialing();
    if (const pex::PexReactor* pex = node.pex()) {
      const auto& p = pex->stats();
      s.pex_requests_received = p.requests_received;
      s.pex_answers_sent = p.answers_sent;
      s.pex_seed_answers = p.seed_answers;
      s.pex_addresses_sent = p.addresses_sent;
      s.pex_requests_sent = p.requests_sent;
      s.pex_addrs_received = p.addrs_received;
      s.pex_addresses_received = p.addresses_received;
      s.pex_peers_punished = p.peers_punished;
      s.pex_idle_hung_up = p.idle_hung_up;
      s.pex_answers_refused = p.answers_refused;
      s.pex_addresses_ignored = p.addresses_ignored;
    }
    s.handshakes_evicted = node.net().handshakes_evicted();
    s.banned_refused = node.net().refused_banned();
    s.excluded_refused = node.net().refused_excluded();
    s.inbound_evicted = node.net().inbound_evictions();
    s.log_lines_suppressed = peer_log.suppressed_total();
    metrics->update(s);
  };
  sample();
  harness.run(sample, [&](const std::string&) { node.stop(); });
  peer_log.report_suppressed(true);
  logger("main").info("stopped", {{"addrbook_addresses", node.book().size()}});
  return 0;
}

Command add_start_command(CLI::App& app) {
  CLI::App* sub = app.add_subcommand(
      "start", "run a node from the config: listen, peer exchange (normal or seed mode), dial");
  auto flags = std::make_shared<SettingFlags>(sub);
  return {sub,
          [flags](const std::filesystem::path& home) { return cmd_start(home, flags->given()); }};
}

} // namespace seedscope::app
