// `seedscope start`: runs a node from the home directory's config: the switch on [p2p] laddr,
// the PEX reactor (seed mode or normal mode), persistent peers and the address book. Each
// peer and each failed connection is logged on one line; SIGINT/SIGTERM stop it gracefully.
// The address book is loaded from [db_file] at start, saved within 10 s of a change and on stop.
#include <csignal>

#include <fmt/format.h>

#include "crawler/app/commands.hpp"
#include "crawler/app/home.hpp"
#include "crawler/app/node.hpp"
#include "crawler/app/node_key_file.hpp"
#include "crawler/app/process_lock.hpp"
#include "crawler/app/report.hpp"
#include "crawler/runtime/shutdown.hpp"
#include "crawler/runtime/timer.hpp"
#include "storage/addr_book_store.hpp"

namespace seedscope::app {

namespace {

class PeerLog final : public runtime::SwitchObserver {
public:
  void on_peer_added(const PeerInfo& p) override {
    log_line(fmt::format("peer added id={} dir={} network={} version={} moniker={} remote={}",
                         p.id, p.outbound ? "out" : "in", p.node_info.network,
                         p.node_info.version, p.node_info.moniker, p.remote_address));
  }
  void on_peer_removed(const PeerInfo& p, const Failure& why, const std::string& detail) override {
    log_line(fmt::format("peer removed id={} remote={} reason={}/{}: {}", p.id, p.remote_address,
                         to_string(why.stage), to_string(why.reason), detail));
  }
  void on_connect_failed(const runtime::UpgradeFailure& f) override {
    std::string peer = f.peer_info ? fmt::format(" id={} network={} moniker={}",
                                                 f.peer_info->node_id, f.peer_info->network,
                                                 f.peer_info->moniker)
                                   : std::string();
    log_line(fmt::format("connection failed remote={}{}: {}", f.remote_address, peer,
                         failure_text(f)));
  }
};

} // namespace

int cmd_start(const std::filesystem::path& dir) {
  crypto::init_sodium();
  Home home = open_home(dir, /*require_config=*/true);
  const Config& config = home.config;
  if (config.crawler.crawl) return run_crawler(dir, CrawlArgs{});

  NodeOptions options;
  options.config = config;
  options.key = std::make_shared<const crypto::NodeKey>(load_node_key(home.node_key_file()));
  options.log = [](const std::string& line) { log_line(line); };
  // The book lives in the database: a foreign or damaged file stops start-up untouched.
  const HomeLocks locks = lock_home_and_db(home.dir, home.db_file());
  auto db = storage::Database::open(home.db_file());
  storage::SqliteAddrBookStore store(db);
  options.store = &store;

  runtime::Loop loop;
  PeerLog peer_log;
  Node node(loop, options, &peer_log);
  node.start();
  log_line(fmt::format("seedscope {} node id={} listening on {} (port {}), network={}, {}",
                       SEEDSCOPE_VERSION_STRING, node.id(), config.p2p.laddr, node.port(),
                       config.network.empty() ? "<adopt the peer's>" : config.network,
                       !config.p2p.pex         ? "pex off"
                       : config.p2p.seed_mode ? "seed mode"
                                              : "normal mode"));

  runtime::Timer give_up(loop);
  bool stopping = false;
  runtime::StopRequest stop_request(loop, [&](int signum) {
    if (stopping) return;
    stopping = true;
    log_line(fmt::format("received signal {}, shutting down", signum));
    node.stop();
    // Closing peers flush and linger a few seconds at most; do not wait for them forever.
    give_up.start(Millis(5000), [&] { loop.stop(); });
    give_up.unref();
  });
  loop.run();
  log_line(fmt::format("stopped; address book: {} addresses", node.book().size()));
  return 0;
}

} // namespace seedscope::app
