// The Cosmos chain registry (a local checkout of cosmos/chain-registry: one `chain.json` per
// chain) as starting points for a crawl. Nothing is fetched: the operator keeps the checkout
// up to date (git pull). A file that cannot be used, and an entry of a usable file that cannot
// be dialed, is a problem naming the file (and the entry); the rest is used.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/types/net_address.hpp"

namespace seedscope::app {

class RegistryError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// One `peers.seeds[]` or `peers.persistent_peers[]` entry.
struct RegistryPeer {
  PeerAddress address; // id@host:port; the host may be a name (resolved when dialed)
  std::string provider;
  bool seed = false; // from `seeds` (else `persistent_peers`)
};

struct RegistryChain {
  std::filesystem::path file;
  std::string chain_name;
  std::string chain_id;
  std::string network_type; // "mainnet", "testnet", "devnet"; "" when not given
  std::string status;       // "live", "upcoming", "killed"; "" when not given
  std::vector<RegistryPeer> peers;
  // Entries that were left out: "peers.seeds[2]: \"x@y\": <why>".
  std::vector<std::string> bad_entries;

  // Listed as running: status "live" or not given.
  bool live() const { return status.empty() || status == "live"; }
};

// Parses one chain.json. Throws RegistryError (one line, without the file name) when the text
// is not JSON, not an object, or lacks a valid chain_id; a bad peer entry is recorded in
// bad_entries and skipped.
RegistryChain parse_chain_json(std::string_view text);

struct RegistryScan {
  std::vector<RegistryChain> chains; // live chains of the kinds asked for, by directory name
  std::vector<std::string> problems; // "<file>: <why>", one per unusable file or bad entry
  std::size_t not_live = 0;          // chains skipped as upcoming or killed
  std::size_t other_networks = 0;    // chains skipped as not mainnet (or testnet, when asked)
};

// Every `<dir>/<chain>/chain.json` (directories starting with '_' or '.' are not chains), and
// with `testnets` every `<dir>/testnets/<chain>/chain.json`. Mainnet chains come from the top
// level and testnets from testnets/; a file whose network_type says otherwise is skipped
// with the others of its kind. Throws RegistryError when `dir` is not a readable directory
// or holds no chain.json at all (not a registry checkout).
RegistryScan scan_chain_registry(const std::filesystem::path& dir, bool testnets);

} // namespace seedscope::app
