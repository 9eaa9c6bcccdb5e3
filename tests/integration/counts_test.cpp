// One network, one set of counts: after `seedscope crawl` of a simulated network, the crawl
// summary, `seedscope stats`, the metrics and /api/v1/networks report the same nodes,
// reachable and misbehaving nodes and addresses per chain, and those equal netsim's ground
// truth.
#include <csignal>
#include <map>
#include <regex>
#include <sstream>
#include <thread>

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <prometheus/registry.h>

#include "crawler/app/api_server.hpp"
#include "crawler/netsim/scenario.hpp"
#include "metrics/observatory_metrics.hpp"
#include "support/loop_harness.hpp"
#include "support/metric_value.hpp"
#include "support/process.hpp"

namespace seedscope {
namespace {

namespace fs = std::filesystem;
const std::string kBinary = SEEDSCOPE_BINARY;

struct Counts {
  long nodes = -1, reachable = -1, misbehaving = -1, addresses = -1;
  bool operator==(const Counts&) const = default;
};
std::ostream& operator<<(std::ostream& os, const Counts& c) {
  return os << fmt::format("nodes {} reachable {} misbehaving {} addresses {}", c.nodes,
                           c.reachable, c.misbehaving, c.addresses);
}

// Two chains, every class, no churn: a crawl of 15 s reaches every node.
std::string scenario() {
  std::string text = "seed = 21\naddress_offset = 10000\n";
  for (const auto& [chain, nodes] : {std::pair<const char*, int>{"count-a", 90}, {"count-b", 60}}) {
    text += fmt::format("[[network]]\nchain_id = \"{}\"\nnodes = {}\nknown_peers = 10\n"
                        "stale_addresses = 1\nseed_nodes = 1\n[network.fractions]\n",
                        chain, nodes);
    for (netsim::Behaviour b : netsim::fraction_classes())
      text += fmt::format("{} = {}\n", to_string(b), b == netsim::Behaviour::kRefused ? 0.1 : 0.03);
  }
  return text;
}

// "  count-a: 51 reachable of 66 nodes seen, 6 misbehaving, 135 addresses" (the crawl summary)
std::map<std::string, Counts> parse_summary(const std::string& log) {
  std::map<std::string, Counts> out;
  std::regex line(
      R"(  ([^ :]+): (\d+) reachable of (\d+) nodes seen, (\d+) misbehaving, (\d+) addresses)");
  for (auto it = std::sregex_iterator(log.begin(), log.end(), line); it != std::sregex_iterator();
       ++it)
    out[(*it)[1]] = {std::stol((*it)[3]), std::stol((*it)[2]), std::stol((*it)[4]),
                     std::stol((*it)[5])};
  return out;
}

// The table of `seedscope stats`: network nodes reachable misbehaving addresses ...
std::map<std::string, Counts> parse_stats(const std::string& out) {
  std::map<std::string, Counts> counts;
  std::istringstream in(out);
  std::string l;
  bool table = false;
  while (std::getline(in, l)) {
    if (l.rfind("network ", 0) == 0) {
      table = true;
      continue;
    }
    if (!table) continue;
    if (l.empty()) break;
    std::istringstream row(l);
    std::string net;
    Counts c;
    row >> net >> c.nodes >> c.reachable >> c.misbehaving >> c.addresses;
    counts[net] = c;
  }
  return counts;
}

double gauge(prometheus::Registry& r, const std::string& name, const std::string& network) {
  return test::metric_value(r, name, {{"network", network}});
}

} // namespace

TEST_CASE(
    "counts: crawl summary, stats, metrics and API agree with each other and the ground truth") {
  test::TempDir dir;
  test::write_file(dir.path() / "scenario.toml", scenario());
  test::ChildProcess sim({kBinary, "netsim", "--scenario", (dir.path() / "scenario.toml").string(),
                          "--ground-truth", (dir.path() / "truth.json").string()},
                         dir.path() / "netsim.out", dir.path() / "netsim.err");
  // netsim prints each chain's seed list once its nodes listen (the ground truth is written
  // before that).
  std::string seeds;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string out = test::read_file(dir.path() / "netsim.out");
    if (out.find("count-a seeds: ") != std::string::npos &&
        out.find("count-b seeds: ") != std::string::npos) {
      std::istringstream lines(out);
      for (std::string l; std::getline(lines, l);)
        if (auto at = l.find(" seeds: "); at != std::string::npos)
          seeds += (seeds.empty() ? "" : ",") + l.substr(at + 8);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20)); // polling another process
  }
  REQUIRE_FALSE(seeds.empty());
  const nlohmann::json truth = nlohmann::json::parse(test::read_file(dir.path() / "truth.json"));

  const fs::path db = dir.path() / "obs.db";
  auto crawl =
      test::run_process({kBinary, "crawl", "--home", (dir.path() / "home").string(), "--db",
                         db.string(), "--seed", seeds, "--loopback-only", "--laddr", "127.0.0.1:0",
                         "--metrics-addr", "off", "--duration", "15s"},
                        Millis(60000));
  INFO(crawl.err);
  REQUIRE(crawl.exit_code == 0);
  sim.signal(SIGTERM);

  // Ground truth per chain (as each node says: incompatible_network nodes speak a fork).
  std::map<std::string, Counts> want;
  for (const auto& n : truth["nodes"]) {
    const auto cls = netsim::behaviour_from_string(n["class"].get<std::string>());
    REQUIRE(cls);
    const std::string chain = n["advertised_network"];
    auto& c = want[chain];
    if (c.nodes < 0) c = {0, 0, 0, -1};
    // NodeInfo reaches the crawler: completed handshakes, and the refused incompatible version.
    if (netsim::completes_handshake(*cls) || *cls == netsim::Behaviour::kIncompatibleVersion)
      ++c.nodes;
    if (netsim::completes_handshake(*cls) && !netsim::misbehaves_after_handshake(*cls))
      ++c.reachable;
    if (netsim::misbehaves_after_handshake(*cls)) ++c.misbehaving;
  }

  const auto summary = parse_summary(crawl.out); // the summary is on stdout
  auto stats_run = test::run_process({kBinary, "stats", "--db", db.string()});
  REQUIRE(stats_run.exit_code == 0);
  const auto stats = parse_stats(stats_run.out);
  auto api = app::handle_api_request(db, "GET", "/api/v1/networks", "");
  REQUIRE(api.status == 200);
  std::map<std::string, Counts> from_api;
  for (const auto& n : nlohmann::json::parse(api.body))
    from_api[n["network"]] = {n["nodes"], n["reachable"], n["misbehaving"], n["addresses"]};
  auto registry = std::make_shared<prometheus::Registry>();
  metrics::ObservatoryMetrics m(registry, db, "t", std::chrono::hours(1));
  REQUIRE(m.refresh());

  REQUIRE(summary.size() == want.size());
  for (const auto& [chain, expected] : want) {
    INFO(chain);
    REQUIRE(summary.count(chain) == 1);
    const Counts& s = summary.at(chain);
    CHECK(s.nodes == expected.nodes);
    CHECK(s.reachable == expected.reachable);
    CHECK(s.misbehaving == expected.misbehaving);
    CHECK(s.addresses > 0);
    CHECK(stats.at(chain) == s);
    CHECK(from_api.at(chain) == s);
    const Counts from_metrics{
        static_cast<long>(gauge(*registry, "t_network_known_nodes", chain)),
        static_cast<long>(gauge(*registry, "t_network_reachable_nodes", chain)),
        static_cast<long>(gauge(*registry, "t_network_misbehaving_nodes", chain)),
        static_cast<long>(gauge(*registry, "t_network_addresses", chain))};
    CHECK(from_metrics == s);
  }
  CHECK(sim.wait(Millis(10000)).has_value());
}

} // namespace seedscope
