// The simulator: scenarios (parsing, determinism), and simulated networks on loopback probed
// by the real runtime: a seedscope seed node learns the network; every unreachable and
// misbehaving class ends a connection with its own classified failure.
#include <algorithm>
#include <map>
#include <memory>
#include <set>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <ostream>

#include "core/crypto/keys.hpp"
#include "crawler/app/node.hpp"
#include "crawler/netsim/netsim.hpp"
#include "crawler/runtime/switch.hpp"
#include "support/loop_harness.hpp"

namespace seedscope {
namespace {

using netsim::Behaviour;

std::string scenario_error(const std::string& text) {
  try {
    netsim::parse_scenario(text, "test.toml");
  } catch (const netsim::ScenarioError& e) {
    return e.what();
  }
  return "";
}

// A scenario with `per_class` nodes of every class in one network.
netsim::Scenario every_class(std::size_t per_class) {
  std::string text = "seed = 5\naddress_offset = 20000\n[[network]]\nchain_id = "
                     "\"classes-1\"\nnodes = {}\nseed_nodes = 0\n"
                     "known_peers = 5\n[network.fractions]\n";
  const auto& classes = netsim::fraction_classes();
  const std::size_t nodes = per_class * (classes.size() + 2);
  for (Behaviour b : classes)
    text += fmt::format("{} = {}\n", to_string(b), double(per_class) / double(nodes) + 1e-9);
  auto pos = text.find("{}");
  text.replace(pos, 2, std::to_string(nodes));
  return netsim::parse_scenario(text, "every-class");
}

} // namespace

// Found by scenario_fuzz (UBSan): a float where an integer goes was cast to int64 by toml++,
// undefined behaviour when out of range; 2.0 was taken as 2.
TEST_CASE("netsim scenario: an integer key refuses a float") {
  const std::string net = "[[network]]\nchain_id = \"a\"\nnodes = 2\n";
  CHECK(scenario_error("port = 26E56\n" + net) ==
        "test.toml: port: must be an integer from 1 to 65535");
  CHECK(scenario_error("seed = -1e300\n" + net).find("seed: must be an integer") !=
        std::string::npos);
  CHECK(scenario_error("[[network]]\nchain_id = \"a\"\nnodes = 2.0\n") ==
        "test.toml: network[0].nodes: must be an integer from 1 to 60000");
  CHECK(scenario_error("port = 26657\n" + net).empty());
}

// Found alongside config_fuzz (the same TOML error path): messages quoting the input stay on
// one line.
TEST_CASE("netsim scenario: a message quoting the input stays on one line") {
  for (const char* text : {"seed = tru\n",
                           "[[network]]\nchain_id = \"a\"\nnodes = 2\n"
                           "[network.fractions]\n\"re\\nfused\" = 0.1\n",
                           "\"se\\ned\" = 1\n"}) {
    INFO(text);
    const std::string e = scenario_error(text);
    CHECK(e.rfind("test.toml", 0) == 0);
    CHECK(e.find('\n') == std::string::npos);
  }
}

TEST_CASE("netsim: presets parse; every node class is represented in them") {
  for (const auto& name : netsim::preset_names()) {
    auto s = netsim::preset(name);
    CHECK(s.networks.size() == 2);
  }
  CHECK(netsim::preset("small").total_nodes() == 200);
  CHECK(netsim::preset("demo").total_nodes() == 1000);
  CHECK(netsim::preset("large").total_nodes() == 10000);
  netsim::SimNetwork net(netsim::preset("demo"));
  std::set<Behaviour> seen;
  for (const auto& n : net.nodes()) seen.insert(n.behaviour);
  CHECK(seen.size() == netsim::fraction_classes().size() + 2);
}

TEST_CASE("netsim: invalid scenarios are refused with the key and the problem") {
  CHECK(scenario_error("seed = 1\n").find("network: at least one") != std::string::npos);
  CHECK(scenario_error("[[network]]\nchain_id = \"a\"\nnodes = 0\n")
            .find("network[0].nodes: must be an integer from 1") != std::string::npos);
  CHECK(scenario_error("[[network]]\nnodes = 5\n").find("network[0].chain_id: missing") !=
        std::string::npos);
  CHECK(scenario_error(
            "[[network]]\nchain_id = \"a\"\nnodes = 5\n[network.fractions]\nteleport = 0.1\n")
            .find("network[0].fractions.teleport: unknown class") != std::string::npos);
  CHECK(scenario_error("[[network]]\nchain_id = \"a\"\nnodes = 5\n[network.fractions]\nrefused = "
                       "0.6\nsilent = 0.6\n")
            .find("add up to 1.20") != std::string::npos);
  CHECK(scenario_error(
            "[[network]]\nchain_id = \"a\"\nnodes = 5\n[[network]]\nchain_id = \"a\"\nnodes = 5\n")
            .find("network[1].chain_id: appears twice") != std::string::npos);
  CHECK(scenario_error("colour = 1\n[[network]]\nchain_id = \"a\"\nnodes = 5\n") ==
        "test.toml:1: colour: unknown key");
  CHECK(scenario_error("[churn]\nperiod = \"soon\"\n[[network]]\nchain_id = \"a\"\nnodes = 5\n")
            .find("churn.period") != std::string::npos);
  CHECK(scenario_error("[[network]\n").find("test.toml:1:") != std::string::npos);
  CHECK(scenario_error("[[network]]\nchain_id = \"a\"\nnodes = 120\nknown_peers = 500\n")
            .find("network[0].known_peers: 500 others are more than the network's 120 nodes") !=
        std::string::npos);
}

TEST_CASE("netsim: an unknown scenario key names its line and the nearest known key") {
  const std::string net = "[[network]]\nchain_id = \"a\"\nnodes = 5\n";
  CHECK(scenario_error("adress_offset = 3\n" + net) ==
        "test.toml:1: adress_offset: unknown key; did you mean \"address_offset\"?");
  CHECK(scenario_error("[churn]\nperod = \"1s\"\n" + net) ==
        "test.toml:2: churn.perod: unknown key; did you mean \"period\"?");
  CHECK(scenario_error(net + "known_peer = 3\n") ==
        "test.toml:4: network[0].known_peer: unknown key; did you mean \"known_peers\"?");
  CHECK(scenario_error(net + "versions = [ { version = \"1\", wieght = 1 } ]\n") ==
        "test.toml:4: network[0].versions[0].wieght: unknown key; did you mean \"weight\"?");
  CHECK(scenario_error(net + "[network.fractions]\nrefused = 0.1\nslowlorris = 0.1\n") ==
        "test.toml:6: network[0].fractions.slowlorris: unknown class; did you mean \"slowloris\"?");
  CHECK(
      scenario_error(net + "[network.fractions]\nteleport = 0.1\n")
          .find("test.toml:5: network[0].fractions.teleport: unknown class (refused, blackhole,") ==
      0);
}

TEST_CASE("netsim: the same scenario gives the same network; another seed another one") {
  const auto a = netsim::SimNetwork(netsim::preset("small")).ground_truth().dump();
  const auto b = netsim::SimNetwork(netsim::preset("small")).ground_truth().dump();
  CHECK(a == b);
  auto other = netsim::preset("small");
  other.seed += 1;
  CHECK(netsim::SimNetwork(other).ground_truth().dump() != a);
  // Distinct IDs and addresses; consecutive nodes in different /16s.
  netsim::SimNetwork net(netsim::preset("small"));
  std::set<std::string> ids, ips;
  for (const auto& n : net.nodes()) {
    ids.insert(n.id);
    ips.insert(n.ip.to_string());
  }
  CHECK(ids.size() == net.nodes().size());
  CHECK(ips.size() == net.nodes().size());
  CHECK(net.node(0).ip.bytes()[13] != net.node(1).ip.bytes()[13]);
}

TEST_CASE("netsim: each class fails a probe with its own classified reason") {
  runtime::Loop loop;
  netsim::SimNetwork net(every_class(2));
  netsim::NetsimOptions so;
  so.silent_hold = Millis(3000);
  netsim::Netsim sim(loop, net, so);
  sim.start();

  // The prober: a switch with the real PEX reactor (as `seedscope start` runs), answering in
  // any network, with short timeouts so that the silent and slow classes end quickly.
  app::Config cfg = app::default_config();
  cfg.p2p.laddr = "tcp://127.0.0.1:0";
  cfg.p2p.allow_duplicate_ip = true;
  cfg.p2p.handshake_timeout = Millis(1500);
  cfg.p2p.dial_timeout = Millis(1000);
  cfg.p2p.max_num_outbound_peers = 100;
  struct Outcomes : runtime::SwitchObserver {
    void on_peer_added(const PeerInfo& p) override { added.insert(p.id); }
    void on_peer_removed(const PeerInfo& p, const Failure& why, const std::string&) override {
      removed[p.id] = why;
    }
    std::set<std::string> added;
    std::map<std::string, Failure> removed;
  } outcomes;
  app::NodeOptions o;
  o.config = cfg;
  o.key = std::make_shared<const crypto::NodeKey>(crypto::NodeKey::generate());
  o.rng_seed = 1;
  o.loopback_only = true;
  o.pex.ensure_peers_period = Millis(600'000); // no PEX of our own during the test
  app::Node prober(loop, o, &outcomes);
  prober.start();

  std::map<std::string, std::optional<Failure>> dialed; // by ID
  std::size_t done = 0;
  for (const auto& n : net.nodes()) {
    if (n.behaviour == Behaviour::kNormal || n.behaviour == Behaviour::kSeed) continue;
    auto addr = parse_peer_address(n.address().to_string()).value();
    prober.net().dial_peer(addr, [&, id = n.id](const std::optional<Failure>& f) {
      dialed[id] = f;
      ++done;
    });
  }
  const std::size_t expected = net.nodes().size() - 4; // normal and seed nodes left out
  // After the dials, the classes that complete the handshake misbehave; wait for those too.
  auto post_handshake_done = [&] {
    for (const auto& n : net.nodes()) {
      if (n.behaviour != Behaviour::kGarbageAfterHandshake &&
          n.behaviour != Behaviour::kOversizedMessage &&
          n.behaviour != Behaviour::kUnsolicitedAddrs)
        continue;
      if (!outcomes.removed.count(n.id)) return false;
    }
    return true;
  };
  test::run_until(
      loop, [&] { return done == expected && post_handshake_done(); }, Millis(15000));

  std::map<Behaviour, std::pair<Stage, Reason>> want = {
      {Behaviour::kRefused, {Stage::kDial, Reason::kRefused}},
      {Behaviour::kBlackhole, {Stage::kDial, Reason::kTimeout}},
      {Behaviour::kSilent, {Stage::kSecretHandshake, Reason::kTimeout}},
      {Behaviour::kSlowloris, {Stage::kSecretHandshake, Reason::kTimeout}},
      {Behaviour::kIncompatibleVersion, {Stage::kNodeInfo, Reason::kIncompatibleVersion}},
      {Behaviour::kBadSignature, {Stage::kSecretHandshake, Reason::kAuthFailure}},
      {Behaviour::kIdMismatch, {Stage::kNodeInfo, Reason::kIdMismatch}},
      {Behaviour::kGarbageAfterHandshake, {Stage::kMConnection, Reason::kMalformed}},
      {Behaviour::kOversizedMessage, {Stage::kMConnection, Reason::kMessageTooLarge}},
      {Behaviour::kUnsolicitedAddrs, {Stage::kPex, Reason::kUnsolicitedAddrs}},
  };
  for (const auto& n : net.nodes()) {
    INFO(to_string(n.behaviour), " ", n.address().to_string());
    auto w = want.find(n.behaviour);
    if (w != want.end()) {
      const bool before = w->second.first == Stage::kMConnection || w->second.first == Stage::kPex;
      if (before) {
        REQUIRE(outcomes.removed.count(n.id) == 1);
        CHECK(to_string(outcomes.removed[n.id].stage) == to_string(w->second.first));
        CHECK(to_string(outcomes.removed[n.id].reason) == to_string(w->second.second));
      } else {
        REQUIRE(dialed.count(n.id) == 1);
        REQUIRE(dialed[n.id].has_value());
        CHECK(to_string(dialed[n.id]->stage) == to_string(w->second.first));
        CHECK(to_string(dialed[n.id]->reason) == to_string(w->second.second));
      }
    }
    // An adopting prober completes the handshake with another network's node and keeps it;
    // private/duplicate answers are only asked for later: both connect fine.
    if (n.behaviour == Behaviour::kIncompatibleNetwork ||
        n.behaviour == Behaviour::kPrivateAndDuplicateAddrs) {
      CHECK(dialed[n.id] == std::nullopt);
      CHECK(outcomes.added.count(n.id) == 1);
    }
  }
  prober.stop();
  sim.stop();
  test::drain(loop);
}

TEST_CASE("netsim: a seedscope seed node connected to a few nodes learns the network") {
  runtime::Loop loop;
  netsim::Scenario scenario = netsim::preset("small");
  scenario.address_offset = 30000; // apart from the other tests' simulations
  netsim::SimNetwork net(scenario);
  netsim::Netsim sim(loop, net);
  sim.start();

  app::Config cfg = app::default_config();
  cfg.p2p.laddr = "tcp://127.0.0.1:0";
  cfg.p2p.allow_duplicate_ip = true;
  cfg.p2p.seed_mode = true;
  cfg.p2p.handshake_timeout = Millis(2000);
  cfg.p2p.dial_timeout = Millis(1000);
  cfg.p2p.max_num_outbound_peers = 200;
  // Three normal nodes of the first network are its seeds.
  std::vector<std::string> seeds;
  for (const auto& n : net.nodes())
    if (n.network == 0 && n.behaviour == Behaviour::kNormal && seeds.size() < 3)
      seeds.push_back(n.address().to_string());
  cfg.p2p.seeds = fmt::format("{}", fmt::join(seeds, ","));
  app::NodeOptions o;
  o.config = cfg;
  o.key = std::make_shared<const crypto::NodeKey>(crypto::NodeKey::generate());
  o.rng_seed = 2;
  o.loopback_only = true; // private addresses from misbehaving nodes: refused, never dialed
  o.pex.crawl_period = Millis(250);
  o.pex.min_time_between_crawls = Millis(1000);
  app::Node seed(loop, o);
  seed.start();

  std::set<std::string> network0, all_known;
  for (const auto& n : net.nodes()) {
    if (n.network == 0) network0.insert(n.id);
    all_known.insert(n.id);
    for (const auto& s : n.stale) all_known.insert(s.id);
  }
  auto learned_share = [&] {
    std::size_t hit = 0;
    for (const auto& id : network0) hit += seed.book().has(id);
    return double(hit) / double(network0.size());
  };
  test::run_until(
      loop, [&] { return learned_share() >= 0.9; }, Millis(30000));
  // Everything it learned exists: a simulated node or one of the stale addresses.
  for (const auto& ka : seed.book().snapshot().addrs) {
    INFO(ka.addr.to_string());
    CHECK(all_known.count(ka.addr.id) == 1);
    if (auto* node = [&]() -> const netsim::SimNode* {
          for (const auto& n : net.nodes())
            if (n.id == ka.addr.id) return &n;
          return nullptr;
        }())
      CHECK(ka.addr == node->address());
  }
  MESSAGE(fmt::format("learned {:.0f} % of network 0, book {} addresses; netsim served {} "
                      "handshakes, {} PEX answers",
                      learned_share() * 100, seed.book().size(), sim.stats().handshakes,
                      sim.stats().pex_answers));
  seed.stop();
  sim.stop();
  test::drain(loop);
}

TEST_CASE("netsim: churn takes nodes off the air and back on its schedule") {
  runtime::Loop loop;
  auto scenario = netsim::parse_scenario(
      "seed = 3\naddress_offset = 40000\n[churn]\noffline_fraction = 0.5\nperiod = \"150ms\"\n"
      "[[network]]\nchain_id = \"churn-1\"\nnodes = 60\nseed_nodes = 0\n",
      "churn");
  netsim::SimNetwork net(scenario);
  netsim::Netsim sim(loop, net);
  sim.start();
  auto online_set = [&] {
    std::set<std::uint32_t> on;
    for (const auto& n : net.nodes())
      if (sim.online(n.index)) on.insert(n.index);
    return on;
  };
  const auto first = online_set();
  CHECK(first.size() > 10);
  CHECK(first.size() < 50);
  // An offline node refuses connections; after the next turns of the schedule the set moves.
  std::uint32_t off = 0;
  while (first.count(off)) ++off;
  std::optional<runtime::UpgradeResult> result;
  runtime::Transport prober(loop,
                            std::make_shared<const crypto::NodeKey>(crypto::NodeKey::generate()));
  runtime::DialOptions dopt;
  dopt.upgrade.our_info.moniker = "prober";
  dopt.upgrade.our_info.listen_addr = "tcp://127.0.0.1:1";
  dopt.upgrade.our_info.channels = {0x00};
  dopt.upgrade.adopt_peer_network = true;
  prober.dial(parse_peer_address(net.node(off).address().to_string()).value(), dopt,
              [&](runtime::UpgradeResult r) { result = std::move(r); });
  test::run_until(loop, [&] { return result.has_value(); });
  REQUIRE_FALSE(result->ok());
  CHECK(result->failure.failure.reason == Reason::kRefused);
  test::run_until(
      loop, [&] { return online_set() != first; }, Millis(5000));
  const auto later = online_set();
  CHECK(later != first);
  CHECK(later.size() > 10);
  sim.stop();
  test::drain(loop);
}

} // namespace seedscope
