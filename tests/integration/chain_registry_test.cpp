// The chain registry as starting points: chain.json parsing, a checkout's scan (bad files and
// entries named, the rest used) and `seedscope crawl --chain-registry` against netsim chains.
#include <signal.h>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "crawler/app/chain_registry.hpp"
#include "crawler/netsim/scenario.hpp"
#include "crawler/netsim/sim_network.hpp"
#include "storage/database.hpp"
#include "support/process.hpp"

namespace seedscope::app {
namespace {

namespace fs = std::filesystem;
using test::run_process;

const std::string kBinary = SEEDSCOPE_BINARY;
const std::string kId = "0123456789abcdef0123456789abcdef01234567";
const std::string kOtherId = "89abcdef0123456789abcdef0123456789abcdef";

std::string chain_json(const std::string& chain_id, const std::string& seeds,
                       const std::string& persistent, const std::string& extra = {}) {
  return fmt::format(R"({{"$schema": "../chain.schema.json", "chain_name": "{}", {}
  "chain_id": "{}", "bech32_prefix": "x",
  "peers": {{"seeds": [{}], "persistent_peers": [{}]}}}})",
                     chain_id.substr(0, chain_id.find('-')), extra, chain_id, seeds, persistent);
}

std::string peer(const std::string& id, const std::string& address, const std::string& by) {
  return fmt::format(R"({{"id": "{}", "address": "{}", "provider": "{}"}})", id, address, by);
}

TEST_CASE("chain registry: a chain.json's peers, and each bad entry named and skipped") {
  const std::string text = chain_json(
      "cosmoshub-4",
      peer(kId, "seeds.example.com:26656", "Example") + "," +
          peer(kOtherId, "tcp://203.0.113.7:26656", "") + "," + peer("nothex", "1.2.3.4:1", "") +
          "," + peer(kId, "203.0.113.8", "no port") + "," + "42",
      peer(kId, kOtherId + "@203.0.113.9:26656", "other id in the address") + "," +
          peer(kOtherId, kOtherId + "@[2001:db8::1]:26656", "same id"),
      R"("status": "live", "network_type": "mainnet",)");
  const RegistryChain c = parse_chain_json(text);
  CHECK(c.chain_id == "cosmoshub-4");
  CHECK(c.chain_name == "cosmoshub");
  CHECK(c.network_type == "mainnet");
  CHECK(c.live());
  REQUIRE(c.peers.size() == 3);
  CHECK(c.peers[0].address.to_string() == kId + "@seeds.example.com:26656");
  CHECK(c.peers[0].provider == "Example");
  CHECK(c.peers[0].seed);
  CHECK(c.peers[1].address.to_string() == kOtherId + "@203.0.113.7:26656");
  CHECK_FALSE(c.peers[2].seed);
  CHECK(c.peers[2].address.to_string() == kOtherId + "@[2001:db8::1]:26656");
  REQUIRE(c.bad_entries.size() == 4);
  CHECK(c.bad_entries[0].rfind("peers.seeds[2]: \"nothex@1.2.3.4:1\": ", 0) == 0);
  CHECK(c.bad_entries[1].rfind("peers.seeds[3]: \"" + kId + "@203.0.113.8\": ", 0) == 0);
  CHECK(c.bad_entries[2] == "peers.seeds[4]: entry: expected an object");
  CHECK(c.bad_entries[3] == "peers.persistent_peers[0]: \"" + kId + "@" + kOtherId +
                                "@203.0.113.9:26656\": the address names another ID than \"id\"");

  CHECK_FALSE(parse_chain_json(chain_json("old-1", "", "", R"("status": "killed",)")).live());
  CHECK(parse_chain_json(R"({"chain_id": "bare-1"})").peers.empty());
  auto error = [](const std::string& t) {
    try {
      parse_chain_json(t);
    } catch (const RegistryError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(error("{\"chain_id\": ").rfind("not JSON: ", 0) == 0);
  CHECK(error("[1]") == "not a JSON object");
  CHECK(error("{\"chain_name\": \"x\"}") == "no chain_id");
  CHECK(error("{\"chain_id\": 7}") == "chain_id: expected a string");
  CHECK(error("{\"chain_id\": \"has space\"}").rfind("chain_id: ", 0) == 0);
  CHECK(error("{\"chain_id\": \"ok-1\", \"peers\": []}") == "no error");
  CHECK(parse_chain_json("{\"chain_id\": \"ok-1\", \"peers\": []}").bad_entries ==
        std::vector<std::string>{"peers: expected an object"});
}

void write_file(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  test::write_file(file, text);
}

// A registry checkout: live mainnets, a killed chain, a broken file, the template, testnets.
void write_registry(const fs::path& dir, const std::string& one_seeds,
                    const std::string& two_seed) {
  write_file(dir / "one" / "chain.json", chain_json("one-1", one_seeds, ""));
  write_file(dir / "two" / "chain.json",
             chain_json("two-2", two_seed,
                        peer(kId, "no-such-host.invalid:26656", "gone") + "," +
                            peer("bad", "127.0.0.1:1", "")));
  write_file(dir / "old" / "chain.json",
             chain_json("old-1", peer(kId, "127.0.0.1:9", ""), "", R"("status": "killed",)"));
  write_file(dir / "broken" / "chain.json", "{\"chain_id\": \"broken-1\",");
  write_file(dir / "_template" / "chain.json", "not even json");
  write_file(dir / "docs" / "README.md", "no chain here");
  write_file(
      dir / "testnets" / "threetestnet" / "chain.json",
      chain_json("three-3", peer(kId, "127.0.0.1:9", ""), "", R"("network_type": "testnet",)"));
}

TEST_CASE("chain registry: a checkout's live mainnets; bad files and entries named") {
  test::TempDir dir;
  write_registry(dir.path(), peer(kId, "127.0.0.1:1", "a"), peer(kOtherId, "127.0.0.2:2", "b"));
  const RegistryScan scan = scan_chain_registry(dir.path(), false);
  REQUIRE(scan.chains.size() == 2);
  CHECK(scan.chains[0].chain_id == "one-1");
  CHECK(scan.chains[0].file == dir.path() / "one" / "chain.json");
  CHECK(scan.chains[1].chain_id == "two-2");
  CHECK(scan.chains[1].peers.size() == 2); // the seed and the unresolvable name
  CHECK(scan.not_live == 1);
  REQUIRE(scan.problems.size() == 2);
  CHECK(scan.problems[0].rfind((dir.path() / "broken" / "chain.json").string() + ": not JSON: ",
                               0) == 0);
  CHECK(scan.problems[1].rfind((dir.path() / "two" / "chain.json").string() +
                                   ": peers.persistent_peers[1]: \"bad@127.0.0.1:1\": ",
                               0) == 0);
  const RegistryScan with_testnets = scan_chain_registry(dir.path(), true);
  REQUIRE(with_testnets.chains.size() == 3);
  CHECK(with_testnets.chains[2].chain_id == "three-3");

  CHECK_THROWS_WITH_AS(
      scan_chain_registry(dir.path() / "none", false),
      ((dir.path() / "none").string() + ": not a directory (a checkout of cosmos/chain-registry)")
          .c_str(),
      RegistryError);
  CHECK_THROWS_AS(scan_chain_registry(dir.path() / "docs", false), RegistryError);
}

TEST_CASE("`crawl --chain-registry` starts from every live chain's peers and names the bad "
          "files") {
  test::TempDir dir;
  const fs::path scenario = dir.path() / "sim.toml";
  test::write_file(scenario, "seed = 5\naddress_offset = 52000\n"
                             "[[network]]\nchain_id = \"one-1\"\nnodes = 20\nseed_nodes = 2\n"
                             "[[network]]\nchain_id = \"two-2\"\nnodes = 10\nseed_nodes = 1\n");
  const netsim::SimNetwork truth(netsim::load_scenario(scenario));
  std::vector<std::string> seeds[2];
  for (const auto& n : truth.nodes())
    if (n.behaviour == netsim::Behaviour::kSeed)
      seeds[n.network].push_back(peer(n.id, fmt::format("{}:26656", n.ip.to_string()), "netsim"));
  REQUIRE(seeds[0].size() == 2);
  REQUIRE(seeds[1].size() == 1);
  const fs::path registry = dir.path() / "chain-registry";
  write_registry(registry, seeds[0][0] + "," + seeds[0][1], seeds[1][0]);

  test::ChildProcess sim({kBinary, "netsim", "--scenario", scenario.string(), "--duration", "60s"},
                         dir.path() / "sim.out", dir.path() / "sim.err");
  REQUIRE_MESSAGE(
      !test::wait_for_match(dir.path() / "sim.out", "two-2 seeds: (\\S+)", Millis(15000)).empty(),
      test::read_file(dir.path() / "sim.err"));
  const fs::path home = dir.path() / "home";
  auto r = run_process({kBinary, "--home", home.string(), "crawl", "--chain-registry",
                        registry.string(), "--laddr", "127.0.0.1:0", "--loopback-only",
                        "--metrics-addr", "off", "--duration", "6s"},
                       Millis(30000));
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.err.find("chain registry: a file or entry left out") != std::string::npos);
  CHECK(r.err.find("problem=\"" + (registry / "broken" / "chain.json").string() + ": not JSON") !=
        std::string::npos);
  CHECK(r.err.find("problem=\"" + (registry / "two" / "chain.json").string() +
                   ": peers.persistent_peers[1]: \\\"bad@127.0.0.1:1\\\": ") != std::string::npos);
  CHECK(r.err.find(fmt::format("chain registry: starting points{}module=crawler dir={} chains=2 "
                               "seeds=3 persistent_peers=1 not_live=1 other_network_type=0 "
                               "problems=2\n",
                               std::string(44 - 31, ' ') + " ", registry.string())) !=
        std::string::npos);
  const auto dns = r.err.find("seed: DNS lookup failed");
  REQUIRE(dns != std::string::npos);
  CHECK(r.err.substr(dns, r.err.find('\n', dns) - dns).find(" addr=no-such-host.invalid:26656 ") !=
        std::string::npos);
  // Both chains were crawled from their registry seeds.
  auto db = storage::Database::open_read_only(home / "data" / "seedscope.db");
  for (const char* chain : {"one-1", "two-2"}) {
    CAPTURE(chain);
    auto st = db.prepare("SELECT count(*) FROM nodes WHERE network = ?1");
    st.bind(1, std::string(chain));
    REQUIRE(st.step());
    CHECK(st.column_int(0) > 2);
  }
  auto usage = run_process({kBinary, "--home", home.string(), "crawl", "--testnets"});
  CHECK(usage.exit_code == 2);
  CHECK(usage.err.find("--testnets: only with --chain-registry DIR") != std::string::npos);
  sim.signal(SIGTERM);
  CHECK(sim.wait(Millis(10000)).has_value());
}

} // namespace
} // namespace seedscope::app
