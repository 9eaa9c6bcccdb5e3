#include "crawler/app/home.hpp"

#include <unistd.h>

#include <cstdlib>

#include <fmt/format.h>

#include "crawler/app/app_log.hpp"
#include "crawler/app/version.hpp"

namespace seedscope::app {

std::filesystem::path default_home_dir() {
  if (const char* dir = std::getenv(std::string(kHomeVariable).c_str()); dir != nullptr && *dir)
    return dir;
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home != nullptr && *home != '\0' ? home : ".") / ".seedscope";
}

std::vector<std::string> process_environment() {
  std::vector<std::string> out;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) out.emplace_back(*e);
  return out;
}

bool config_file_exists(const std::filesystem::path& file) {
  // symlink_status: a dangling link or an unreadable path is an error (read_config_file names
  // it), never a silent run on defaults.
  std::error_code ec;
  const auto status = std::filesystem::symlink_status(file, ec);
  if (ec && ec != std::errc::no_such_file_or_directory)
    throw ConfigError(fmt::format("{}: cannot read: {}", file.string(), ec.message()));
  return std::filesystem::exists(status);
}

ConfigInputs config_inputs(const std::filesystem::path& file, bool read,
                           const std::vector<ConfigOverride>& flags) {
  ConfigInputs inputs;
  inputs.file_name = file.string();
  if (read) inputs.file_text = read_config_file(file);
  inputs.environment = process_environment();
  inputs.flags = flags;
  return inputs;
}

Home open_home(const std::filesystem::path& dir, bool require_config,
               const std::vector<ConfigOverride>& flags) {
  Home home;
  home.dir = dir;
  home.has_config = config_file_exists(home.config_file());
  if (!home.has_config && require_config)
    throw ConfigError(home.config_file().string() + " not found (run `seedscope init --home " +
                      dir.string() + "` first)");
  const ConfigInputs inputs = config_inputs(home.config_file(), home.has_config, flags);
  EffectiveConfig effective = resolve_config(inputs);
  home.config = std::move(effective.config);
  home.origins = std::move(effective.origins);
  // Checked by resolve_config (file and SEEDSCOPE_LOG_* alike); the global flags still win.
  apply_config_logging(*parse_log_filter(home.config.log_level),
                       *parse_log_format(home.config.log_format));
  return home;
}

std::string crawler_moniker(const Config& config) {
  if (config.crawler.contact.empty()) return config.moniker + " (seedscope crawler)";
  return fmt::format("{} (seedscope crawler; contact: {})", config.moniker, config.crawler.contact);
}

NodeInfo our_node_info(const Config& config) {
  NodeInfo info;
  info.protocol_version = ProtocolVersion{kP2PProtocol, kBlockProtocol, 0};
  info.listen_addr =
      config.p2p.external_address.empty() ? config.p2p.laddr : config.p2p.external_address;
  info.network = config.network;
  info.version = node_version();
  info.channels = Bytes{0x00};
  // A seed crawls (it dials every address it learns): it says so, as the crawler does.
  info.moniker = config.p2p.seed_mode ? crawler_moniker(config) : config.moniker;
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
