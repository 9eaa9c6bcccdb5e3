// `seedscope start`: the listening side. For now it only completes handshakes: each peer is
// logged (ID, network, version, moniker, remote address) and closed.
#include <csignal>

#include <fmt/format.h>

#include "crawler/app/commands.hpp"
#include "crawler/app/home.hpp"
#include "crawler/app/node_key_file.hpp"
#include "crawler/app/report.hpp"
#include "crawler/runtime/timer.hpp"
#include "crawler/runtime/transport.hpp"

namespace seedscope::app {

namespace {

void log_upgrade(const runtime::UpgradeResult& result) {
  if (result.ok()) {
    const runtime::Connection& c = *result.connection;
    const NodeInfo& info = c.peer_info();
    log_line(fmt::format("peer id={} network={} version={} moniker={} remote={} "
                         "handshake_ms={:.1f}",
                         info.node_id, info.network, info.version, info.moniker,
                         c.remote_address(), c.timings().handshake_ms));
    return;
  }
  const runtime::UpgradeFailure& f = result.failure;
  std::string peer = f.peer_info ? fmt::format(" id={} network={} moniker={}", f.peer_info->node_id,
                                               f.peer_info->network, f.peer_info->moniker)
                                 : std::string();
  log_line(fmt::format("inbound handshake failed remote={}{}: {}", f.remote_address, peer,
                       failure_text(f)));
}

} // namespace

int cmd_start(const std::filesystem::path& dir) {
  crypto::init_sodium();
  Home home = open_home(dir, /*require_config=*/true);
  auto key = std::make_shared<const crypto::NodeKey>(load_node_key(home.node_key_file()));
  const Config& config = home.config;

  runtime::Loop loop;
  runtime::Transport transport(loop, key);
  auto max_pending = static_cast<std::size_t>(config.p2p.max_num_inbound_peers);
  std::uint16_t port = transport.listen(
      config.p2p.laddr, upgrade_options(config),
      [](runtime::UpgradeResult result) {
        log_upgrade(result);
        if (result.ok()) result.connection->close(); // flushes, then closes on its own
      },
      max_pending);
  log_line(fmt::format("seedscope {} node id={} listening on {} (port {}), network={}",
                       SEEDSCOPE_VERSION_STRING, key->node_id(), config.p2p.laddr, port,
                       config.network.empty() ? "<adopt the peer's>" : config.network));

  runtime::SignalWatcher sigint(loop);
  runtime::SignalWatcher sigterm(loop);
  runtime::Timer give_up(loop);
  bool stopping = false;
  auto stop = [&](int signum) {
    if (stopping) return;
    stopping = true;
    log_line(fmt::format("received signal {}, shutting down", signum));
    transport.close();
    sigint.close();
    sigterm.close();
    // Closing sockets linger at most a few seconds; do not wait for them forever.
    give_up.start(Millis(3000), [&] { loop.stop(); });
    give_up.unref();
  };
  if (sigint.start(SIGINT, stop) != 0 || sigterm.start(SIGTERM, stop) != 0)
    throw std::runtime_error("cannot install signal handlers");
  loop.run();
  log_line("stopped");
  return 0;
}

} // namespace seedscope::app
