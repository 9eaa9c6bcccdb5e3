// The read queries of storage/queries.hpp (stats, metrics) against a database whose content is
// known: two networks written through the ObservatoryWriter, every number worked out by hand.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "storage/database.hpp"
#include "storage/observatory.hpp"
#include "storage/queries.hpp"
#include "support/process.hpp"

using namespace seedscope;
using namespace seedscope::storage;
using namespace seedscope::observe;
namespace fs = std::filesystem;
using std::chrono::hours;
using std::chrono::minutes;

namespace {

// A fixed "now": the queries take time as an argument, so the content is written around it.
const WallTime kNow = WallTime(std::chrono::seconds(1'700'000'000));

std::string id(int i) { return fmt::format("{:040x}", i); }

NodeInfo node(int i, const std::string& network, const std::string& version) {
  NodeInfo n;
  n.node_id = id(i);
  n.network = network;
  n.version = version;
  n.moniker = fmt::format("node-{}", i);
  n.listen_addr = "tcp://0.0.0.0:26656";
  n.channels = Bytes{0x00};
  return n;
}

crawl::ScheduledAddress address(int i, const std::string& network, IpAddress ip,
                                crawl::AddrState state, WallTime last_success = {}) {
  crawl::ScheduledAddress a;
  a.addr = NetAddress{id(i), ip, 26656};
  a.network = network;
  a.state = state;
  a.first_seen = kNow - hours(3);
  a.last_attempt = kNow - minutes(1);
  a.last_success = last_success;
  a.next_attempt = kNow + minutes(10);
  return a;
}

IpAddress v6(const std::string& text) { return *IpAddress::parse(text); }

// chain-a: nodes 1..8, chain-b: node 9. Node 100 is advertised in chain-a but never reached.
void fill(const fs::path& file) {
  load_observatory(file);
  ObservatoryWriter w(file);
  const char* versions[] = {"",       "0.34.24", "0.34.24", "0.34.24", "0.37.4",
                            "0.37.4", "0.37.1",  "0.37.1",  "0.38.0"};
  for (int i = 1; i <= 8; ++i) {
    NodeInfo n = node(i, "chain-a", versions[i]);
    if (i == 7) n.protocol_version = {7, 10, 0};
    if (i == 8) n.protocol_version = {8, 10, 0};
    n.rpc_address = i <= 2 ? "tcp://0.0.0.0:26657" : "";
    n.tx_index = i % 2 == 1 ? "on" : i <= 4 ? "off" : i == 6 ? "" : "null";
    // Nodes 7 and 8 joined ten minutes ago, the others two hours ago.
    w.post(NodeSeen{n, i >= 7 ? kNow - minutes(10) : kNow - hours(2)});
  }
  w.post(NodeSeen{node(9, "chain-b", "v1.0.0"), kNow - hours(2)});

  using S = crawl::AddrState;
  // Reachable in chain-a: two in 11.1/16, one in 11.2/16, two in 2a01:4f8::/32: 3 groups.
  w.post(
      AddressUpdate{address(1, "chain-a", IpAddress::v4(11, 1, 0, 1), S::kReachable, kNow), kNow});
  w.post(
      AddressUpdate{address(2, "chain-a", IpAddress::v4(11, 1, 0, 2), S::kReachable, kNow), kNow});
  // Reached 90 minutes ago but still reachable: not "left".
  w.post(AddressUpdate{
      address(3, "chain-a", IpAddress::v4(11, 2, 0, 1), S::kReachable, kNow - minutes(90)), kNow});
  w.post(AddressUpdate{address(4, "chain-a", v6("2a01:4f8:1::1"), S::kReachable, kNow), kNow});
  w.post(AddressUpdate{address(5, "chain-a", v6("2a01:4f8:2::1"), S::kReachable, kNow), kNow});
  // Node 6 left within the last hour's previous hour, at two addresses (counted once).
  w.post(AddressUpdate{
      address(6, "chain-a", IpAddress::v4(11, 9, 0, 1), S::kUnreachable, kNow - minutes(90)),
      kNow});
  w.post(AddressUpdate{
      address(6, "chain-a", IpAddress::v4(11, 9, 0, 2), S::kUnreachable, kNow - minutes(100)),
      kNow});
  // Node 7 left 30 hours ago (the previous day), node 8 three hours ago (in no window).
  w.post(AddressUpdate{
      address(7, "chain-a", IpAddress::v4(11, 7, 0, 1), S::kUnreachable, kNow - hours(30)), kNow});
  w.post(AddressUpdate{
      address(8, "chain-a", IpAddress::v4(11, 8, 0, 1), S::kRetired, kNow - hours(3)), kNow});
  w.post(AddressUpdate{address(100, "chain-a", IpAddress::v4(11, 100, 0, 1), S::kNew), kNow});
  // chain-b's reachable node is in a group of its own, not chain-a's.
  w.post(
      AddressUpdate{address(9, "chain-b", IpAddress::v4(11, 3, 0, 1), S::kReachable, kNow), kNow});

  auto edge = [&](const std::string& network, int from, int to, std::uint8_t last_octet) {
    w.post(Advertised{network, id(from),
                      NetAddress{id(to), IpAddress::v4(11, 50, 0, last_octet), 26656}, kNow});
  };
  edge("chain-a", 1, 2, 1);
  edge("chain-a", 1, 2, 2); // the same pair at another address: one edge between IDs
  edge("chain-a", 2, 1, 1);
  edge("chain-a", 3, 3, 1); // itself: no edge
  edge("chain-a", 2, 100, 1);
  edge("chain-b", 9, 4, 1); // node 4 advertised, in another network

  // Availability: a score per node of chain-a from known histories.
  for (int i = 1; i <= 3; ++i) {
    crawl::Availability av;
    for (int k = 0; k < 4; ++k) av.update(k < i, kNow - hours(4 - k));
    w.post(AvailabilityUpdate{"chain-a", id(i), av});
  }

  auto contact = [&](WallTime at, crawl::Outcome outcome, double handshake_ms) {
    ContactRecord c;
    c.at = at;
    c.addr = NetAddress{id(1), IpAddress::v4(11, 1, 0, 1), 26656};
    c.network = "chain-a";
    c.outcome = outcome;
    c.handshake_ms = handshake_ms;
    w.post(std::move(c));
  };
  using crawl::Outcome;
  for (double ms : {10.0, 20.0, 30.0}) contact(kNow, Outcome::kOk, ms);
  contact(kNow - minutes(30), Outcome::kOk, 40);
  for (int k = 0; k < 3; ++k) contact(kNow - minutes(k), Outcome::kRefused, 0);
  contact(kNow, Outcome::kTimeout, 0);
  contact(kNow, Outcome::kFull, 12);
  for (int k = 0; k < 5; ++k)
    contact(kNow - hours(2), Outcome::kRefused, 0); // before the last hour
}

struct Filled {
  Filled() : file(dir.path() / "obs.db") { fill(file); }
  seedscope::test::TempDir dir;
  fs::path file;
};

} // namespace

TEST_CASE("queries: versions per network, the most common first, the rest as other") {
  Filled f;
  auto db = Database::open_read_only(f.file);
  const auto top3 = versions_by_network(db, 3);
  REQUIRE(top3.size() == 2);
  CHECK(top3[0].network == "chain-a");
  REQUIRE(top3[0].top.size() == 3);
  CHECK(top3[0].top[0].version == "0.34.24");
  CHECK(top3[0].top[0].nodes == 3);
  CHECK(top3[0].top[1].version == "0.37.1"); // ties by name
  CHECK(top3[0].top[1].nodes == 2);
  CHECK(top3[0].top[2].version == "0.37.4");
  CHECK(top3[0].top[2].nodes == 2);
  CHECK(top3[0].other == 1);
  CHECK(top3[1].network == "chain-b");
  REQUIRE(top3[1].top.size() == 1);
  CHECK(top3[1].top[0].version == "v1.0.0");
  CHECK(top3[1].other == 0);

  const auto top1 = versions_by_network(db, 1);
  REQUIRE(top1.size() == 2);
  REQUIRE(top1[0].top.size() == 1);
  CHECK(top1[0].other == 5);
}

TEST_CASE("queries: protocol versions, services and /16 groups of one network") {
  Filled f;
  auto db = Database::open_read_only(f.file);
  const auto protocols = protocol_versions(db, "chain-a", 20);
  REQUIRE(protocols.size() == 3);
  CHECK(protocols[0].p2p == 8);
  CHECK(protocols[0].block == 11);
  CHECK(protocols[0].nodes == 6);
  CHECK(protocols[1].p2p == 7); // ties by version
  CHECK(protocols[1].block == 10);
  CHECK(protocols[2].p2p == 8);
  CHECK(protocols[2].block == 10);
  CHECK(protocol_versions(db, "chain-a", 2).size() == 2);
  CHECK(protocol_versions(db, "no-such-chain", 20).empty());

  // Nodes with an RPC address are among the network's counts.
  const auto counts = network_counts(db);
  const auto chain_a = std::find_if(counts.begin(), counts.end(),
                                    [](const NetworkCounts& c) { return c.network == "chain-a"; });
  REQUIRE(chain_a != counts.end());
  CHECK(chain_a->with_rpc == 2);
  CHECK(std::none_of(counts.begin(), counts.end(),
                     [](const NetworkCounts& c) { return c.network == "no-such-chain"; }));
  const auto s = node_services(db, "chain-a");
  CHECK(s.tx_index_on == 4);
  CHECK(s.tx_index_off == 2);
  CHECK(s.tx_index_other == 2);
  const auto none = node_services(db, "no-such-chain");
  CHECK(none.tx_index_on + none.tx_index_off + none.tx_index_other == 0);

  CHECK(reachable_ip_groups(db, "chain-a") == 3);
  CHECK(reachable_ip_groups(db, "chain-b") == 1);
  CHECK(reachable_ip_groups(db, "no-such-chain") == 0);
}

TEST_CASE("queries: churn, joined and left per window") {
  Filled f;
  auto db = Database::open_read_only(f.file);
  const auto hour = churn(db, "chain-a", kNow, hours(1));
  CHECK(hour.joined == 2); // nodes 7 and 8
  CHECK(hour.left == 1);   // node 6, at two addresses
  const auto day = churn(db, "chain-a", kNow, hours(24));
  CHECK(day.joined == 8);
  CHECK(day.left == 1); // node 7
  // Seen from 90 minutes ago, node 8's last success (3 hours ago) lies in the hour before the
  // last one, and node 6 (reached since) has not left yet.
  CHECK(churn(db, "chain-a", kNow - minutes(90), hours(1)).left == 1);
  CHECK(churn(db, "chain-b", kNow, hours(1)).joined == 0);
}

TEST_CASE("queries: reliability scores of a network, lowest first") {
  Filled f;
  auto db = Database::open_read_only(f.file);
  std::vector<double> want;
  for (int i = 1; i <= 3; ++i) {
    crawl::Availability av;
    for (int k = 0; k < 4; ++k) av.update(k < i, kNow - hours(4 - k));
    want.push_back(av.score());
  }
  std::sort(want.begin(), want.end());
  const auto scores = reliability_scores(db, "chain-a");
  REQUIRE(scores.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) CHECK(scores[i] == doctest::Approx(want[i]));
  CHECK(scores[0] < scores[2]);
  CHECK(reliability_scores(db, "chain-b").empty());
}

TEST_CASE("queries: the advertised-by graph of a network between node IDs") {
  Filled f;
  auto db = Database::open_read_only(f.file);
  const auto g = advertised_graph(db, "chain-a");
  // The known nodes by ID, then the advertised stranger.
  REQUIRE(g.ids.size() == 9);
  for (int i = 1; i <= 8; ++i) CHECK(g.ids[std::size_t(i - 1)] == id(i));
  CHECK(g.ids[8] == id(100));
  const std::set<std::pair<std::uint32_t, std::uint32_t>> edges(g.edges.begin(), g.edges.end());
  CHECK(edges == std::set<std::pair<std::uint32_t, std::uint32_t>>{{0, 1}, {1, 0}, {1, 8}});
  CHECK(g.edges.size() == 3);
  // Nobody advertises nodes 5..8; node 3 advertised itself, node 4 was advertised in chain-b.
  CHECK(g.unadvertised == 4);

  const auto b = advertised_graph(db, "chain-b");
  CHECK(b.ids.size() == 2); // node 9 and the node 4 it advertised
  CHECK(b.edges.size() == 1);
  CHECK(b.unadvertised == 1);
  const auto none = advertised_graph(db, "no-such-chain");
  CHECK(none.ids.empty());
  CHECK(none.edges.empty());

  CHECK(advertised_edges(db) == 6); // every (source, target address) row
}

TEST_CASE("queries: addresses by state and the last hour's contacts by outcome") {
  Filled f;
  auto db = Database::open_read_only(f.file);
  const auto states = addresses_by_state(db);
  REQUIRE(states.size() == 4);
  CHECK(states[0].state == "new");
  CHECK(states[0].addresses == 1);
  CHECK(states[1].state == "reachable");
  CHECK(states[1].addresses == 6);
  CHECK(states[2].state == "retired");
  CHECK(states[2].addresses == 1);
  CHECK(states[3].state == "unreachable");
  CHECK(states[3].addresses == 3);

  const auto contacts = recent_contacts(db, hours(1));
  REQUIRE(contacts.size() == 4);
  CHECK(contacts[0].outcome == "ok");
  CHECK(contacts[0].contacts == 4);
  CHECK(contacts[0].avg_handshake_ms == doctest::Approx(25.0));
  CHECK(contacts[1].outcome == "refused"); // the five of two hours ago are outside
  CHECK(contacts[1].contacts == 3);
  CHECK(contacts[1].avg_handshake_ms == 0);
  CHECK(contacts[2].outcome == "full"); // ties by name
  CHECK(contacts[2].avg_handshake_ms == doctest::Approx(12.0));
  CHECK(contacts[3].outcome == "timeout");
  // The window ends at the last contact: three hours take in the older refusals.
  const auto three = recent_contacts(db, hours(3));
  REQUIRE(three.size() == 4);
  CHECK(three[0].outcome == "refused");
  CHECK(three[0].contacts == 8);
}

TEST_CASE("queries: an empty database answers empty") {
  seedscope::test::TempDir dir;
  const auto file = dir.path() / "empty.db";
  load_observatory(file);
  auto db = Database::open_read_only(file);
  CHECK(network_counts(db).empty());
  CHECK(versions_by_network(db, 8).empty());
  CHECK(addresses_by_state(db).empty());
  CHECK(recent_contacts(db, hours(1)).empty());
  CHECK(advertised_edges(db) == 0);
  CHECK(churn(db, "x", kNow, hours(1)).joined == 0);
}

TEST_CASE("queries: the database's size is the file and its write-ahead log") {
  Filled f;
  const auto wal = fs::path(f.file.string() + "-wal");
  { std::ofstream(wal.string(), std::ios::binary | std::ios::app) << std::string(1000, 'x'); }
  CHECK(database_bytes(f.file) == fs::file_size(f.file) + fs::file_size(wal));
  CHECK(database_bytes(f.dir.path() / "missing.db") == 0);
  fs::remove(f.file);
  CHECK(database_bytes(f.file) == fs::file_size(wal));
}
