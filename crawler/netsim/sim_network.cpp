#include "crawler/netsim/sim_network.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>

#include <fmt/format.h>

#include "core/base/rng.hpp"

namespace seedscope::netsim {

namespace {

// SplitMix64: tiny, fast and the same everywhere (std:: distributions are not).
class SplitMix final : public Rng {
public:
  explicit SplitMix(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next_u64() override {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

private:
  std::uint64_t state_;
};

template <class T> void shuffle(std::vector<T>& v, Rng& rng) {
  for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng.below(i)]);
}

const Bytes kChannels = {0x00, 0x20, 0x21, 0x22, 0x23, 0x30, 0x38, 0x40, 0x60, 0x61};

} // namespace

std::string SimNode::listen_addr() const {
  return fmt::format("tcp://{}:{}", ip.to_string(), port);
}

IpAddress SimNetwork::ip_for(std::uint32_t g) {
  const std::uint32_t h = g / 200;
  return IpAddress::v4(127, static_cast<std::uint8_t>(1 + g % 200),
                       static_cast<std::uint8_t>(h / 250), static_cast<std::uint8_t>(1 + h % 250));
}

SimNetwork::SimNetwork(Scenario scenario) : scenario_(std::move(scenario)) {
  SplitMix rng(scenario_.seed);
  std::uint32_t g = 0;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> ranges; // [first, end) per network
  for (std::uint32_t ni = 0; ni < scenario_.networks.size(); ++ni) {
    const NetworkSpec& spec = scenario_.networks[ni];
    // Classes: seeds first, then each fraction, the rest normal; then shuffled over nodes.
    std::vector<Behaviour> classes;
    classes.insert(classes.end(), spec.seed_nodes, Behaviour::kSeed);
    for (Behaviour b : fraction_classes()) {
      auto it = spec.fractions.find(b);
      if (it == spec.fractions.end()) continue;
      const auto count = static_cast<std::size_t>(std::llround(it->second * double(spec.nodes)));
      classes.insert(classes.end(),
                     std::min(count, spec.nodes - std::min(spec.nodes, classes.size())), b);
    }
    classes.resize(spec.nodes, Behaviour::kNormal);
    shuffle(classes, rng);
    double total_weight = 0;
    for (const auto& v : spec.versions) total_weight += v.weight;
    const std::uint32_t first = g;
    for (std::size_t i = 0; i < spec.nodes; ++i, ++g) {
      SimNode n;
      n.index = g;
      n.network = ni;
      n.behaviour = classes[i];
      std::array<std::uint8_t, 32> seed{};
      for (std::size_t j = 0; j < 32; j += 8) {
        const std::uint64_t r = rng.next_u64();
        std::memcpy(seed.data() + j, &r, 8);
      }
      n.key = std::make_shared<const crypto::NodeKey>(crypto::NodeKey::from_seed(seed));
      n.id = n.key->node_id();
      n.ip = ip_for(g + scenario_.address_offset);
      n.port = scenario_.port;
      double pick = rng.uniform01() * total_weight;
      n.version = spec.versions.back().version;
      for (const auto& v : spec.versions) {
        if (pick < v.weight) {
          n.version = v.version;
          break;
        }
        pick -= v.weight;
      }
      n.rpc = rng.uniform01() < spec.rpc_fraction;
      n.churns = n.behaviour == Behaviour::kNormal;
      nodes_.push_back(std::move(n));
    }
    ranges.emplace_back(first, g);
  }
  // Address books: k random others of the same network (seeds know five times as many), and
  // stale addresses in 127.201-250.x.y, where nothing listens.
  for (SimNode& n : nodes_) {
    const NetworkSpec& spec = scenario_.networks[n.network];
    const auto [first, end] = ranges[n.network];
    const std::size_t others = end - first - 1;
    std::size_t k = spec.known_peers * (n.behaviour == Behaviour::kSeed ? 5 : 1);
    k = std::min(k, others);
    std::vector<std::uint32_t> picked;
    if (k * 2 > others) {
      for (std::uint32_t j = first; j < end; ++j)
        if (j != n.index) picked.push_back(j);
      shuffle(picked, rng);
      picked.resize(k);
    } else {
      std::set<std::uint32_t> seen;
      while (picked.size() < k) {
        const auto j = static_cast<std::uint32_t>(first + rng.below(end - first));
        if (j != n.index && seen.insert(j).second) picked.push_back(j);
      }
    }
    n.known = std::move(picked);
    for (std::size_t s = 0; s < spec.stale_addresses; ++s) {
      std::array<std::uint8_t, 32> seed{};
      for (std::size_t j = 0; j < 32; j += 8) {
        const std::uint64_t r = rng.next_u64();
        std::memcpy(seed.data() + j, &r, 8);
      }
      const auto r = rng.next_u64();
      n.stale.push_back(NetAddress{crypto::NodeKey::from_seed(seed).node_id(),
                                   IpAddress::v4(127, static_cast<std::uint8_t>(201 + r % 50),
                                                 static_cast<std::uint8_t>((r >> 8) % 250),
                                                 static_cast<std::uint8_t>(1 + (r >> 16) % 250)),
                                   scenario_.port});
    }
  }
}

NodeInfo SimNetwork::node_info(const SimNode& n) const {
  NodeInfo info;
  info.protocol_version = {8, 11, 0};
  if (n.behaviour == Behaviour::kIncompatibleVersion) info.protocol_version.block = 10;
  info.node_id = n.id;
  info.listen_addr = n.listen_addr();
  info.network = chain_id(n);
  if (n.behaviour == Behaviour::kIncompatibleNetwork) info.network += "-fork";
  info.version = n.version;
  info.channels = kChannels;
  info.moniker = fmt::format("sim-{}", n.index);
  info.tx_index = n.index % 3 == 0 ? "off" : "on";
  if (n.rpc) info.rpc_address = fmt::format("tcp://{}:26657", n.ip.to_string());
  return info;
}

std::vector<PeerAddress> SimNetwork::seed_addresses() const {
  std::vector<PeerAddress> out;
  for (const auto& n : nodes_)
    if (n.behaviour == Behaviour::kSeed)
      out.push_back(parse_peer_address(n.address().to_string()).value());
  return out;
}

std::string SimNetwork::seed_list() const {
  std::string out;
  for (const auto& a : seed_addresses()) out += (out.empty() ? "" : ",") + a.to_string();
  return out;
}

std::string SimNetwork::seed_list(std::uint32_t network) const {
  std::string out;
  for (const auto& n : nodes_)
    if (n.network == network && n.behaviour == Behaviour::kSeed)
      out += (out.empty() ? "" : ",") + n.address().to_string();
  return out;
}

std::vector<NetAddress> SimNetwork::pex_answer(const SimNode& n) const {
  std::vector<NetAddress> out;
  if (n.behaviour == Behaviour::kPrivateAndDuplicateAddrs) {
    for (std::uint32_t i = 0; i < 40; ++i) {
      const NetAddress fake{fmt::format("{:040x}", 0xdead0000ULL + n.index * 64 + i),
                            i % 2 ? IpAddress::v4(10, static_cast<std::uint8_t>(i), 0, 1)
                                  : IpAddress::v4(192, 168, static_cast<std::uint8_t>(i), 1),
                            26656};
      out.push_back(fake);
      out.push_back(fake); // and again
    }
    for (auto j : n.known) out.push_back(nodes_[j].address());
    return out;
  }
  out.reserve(n.known.size() + n.stale.size());
  for (auto j : n.known) out.push_back(nodes_[j].address());
  out.insert(out.end(), n.stale.begin(), n.stale.end());
  if (out.size() > 250) out.resize(250); // Go's maxGetSelection
  return out;
}

nlohmann::ordered_json SimNetwork::ground_truth() const {
  nlohmann::ordered_json root;
  root["seed"] = scenario_.seed;
  root["networks"] = nlohmann::ordered_json::array();
  for (const auto& net : scenario_.networks) root["networks"].push_back(net.chain_id);
  auto& nodes = root["nodes"] = nlohmann::ordered_json::array();
  auto& stale = root["stale"] = nlohmann::ordered_json::array();
  for (const SimNode& n : nodes_) {
    const NodeInfo info = node_info(n);
    nodes.push_back({{"id", n.id},
                     {"address", n.address().to_string()},
                     {"network", chain_id(n)},
                     {"advertised_network", info.network},
                     {"version", n.version},
                     {"class", std::string(to_string(n.behaviour))},
                     {"reachable", completes_handshake(n.behaviour)},
                     {"verified", verified_in_own_network(n.behaviour)},
                     {"seed_mode", n.behaviour == Behaviour::kSeed},
                     {"rpc", n.rpc},
                     {"churns", n.churns}});
    for (const auto& s : n.stale) stale.push_back(s.to_string());
  }
  return root;
}

} // namespace seedscope::netsim
