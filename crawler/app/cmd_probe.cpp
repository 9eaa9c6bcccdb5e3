// `seedscope probe ID@host:port`: one dial, one handshake, the peer's NodeInfo as JSON.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "core/types/net_address.hpp"
#include "crawler/app/cli_options.hpp"
#include "crawler/app/commands.hpp"
#include "crawler/app/home.hpp"
#include "crawler/app/node_key_file.hpp"
#include "crawler/app/report.hpp"
#include "crawler/runtime/transport.hpp"

namespace seedscope::app {

namespace {

// Prints the result; returns the exit code.
int report_probe(const runtime::UpgradeResult& result) {
  if (!write_result(probe_json(result).dump(2) + "\n")) {
    print_err("seedscope: cannot write the probe's result to stdout\n");
    return 1;
  }

  if (result.ok()) return 0;
  print_err("probe failed: {}\n", failure_text(result.failure));
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
  if (!parsed) throw UsageError("bad peer address: " + parsed.error().message());
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

Command add_probe_command(CLI::App& app) {
  CLI::App* sub = app.add_subcommand(
      "probe", "dial one node, complete the handshake, print its NodeInfo and timings as JSON");
  struct Raw {
    ProbeArgs args;
    std::string network, timeout, dial_timeout;
  };
  auto raw = std::make_shared<Raw>();
  sub->add_option("address", raw->args.address, "ID@host:port")->required();
  sub->add_option("--network", raw->network,
                  "chain ID to answer in (default: the config's, else the peer's own)");
  sub->add_option("--timeout", raw->timeout,
                  "handshake timeout, e.g. 5s (default: [p2p] handshake_timeout)");
  sub->add_option("--dial-timeout", raw->dial_timeout,
                  "TCP connect timeout, e.g. 1s (default: [p2p] dial_timeout)");
  return {sub, [raw](const std::filesystem::path& home) {
            ProbeArgs args = raw->args;
            if (!raw->network.empty()) args.network = chain_id_option(raw->network, "--network");
            args.timeout = duration_option(raw->timeout, "--timeout");
            args.dial_timeout = duration_option(raw->dial_timeout, "--dial-timeout");
            return cmd_probe(home, args);
          }};
}

} // namespace seedscope::app
