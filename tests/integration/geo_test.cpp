// Where the nodes are: MaxMind DB files written at test time (tests/support/write_mmdb.pl) map
// netsim's 127.x ranges to made-up countries and ASNs. Lookups and their errors, reopening a
// changed file, the annotator on a loop, the observatory's records, capped exports, and a
// crawl whose stats, API and metrics match the fixture; a broken file leaves the crawl running.
#include <csignal>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <prometheus/registry.h>

#include "crawler/app/api_server.hpp"
#include "crawler/app/geo_annotator.hpp"
#include "crawler/geo/maxmind.hpp"
#include "crawler/netsim/scenario.hpp"
#include "metrics/observatory_metrics.hpp"
#include "storage/exports.hpp"
#include "storage/observatory.hpp"
#include "storage/queries.hpp"
#include "support/loop_harness.hpp"
#include "support/metric_value.hpp"
#include "support/mmdb_fixture.hpp"
#include "support/process.hpp"
#include "support/recording_log.hpp"

namespace seedscope {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
const std::string kBinary = SEEDSCOPE_BINARY;

using test::fixture_asn;
using test::fixture_country;
using test::fixture_org;

IpAddress v4(int a, int b, int c, int d) {
  return IpAddress::v4(std::uint8_t(a), std::uint8_t(b), std::uint8_t(c), std::uint8_t(d));
}

WallTime now_ms() {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

std::string error_of(const fs::path& file, std::optional<geo::DbKind> kind) {
  try {
    geo::MaxMindDb::open(file, kind);
  } catch (const geo::GeoError& e) {
    return e.what();
  }
  return "";
}

} // namespace

TEST_CASE("geo databases: countries and ASNs are looked up; a missing, corrupt or wrong-type "
          "file is a clear error") {
  test::TempDir dir;
  const auto country_db = dir.path() / "country.mmdb", asn_db = dir.path() / "asn.mmdb";
  test::write_netsim_fixtures(country_db, asn_db);

  auto country = geo::MaxMindDb::open(country_db, geo::DbKind::kCountry, dir.path());
  CHECK(country->kind() == geo::DbKind::kCountry);
  CHECK(country->type() == "Test-Country");
  auto asn = geo::MaxMindDb::open(asn_db, std::nullopt); // its type decides
  CHECK(asn->kind() == geo::DbKind::kAsn);
  // The private copy was unlinked at once: nothing is left beside the files.
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir.path())) files += e.is_regular_file() ? 1 : 0;
  CHECK(files == 2);

  std::string error;
  geo::GeoInfo info;
  REQUIRE(country->lookup(v4(127, 3, 9, 9), info, error));
  REQUIRE(asn->lookup(v4(127, 3, 9, 9), info, error));
  CHECK(info == geo::GeoInfo{"SG", 64503, "Hoster A"});
  // IPv4-mapped IPv6 is the same address.
  geo::GeoInfo mapped;
  REQUIRE(asn->lookup(*IpAddress::parse("::ffff:127.3.9.9"), mapped, error));
  CHECK(mapped.asn == 64503);
  // Not covered: no error, nothing filled.
  geo::GeoInfo none;
  CHECK(country->lookup(v4(127, 10, 0, 1), none, error)); // every tenth /16 has no country
  CHECK(asn->lookup(*IpAddress::parse("2001:db8::1"), none, error));
  CHECK(none.empty());
  CHECK(error.empty());

  // The type names decide the kind.
  CHECK(geo::kind_of_type("GeoLite2-City") == geo::DbKind::kCountry);
  CHECK(geo::kind_of_type("DBIP-Country-Lite") == geo::DbKind::kCountry);
  CHECK(geo::kind_of_type("GeoLite2-ASN") == geo::DbKind::kAsn);
  CHECK(geo::kind_of_type("DBIP-ASN-Lite (compat=GeoLite2-ASN)") == geo::DbKind::kAsn);
  CHECK_FALSE(geo::kind_of_type("GeoIP2-Anonymous-IP"));

  const auto missing = dir.path() / "nope.mmdb";
  CHECK(error_of(missing, geo::DbKind::kCountry) ==
        fmt::format("geo database {}: no such file", missing.string()));
  const auto corrupt = dir.path() / "corrupt.mmdb";
  test::write_file(corrupt, std::string(5000, 'x'));
  CHECK(error_of(corrupt, std::nullopt).find("not a usable MaxMind DB file") != std::string::npos);
  // A real file cut short.
  const auto cut = dir.path() / "cut.mmdb";
  test::write_file(cut, test::read_file(asn_db).substr(0, 300));
  CHECK(error_of(cut, std::nullopt).find("not a usable MaxMind DB file") != std::string::npos);
  CHECK(error_of(asn_db, geo::DbKind::kCountry) ==
        fmt::format("geo database {}: holds ASNs (\"Test-ASN\"), not countries", asn_db.string()));
  CHECK(error_of(country_db, geo::DbKind::kAsn) ==
        fmt::format("geo database {}: holds countries (\"Test-Country\"), not ASNs",
                    country_db.string()));
  const auto other = dir.path() / "other.mmdb";
  test::write_mmdb(other, "Test-Anonymous-IP", {{"127.0.0.0/8", "", 1, "x"}});
  CHECK(error_of(other, std::nullopt).find("holds neither countries nor ASNs") !=
        std::string::npos);
  CHECK(error_of(dir.path(), std::nullopt).find("not a regular file") != std::string::npos);
}

TEST_CASE("geo lookup: a changed file is reopened, a damaged replacement leaves the old one in "
          "use") {
  test::TempDir dir;
  const auto country_db = dir.path() / "country.mmdb", asn_db = dir.path() / "asn.mmdb";
  test::write_netsim_fixtures(country_db, asn_db);
  const auto missing = dir.path() / "later.mmdb";
  geo::GeoLookup lookup(
      {{country_db, geo::DbKind::kCountry}, {asn_db, geo::DbKind::kAsn}, {missing, std::nullopt}},
      dir.path());
  std::vector<std::string> errors;
  CHECK(lookup.refresh(errors)); // opened
  REQUIRE(errors.size() == 1);   // the missing file, once
  CHECK(errors[0] == fmt::format("geo database {}: no such file", missing.string()));
  CHECK(lookup.describe().size() == 2);
  errors.clear();
  CHECK_FALSE(lookup.refresh(errors)); // nothing changed, nothing said again
  CHECK(errors.empty());
  CHECK(lookup.lookup(v4(127, 1, 0, 1), errors) == geo::GeoInfo{"US", 64501, "Hoster B"});

  // The operator replaces the ASN file (by rename, as geoipupdate does): new answers.
  test::write_mmdb(asn_db, "Test-ASN", {{"127.1.0.0/16", "", 65000, "Moved Ltd"}});
  CHECK(lookup.refresh(errors));
  CHECK(errors.empty());
  CHECK(lookup.lookup(v4(127, 1, 0, 1), errors) == geo::GeoInfo{"US", 65000, "Moved Ltd"});
  CHECK(lookup.lookup(v4(127, 2, 0, 1), errors).asn == 0); // gone from the new file

  // A damaged replacement: said once, the database opened before stays in use.
  test::write_file(dir.path() / "junk", std::string(4096, '\x01'));
  fs::rename(dir.path() / "junk", asn_db);
  CHECK_FALSE(lookup.refresh(errors));
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].find("(the database opened before stays in use)") != std::string::npos);
  CHECK(lookup.lookup(v4(127, 1, 0, 1), errors).asn == 65000);
  errors.clear();
  CHECK_FALSE(lookup.refresh(errors));
  CHECK(errors.empty());
  // The missing file appears: opened.
  test::write_mmdb(missing, "Test-ASN", {{"127.9.0.0/16", "", 7, "Late"}});
  CHECK(lookup.refresh(errors));
  CHECK(lookup.lookup(v4(127, 9, 0, 1), errors).as_org == "Late");
}

TEST_CASE("geo annotator: every address learnt is located off the loop, again when a file "
          "changes") {
  test::TempDir dir;
  const auto country_db = dir.path() / "country.mmdb", asn_db = dir.path() / "asn.mmdb";
  test::write_netsim_fixtures(country_db, asn_db);
  struct Sink final : observe::Observer {
    std::vector<observe::GeoUpdate> updates;
    void observe(const observe::Observation& o) override {
      if (const auto* g = std::get_if<observe::GeoUpdate>(&o)) updates.push_back(*g);
    }
  } sink;
  std::map<IpAddress, geo::GeoInfo> results;
  test::RecordingLog log;
  runtime::Loop loop;
  app::GeoAnnotatorOptions o;
  o.sources = {{country_db, geo::DbKind::kCountry}, {asn_db, geo::DbKind::kAsn}};
  o.scratch_dir = dir.path();
  o.check_interval = Millis(60'000);
  o.batch = 7; // several work items for 20 addresses
  o.sink = &sink;
  o.log = log.logger("geo");
  o.on_result = [&](const IpAddress& ip, const geo::GeoInfo& info) { results[ip] = info; };
  app::GeoAnnotator annotator(loop, o);
  for (int i = 1; i <= 20; ++i) {
    crawl::ScheduledAddress a;
    a.addr = NetAddress{fmt::format("{:040x}", i), v4(127, i, 0, 1), 26656};
    annotator.observe(observe::AddressUpdate{a, now_ms()});
    annotator.observe(observe::AddressUpdate{a, now_ms()}); // known already: not again
  }
  annotator.tick(loop.now());
  CHECK(annotator.busy());
  test::run_until(loop, [&] { return results.size() == 20 && !annotator.busy(); });
  CHECK(sink.updates.size() == 20);
  for (int i = 1; i <= 20; ++i) {
    INFO(i);
    const auto& got = results.at(v4(127, i, 0, 1));
    CHECK(got.country == fixture_country(i));
    CHECK(got.asn == fixture_asn(i));
    CHECK(got.as_org == fixture_org(i));
  }
  auto s = annotator.stats();
  CHECK(s.looked_up == 20);
  CHECK(s.known == 20);
  CHECK(s.pending == 0);
  CHECK(s.databases == 2);
  const auto logged = log.lines();
  REQUIRE_FALSE(logged.empty());
  CHECK(logged.front().rfind("using databases databases=\"country: ", 0) == 0);

  // The ASN file changes: at the next check every known address is looked up again.
  test::write_mmdb(asn_db, "Test-ASN", {{"127.0.0.0/8", "", 65001, "Everyone"}});
  annotator.tick(loop.now()); // before check_interval: nothing to do
  CHECK_FALSE(annotator.busy());
  sink.updates.clear();
  annotator.tick(loop.now() + Millis(60'000));
  test::run_until(loop, [&] { return sink.updates.size() >= 20 && !annotator.busy(); });
  for (const auto& [ip, info] : results) CHECK(info.asn == 65001);
  CHECK(annotator.stats().reloads == 2);

  // At shutdown, what was learnt since the last tick is located in one last batch.
  crawl::ScheduledAddress late;
  late.addr = NetAddress{fmt::format("{:040x}", 99), v4(127, 42, 0, 1), 26656};
  annotator.observe(observe::AddressUpdate{late, now_ms()});
  annotator.stop();
  test::run_until(loop, [&] { return !annotator.busy(); });
  CHECK(results.count(v4(127, 42, 0, 1)) == 1);
  annotator.observe(observe::AddressUpdate{late, now_ms()});
  crawl::ScheduledAddress later = late;
  later.addr.ip = v4(127, 43, 0, 1);
  annotator.observe(observe::AddressUpdate{later, now_ms()});
  annotator.tick(loop.now() + Millis(120'000)); // stopped: nothing starts
  CHECK_FALSE(annotator.busy());
  test::drain(loop);
}

TEST_CASE("geo in the observatory: one row per IP, written when the answer changes; exports "
          "capped per ASN and country; /api/v1/geo and the metrics") {
  test::TempDir dir;
  const auto file = dir.path() / "obs.db";
  storage::load_observatory(file);
  // 12 reachable nodes of "geo-1" on 127.1-12.0.1; one more address of node 1 that is older.
  {
    storage::ObservatoryWriter w(file);
    const auto t = now_ms();
    for (int i = 1; i <= 12; ++i) {
      crawl::ScheduledAddress a;
      a.addr = NetAddress{fmt::format("{:040x}", i), v4(127, i, 0, 1), 26656};
      a.network = "geo-1";
      a.state = crawl::AddrState::kReachable;
      a.first_seen = t - 10h;
      a.last_attempt = t - 1min;
      a.last_success = t - std::chrono::minutes(i);
      a.next_attempt = t + 10min;
      w.post(observe::AddressUpdate{a, t});
      NodeInfo info;
      info.node_id = a.addr.id;
      info.network = "geo-1";
      info.version = "0.34.24";
      info.moniker = fmt::format("n{}", i);
      info.channels = Bytes{0x00};
      w.post(observe::NodeSeen{info, t});
      w.post(
          observe::GeoUpdate{a.addr.ip, {fixture_country(i), fixture_asn(i), fixture_org(i)}, t});
    }
    crawl::ScheduledAddress old;
    old.addr = NetAddress{fmt::format("{:040x}", 1), v4(127, 100, 0, 1), 26656};
    old.network = "geo-1";
    old.state = crawl::AddrState::kReachable;
    old.first_seen = t - 10h;
    old.last_success = t - 5h;
    old.next_attempt = t + 10min;
    w.post(observe::AddressUpdate{old, t});
    w.post(observe::GeoUpdate{old.addr.ip, {"ZZ", 1, "Old"}, t});
    w.flush();
    const auto before = w.stats().rows_written;
    // The same answer again writes nothing; a changed one updates the row.
    w.post(observe::GeoUpdate{
        v4(127, 1, 0, 1), {fixture_country(1), fixture_asn(1), fixture_org(1)}, t + 1min});
    w.flush();
    CHECK(w.stats().rows_written == before);
    w.post(observe::GeoUpdate{v4(127, 12, 0, 1), {"FI", 64999, "Hoster Z"}, t + 1min});
    w.flush();
    CHECK(w.stats().rows_written == before + 1);
  }
  auto db = storage::Database::open_read_only(file);
  CHECK(storage::located_addresses(db) == 13);

  // Expected, from the fixture: nodes 1..12 at their newest address (node 12 moved to FI).
  std::map<std::string, std::size_t> countries, asns;
  std::size_t no_country = 0, no_asn = 0;
  for (int i = 1; i <= 12; ++i) {
    const std::string c = i == 12 ? "FI" : fixture_country(i);
    const std::uint32_t a = i == 12 ? 64999 : fixture_asn(i);
    if (c.empty()) ++no_country;
    else ++countries[c];
    if (a == 0) ++no_asn;
    else ++asns["AS" + std::to_string(a)];
  }
  const auto g = storage::geo_concentration(db, "geo-1", 3);
  CHECK(g.by_country.total == 12);
  CHECK(g.by_country.unknown == no_country);
  CHECK(g.by_country.distinct == countries.size());
  CHECK(g.by_asn.unknown == no_asn);
  CHECK(g.by_asn.distinct == asns.size());
  REQUIRE_FALSE(g.by_country.top.empty());
  CHECK(g.by_country.top[0].nodes ==
        std::max_element(countries.begin(), countries.end(), [](auto& x, auto& y) {
          return x.second < y.second;
        })->second);
  CHECK(g.by_country.top.size() + (g.by_country.other > 0 ? 1 : 0) <= 4);

  // Exports carry where each peer is, and cap per ASN and per country.
  storage::ExportFilter f;
  f.network = "geo-1";
  auto all = storage::query_peers(db, f, now_ms());
  REQUIRE(all.size() == 12);
  for (const auto& p : all) {
    const int o = p.addr.ip.bytes()[13];
    INFO(p.addr.to_string());
    CHECK(p.addr.ip != v4(127, 100, 0, 1)); // each node at its best address
    if (o == 12) continue;
    CHECK(p.country == fixture_country(o));
    CHECK(p.asn == fixture_asn(o));
    CHECK(p.as_org == fixture_org(o));
  }
  f.max_per_asn = 1;
  storage::FilterReport report;
  auto capped = storage::query_peers(db, f, now_ms(), &report);
  std::map<std::uint32_t, int> per_asn;
  for (const auto& p : capped) ++per_asn[p.asn];
  for (const auto& [a, n] : per_asn)
    if (a != 0) CHECK(n == 1);
  CHECK(capped.size() == asns.size() + no_asn);
  CHECK(report.summary("geo-1").find(fmt::format("geo_caps removed {}", 12 - capped.size())) !=
        std::string::npos);
  f.max_per_asn = 0;
  f.max_per_country = 2;
  std::map<std::string, int> per_country;
  for (const auto& p : storage::query_peers(db, f, now_ms())) ++per_country[p.country];
  for (const auto& [c, n] : per_country)
    if (!c.empty()) CHECK(n <= 2);
  CHECK(per_country[""] == int(no_country));
  const auto csv = storage::format_peers(all, storage::ExportFormat::kCsv);
  CHECK(csv.substr(0, csv.find('\n')).ends_with(",advertisers,country,asn,as_org"));
  const auto json = nlohmann::json::parse(storage::format_peers(all, storage::ExportFormat::kJson));
  CHECK(json[0].contains("country"));
  CHECK(json[0]["asn"].is_number());

  // The API: the same caps as parameters, and the concentration.
  auto api = app::handle_api_request(file, "GET", "/api/v1/peers",
                                     "network=geo-1&format=json&max_per_asn=1");
  REQUIRE(api.status == 200);
  CHECK(nlohmann::json::parse(api.body).size() == capped.size());
  CHECK(
      app::handle_api_request(file, "GET", "/api/v1/peers", "network=geo-1&max_per_asn=0").status ==
      400);
  CHECK(app::handle_api_request(file, "GET", "/api/v1/peers", "network=geo-1&max_per_country=x")
            .status == 400);
  auto geo_api = app::handle_api_request(file, "GET", "/api/v1/geo", "network=geo-1");
  REQUIRE(geo_api.status == 200);
  const auto gj = nlohmann::json::parse(geo_api.body);
  CHECK(gj["located_addresses"] == 13);
  CHECK(gj["country"]["nodes"] == 12);
  CHECK(gj["country"]["unknown"] == no_country);
  CHECK(gj["asn"]["distinct"] == asns.size());
  CHECK(gj["asn"]["to_half"] == g.by_asn.to_half);
  CHECK(app::handle_api_request(file, "GET", "/api/v1/geo", "network=nope").status == 404);
  CHECK(app::handle_api_request(file, "GET", "/api/v1/geo", "").status == 400);

  // The metrics.
  auto registry = std::make_shared<prometheus::Registry>();
  metrics::ObservatoryMetrics m(registry, file, "t", std::chrono::hours(1));
  REQUIRE(m.refresh());
  for (const auto& [c, n] : countries)
    CHECK(test::metric_value(*registry, "t_network_nodes_by_country",
                             {{"network", "geo-1"}, {"country", c}}) == double(n));
  CHECK(test::metric_value(*registry, "t_network_nodes_by_country",
                           {{"network", "geo-1"}, {"country", "unknown"}}) == double(no_country));
  CHECK(test::metric_value(*registry, "t_network_geo_coefficient",
                           {{"network", "geo-1"}, {"attribute", "asn"}, {"share", "half"}}) ==
        double(g.by_asn.to_half));
  CHECK(test::metric_value(*registry, "t_network_geo_distinct",
                           {{"network", "geo-1"}, {"attribute", "country"}}) ==
        double(countries.size()));
}

namespace {

// netsim on a scenario of two chains; returns its seeds ("" when it did not come up).
std::string start_netsim(const fs::path& dir, std::optional<test::ChildProcess>& sim) {
  std::string text = "seed = 33\naddress_offset = 20000\n";
  for (const auto& [chain, nodes] : {std::pair<const char*, int>{"geo-a", 60}, {"geo-b", 40}})
    text += fmt::format("[[network]]\nchain_id = \"{}\"\nnodes = {}\nknown_peers = 10\n"
                        "stale_addresses = 1\nseed_nodes = 1\n[network.fractions]\n"
                        "refused = 0.1\nsilent = 0.05\n",
                        chain, nodes);
  test::write_file(dir / "scenario.toml", text);
  sim.emplace(std::vector<std::string>{kBinary, "netsim", "--scenario",
                                       (dir / "scenario.toml").string(), "--ground-truth",
                                       (dir / "truth.json").string()},
              dir / "netsim.out", dir / "netsim.err");
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string out = test::read_file(dir / "netsim.out");
    if (out.find("geo-a seeds: ") != std::string::npos &&
        out.find("geo-b seeds: ") != std::string::npos) {
      std::string seeds;
      std::istringstream lines(out);
      for (std::string l; std::getline(lines, l);)
        if (auto at = l.find(" seeds: "); at != std::string::npos)
          seeds += (seeds.empty() ? "" : ",") + l.substr(at + 8);
      return seeds;
    }
    std::this_thread::sleep_for(20ms); // polling another process
  }
  return "";
}

} // namespace

TEST_CASE("geo crawl: every reachable node is located; stats, API, metrics and capped exports "
          "match the fixture; a broken file is logged and the crawl runs on") {
  test::TempDir dir;
  const auto country_db = dir.path() / "country.mmdb", asn_db = dir.path() / "asn.mmdb";
  test::write_netsim_fixtures(country_db, asn_db);
  std::optional<test::ChildProcess> sim;
  const std::string seeds = start_netsim(dir.path(), sim);
  REQUIRE_FALSE(seeds.empty());
  const auto truth = nlohmann::json::parse(test::read_file(dir.path() / "truth.json"));

  // Country from [geo] in the config, ASN from --geo-db.
  const auto home = dir.path() / "home";
  fs::create_directories(home / "config");
  test::write_file(home / "config" / "config.toml",
                   fmt::format("[geo]\ncountry_db = \"{}\"\n", country_db.string()));
  const fs::path db = dir.path() / "obs.db";
  auto crawl =
      test::run_process({kBinary, "crawl", "--home", home.string(), "--db", db.string(), "--seed",
                         seeds, "--loopback-only", "--laddr", "127.0.0.1:0", "--metrics-addr",
                         "off", "--duration", "10s", "--geo-db", asn_db.string()},
                        Millis(60000));
  INFO(crawl.err);
  REQUIRE(crawl.exit_code == 0);
  CHECK(crawl.err.find("using databases") != std::string::npos);
  CHECK(crawl.err.find("databases=\"country: " + country_db.string() + " (Test-Country); asn: " +
                       asn_db.string() + " (Test-ASN)\"") != std::string::npos);

  // Ground truth: the reachable nodes of each chain, where the fixture puts them.
  std::map<std::string, std::map<std::string, std::size_t>> want_country, want_asn;
  std::map<std::string, std::size_t> reachable;
  for (const auto& n : truth["nodes"]) {
    const auto cls = netsim::behaviour_from_string(n["class"].get<std::string>());
    REQUIRE(cls);
    if (!netsim::completes_handshake(*cls) || netsim::misbehaves_after_handshake(*cls)) continue;
    const std::string chain = n["advertised_network"];
    const std::string address = n["address"];
    const auto ip = IpAddress::parse(
        address.substr(address.find('@') + 1, address.rfind(':') - address.find('@') - 1));
    REQUIRE(ip);
    const int o = ip->bytes()[13];
    ++reachable[chain];
    ++want_country[chain][fixture_country(o).empty() ? "unknown" : fixture_country(o)];
    ++want_asn[chain][fixture_asn(o) == 0 ? "unknown" : geo::asn_label(fixture_asn(o))];
  }
  REQUIRE(reachable.size() == 2);

  auto registry = std::make_shared<prometheus::Registry>();
  metrics::ObservatoryMetrics m(registry, db, "t", std::chrono::hours(1));
  REQUIRE(m.refresh());
  for (const auto& [chain, n] : reachable) {
    INFO(chain);
    auto api = app::handle_api_request(db, "GET", "/api/v1/geo", "network=" + chain);
    REQUIRE(api.status == 200);
    const auto j = nlohmann::json::parse(api.body);
    CHECK(j["country"]["nodes"] == n);
    CHECK(j["country"]["unknown"] == want_country[chain]["unknown"]);
    CHECK(j["asn"]["unknown"] == want_asn[chain]["unknown"]);
    for (const auto& t : j["country"]["top"])
      CHECK(t["nodes"] == want_country[chain][t["key"].get<std::string>()]);
    for (const auto& t : j["asn"]["top"])
      CHECK(t["nodes"] == want_asn[chain][t["key"].get<std::string>()]);
    for (const auto& [c, k] : want_country[chain])
      CHECK(test::metric_value(*registry, "t_network_nodes_by_country",
                               {{"network", chain}, {"country", c}}) == double(k));
    // At most one peer per ASN, every located ASN once, the unlocated ones all.
    auto e = test::run_process({kBinary, "export", "--db", db.string(), "--network", chain,
                                "--format", "json", "--reachable-only", "--max-per-asn", "1"});
    REQUIRE(e.exit_code == 0);
    const auto peers = nlohmann::json::parse(e.out);
    std::map<std::uint32_t, int> per;
    for (const auto& p : peers) ++per[p["asn"].get<std::uint32_t>()];
    for (const auto& [a, k] : per)
      if (a != 0) CHECK(k == 1);
    const std::size_t unlocated = want_asn[chain]["unknown"];
    const std::size_t located_asns = want_asn[chain].size() - 1; // less the "unknown" entry
    CHECK(peers.size() == located_asns + unlocated);
  }
  auto stats = test::run_process({kBinary, "stats", "--db", db.string()});
  REQUIRE(stats.exit_code == 0);
  CHECK(stats.out.find("where the reachable nodes are") != std::string::npos);
  CHECK(stats.out.find(fmt::format("  geo-a: {} reachable", reachable["geo-a"])) !=
        std::string::npos);
  auto bad_cap = test::run_process(
      {kBinary, "export", "--db", db.string(), "--network", "geo-a", "--max-per-asn", "0"});
  CHECK(bad_cap.exit_code == 2);

  // A damaged country file and a missing ASN file: said, and the crawl runs on.
  test::write_file(country_db, std::string(3000, 'z'));
  auto broken = test::run_process(
      {kBinary, "crawl", "--home", home.string(), "--db", (dir.path() / "obs2.db").string(),
       "--seed", seeds, "--loopback-only", "--laddr", "127.0.0.1:0", "--metrics-addr", "off",
       "--duration", "4s", "--geo-db", (dir.path() / "gone.mmdb").string()},
      Millis(60000));
  INFO(broken.err);
  CHECK(broken.exit_code == 0);
  CHECK(broken.err.find(fmt::format("geo database {}: not a usable MaxMind DB file",
                                    country_db.string())) != std::string::npos);
  CHECK(broken.err.find(fmt::format("geo database {}: no such file",
                                    (dir.path() / "gone.mmdb").string())) != std::string::npos);
  auto db2 = storage::Database::open_read_only(dir.path() / "obs2.db");
  CHECK(storage::network_counts(db2).size() == 2); // crawled all the same
  CHECK(storage::located_addresses(db2) == 0);

  // No geo configured: said once, nothing located.
  auto off =
      test::run_process({kBinary, "crawl", "--db", (dir.path() / "obs3.db").string(), "--home",
                         (dir.path() / "home3").string(), "--seed", seeds, "--loopback-only",
                         "--laddr", "127.0.0.1:0", "--metrics-addr", "off", "--duration", "2s"},
                        Millis(60000));
  CHECK(off.exit_code == 0);
  const auto said = off.err.find("geo: off");
  CHECK(said != std::string::npos);
  CHECK(off.err.find("geo: off", said + 1) == std::string::npos);
  sim->signal(SIGTERM);
  CHECK(sim->wait(Millis(10000)).has_value());
}

} // namespace seedscope
