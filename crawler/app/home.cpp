#include "crawler/app/home.hpp"

#include <cstdlib>

#include <fmt/format.h>

#include "crawler/app/app_log.hpp"
#include "crawler/app/version.hpp"

namespace seedscope::app {

std::filesystem::path default_home_dir() {
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home != nullptr && *home != '\0' ? home : ".") / ".seedscope";
}

Home open_home(const std::filesystem::path& dir, bool require_config) {
  Home home;
  home.dir = dir;
  // symlink_status: a dangling link or an unreadable path is an error (load_config names
  // it), never a silent run on defaults.
  std::error_code ec;
  const auto status = std::filesystem::symlink_status(home.config_file(), ec);
  if (ec && ec != std::errc::no_such_file_or_directory)
    throw ConfigError(
        fmt::format("{}: cannot read: {}", home.config_file().string(), ec.message()));
  if (std::filesystem::exists(status)) {
    home.config = load_config(home.config_file());
    home.has_config = true;
    // Checked by load_config; the command line's flags still win.
    apply_config_logging(*parse_log_filter(home.config.log_level),
                         *parse_log_format(home.config.log_format));
  } else if (require_config) {
    throw ConfigError(home.config_file().string() + " not found (run `seedscope init --home " +
                      dir.string() + "` first)");
  } else {
    home.config = default_config();
  }
  return home;
}

NodeInfo our_node_info(const Config& config) {
  NodeInfo info;
  info.protocol_version = ProtocolVersion{kP2PProtocol, kBlockProtocol, 0};
  info.listen_addr =
      config.p2p.external_address.empty() ? config.p2p.laddr : config.p2p.external_address;
  info.network = config.network;
  info.version = node_version();
  info.channels = Bytes{0x00};
  info.moniker = config.moniker;
  info.tx_index = "off";
  return info;
}

runtime::UpgradeOptions upgrade_options(const Config& config) {
  runtime::UpgradeOptions options;
  options.our_info = our_node_info(config);
  options.adopt_peer_network = config.network.empty();
  options.handshake_timeout = config.p2p.handshake_timeout;
  return options;
}

PendingPoolConfig handshake_pool(const P2PConfig& p2p) {
  PendingPoolConfig pool;
  pool.capacity = static_cast<std::size_t>(p2p.handshake_pool_size);
  pool.per_ip = static_cast<std::size_t>(p2p.handshake_pool_per_ip);
  pool.per_subnet = static_cast<std::size_t>(p2p.handshake_pool_per_subnet);
  return pool;
}

} // namespace seedscope::app
