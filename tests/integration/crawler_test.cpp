// The crawler against simulated networks on loopback, compared with netsim's ground truth:
// coverage, every class recorded with its outcome, networks kept apart, the seed service
// answering a Go-style request. (The `seedscope crawl` process killed and restarted:
// crash_test.cpp.)
#include <map>
#include <memory>
#include <set>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <ostream>

#include "core/crypto/keys.hpp"
#include "core/pex/pex_messages.hpp"
#include "core/pex/pex_reactor.hpp"
#include "crawler/engine/crawler.hpp"
#include "crawler/netsim/netsim.hpp"
#include "crawler/runtime/peer.hpp"
#include "storage/database.hpp"
#include "support/loop_harness.hpp"
#include "support/pex_client.hpp"
#include "support/process.hpp"

namespace seedscope {
namespace {

using crawl::Outcome;
using netsim::Behaviour;

// Two networks, every class in each.
netsim::Scenario two_networks(std::uint32_t offset) {
  std::string text = fmt::format("seed = 9\naddress_offset = {}\n", offset);
  const std::pair<const char*, int> nets[] = {{"crawl-a", 180}, {"crawl-b", 140}};
  for (const auto& [chain, nodes] : nets) {
    text += fmt::format("[[network]]\nchain_id = \"{}\"\nnodes = {}\nknown_peers = 12\n"
                        "stale_addresses = 1\nseed_nodes = 1\n[network.fractions]\n",
                        chain, nodes);
    for (Behaviour b : netsim::fraction_classes())
      text += fmt::format("{} = {}\n", to_string(b), b == Behaviour::kRefused ? 0.1 : 0.025);
  }
  return netsim::parse_scenario(text, "crawler-test");
}

// What the crawler must record for a node of each class (first contact).
Outcome expected(Behaviour b) {
  switch (b) {
  case Behaviour::kRefused: return Outcome::kRefused;
  case Behaviour::kBlackhole: return Outcome::kTimeout;
  case Behaviour::kSilent:
  case Behaviour::kSlowloris: return Outcome::kHandshakeTimeout;
  case Behaviour::kIncompatibleVersion: return Outcome::kIncompatible;
  case Behaviour::kBadSignature: return Outcome::kAuthFailure;
  case Behaviour::kIdMismatch: return Outcome::kIdMismatch;
  case Behaviour::kGarbageAfterHandshake:
  case Behaviour::kUnsolicitedAddrs:
  case Behaviour::kOversizedMessage: return Outcome::kMisbehaving;
  default: return Outcome::kOk; // normal, seed, private+duplicate (their bad entries are dropped)
  }
}

struct Recorder final : observe::Observer {
  void observe(const observe::Observation& o) override {
    const auto* c = std::get_if<observe::ContactRecord>(&o);
    if (c == nullptr || c->inbound) return;
    auto& list = by_id[c->addr.id];
    list.push_back({c->outcome, std::string(to_string(c->failure.stage)) + "/" +
                                    std::string(to_string(c->failure.reason))});
  }
  std::map<std::string, std::vector<std::pair<Outcome, std::string>>> by_id;
};

} // namespace

TEST_CASE(
    "crawler: two simulated networks are crawled to the ground truth, every class classified") {
  runtime::Loop loop;
  netsim::SimNetwork net(two_networks(60000));
  netsim::NetsimOptions so;
  so.silent_hold = Millis(5000);
  netsim::Netsim sim(loop, net, so);
  sim.start();

  test::TempDir dir;
  const auto db_file = dir.path() / "obs.db";
  storage::load_observatory(db_file);
  storage::ObservatoryWriter writer(db_file);

  engine::CrawlerOptions o;
  o.key = std::make_shared<const crypto::NodeKey>(crypto::NodeKey::generate());
  o.our_info.moniker = "crawler-test";
  o.our_info.version = "seedscope-test";
  o.our_info.listen_addr = "tcp://127.0.0.1:0";
  o.laddr = "tcp://127.0.0.1:0";
  o.dial_timeout = Millis(1000);
  o.handshake_timeout = Millis(1500);
  o.contact.pex_timeout = Millis(2000);
  // Generous, so that an unsolicited PexAddrs is seen before our request even on a loaded
  // machine (sanitizers): later it would pass for the answer.
  o.contact.request_delay = Millis(1000);
  o.max_concurrent_dials = 128;
  o.loopback_only = true;
  Recorder rec;
  observe::FanOut fan;
  fan.add(&writer);
  fan.add(&rec);
  o.observer = &fan;
  engine::Crawler crawler(loop, o);
  // The seed nodes of both networks (each network's nodes know only their own).
  for (const auto& a : net.seed_addresses()) crawler.add_seed(a);
  crawler.start();

  // Ground truth: verified nodes per chain (as the node itself says: incompatible_network
  // nodes speak another chain, and adopting crawlers verify them in it); misbehaving nodes
  // complete the handshake but are never verified.
  std::map<std::string, std::set<std::string>> reachable;
  std::map<std::string, const netsim::SimNode*> by_id;
  for (const auto& n : net.nodes()) {
    by_id[n.id] = &n;
    if (netsim::completes_handshake(n.behaviour) &&
        !netsim::misbehaves_after_handshake(n.behaviour))
      reachable[net.node_info(n).network].insert(n.id);
  }
  auto coverage = [&](const std::string& chain) {
    auto it = crawler.nodes().find(chain);
    std::size_t hit = 0;
    if (it != crawler.nodes().end())
      for (const auto& id : reachable[chain]) hit += it->second.count(id);
    return double(hit) / double(reachable[chain].size());
  };
  auto classes_seen = [&] {
    std::set<Behaviour> seen;
    for (const auto& [id, list] : rec.by_id)
      if (auto n = by_id.find(id); n != by_id.end()) seen.insert(n->second->behaviour);
    return seen.size();
  };
  test::run_until(
      loop,
      [&] {
        return coverage("crawl-a") >= 0.99 && coverage("crawl-b") >= 0.99 &&
               classes_seen() == netsim::fraction_classes().size() + 2 &&
               crawler.stats().in_flight == 0;
      },
      Millis(40000));
  MESSAGE(fmt::format("coverage crawl-a {:.1f} %, crawl-b {:.1f} %; {} contacts",
                      coverage("crawl-a") * 100, coverage("crawl-b") * 100,
                      crawler.stats().contacts));

  // Every class recorded with its outcome; misbehaving ones did not stop the crawl.
  std::map<Behaviour, int> checked;
  for (const auto& [id, list] : rec.by_id) {
    auto n = by_id.find(id);
    if (n == by_id.end()) continue; // a stale address: never existed
    INFO(to_string(n->second->behaviour), " ", id, " ", list.front().second);
    CHECK(list.front().first == expected(n->second->behaviour));
    ++checked[n->second->behaviour];
  }
  for (Behaviour b : netsim::fraction_classes()) CHECK(checked[b] > 0);
  // Stale addresses (nodes that never existed) are refused.
  for (const auto& [id, list] : rec.by_id)
    if (by_id.count(id) == 0) CHECK(list.front().first == Outcome::kRefused);

  // Networks kept apart: every node is filed under the chain it speaks.
  for (const auto& [chain, nodes] : crawler.nodes())
    for (const auto& [id, node] : nodes) {
      INFO(chain, " ", id);
      REQUIRE(by_id.count(id) == 1);
      CHECK(net.node_info(*by_id[id]).network == chain);
    }
  CHECK(crawler.nodes().count("crawl-a-fork") + crawler.nodes().count("crawl-b-fork") >= 1);

  // The seed service: a Go-style node of crawl-b dials us and asks once.
  PeerAddress target;
  target.id = o.key->node_id();
  target.host = "127.0.0.1";
  target.port = crawler.port();
  target.ip = IpAddress::parse("127.0.0.1");
  const auto answer = test::pex_request(loop, target, "crawl-b", Millis(10000), true);
  INFO(answer.failure);
  REQUIRE(answer.connected);
  CHECK(answer.their_network == "crawl-b"); // the crawler answered in our network
  CHECK(answer.requests == 0);
  REQUIRE(answer.addrs);
  CHECK(answer.addrs->size() >= 32);
  for (const auto& a : *answer.addrs) {
    INFO(a.to_string());
    REQUIRE(by_id.count(a.id) == 1);
    const auto* n = by_id[a.id];
    CHECK(net.node_info(*n).network == "crawl-b");
    CHECK(expected(n->behaviour) == Outcome::kOk);
    CHECK(a == n->address());
  }
  CHECK(crawler.stats().seed_requests == 1);
  CHECK(crawler.stats().networks.at("crawl-b").seed_requests == 1);
  CHECK(crawler.stats().networks.at("crawl-b").seed_addresses == answer.addrs->size());

  // Where the geo annotator knows the ASNs, seed answers spread over them: three nodes of
  // their own providers come first, before the second node of the provider of all the rest.
  {
    std::vector<NetAddress> known;
    for (const auto& [id, node] : crawler.nodes().at("crawl-b"))
      if (node.reachable) known.push_back(node.addr);
    REQUIRE(known.size() > 4);
    std::map<IpAddress, std::uint32_t> asn_of;
    for (std::size_t i = 0; i < known.size(); ++i)
      asn_of[known[i].ip] = i < 3 ? std::uint32_t(65001 + i) : 65000;
    for (const auto& [ip, asn] : asn_of) crawler.set_geo(ip, geo::GeoInfo{"", asn, ""});
    const auto spread = crawler.seed_answer("crawl-b");
    REQUIRE(spread.size() >= 4);
    std::set<std::uint32_t> first;
    for (std::size_t i = 0; i < 4; ++i) first.insert(asn_of.at(spread[i].ip));
    CHECK(first == std::set<std::uint32_t>{65000, 65001, 65002, 65003});
    for (std::size_t i = 4; i < spread.size(); ++i) CHECK(asn_of.at(spread[i].ip) == 65000);
    // Unknown again: the /16 groups decide as before.
    for (const auto& [ip, asn] : asn_of) crawler.set_geo(ip, geo::GeoInfo{});
    CHECK(crawler.seed_answer("crawl-b").size() == spread.size());
  }

  // A peer that breaks the rules (a PexAddrs nobody asked for) is hung up and banned: its
  // next connection, and any other from its IP, is closed at accept.
  const auto rude = test::pex_send(loop, target, "crawl-b", pex::encode_pex_addrs({}));
  CHECK(rude.connected);
  CHECK(rude.closed);
  CHECK_FALSE(rude.addrs);
  const auto again = test::pex_request(loop, target, "crawl-b", Millis(10000));
  CHECK_FALSE(again.connected);
  CHECK_FALSE(again.addrs);

  crawler.stop();
  sim.stop();
  writer.flush();
  auto db = storage::Database::open(db_file);
  auto st = db.prepare("SELECT count(DISTINCT network) FROM nodes");
  REQUIRE(st.step());
  CHECK(st.column_int(0) >= 3);
  auto served =
      db.prepare("SELECT count(*) FROM contacts WHERE direction = 'in' AND outcome = 'served'");
  REQUIRE(served.step());
  CHECK(served.column_int(0) == 1);
  // Nodes that misbehave after the handshake: their own state, never a success, never a peer.
  std::size_t misbehaving = 0;
  for (const auto& n : net.nodes()) {
    if (!netsim::misbehaves_after_handshake(n.behaviour) || rec.by_id.count(n.id) == 0) continue;
    INFO(to_string(n.behaviour), " ", n.id);
    auto a = db.prepare("SELECT state, last_success IS NULL FROM addresses WHERE id = ?1");
    a.bind(1, n.id);
    REQUIRE(a.step());
    CHECK(a.column_text(0) == "misbehaving");
    CHECK(a.column_int(1) == 1);
    for (const auto& [chain, nodes] : crawler.nodes()) CHECK(nodes.count(n.id) == 0);
    ++misbehaving;
  }
  CHECK(misbehaving > 0);
  test::drain(loop);
}

} // namespace seedscope
