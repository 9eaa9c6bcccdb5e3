// A scenario made concrete: every simulated node with its key, address, NodeInfo, behaviour
// and address book, derived deterministically from the scenario's seed. No I/O: the runtime
// host (netsim.hpp) brings it to life; tests and benchmarks compare against ground_truth().
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/crypto/keys.hpp"
#include "core/types/net_address.hpp"
#include "core/types/node_info.hpp"
#include "crawler/netsim/scenario.hpp"

namespace seedscope::netsim {

struct SimNode {
  std::uint32_t index = 0;
  std::uint32_t network = 0; // index into Scenario::networks
  Behaviour behaviour = Behaviour::kNormal;
  std::shared_ptr<const crypto::NodeKey> key;
  std::string id;
  IpAddress ip;
  std::uint16_t port = 0;
  std::string version;
  bool rpc = false;
  bool churns = false;              // may go offline on the churn schedule
  std::vector<std::uint32_t> known; // its address book: other nodes of its network
  std::vector<NetAddress> stale;    // and addresses of nodes that never existed

  NetAddress address() const { return NetAddress{id, ip, port}; }
  std::string listen_addr() const; // "tcp://ip:port"
  bool listens() const {
    return behaviour != Behaviour::kRefused && behaviour != Behaviour::kBlackhole;
  }
};

class SimNetwork {
public:
  explicit SimNetwork(Scenario scenario);

  const Scenario& scenario() const { return scenario_; }
  const std::vector<SimNode>& nodes() const { return nodes_; }
  const SimNode& node(std::uint32_t i) const { return nodes_.at(i); }
  const std::string& chain_id(const SimNode& n) const {
    return scenario_.networks[n.network].chain_id;
  }
  // The NodeInfo the node sends (another network or block version for those classes).
  NodeInfo node_info(const SimNode& n) const;
  // What the node answers a PexRequest with (its book; seeds: a larger share).
  std::vector<NetAddress> pex_answer(const SimNode& n) const;
  // The nodes in seed mode, as ID@ip:port: where a crawler of the simulation starts.
  std::vector<PeerAddress> seed_addresses() const;
  // The same as one comma-separated list (a `seeds` value, `crawl --seed`).
  std::string seed_list() const;
  // The seed nodes of one network (an index into Scenario::networks), the same way.
  std::string seed_list(std::uint32_t network) const;

  // Every node: id, address, network (and the one it advertises), version, class,
  // reachable (completes a handshake), seed_mode, rpc; plus the stale addresses.
  nlohmann::ordered_json ground_truth() const;

  // 127.<1..200>.x.y: consecutive nodes land in different /16s.
  static IpAddress ip_for(std::uint32_t global_index);

private:
  Scenario scenario_;
  std::vector<SimNode> nodes_;
};

} // namespace seedscope::netsim
