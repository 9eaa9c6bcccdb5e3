// What a simulated network looks like: networks (chain IDs) with node counts, version mixes,
// address-book topology, and the share of nodes in each unreachable or misbehaving class a
// crawler meets on the internet. Parsed from TOML (documented in README.md) or taken from a
// built-in preset. The same scenario (and seed) always gives the same network.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/clock.hpp"

namespace seedscope::netsim {

// How a simulated node behaves towards whoever connects to it.
enum class Behaviour {
  kNormal,                  // a Go node in normal mode: handshake, PEX answers
  kSeed,                    // a Go seed: answers one PexRequest per connection, hangs up
  kRefused,                 // nothing listens: connection refused
  kBlackhole,               // TCP connect never completes (accept queue full)
  kSilent,                  // accepts, never says a word (handshake timeout)
  kIncompatibleNetwork,     // NodeInfo of another chain ID
  kIncompatibleVersion,     // block protocol 10 instead of 11
  kBadSignature,            // invalid AuthSigMessage signature
  kIdMismatch,              // NodeInfo ID differs from the authenticated key's
  kGarbageAfterHandshake,   // random plaintext instead of MConnection packets
  kUnsolicitedAddrs,        // PexAddrs nobody asked for, right after the handshake
  kOversizedMessage,        // a packet length far over the maximum
  kSlowloris,               // 1 byte per second
  kPrivateAndDuplicateAddrs // PEX answers of private-range addresses and duplicates
};
std::string_view to_string(Behaviour b);
std::optional<Behaviour> behaviour_from_string(std::string_view name);
// The classes a scenario gives fractions for (all but normal and seed).
const std::vector<Behaviour>& fraction_classes();
// True when the node completes the handshake (the crawler can reach it).
bool completes_handshake(Behaviour b);
// True when the node is a verified reachable node of its own network: it completes the
// handshake, speaks its network's chain ID and keeps the protocol afterwards. What a crawler
// of that network should list as reachable (misbehaving nodes complete the handshake too).
bool verified_in_own_network(Behaviour b);
// True when the node completes the handshake and then breaks the protocol.
bool misbehaves_after_handshake(Behaviour b);

class ScenarioError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

struct VersionShare {
  std::string version;
  double weight = 1;
};

struct NetworkSpec {
  std::string chain_id;
  std::size_t nodes = 0;
  std::size_t known_peers = 20;    // each node's book: k random others of its network
  std::size_t stale_addresses = 3; // per node: addresses of nodes that never existed
  std::size_t seed_nodes = 1;      // nodes in seed mode
  double rpc_fraction = 0.3;       // nodes advertising an rpc_address
  std::vector<VersionShare> versions{{"0.34.24", 1}};
  std::map<Behaviour, double> fractions; // share of nodes per class (the rest are normal)
};

struct ChurnSpec {
  double offline_fraction = 0; // share of churning nodes offline at any time
  Millis period{0};            // how often the offline set changes; 0: no churn
};

struct Scenario {
  std::uint64_t seed = 1;
  std::uint16_t port = 26656;
  // Shifts every node's address by this many places, so that simulations (tests) running
  // side by side do not collide.
  std::uint32_t address_offset = 0;
  std::vector<NetworkSpec> networks;
  ChurnSpec churn;

  std::size_t total_nodes() const;
};

// Throws ScenarioError "<source>: <key>: <problem>"; an unknown key or class names its line
// and the nearest known name: "<source>:<line>: <key>: unknown key; did you mean \"x\"?".
Scenario parse_scenario(std::string_view toml_text, std::string_view source);
Scenario load_scenario(const std::filesystem::path& file);
// Built-in presets: "small" (200 nodes, 2 networks), "demo" (1000, 2), "large" (10000, 2).
Scenario preset(std::string_view name);
std::vector<std::string> preset_names();
// The TOML text of a preset (also documents the format).
std::string preset_toml(std::string_view name);

} // namespace seedscope::netsim
