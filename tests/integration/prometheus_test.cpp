// Metrics against the real tools: a Prometheus server (Debian's package, started here on
// loopback with a temporary config and the repository's alert rules) scrapes a `seedscope
// crawl` of a simulated network; every PromQL expression of the dashboards and alert rules
// returns data through Prometheus' HTTP API, and the crawler-down alert goes pending once the
// crawler stops; promtool accepts the config and the rules, passes alerts_test.yml and finds
// nothing to say about a real scrape; the dashboards are valid JSON with unique panel IDs that
// only name metrics seedscope serves, with data source, instance and network variables.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <ostream>

#include "crawler/netsim/netsim.hpp"
#include "support/http_client.hpp"
#include "support/loop_harness.hpp"
#include "support/mmdb_fixture.hpp"
#include "support/process.hpp"

#ifndef SEEDSCOPE_BINARY
#error "SEEDSCOPE_BINARY must be defined"
#endif
#ifndef SEEDSCOPE_SOURCE_DIR
#error "SEEDSCOPE_SOURCE_DIR must be defined"
#endif

namespace seedscope {
namespace {

namespace fs = std::filesystem;
const fs::path kDashboards = fs::path(SEEDSCOPE_SOURCE_DIR) / "dashboards";

std::string url_encode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
      out += static_cast<char>(c);
    else out += fmt::format("%{:02X}", c);
  }
  return out;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (auto pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size()))
    s.replace(pos, from.size(), to);
  return s;
}

// Every expression of the dashboards (with $network and $instance as any) and the query part
// of every alert rule ("<query> <comparison> <threshold>").
std::vector<std::string> expressions() {
  std::vector<std::string> out;
  for (const auto& entry : fs::directory_iterator(kDashboards / "grafana")) {
    if (entry.path().extension() != ".json") continue;
    auto j = nlohmann::json::parse(test::read_file(entry.path()));
    for (const auto& p : j["panels"])
      for (const auto& t : p["targets"])
        out.push_back(replace_all(replace_all(t["expr"], "$network", ".*"), "$instance", ".*"));
  }
  std::ifstream rules(kDashboards / "prometheus" / "alerts.yml");
  std::string line;
  const std::regex cmp(R"(^(.*) (==|<|>|<=|>=|!=) [0-9.]+$)");
  while (std::getline(rules, line)) {
    auto pos = line.find("expr: ");
    if (pos == std::string::npos) continue;
    std::string e = line.substr(pos + 6);
    std::smatch m;
    REQUIRE_MESSAGE(std::regex_match(e, m, cmp), e);
    out.push_back(m[1]);
  }
  return out;
}

} // namespace

TEST_CASE("dashboards: valid JSON, unique panel IDs, provisioning and Prometheus files present") {
  std::size_t boards = 0;
  for (const auto& entry : fs::directory_iterator(kDashboards / "grafana")) {
    if (entry.path().extension() != ".json") continue;
    INFO(entry.path().string());
    ++boards;
    auto j = nlohmann::json::parse(test::read_file(entry.path()));
    CHECK(j.contains("uid"));
    CHECK(j.contains("title"));
    std::set<int> ids;
    REQUIRE(j["panels"].is_array());
    for (const auto& p : j["panels"]) {
      CHECK(ids.insert(p["id"].get<int>()).second);
      CHECK_FALSE(p["targets"].empty());
    }
    // Importable into any Grafana: the data source is a variable, never a fixed UID; an
    // instance variable keeps several seedscope processes apart.
    std::map<std::string, nlohmann::json> vars;
    for (const auto& v : j["templating"]["list"]) vars[v["name"]] = v;
    REQUIRE(vars.count("datasource") == 1);
    CHECK(vars["datasource"]["type"] == "datasource");
    CHECK(vars["datasource"]["query"] == "prometheus");
    REQUIRE(vars.count("instance") == 1);
    CHECK(vars["instance"]["datasource"]["uid"] == "${datasource}");
    CHECK(test::read_file(entry.path()).find("\"uid\": \"prometheus\"") == std::string::npos);
    const bool has_network = vars.count("network") == 1;
    if (has_network) CHECK(vars["network"]["datasource"]["uid"] == "${datasource}");
    const std::regex metric(R"((seedscope|process)_[a-z_]+)");
    const std::regex scoped(R"((seedscope|process)_[a-z_]+\{instance=~"\$instance"[,}])");
    for (const auto& p : j["panels"]) {
      CHECK(p["datasource"]["uid"] == "${datasource}");
      for (const auto& t : p["targets"]) {
        const std::string e = t["expr"];
        INFO(e);
        CHECK(t["datasource"]["uid"] == "${datasource}");
        const auto count = [&](const std::regex& r) {
          return std::distance(std::sregex_iterator(e.begin(), e.end(), r), std::sregex_iterator());
        };
        CHECK(count(metric) == count(scoped)); // every selector names the instance
        if (has_network) CHECK(e.find("network=~\"$network\"") != std::string::npos);
        CHECK(e.find("{{le}}") == std::string::npos);
      }
    }
    if (entry.path().filename() == "seed-service.json") CHECK(has_network);
  }
  CHECK(boards == 6);
  CHECK(fs::exists(kDashboards / "grafana" / "provisioning" / "datasources" / "prometheus.yml"));
  CHECK(fs::exists(kDashboards / "grafana" / "provisioning" / "dashboards" / "seedscope.yml"));
  auto config = test::run_process({"/usr/bin/promtool", "check", "config",
                                   (kDashboards / "prometheus" / "prometheus.yml").string()});
  INFO(config.out, config.err);
  CHECK(config.exit_code == 0);
  auto rules = test::run_process({"/usr/bin/promtool", "check", "rules",
                                  (kDashboards / "prometheus" / "alerts.yml").string()});
  INFO(rules.out, rules.err);
  CHECK(rules.exit_code == 0);
  CHECK(rules.out.find("6 rules found") != std::string::npos);
  // The crawler-down alerts fire for the instance that is down, and when none is scraped.
  auto unit = test::run_process({"/usr/bin/promtool", "test", "rules",
                                 (kDashboards / "prometheus" / "alerts_test.yml").string()});
  INFO(unit.out, unit.err);
  CHECK(unit.exit_code == 0);
  CHECK(unit.out.find("SUCCESS") != std::string::npos);
  const std::string alerts = test::read_file(kDashboards / "prometheus" / "alerts.yml");
  CHECK(alerts.find("expr: up{job=\"seedscope\"} == 0") != std::string::npos);
  CHECK(alerts.find("expr: absent(up{job=\"seedscope\"}) == 1") != std::string::npos);
}

TEST_CASE("prometheus: a real server scrapes a crawl and every dashboard and alert expression "
          "returns data") {
  runtime::Loop loop;
  netsim::Scenario scenario = netsim::preset("small");
  scenario.address_offset = 80000;
  scenario.churn = {};
  netsim::SimNetwork net(scenario);
  netsim::Netsim sim(loop, net);
  sim.start();
  const std::string seeds = net.seed_list();

  test::TempDir dir;
  const auto metrics_port = test::free_tcp_port();
  const auto laddr_port = test::free_tcp_port();
  const auto prom_port = test::free_tcp_port();
  // Geo databases for the geo dashboard's panels.
  const auto country_db = dir.path() / "country.mmdb", asn_db = dir.path() / "asn.mmdb";
  test::write_netsim_fixtures(country_db, asn_db);
  test::ChildProcess crawl({SEEDSCOPE_BINARY, "--home", (dir.path() / "home").string(), "crawl",
                            "--seed", seeds, "--laddr", fmt::format("127.0.0.1:{}", laddr_port),
                            "--loopback-only", "--metrics-addr",
                            fmt::format("127.0.0.1:{}", metrics_port), "--geo-db",
                            country_db.string(), "--geo-db", asn_db.string()},
                           dir.path() / "crawl.out", dir.path() / "crawl.err");
  const auto prom_config = dir.path() / "prometheus.yml";
  test::write_file(prom_config,
                   fmt::format("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                               "rule_files:\n  - {}\nscrape_configs:\n  - job_name: seedscope\n"
                               "    static_configs:\n      - targets: [\"127.0.0.1:{}\"]\n",
                               (kDashboards / "prometheus" / "alerts.yml").string(), metrics_port));
  auto check = test::run_process({"/usr/bin/promtool", "check", "config", prom_config.string()});
  CHECK(check.exit_code == 0);
  test::ChildProcess prom({"/usr/bin/prometheus", "--config.file=" + prom_config.string(),
                           "--storage.tsdb.path=" + (dir.path() / "tsdb").string(),
                           fmt::format("--web.listen-address=127.0.0.1:{}", prom_port)},
                          dir.path() / "prom.out", dir.path() / "prom.err");
  // What Prometheus holds for a query ("" until it answers), and whether that has data.
  auto query_prometheus = [&](const std::string& query) {
    return test::http_body(test::http_get(prom_port, "/api/v1/query?query=" + url_encode(query)));
  };
  auto has_data = [](const std::string& result) {
    try {
      auto j = nlohmann::json::parse(result);
      return j["status"] == "success" && !j["data"]["result"].empty();
    } catch (const std::exception&) {
      return false;
    }
  };
  // Crawl (netsim runs on this loop) until Prometheus has scraped outbound contacts.
  test::run_until_polled(
      loop,
      [&] {
        return has_data(
            query_prometheus("seedscope_crawler_contacts_total{direction=\"outbound\"} > 0"));
      },
      Millis(250), Millis(30000));
  // Some inbound traffic for the seed panels, until Prometheus has it too.
  for (int i = 0; i < 2; ++i) {
    auto probe =
        test::run_process({SEEDSCOPE_BINARY, "--home", (dir.path() / "probe").string(), "probe",
                           fmt::format("{}@127.0.0.1:{}", std::string(40, '0'), laddr_port)});
    (void)probe; // the ID is wrong on purpose or not: either way an inbound contact is recorded
  }
  test::run_until_polled(
      loop,
      [&] {
        return has_data(
            query_prometheus("seedscope_crawler_contacts_total{direction=\"inbound\"} > 0"));
      },
      Millis(250), Millis(30000));

  const std::string scrape = test::http_body(test::http_get(metrics_port, "/metrics"));
  INFO(test::read_file(dir.path() / "crawl.err"));
  REQUIRE(scrape.find("seedscope_crawler_contacts_total") != std::string::npos);
  // Prometheus' own linter has nothing to say about a real scrape (no gauge with `le`, ...).
  test::write_file(dir.path() / "scrape.txt", scrape);
  auto lint = test::run_process(
      {"/bin/sh", "-c",
       "exec /usr/bin/promtool check metrics < " + (dir.path() / "scrape.txt").string()});
  CHECK(lint.exit_code == 0);
  CHECK(lint.out == "");
  CHECK(lint.err == "");

  std::map<std::string, std::string> missing;
  for (const auto& e : expressions()) {
    // Only metrics seedscope serves.
    const std::regex name(R"((seedscope|process)_[a-z_]+)");
    for (auto it = std::sregex_iterator(e.begin(), e.end(), name); it != std::sregex_iterator();
         ++it) {
      std::string m = it->str();
      INFO(e);
      CHECK_MESSAGE(scrape.find(m) != std::string::npos, m);
    }
    // absent(X) has data when X has none: X is what must return data while the crawler runs.
    const std::string query =
        e.rfind("absent(", 0) == 0 && e.back() == ')' ? e.substr(7, e.size() - 8) : e;
    // Rates need two scrapes in their window: ask again for a while.
    std::string result;
    const bool ok = test::poll_until(
        loop, [&] { return has_data(result = query_prometheus(query)); }, Millis(500),
        Millis(20000));
    if (!ok) missing[e] = result;
  }
  for (const auto& [e, r] : missing) {
    const std::string what = "no data for: " + e + " -> " + r;
    FAIL_CHECK(what);
  }
  INFO(test::read_file(dir.path() / "prom.err"));
  CHECK(missing.empty());
  // The crawler goes away: its target is down and the SeedscopeDown alert becomes pending.
  crawl.signal(SIGTERM);
  CHECK(crawl.wait(Millis(10000)) == 0);
  std::string alerts;
  const bool pending = test::poll_until(
      loop,
      [&] {
        alerts = query_prometheus("ALERTS{alertname=\"SeedscopeDown\"}");
        if (!has_data(alerts)) return false;
        const auto j = nlohmann::json::parse(alerts);
        return j["data"]["result"][0]["metric"]["instance"] ==
               fmt::format("127.0.0.1:{}", metrics_port);
      },
      Millis(500), Millis(30000));
  INFO(alerts);
  CHECK(pending);
  prom.signal(SIGTERM);
  CHECK(prom.wait(Millis(10000)).has_value());
  sim.stop();
  test::drain(loop);
}

} // namespace seedscope
