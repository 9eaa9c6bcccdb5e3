// The Prometheus endpoint: served on loopback, scraped over HTTP by hand.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include <prometheus/registry.h>

#include "crawler/app/metrics_endpoint.hpp"
#include "metrics/node_metrics.hpp"
#include "support/http_client.hpp"
#include "support/loop_harness.hpp"

namespace {

// The node's metrics on a registry, served by the endpoint `start` serves them with.
struct Served {
  explicit Served(const std::string& listen, const std::string& ns = "seedscope")
      : metrics(registry, ns),
        endpoint_(listen, registry) {}
  std::string endpoint() const { return endpoint_.endpoint(); }
  std::uint16_t port() const { return endpoint_.port(); }
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  seedscope::metrics::NodeMetrics metrics;
  seedscope::app::MetricsEndpoint endpoint_;
};

} // namespace

TEST_CASE("metrics: the node's gauges and counters are served in Prometheus text format") {
  Served m("127.0.0.1:0", "seedscope");
  const auto port = m.port();
  REQUIRE(port != 0);
  CHECK(m.endpoint() == fmt::format("http://127.0.0.1:{}/metrics", port));
  seedscope::metrics::NodeSample s;
  s.book_new = 5;
  s.book_old = 2;
  s.peers_inbound = 3;
  s.peers_outbound = 4;
  s.dialing = 1;
  s.pex_idle_hung_up = 6;
  s.pex_answers_refused = 7;
  s.pex_addresses_ignored = 8;
  s.handshakes_evicted = 9;
  s.banned_refused = 10;
  s.log_lines_suppressed = 11;
  s.inbound_evicted = 12;
  m.metrics.update(s);
  m.metrics.peer_added();
  m.metrics.peer_added();
  m.metrics.peer_removed();
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
  // What the node refused strangers.
  CHECK(text.find("seedscope_pex_idle_hung_up_total 6") != std::string::npos);
  CHECK(text.find("seedscope_pex_answers_refused_total 7") != std::string::npos);
  CHECK(text.find("seedscope_pex_addresses_ignored_total 8") != std::string::npos);
  CHECK(text.find("seedscope_p2p_handshakes_evicted_total 9") != std::string::npos);
  CHECK(text.find("seedscope_p2p_banned_refused_total 10") != std::string::npos);
  CHECK(text.find("seedscope_log_lines_suppressed_total 11") != std::string::npos);
  CHECK(text.find("seedscope_p2p_inbound_evicted_total 12") != std::string::npos);
}

TEST_CASE("metrics: an address that cannot be bound is one line with the reason") {
  CHECK_THROWS_WITH_AS(
      Served("256.1.1.1:1"),
      "metrics: cannot listen on 256.1.1.1:1: host \"256.1.1.1\" is not an IP address",
      std::runtime_error);
  CHECK_THROWS_WITH_AS(
      Served("127.0.0.1:65536"),
      "metrics: cannot listen on 127.0.0.1:65536: port \"65536\" is not a number from 0 to 65535",
      std::runtime_error);
  Served first("127.0.0.1:0");
  const std::string taken = fmt::format("127.0.0.1:{}", first.port());
  CHECK_THROWS_WITH_AS(
      Served{taken},
      ("metrics: cannot listen on " + taken + ": address already in use (EADDRINUSE)").c_str(),
      std::runtime_error);
}

TEST_CASE("metrics: every interface and IPv6 loopback") {
  Served any(":0");
  CHECK(any.endpoint() == fmt::format("http://0.0.0.0:{}/metrics", any.port()));
  CHECK(seedscope::test::http_status(
            seedscope::test::http_request(any.port(), "GET", "/metrics")) == 200);
  Served v6("tcp://[::1]:0");
  CHECK(v6.endpoint() == fmt::format("http://[::1]:{}/metrics", v6.port()));
  const std::string r = seedscope::test::http_request(v6.port(), "GET", "/metrics", "::1");
  CHECK(seedscope::test::http_status(r) == 200);
  CHECK(seedscope::test::http_header(r, "Content-Type") ==
        "text/plain; version=0.0.4; charset=utf-8");
  CHECK(seedscope::test::http_status(seedscope::test::http_request(v6.port(), "GET", "/", "::1")) ==
        404);
}

TEST_CASE("metrics: 32 concurrent scrapers while the values move, no loop running") {
  // The endpoint has its own thread and loop: nothing runs on this thread while it serves.
  Served m("127.0.0.1:0");
  const auto port = m.port();
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (std::size_t i = 0; !stop; ++i) {
      seedscope::metrics::NodeSample s;
      s.book_new = i;
      m.metrics.update(s);
      m.metrics.peer_added();
    }
  });
  std::vector<int> ok(32, 0);
  std::vector<std::thread> scrapers;
  for (int k = 0; k < 32; ++k)
    scrapers.emplace_back([&, k] {
      for (int i = 0; i < 50; ++i) {
        const std::string r =
            seedscope::test::http_request(port, i % 5 == 0 ? "HEAD" : "GET", "/metrics");
        const bool head = i % 5 == 0;
        if (seedscope::test::http_status(r) == 200 &&
            (head || seedscope::test::http_body(r).find("seedscope_peers_added_total") !=
                         std::string::npos))
          ++ok[k];
      }
    });
  for (auto& t : scrapers) t.join();
  stop = true;
  writer.join();
  for (int k = 0; k < 32; ++k) CHECK(ok[k] == 50);
}

#include <prometheus/registry.h>

#include "metrics/observatory_metrics.hpp"
#include "storage/observatory.hpp"
#include "support/loop_harness.hpp"
#include "support/metric_value.hpp"
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
  for (std::uint32_t i = 0; i < ring.size(); ++i)
    ring[i] = {static_cast<std::uint32_t>((i + 1) % ring.size())};
  CHECK(largest_scc(ring) == 200000);
}

TEST_CASE("metrics: network and topology gauges are computed from the database") {
  using namespace seedscope;
  test::TempDir dir;
  const auto file = dir.path() / "obs.db";
  storage::load_observatory(file);
  const auto t =
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
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
      w.post(observe::NodeSeen{info, t});
      crawl::ScheduledAddress a;
      a.addr = NetAddress{info.node_id, IpAddress::v4(std::uint8_t(10 + i), 0, 0, 1), 26656};
      a.network = "chain-x";
      a.state = crawl::AddrState::kReachable;
      a.last_success = t;
      w.post(observe::AddressUpdate{a, t});
    }
    // 1 <-> 2 <-> 3 and 3 -> 4: the largest SCC is {1, 2, 3}; nobody advertises 1? (2 does).
    auto edge = [&](int a, int b) {
      w.post(observe::Advertised{"chain-x", fmt::format("{:040x}", a),
                                 NetAddress{fmt::format("{:040x}", b),
                                            IpAddress::v4(std::uint8_t(10 + b), 0, 0, 1), 26656},
                                 t});
    };
    edge(1, 2);
    edge(2, 1);
    edge(2, 3);
    edge(3, 2);
    edge(3, 4);
  }
  auto registry = std::make_shared<prometheus::Registry>();
  metrics::ObservatoryMetrics m(registry, file, "t", std::chrono::hours(1));
  REQUIRE(m.refresh());
  auto value = [&](const std::string& name, const std::map<std::string, std::string>& labels) {
    return seedscope::test::metric_value(*registry, name, labels);
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
  CHECK(value("t_topology_in_degree_nodes", {{"network", "chain-x"}, {"at_most", "1"}}) == 3);
  CHECK(value("t_topology_out_degree_nodes", {{"network", "chain-x"}, {"at_most", "0"}}) == 1);
  CHECK(value("t_network_churn_nodes",
              {{"network", "chain-x"}, {"direction", "joined"}, {"window", "1h"}}) == 4);
  CHECK(value("process_resident_memory_bytes", {}) > 0);
  CHECK(value("t_storage_database_bytes", {}) > 0);
}

#include "metrics/crawler_metrics.hpp"

TEST_CASE("metrics: the seed service is counted by the requester's network") {
  using namespace seedscope;
  metrics::CrawlerMetrics m(std::make_shared<prometheus::Registry>(), "t", /*max_networks=*/2);
  observe::CrawlStatus s;
  s.networks["net-a"].addresses = 30;
  s.networks["net-b"].addresses = 20;
  s.networks["net-c"].addresses = 10; // over the bound: counted as "other"
  s.networks["net-a"].seed_requests = 3;
  s.networks["net-a"].seed_addresses = 90;
  m.update(s, {});
  s.networks["net-a"].seed_requests = 5; // counters move by the difference
  s.networks["net-c"].seed_requests = 2;
  m.update(s, {});
  observe::ContactRecord early; // failed before NodeInfo: no network
  early.inbound = true;
  early.outcome = crawl::Outcome::kHandshakeFailed;
  early.failure = {Stage::kSecretHandshake, Reason::kClosed};
  m.observe(early);
  observe::ContactRecord served;
  served.inbound = true;
  served.network = "net-b";
  served.outcome = crawl::Outcome::kServed;
  m.observe(served);
  auto value = [&](const std::string& name, const std::map<std::string, std::string>& labels) {
    return seedscope::test::metric_value(*m.registry(), name, labels,
                                         seedscope::test::Labels::kExactly);
  };
  CHECK(value("t_seed_requests_total", {{"network", "net-a"}}) == 5);
  CHECK(value("t_seed_addresses_served_total", {{"network", "net-a"}}) == 90);
  CHECK(value("t_seed_requests_total", {{"network", "net-b"}}) == 0); // a line for each network
  CHECK(value("t_seed_requests_total", {{"network", "other"}}) == 2);
  CHECK(value("t_seed_requests_total", {{"network", "net-c"}}) == -1);
  CHECK(value("t_seed_connections_total", {{"outcome", "handshake_failed"}}) == 1);
  CHECK(value("t_seed_connections_total", {{"network", "net-b"}, {"outcome", "served"}}) == 1);
  // Failures by their (stage, reason), bounded names; a served contact is no failure.
  CHECK(value("t_crawler_failures_total",
              {{"direction", "inbound"}, {"stage", "secret_handshake"}, {"reason", "closed"}}) ==
        1);
  CHECK(value("t_crawler_failures_total",
              {{"direction", "inbound"}, {"stage", "local_policy"}, {"reason", "done"}}) == -1);
}

// ---- `seedscope crawl`: the metrics address from --metrics-addr and the config ----------------

#include <csignal>
#include <regex>

namespace {

namespace fs = std::filesystem;

// Starts `seedscope crawl` (nothing to crawl, loopback only) with `extra` arguments.
std::unique_ptr<seedscope::test::ChildProcess> start_crawl(const fs::path& dir,
                                                           std::vector<std::string> extra) {
  std::vector<std::string> argv = {SEEDSCOPE_BINARY,
                                   "--home",
                                   (dir / "home").string(),
                                   "crawl",
                                   "--laddr",
                                   "127.0.0.1:0",
                                   "--db",
                                   (dir / "obs.db").string(),
                                   "--loopback-only",
                                   "--duration",
                                   "60s"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return std::make_unique<seedscope::test::ChildProcess>(argv, dir / "crawl.out",
                                                         dir / "crawl.err");
}

// Waits for "url=http://ADDR/metrics" (the "serving metrics" line); returns ADDR ("" if it does not
// come).
std::string metrics_address(const fs::path& err_file) {
  return seedscope::test::wait_for_match(err_file, R"(url=http://(\S+)/metrics)");
}

// The last line of a process's stderr.
std::string last_line(std::string text) {
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text.substr(text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1);
}

} // namespace

TEST_CASE("crawl --metrics-addr takes every interface and tcp:// and IPv6 forms") {
  struct Form {
    std::string addr, prefix, host;
  };
  for (const Form& f :
       {Form{":0", "0.0.0.0:", "127.0.0.1"}, Form{"tcp://127.0.0.1:0", "127.0.0.1:", "127.0.0.1"},
        Form{"[::1]:0", "[::1]:", "::1"}}) {
    INFO(f.addr);
    seedscope::test::TempDir dir;
    auto crawl = start_crawl(dir.path(), {"--metrics-addr", f.addr});
    const std::string address = metrics_address(dir.path() / "crawl.err");
    INFO(seedscope::test::read_file(dir.path() / "crawl.err"));
    REQUIRE(address.rfind(f.prefix, 0) == 0);
    const auto port = seedscope::test::port_of(address);
    const std::string r = seedscope::test::http_request(port, "GET", "/metrics", f.host);
    CHECK(seedscope::test::http_status(r) == 200);
    CHECK(r.find("seedscope_crawler_addresses_known") != std::string::npos);
    crawl->signal(SIGTERM); // (it may still be starting: a stop of any kind will do)
    CHECK(crawl->wait(seedscope::Millis(10000)).has_value());
  }
}

TEST_CASE("crawl takes prometheus_listen_addr from the config and checks it when loading") {
  seedscope::test::TempDir dir;
  fs::create_directories(dir.path() / "home" / "config");
  const auto config = dir.path() / "home" / "config" / "config.toml";
  seedscope::test::write_file(config, "[instrumentation]\nprometheus_listen_addr = \":0\"\n");
  {
    auto crawl = start_crawl(dir.path(), {});
    const std::string address = metrics_address(dir.path() / "crawl.err");
    INFO(seedscope::test::read_file(dir.path() / "crawl.err"));
    REQUIRE(address.rfind("0.0.0.0:", 0) == 0);
    const auto port = seedscope::test::port_of(address);
    CHECK(seedscope::test::http_status(seedscope::test::http_request(port, "GET", "/metrics")) ==
          200);
    crawl->signal(SIGTERM);
    CHECK(crawl->wait(seedscope::Millis(10000)).has_value());
  }
  seedscope::test::write_file(
      config,
      "moniker = \"m\"\n[instrumentation]\nprometheus_listen_addr = \"127.0.0.1:123456\"\n");
  auto bad = seedscope::test::run_process({SEEDSCOPE_BINARY, "--home",
                                           (dir.path() / "home").string(), "crawl", "--duration",
                                           "1s", "--db", (dir.path() / "obs.db").string()});
  CHECK(bad.exit_code == 1);
  CHECK(bad.err ==
        "seedscope: " + config.string() +
            ":3: prometheus_listen_addr: port \"123456\" is not a number from 0 to 65535\n");
}

TEST_CASE("crawl --metrics-addr on a port in use or a bad port is one line with the reason") {
  Served holder("127.0.0.1:0");
  const std::string taken = fmt::format("127.0.0.1:{}", holder.port());
  for (const auto& [addr, reason] : std::vector<std::pair<std::string, std::string>>{
           {taken, "address already in use (EADDRINUSE)"},
           {"127.0.0.1:99999", "port \"99999\" is not a number from 0 to 65535"},
           {"tcp://localhost:26660", "host \"localhost\" is not an IP address"}}) {
    INFO(addr);
    seedscope::test::TempDir dir;
    auto crawl = start_crawl(dir.path(), {"--metrics-addr", addr});
    const auto code = crawl->wait(seedscope::Millis(20000));
    const std::string err = seedscope::test::read_file(dir.path() / "crawl.err");
    INFO(err);
    CHECK(code == 1);
    CHECK(last_line(err) == "seedscope: metrics: cannot listen on " + addr + ": " + reason);
  }
  // The holder kept serving.
  const auto port = holder.port();
  CHECK(seedscope::test::http_status(seedscope::test::http_request(port, "GET", "/metrics")) ==
        200);
}
