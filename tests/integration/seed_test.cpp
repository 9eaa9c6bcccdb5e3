// `seedscope start` as a public seed of several chains at once (network = ""): it crawls a
// simulated network of two chains from one chain's seeds and answers every requester with
// addresses of the requester's own chain only, and with none when it knows none.
#include <signal.h>

#include <map>
#include <set>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "crawler/netsim/netsim.hpp"
#include "support/http_client.hpp"
#include "support/loop_harness.hpp"
#include "support/pex_client.hpp"
#include "support/process.hpp"

namespace seedscope {
namespace {

namespace fs = std::filesystem;
const std::string kBinary = SEEDSCOPE_BINARY;

netsim::Scenario hub_and_zone() {
  std::string text = "seed = 12\naddress_offset = 30000\n";
  for (const auto& [chain, nodes] : {std::pair<const char*, int>{"hub-1", 60}, {"zone-7", 40}})
    text += fmt::format("[[network]]\nchain_id = \"{}\"\nnodes = {}\nknown_peers = 10\n"
                        "seed_nodes = 1\n",
                        chain, nodes);
  return netsim::parse_scenario(text, "seed-test");
}

} // namespace

TEST_CASE("start: a seed of every chain answers each requester with its own chain only") {
  runtime::Loop loop;
  netsim::SimNetwork net(hub_and_zone());
  netsim::Netsim sim(loop, net);
  sim.start();
  std::map<std::string, std::string> chain_of; // node ID -> the chain it speaks
  std::string hub_seeds, zone_seed;
  for (const auto& n : net.nodes()) {
    chain_of[n.id] = net.node_info(n).network;
    if (n.behaviour != netsim::Behaviour::kSeed) continue;
    if (chain_of[n.id] == "hub-1")
      hub_seeds += (hub_seeds.empty() ? "" : ",") + n.address().to_string();
  }
  REQUIRE_FALSE(hub_seeds.empty());

  test::TempDir dir;
  const fs::path home = dir.path() / "seed";
  auto init = test::run_process({kBinary, "init", "--home", home.string()});
  REQUIRE(init.exit_code == 0);
  const std::string seed_id = init.out.substr(0, 40);
  const std::uint16_t port = test::free_tcp_port();
  const std::uint16_t metrics_port = test::free_tcp_port();
  // Loopback addresses need a non-strict book; only hub-1's seed is given.
  test::write_file(home / "config" / "config.toml",
                   fmt::format("moniker = \"multi-chain-seed\"\nnetwork = \"\"\n[p2p]\n"
                               "laddr = \"tcp://127.0.0.1:{}\"\nseed_mode = true\n"
                               "addr_book_strict = false\nseeds = \"{}\"\n"
                               "[instrumentation]\nprometheus_listen_addr = \"127.0.0.1:{}\"\n",
                               port, hub_seeds, metrics_port));
  test::ChildProcess seed({kBinary, "start", "--home", home.string()}, dir.path() / "out",
                          dir.path() / "err");
  REQUIRE(test::wait_for_port(port, Millis(10000)));
  PeerAddress target;
  target.id = seed_id;
  target.host = "127.0.0.1";
  target.port = port;
  target.ip = IpAddress::parse("127.0.0.1");

  // The seed's metrics, scraped (it serves them itself).
  std::string scrape;
  auto value = [&](const std::string& series) {
    const auto at = scrape.find("\n" + series + " ");
    if (at == std::string::npos) return -1.0;
    return std::stod(scrape.substr(at + series.size() + 2));
  };
  const std::string verified = "seedscope_addrbook_addresses{bucket=\"old\"}";
  // The seed crawls hub-1 from its seed (the netsim nodes answer on this loop). Ask it; while
  // its answer is short, serve the network until its book has verified more.
  test::PexAnswer hub;
  double verified_when_asked = -1;
  int requests = 0;
  for (int attempt = 0; attempt < 60; ++attempt) {
    hub = test::pex_request(loop, target, "hub-1");
    ++requests;
    if (hub.addrs && hub.addrs->size() >= 10) break;
    scrape = test::http_body(test::http_get(metrics_port, "/metrics"));
    verified_when_asked = value(verified);
    test::run_until_polled(
        loop,
        [&] {
          scrape = test::http_body(test::http_get(metrics_port, "/metrics"));
          return value(verified) > verified_when_asked;
        },
        Millis(100), Millis(30000));
  }
  INFO(test::read_file(dir.path() / "err"));
  REQUIRE(hub.connected);
  CHECK(hub.their_network == "hub-1");
  REQUIRE(hub.addrs);
  CHECK(hub.addrs->size() >= 10); // verified so far (a Go seed crawls every 30 s)
  for (const auto& a : *hub.addrs) {
    INFO(a.to_string());
    CHECK(chain_of[a.id] == "hub-1");
  }
  // A node of another chain gets nothing of hub-1 (the seed knows no node of zone-7).
  auto zone = test::pex_request(loop, target, "zone-7");
  ++requests;
  REQUIRE(zone.connected);
  CHECK(zone.their_network == "zone-7");
  REQUIRE(zone.addrs);
  CHECK(zone.addrs->empty());

  // Like a Tendermint node, `start` serves its metrics: peers, the book, PEX traffic (sampled
  // every second: scrape until every request made is counted).
  test::run_until_polled(
      loop,
      [&] {
        scrape = test::http_body(test::http_get(metrics_port, "/metrics"));
        return value("seedscope_pex_seed_answers_total") >= requests;
      },
      Millis(100), Millis(10000));
  INFO(scrape);
  CHECK(value("seedscope_peers{direction=\"inbound\"}") >= 0);
  CHECK(value("seedscope_peers{direction=\"outbound\"}") >= 0);
  CHECK(value("seedscope_addrbook_addresses{bucket=\"old\"}") >= 10); // verified hub-1 nodes
  CHECK(value("seedscope_pex_requests_received_total") >= requests);
  CHECK(value("seedscope_pex_seed_answers_total") >= requests);
  CHECK(value("seedscope_pex_addresses_sent_total") >= 10);
  CHECK(value("seedscope_pex_requests_sent_total") >= 10); // it crawled hub-1
  CHECK(value("seedscope_pex_answers_received_total") >= 10);
  CHECK(value("seedscope_peers_added_total") >= 10);

  seed.signal(SIGTERM);
  CHECK(seed.wait(Millis(10000)) == std::optional<int>(0));
  sim.stop();
  test::drain(loop);
}

TEST_CASE(
    "crawl: made-up chain IDs are refused and chains known only from inbound peers are capped") {
  test::TempDir dir;
  const fs::path home = dir.path() / "crawler";
  auto init = test::run_process({kBinary, "init", "--home", home.string()});
  REQUIRE(init.exit_code == 0);
  const std::uint16_t port = test::free_tcp_port();
  test::write_file(home / "config" / "config.toml",
                   fmt::format("moniker = \"crawler\"\n[p2p]\nladdr = \"tcp://127.0.0.1:{}\"\n"
                               "[crawler]\nmax_unconfirmed_networks = 2\n"
                               "[instrumentation]\nprometheus_listen_addr = \"off\"\n",
                               port));
  test::ChildProcess crawl({kBinary, "crawl", "--home", home.string(), "--loopback-only"},
                           dir.path() / "out", dir.path() / "err");
  REQUIRE(test::wait_for_port(port, Millis(10000)));
  PeerAddress target;
  target.id = init.out.substr(0, 40);
  target.host = "127.0.0.1";
  target.port = port;
  target.ip = IpAddress::parse("127.0.0.1");
  runtime::Loop loop;
  // Not a chain ID Tendermint allows: the handshake is refused.
  for (const std::string& bad :
       std::vector<std::string>{"weird chain id with spaces", std::string(51, 'x'), "tab\there"}) {
    INFO(bad);
    CHECK_FALSE(test::pex_request(loop, target, bad).connected);
  }
  // Two chains nobody confirmed yet are taken (and get nothing: nothing is known of them),
  // a third is refused after the handshake.
  for (const char* chain : {"u-1", "u-2"}) {
    auto a = test::pex_request(loop, target, chain);
    CHECK(a.connected);
    REQUIRE(a.addrs);
    CHECK(a.addrs->empty());
  }
  auto third = test::pex_request(loop, target, "u-3");
  CHECK_FALSE(third.addrs.has_value());
  CHECK(test::pex_request(loop, target, "u-1").addrs.has_value()); // known ones still are
  crawl.signal(SIGTERM);
  REQUIRE(crawl.wait(Millis(10000)) == std::optional<int>(0));

  auto stats = test::run_process({kBinary, "stats", "--home", home.string()});
  INFO(stats.out);
  REQUIRE(stats.exit_code == 0);
  for (const char* chain : {"u-1", "u-2"}) {
    const auto line = stats.out.find(std::string("\n") + chain + " ");
    REQUIRE(line != std::string::npos);
    const auto end = stats.out.find('\n', line + 1);
    CHECK(stats.out.substr(line, end - line).find("known only from inbound peers") !=
          std::string::npos);
  }
  CHECK(stats.out.find("u-3") == std::string::npos);
  CHECK(stats.out.find("weird") == std::string::npos);
  CHECK(stats.out.find("xxxxxxxxxx") == std::string::npos);
  // The command line checks chain IDs the same way.
  auto probe = test::run_process({kBinary, "probe", target.id + "@127.0.0.1:1", "--network",
                                  "weird chain", "--home", (dir.path() / "p").string()});
  CHECK(probe.exit_code == 2); // a usage error
  CHECK(probe.err.find("--network: chain ID \"weird chain\" holds whitespace") !=
        std::string::npos);
}

} // namespace seedscope
