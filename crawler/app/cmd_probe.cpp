// `seedscope probe ID@host:port`: one dial, one handshake, the peer's NodeInfo as JSON.
// `seedscope demo`: a local node and a probe of it in one process.
#include <fmt/format.h>

#include "core/types/net_address.hpp"
#include "crawler/app/commands.hpp"
#include "crawler/app/home.hpp"
#include "crawler/app/node_key_file.hpp"
#include "crawler/app/report.hpp"
#include "crawler/runtime/transport.hpp"

namespace seedscope::app {

namespace {

// Prints the result; returns the exit code.
int report_probe(const runtime::UpgradeResult& result) {
  fmt::print("{}\n", probe_json(result).dump(2));
  std::fflush(stdout);
  if (result.ok()) return 0;
  fmt::print(stderr, "probe failed: {}\n", failure_text(result.failure));
  return 1;
}

std::shared_ptr<const crypto::NodeKey> probe_key(const Home& home) {
  std::error_code ec;
  if (std::filesystem::exists(home.node_key_file(), ec))
    return std::make_shared<const crypto::NodeKey>(load_node_key(home.node_key_file()));
  return std::make_shared<const crypto::NodeKey>(crypto::NodeKey::generate());
}

} // namespace

int cmd_probe(const std::filesystem::path& dir, const ProbeArgs& args) {
  crypto::init_sodium();
  auto parsed = parse_peer_address(args.address);
  if (!parsed) {
    fmt::print(stderr, "seedscope: bad peer address: {}\n", parsed.error().message());
    return 2;
  }
  Home home = open_home(dir, /*require_config=*/false);
  auto key = probe_key(home);

  runtime::DialOptions options;
  options.upgrade = upgrade_options(home.config);
  if (args.network) {
    options.upgrade.our_info.network = *args.network;
    options.upgrade.adopt_peer_network = false;
  }
  if (args.timeout) options.upgrade.handshake_timeout = *args.timeout;
  options.dial_timeout = args.dial_timeout.value_or(home.config.p2p.dial_timeout);

  runtime::Loop loop;
  runtime::Transport transport(loop, key);
  int exit_code = 1;
  transport.dial(*parsed, options, [&](runtime::UpgradeResult result) {
    exit_code = report_probe(result);
    if (result.ok()) result.connection->close();
  });
  loop.run();
  return exit_code;
}

int cmd_demo() {
  crypto::init_sodium();
  runtime::Loop loop;

  // The node: fixed network, as a chain's node would have.
  Config node_config = default_config();
  node_config.moniker = "seedscope-demo-node";
  node_config.network = "demo-chain-1";
  node_config.p2p.laddr = "tcp://127.0.0.1:0";
  auto node_key = std::make_shared<const crypto::NodeKey>(crypto::NodeKey::generate());
  runtime::Transport node(loop, node_key);
  int finished = 0; // both sides report, then the node stops listening
  auto side_done = [&] {
    if (++finished == 2) node.close();
  };
  std::uint16_t port =
      node.listen(node_config.p2p.laddr, upgrade_options(node_config), [&](auto result) {
        if (result.ok()) {
          log_line(fmt::format("node: handshake with {} ({}) from {}", result.connection->peer_id(),
                               result.connection->peer_info().moniker,
                               result.connection->remote_address()));
          result.connection->close();
        } else {
          log_line("node: inbound handshake failed: " + failure_text(result.failure));
        }
        side_done();
      });
  std::string address = fmt::format("{}@127.0.0.1:{}", node_key->node_id(), port);
  log_line(fmt::format("node {} listening on 127.0.0.1:{} in network {}", node_key->node_id(),
                       port, node_config.network));
  log_line("probing " + address + " without knowing its network");

  // The probe: no network configured, so it adopts the node's.
  Config probe_config = default_config();
  probe_config.moniker = "seedscope-demo-probe";
  runtime::Transport prober(
      loop, std::make_shared<const crypto::NodeKey>(crypto::NodeKey::generate()));
  runtime::DialOptions options;
  options.upgrade = upgrade_options(probe_config);
  int exit_code = 1;
  prober.dial(*parse_peer_address(address), options, [&](runtime::UpgradeResult result) {
    exit_code = report_probe(result);
    if (result.ok()) result.connection->close();
    side_done();
  });
  loop.run();
  return exit_code;
}

} // namespace seedscope::app
