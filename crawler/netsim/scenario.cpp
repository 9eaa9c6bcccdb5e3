#include "crawler/netsim/scenario.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <set>
#include <span>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <toml++/toml.h>

#include "core/base/spelling.hpp"

namespace seedscope::netsim {

namespace {

struct ClassName {
  Behaviour b;
  std::string_view name;
};
constexpr ClassName kNames[] = {
    {Behaviour::kNormal, "normal"},
    {Behaviour::kSeed, "seed"},
    {Behaviour::kRefused, "refused"},
    {Behaviour::kBlackhole, "blackhole"},
    {Behaviour::kSilent, "silent"},
    {Behaviour::kIncompatibleNetwork, "incompatible_network"},
    {Behaviour::kIncompatibleVersion, "incompatible_version"},
    {Behaviour::kBadSignature, "bad_signature"},
    {Behaviour::kIdMismatch, "id_mismatch"},
    {Behaviour::kGarbageAfterHandshake, "garbage_after_handshake"},
    {Behaviour::kUnsolicitedAddrs, "unsolicited_addrs"},
    {Behaviour::kOversizedMessage, "oversized_message"},
    {Behaviour::kSlowloris, "slowloris"},
    {Behaviour::kPrivateAndDuplicateAddrs, "private_and_duplicate_addrs"},
};

// A preset: two networks with every class represented; `n` nodes in all.
std::string preset_text(std::size_t n, std::uint64_t seed) {
  const std::size_t hub = n * 3 / 5, other = n - hub;
  return fmt::format(R"(# seedscope netsim scenario.
seed = {}          # same seed, same network
port = 26656       # every node listens on its own 127.x.y.z at this port
address_offset = 0 # shift all addresses (two simulations side by side)

[churn]
offline_fraction = 0.03   # of reachable normal nodes, offline at any time
period = "20s"            # the offline set changes this often ("0s": no churn)

[[network]]
chain_id = "simhub-1"
nodes = {}
known_peers = 20          # each node's address book: k random others of its network
stale_addresses = 3       # plus addresses of nodes that never existed
seed_nodes = 2
rpc_fraction = 0.3
versions = [ {{ version = "0.34.24", weight = 6 }}, {{ version = "0.34.28", weight = 3 }},
             {{ version = "0.37.4", weight = 1 }} ]
[network.fractions]       # the rest are normal nodes
refused = 0.20
blackhole = 0.02
silent = 0.05
incompatible_network = 0.03
incompatible_version = 0.03
bad_signature = 0.01
id_mismatch = 0.01
garbage_after_handshake = 0.01
unsolicited_addrs = 0.01
oversized_message = 0.01
slowloris = 0.01
private_and_duplicate_addrs = 0.01

[[network]]
chain_id = "simzone-7"
nodes = {}
known_peers = 12
stale_addresses = 2
seed_nodes = 1
versions = [ {{ version = "0.38.12", weight = 1 }} ]
[network.fractions]
refused = 0.25
silent = 0.05
blackhole = 0.02
incompatible_version = 0.02
bad_signature = 0.01
unsolicited_addrs = 0.01
)",
                     seed, hub, other);
}

[[noreturn]] void fail(std::string_view source, const std::string& key, const std::string& what) {
  throw ScenarioError(one_line(fmt::format("{}: {}: {}", source, key, what)));
}

// The keys of each table; anything else is an error naming its line and the nearest key.
constexpr std::string_view kTopKeys[] = {"seed", "port", "address_offset", "churn", "network"};
constexpr std::string_view kChurnKeys[] = {"offline_fraction", "period"};
constexpr std::string_view kNetworkKeys[] = {"chain_id",        "nodes",      "known_peers",
                                             "stale_addresses", "seed_nodes", "rpc_fraction",
                                             "versions",        "fractions"};
constexpr std::string_view kVersionKeys[] = {"version", "weight"};

// "<source>:<line>: <path>: <what>", the line where `key` is.
[[noreturn]] void fail_at(std::string_view source, const toml::key& key, const std::string& path,
                          const std::string& what) {
  throw ScenarioError(
      one_line(fmt::format("{}:{}: {}: {}", source, key.source().begin.line, path, what)));
}

void check_keys(const toml::table& t, std::string_view source, const std::string& prefix,
                std::span<const std::string_view> known) {
  for (const auto& [k, v] : t)
    if (std::find(known.begin(), known.end(), k.str()) == known.end())
      fail_at(source, k, prefix + std::string(k.str()), unknown_name("key", k.str(), known));
}

// The fraction classes' names, for suggestions.
std::vector<std::string_view> class_names() {
  std::vector<std::string_view> names;
  for (Behaviour b : fraction_classes()) names.push_back(to_string(b));
  return names;
}

std::uint64_t get_uint(const toml::node* node, std::string_view source, const std::string& key,
                       std::uint64_t lo, std::uint64_t hi) {
  // Integers only: toml++ converts a float node by casting it, undefined beyond int64's range
  // (port = 26E56), and "must be an integer" should mean it.
  auto v = node && node->is_integer() ? node->value<std::int64_t>() : std::nullopt;
  if (!v || *v < 0 || static_cast<std::uint64_t>(*v) < lo || static_cast<std::uint64_t>(*v) > hi)
    fail(source, key, fmt::format("must be an integer from {} to {}", lo, hi));
  return static_cast<std::uint64_t>(*v);
}

double get_fraction(const toml::node* node, std::string_view source, const std::string& key) {
  std::optional<double> v;
  if (node) {
    if (auto d = node->value<double>()) v = d;
  }
  if (!v || !(*v >= 0.0) || *v > 1.0) fail(source, key, "must be a number from 0 to 1");
  return *v;
}

Millis get_duration(const toml::node* node, std::string_view source, const std::string& key) {
  auto s = node ? node->value<std::string>() : std::nullopt;
  if (!s) fail(source, key, "must be a duration string such as \"30s\" or \"500ms\"");
  std::string text = *s;
  double factor = 0;
  std::string number;
  if (text.size() > 2 && text.ends_with("ms")) {
    factor = 1;
    number = text.substr(0, text.size() - 2);
  } else if (text.size() > 1 && text.ends_with("s")) {
    factor = 1000;
    number = text.substr(0, text.size() - 1);
  } else if (text.size() > 1 && text.ends_with("m")) {
    factor = 60000;
    number = text.substr(0, text.size() - 1);
  } else {
    fail(source, key, fmt::format("\"{}\" is not a duration (use ms, s or m)", text));
  }
  char* end = nullptr;
  const double v = std::strtod(number.c_str(), &end);
  if (number.empty() || end != number.c_str() + number.size() || !(v >= 0) || v > 1e7)
    fail(source, key, fmt::format("\"{}\" is not a duration (use ms, s or m)", text));
  return Millis(static_cast<Millis::rep>(v * factor));
}

bool valid_chain_id(const std::string& id) {
  if (id.empty() || id.size() > 50) return false;
  for (char c : id)
    if (c < 0x21 || c > 0x7e) return false;
  return true;
}

} // namespace

std::string_view to_string(Behaviour b) {
  for (const auto& n : kNames)
    if (n.b == b) return n.name;
  return "?";
}

std::optional<Behaviour> behaviour_from_string(std::string_view name) {
  for (const auto& n : kNames)
    if (n.name == name) return n.b;
  return std::nullopt;
}

const std::vector<Behaviour>& fraction_classes() {
  static const std::vector<Behaviour> classes = [] {
    std::vector<Behaviour> v;
    for (const auto& n : kNames)
      if (n.b != Behaviour::kNormal && n.b != Behaviour::kSeed) v.push_back(n.b);
    return v;
  }();
  return classes;
}

bool verified_in_own_network(Behaviour b) {
  return completes_handshake(b) && b != Behaviour::kIncompatibleNetwork &&
         !misbehaves_after_handshake(b);
}

bool misbehaves_after_handshake(Behaviour b) {
  return b == Behaviour::kGarbageAfterHandshake || b == Behaviour::kUnsolicitedAddrs ||
         b == Behaviour::kOversizedMessage;
}

bool completes_handshake(Behaviour b) {
  switch (b) {
  case Behaviour::kNormal:
  case Behaviour::kSeed:
  case Behaviour::kGarbageAfterHandshake:
  case Behaviour::kUnsolicitedAddrs:
  case Behaviour::kOversizedMessage:
  case Behaviour::kPrivateAndDuplicateAddrs:
  case Behaviour::kIncompatibleNetwork: // completes it with a peer that adopts its network
    return true;
  default: return false;
  }
}

std::size_t Scenario::total_nodes() const {
  std::size_t n = 0;
  for (const auto& net : networks) n += net.nodes;
  return n;
}

Scenario parse_scenario(std::string_view text, std::string_view source) {
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    throw ScenarioError(fmt::format("{}:{}:{}: malformed TOML: {}", source, e.source().begin.line,
                                    e.source().begin.column, one_line(e.description())));
  }
  check_keys(root, source, "", kTopKeys);
  Scenario s;
  if (root.contains("seed"))
    s.seed =
        get_uint(root.get("seed"), source, "seed", 0, std::numeric_limits<std::int64_t>::max());
  if (root.contains("port"))
    s.port = static_cast<std::uint16_t>(get_uint(root.get("port"), source, "port", 1, 65535));
  if (root.contains("address_offset"))
    s.address_offset = static_cast<std::uint32_t>(
        get_uint(root.get("address_offset"), source, "address_offset", 0, 100000));
  if (const auto* churn = root.get("churn")) {
    const auto* t = churn->as_table();
    if (!t) fail(source, "churn", "must be a table");
    check_keys(*t, source, "churn.", kChurnKeys);
    for (const auto& [k, v] : *t) {
      const std::string key(k.str());
      if (key == "offline_fraction")
        s.churn.offline_fraction = get_fraction(&v, source, "churn.offline_fraction");
      else s.churn.period = get_duration(&v, source, "churn.period");
    }
  }
  const auto* nets = root.get("network") ? root.get("network")->as_array() : nullptr;
  if (!nets || nets->empty()) fail(source, "network", "at least one [[network]] is required");
  std::set<std::string> chain_ids;
  for (std::size_t i = 0; i < nets->size(); ++i) {
    const std::string at = fmt::format("network[{}]", i);
    const auto* t = nets->get(i)->as_table();
    if (!t) fail(source, at, "must be a table");
    NetworkSpec n;
    bool have_nodes = false, have_known_peers = false;
    check_keys(*t, source, at + ".", kNetworkKeys);
    for (const auto& [k, v] : *t) {
      const std::string key(k.str());
      const std::string path = at + "." + key;
      if (key == "chain_id") {
        auto id = v.value<std::string>();
        if (!id || !valid_chain_id(*id))
          fail(source, path, "must be 1 to 50 printable characters without spaces");
        n.chain_id = *id;
      } else if (key == "nodes") {
        n.nodes = get_uint(&v, source, path, 1, 60000);
        have_nodes = true;
      } else if (key == "known_peers") {
        n.known_peers = get_uint(&v, source, path, 0, 1000);
        have_known_peers = true;
      } else if (key == "stale_addresses") {
        n.stale_addresses = get_uint(&v, source, path, 0, 1000);
      } else if (key == "seed_nodes") {
        n.seed_nodes = get_uint(&v, source, path, 0, 1000);
      } else if (key == "rpc_fraction") {
        n.rpc_fraction = get_fraction(&v, source, path);
      } else if (key == "versions") {
        const auto* arr = v.as_array();
        if (!arr || arr->empty()) fail(source, path, "must be a non-empty array of tables");
        n.versions.clear();
        for (std::size_t j = 0; j < arr->size(); ++j) {
          const std::string vp = fmt::format("{}[{}]", path, j);
          const auto* vt = arr->get(j)->as_table();
          if (!vt) fail(source, vp, "must be { version = \"...\", weight = N }");
          check_keys(*vt, source, vp + ".", kVersionKeys);
          auto ver = (*vt)["version"].value<std::string>();
          auto weight = (*vt)["weight"].value<double>();
          if (!ver || ver->empty() || ver->size() > 60)
            fail(source, vp + ".version", "must be a version string");
          if (!weight || !(*weight > 0) || *weight > 1e6)
            fail(source, vp + ".weight", "must be a positive number");
          n.versions.push_back({*ver, *weight});
        }
      } else if (key == "fractions") {
        const auto* ft = v.as_table();
        if (!ft) fail(source, path, "must be a table of class = fraction");
        for (const auto& [fk, fv] : *ft) {
          const std::string cls(fk.str());
          const auto& classes = fraction_classes();
          auto it = std::find_if(classes.begin(), classes.end(),
                                 [&](Behaviour b) { return to_string(b) == cls; });
          if (it == classes.end()) {
            const auto names = class_names();
            std::string what = unknown_name("class", cls, names);
            if (!nearest_name(cls, names)) what += fmt::format(" ({})", fmt::join(names, ", "));
            fail_at(source, fk, path + "." + cls, what);
          }
          n.fractions[*it] = get_fraction(&fv, source, path + "." + cls);
        }
      }
    }
    if (n.chain_id.empty()) fail(source, at + ".chain_id", "missing");
    if (!have_nodes) fail(source, at + ".nodes", "missing");
    if (!chain_ids.insert(n.chain_id).second) fail(source, at + ".chain_id", "appears twice");
    double sum = 0;
    for (const auto& [b, f] : n.fractions) sum += f;
    if (sum > 0.9)
      fail(source, at + ".fractions",
           fmt::format("add up to {:.2f}; at most 0.9 (some nodes must be normal)", sum));
    if (n.seed_nodes > n.nodes) fail(source, at + ".seed_nodes", "more seeds than nodes");
    if (have_known_peers && n.known_peers >= n.nodes)
      fail(source, at + ".known_peers",
           fmt::format("{} others are more than the network's {} nodes have", n.known_peers,
                       n.nodes));
    if (!have_known_peers) n.known_peers = std::min<std::size_t>(n.known_peers, n.nodes - 1);
    s.networks.push_back(std::move(n));
  }
  if (s.total_nodes() > 60000) fail(source, "network", "at most 60000 nodes in all");
  return s;
}

Scenario load_scenario(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw ScenarioError(fmt::format("{}: cannot read the scenario file", file.string()));
  std::ostringstream text;
  text << in.rdbuf();
  return parse_scenario(text.str(), file.string());
}

std::vector<std::string> preset_names() { return {"small", "demo", "large"}; }

std::string preset_toml(std::string_view name) {
  if (name == "small") return preset_text(200, 11);
  if (name == "demo") return preset_text(1000, 12);
  if (name == "large") return preset_text(10000, 13);
  throw ScenarioError(fmt::format("no preset named \"{}\" (small, demo, large)", name));
}

Scenario preset(std::string_view name) {
  return parse_scenario(preset_toml(name), fmt::format("preset {}", name));
}

} // namespace seedscope::netsim
