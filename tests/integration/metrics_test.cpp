// The Prometheus endpoint: served on loopback, scraped over HTTP by hand.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <map>
#include <string>

#include <fmt/format.h>

#include "metrics/node_metrics.hpp"
#include "support/loop_harness.hpp"

namespace {

// Debian's prebuilt civetweb (the HTTP server under prometheus-cpp) crashes in mg_printf
// (__vsnprintf_chk) when the process runs under AddressSanitizer, in its own thread, before
// any of our code is involved; the release build runs these tests.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kUnderAsan = true;
#else
constexpr bool kUnderAsan = false;
#endif


} // namespace

TEST_CASE("metrics: the node's gauges and counters are served in Prometheus text format" *
          doctest::skip(kUnderAsan)) {
  seedscope::metrics::NodeMetrics m("127.0.0.1:0", "seedscope");
  const auto colon = m.endpoint().rfind(':');
  const auto port = static_cast<std::uint16_t>(std::stoi(m.endpoint().substr(colon + 1)));
  REQUIRE(port != 0);
  seedscope::metrics::NodeSample s;
  s.book_new = 5;
  s.book_old = 2;
  s.peers_inbound = 3;
  s.peers_outbound = 4;
  s.dialing = 1;
  m.update(s);
  m.peer_added();
  m.peer_added();
  m.peer_removed();
  const std::string text = seedscope::test::http_get(port, "/metrics");
  INFO(text);
  CHECK(text.find("200 OK") != std::string::npos);
  CHECK(text.find("seedscope_addrbook_addresses{bucket=\"new\"} 5") != std::string::npos);
  CHECK(text.find("seedscope_addrbook_addresses{bucket=\"old\"} 2") != std::string::npos);
  CHECK(text.find("seedscope_peers{direction=\"inbound\"} 3") != std::string::npos);
  CHECK(text.find("seedscope_peers{direction=\"outbound\"} 4") != std::string::npos);
  CHECK(text.find("seedscope_dials_in_flight 1") != std::string::npos);
  CHECK(text.find("seedscope_peers_added_total 2") != std::string::npos);
  CHECK(text.find("seedscope_peers_removed_total 1") != std::string::npos);
}

TEST_CASE("metrics: an address that cannot be bound is a clear error") {
  CHECK_THROWS_WITH_AS(seedscope::metrics::NodeMetrics("256.1.1.1:1"),
                       doctest::Contains("metrics: cannot serve on 256.1.1.1:1"),
                       std::runtime_error);
}

#include <prometheus/registry.h>

#include "metrics/observatory_metrics.hpp"
#include "storage/observatory.hpp"
#include "support/loop_harness.hpp"
#include "support/process.hpp"

TEST_CASE("metrics: largest strongly connected component") {
  using seedscope::metrics::largest_scc;
  CHECK(largest_scc({}) == 0);
  CHECK(largest_scc({{}}) == 1);
  // 0 -> 1 -> 2 -> 0 (a cycle of 3), 2 -> 3 -> 4 -> 3 (a cycle of 2), 5 alone.
  CHECK(largest_scc({{1}, {2}, {0, 3}, {4}, {3}, {}}) == 3);
  // A chain: every node its own component.
  CHECK(largest_scc({{1}, {2}, {3}, {}}) == 1);
  // A long cycle (deep recursion would overflow; the iterative version does not).
  std::vector<std::vector<std::uint32_t>> ring(200000);
  for (std::uint32_t i = 0; i < ring.size(); ++i) ring[i] = {static_cast<std::uint32_t>((i + 1) % ring.size())};
  CHECK(largest_scc(ring) == 200000);
}

TEST_CASE("metrics: network and topology gauges are computed from the database") {
  using namespace seedscope;
  test::TempDir dir;
  const auto file = dir.path() / "obs.db";
  storage::load_observatory(file);
  const auto t = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  {
    storage::ObservatoryWriter w(file);
    for (int i = 1; i <= 4; ++i) {
      NodeInfo info;
      info.node_id = fmt::format("{:040x}", i);
      info.network = "chain-x";
      info.version = i <= 3 ? "0.34.24" : "0.37.4";
      info.moniker = "m";
      info.listen_addr = "tcp://0.0.0.0:26656";
      info.tx_index = i % 2 ? "on" : "off";
      info.rpc_address = i == 1 ? "tcp://1.2.3.4:26657" : "";
      w.post(storage::NodeSeen{info, t});
      crawl::ScheduledAddress a;
      a.addr = NetAddress{info.node_id, IpAddress::v4(std::uint8_t(10 + i), 0, 0, 1), 26656};
      a.network = "chain-x";
      a.state = crawl::AddrState::kReachable;
      a.last_success = t;
      w.post(storage::AddressUpdate{a, t});
    }
    // 1 <-> 2 <-> 3 and 3 -> 4: the largest SCC is {1, 2, 3}; nobody advertises 1? (2 does).
    auto edge = [&](int a, int b) {
      w.post(storage::Advertised{"chain-x", fmt::format("{:040x}", a),
                                 NetAddress{fmt::format("{:040x}", b), IpAddress::v4(std::uint8_t(10 + b), 0, 0, 1), 26656}, t});
    };
    edge(1, 2); edge(2, 1); edge(2, 3); edge(3, 2); edge(3, 4);
  }
  auto registry = std::make_shared<prometheus::Registry>();
  metrics::ObservatoryMetrics m(registry, file, "t", std::chrono::hours(1));
  REQUIRE(m.refresh());
  auto value = [&](const std::string& name, const std::map<std::string, std::string>& labels) {
    for (const auto& fam : registry->Collect()) {
      if (fam.name != name) continue;
      for (const auto& metric : fam.metric) {
        bool match = true;
        for (const auto& [k, v] : labels) {
          bool found = false;
          for (const auto& lp : metric.label) found = found || (lp.name == k && lp.value == v);
          match = match && found;
        }
        if (match) return metric.gauge.value;
      }
    }
    return -1.0;
  };
  CHECK(value("t_network_known_nodes", {{"network", "chain-x"}}) == 4);
  CHECK(value("t_network_nodes_by_version", {{"network", "chain-x"}, {"version", "0.34.24"}}) == 3);
  CHECK(value("t_network_nodes_by_version", {{"network", "chain-x"}, {"version", "0.37.4"}}) == 1);
  CHECK(value("t_network_nodes_with_rpc", {{"network", "chain-x"}}) == 1);
  CHECK(value("t_network_nodes_by_tx_index", {{"network", "chain-x"}, {"tx_index", "on"}}) == 2);
  CHECK(value("t_network_ip_groups", {{"network", "chain-x"}}) == 4);
  CHECK(value("t_topology_edges", {{"network", "chain-x"}}) == 5);
  CHECK(value("t_topology_largest_scc_nodes", {{"network", "chain-x"}}) == 3);
  CHECK(value("t_topology_unadvertised_nodes", {{"network", "chain-x"}}) == 0);
  CHECK(value("t_topology_in_degree_nodes", {{"network", "chain-x"}, {"le", "1"}}) == 3);
  CHECK(value("t_topology_out_degree_nodes", {{"network", "chain-x"}, {"le", "0"}}) == 1);
  CHECK(value("t_network_churn_nodes", {{"network", "chain-x"}, {"direction", "joined"}, {"window", "1h"}}) == 4);
  CHECK(value("process_resident_memory_bytes", {}) > 0);
  CHECK(value("t_storage_database_bytes", {}) > 0);
}
