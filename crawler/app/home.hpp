// The home directory (Tendermint's --home): config/config.toml and the node key, and what
// the commands derive from them (our NodeInfo, transport options).
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "core/crypto/keys.hpp"
#include "core/types/node_info.hpp"
#include "crawler/app/config.hpp"
#include "crawler/runtime/transport.hpp"

namespace seedscope::app {

struct Home {
  std::filesystem::path dir;
  Config config;
  std::map<std::string, ValueOrigin> origins; // where each setting's value came from
  bool has_config = false;

  std::filesystem::path config_file() const { return dir / "config" / "config.toml"; }
  std::filesystem::path node_key_file() const { return resolve_in_home(dir, config.node_key_file); }
  std::filesystem::path db_file() const { return resolve_in_home(dir, config.db_file); }
};

// $SEEDSCOPE_HOME, else $HOME/.seedscope (or ./.seedscope without $HOME). --home wins over
// both.
std::filesystem::path default_home_dir();

// The process's environment as "NAME=value" entries.
std::vector<std::string> process_environment();

// Whether config file `file` is there to be read (a dangling link counts: reading it names
// the problem). Throws ConfigError when the path cannot even be looked at (EACCES).
bool config_file_exists(const std::filesystem::path& file);
// What resolve_config needs: `file`'s text when `read`, the process environment, `flags`.
ConfigInputs config_inputs(const std::filesystem::path& file, bool read,
                           const std::vector<ConfigOverride>& flags);

// The effective configuration: defaults < config/config.toml when present (`require_config`
// makes a missing file an error) < SEEDSCOPE_* variables of the process environment <
// `flags`. Throws ConfigError listing every problem.
Home open_home(const std::filesystem::path& dir, bool require_config,
               const std::vector<ConfigOverride>& flags = {});

// Our NodeInfo: p2p 8, block 11, our version, channel 0x00 (PEX), moniker (a seed's is
// crawler_moniker()), tx_index "off", listen_addr = external_address or laddr, network from
// the config (may be empty).
NodeInfo our_node_info(const Config& config);
// What the crawler (and a seed) calls itself to every node it contacts, so that their
// operators know who dials them and where to ask to be left alone:
// "<moniker> (seedscope crawler; contact: <[crawler] contact>)", or "<moniker> (seedscope
// crawler)" without a contact. Printable ASCII as NodeInfo wants (the config checked both).
std::string crawler_moniker(const Config& config);

runtime::UpgradeOptions upgrade_options(const Config& config);
// The inbound handshake pool of [p2p] (handshake_pool_*); its timeout is set by the switch or
// the crawler from their own handshake_timeout.
PendingPoolConfig handshake_pool(const P2PConfig& p2p);

} // namespace seedscope::app
