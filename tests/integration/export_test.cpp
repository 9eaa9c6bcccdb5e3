// Peer-list exports and the HTTP API over an observatory database with known content: every
// format parses back (persistent_peers through our address parser, JSON, CSV, addrbook.json
// through our own import), filters hold, and the API returns the same lists and rejects bad
// parameters with 400.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <set>
#include <sstream>
#include <variant>

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <ostream>

#include "crawler/app/api_server.hpp"
#include "storage/addrbook_json.hpp"
#include "storage/exports.hpp"
#include "storage/observatory.hpp"
#include "support/http_client.hpp"
#include "support/loop_harness.hpp"
#include "support/process.hpp"

#ifndef SEEDSCOPE_BINARY
#error "SEEDSCOPE_BINARY must be defined"
#endif

namespace seedscope {
namespace {

using namespace std::chrono_literals;

WallTime now_ms() {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

struct Node {
  int n;
  IpAddress ip;
  crawl::AddrState state;
  double good_share; // share of good contacts -> score
  std::chrono::hours since_success;
};

std::string id_of(int n) { return fmt::format("{:040x}", n); }

// Network "net-a": 13 nodes: 8 reachable over 4 /16 groups (2 each), 1 unreachable now but
// verified two days ago, 1 never verified, 1 IPv6, 1 reachable long ago, 1 that misbehaved at
// its last contact. Network "net-b": 3 reachable nodes.
std::vector<Node> sample() {
  std::vector<Node> v;
  for (int i = 0; i < 8; ++i)
    v.push_back({i + 1, IpAddress::v4(10 + std::uint8_t(i / 2), 1, 0, std::uint8_t(i + 1)),
                 crawl::AddrState::kReachable, 1.0 - 0.1 * i, 1h});
  v.push_back({9, IpAddress::v4(20, 0, 0, 1), crawl::AddrState::kUnreachable, 0.3, 48h});
  v.push_back({10, IpAddress::v4(20, 1, 0, 1), crawl::AddrState::kUnreachable, 0.0, 48h});
  v.push_back({11, *IpAddress::parse("2a01:4f8::11"), crawl::AddrState::kReachable, 0.9, 2h});
  v.push_back({12, IpAddress::v4(30, 0, 0, 1), crawl::AddrState::kReachable, 0.95, 72h});
  // Misbehaved at its first contact: never verified either, counted as misbehaving.
  v.push_back({13, IpAddress::v4(31, 0, 0, 1), crawl::AddrState::kMisbehaving, 0.0, 1h});
  return v;
}

void build_db(const std::filesystem::path& file) {
  storage::load_observatory(file);
  storage::ObservatoryWriter w(file);
  const auto t = now_ms();
  auto put = [&](const std::string& network, const Node& s) {
    crawl::ScheduledAddress a;
    a.addr = NetAddress{id_of(s.n), s.ip, 26656};
    a.network = network;
    a.state = s.state;
    a.first_seen = t - 100h;
    a.last_attempt = t - 10min;
    if (s.good_share > 0) a.last_success = t - s.since_success;
    a.next_attempt = t + 10min;
    w.post(observe::AddressUpdate{a, t});
    NodeInfo info;
    info.node_id = a.addr.id;
    info.network = network;
    info.version = "0.34.24";
    info.moniker = s.n == 3 ? "comma, \"quoted\"" : fmt::format("node-{}", s.n);
    info.listen_addr = "tcp://0.0.0.0:26656";
    info.channels = Bytes{0x00};
    w.post(observe::NodeSeen{info, t});
    crawl::Availability av;
    for (int k = 0; k < 20; ++k)
      av.update(k < int(s.good_share * 20 + 0.5), t - std::chrono::minutes(10 * (20 - k)));
    w.post(observe::AvailabilityUpdate{network, a.addr.id, av});
  };
  for (const auto& s : sample()) put("net-a", s);
  for (int i = 0; i < 3; ++i)
    put("net-b",
        {100 + i, IpAddress::v4(40, std::uint8_t(i), 0, 1), crawl::AddrState::kReachable, 1.0, 1h});
}

std::set<std::string> ids(const std::vector<storage::ExportedPeer>& peers) {
  std::set<std::string> out;
  for (const auto& p : peers) out.insert(p.addr.id);
  return out;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else cur += c;
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

} // namespace

TEST_CASE("exports: filters select the right nodes, best first") {
  test::TempDir dir;
  const auto file = dir.path() / "obs.db";
  build_db(file);
  auto db = storage::Database::open_read_only(file);
  const auto now = now_ms();
  storage::ExportFilter f;
  f.network = "net-a";
  storage::FilterReport report;
  auto all = storage::query_peers(db, f, now, &report);
  CHECK(all.size() == 11); // never verified (10) and misbehaving (13) nodes are no peers
  CHECK(ids(all).count(id_of(10)) == 0);
  CHECK(ids(all).count(id_of(13)) == 0);
  for (std::size_t i = 1; i < all.size(); ++i) CHECK(all[i - 1].score >= all[i].score);
  CHECK(all.front().addr.id == id_of(1));
  CHECK(report.nodes == 13);
  CHECK(report.returned == 11);
  CHECK(report.summary("net-a") == "11 of the 13 node IDs with addresses in net-a left: "
                                   "misbehaving removed 1, never_verified removed 1");

  f.reachable_only = true;
  CHECK(ids(storage::query_peers(db, f, now)).count(id_of(9)) == 0);
  CHECK(storage::query_peers(db, f, now).size() == 10);
  f.seen_within = std::chrono::seconds(24 * 3600);
  CHECK(ids(storage::query_peers(db, f, now)).count(id_of(12)) == 0);
  CHECK(storage::query_peers(db, f, now).size() == 9);
  f.family = storage::AddressFamily::kIPv6;
  CHECK(ids(storage::query_peers(db, f, now)) == std::set<std::string>{id_of(11)});
  f.family = storage::AddressFamily::kIPv4;
  CHECK(storage::query_peers(db, f, now).size() == 8);
  f.one_per_group = true; // 4 groups of two: the better of each
  CHECK(ids(storage::query_peers(db, f, now)) ==
        std::set<std::string>{id_of(1), id_of(3), id_of(5), id_of(7)});
  f.limit = 2;
  CHECK(ids(storage::query_peers(db, f, now)) == std::set<std::string>{id_of(1), id_of(3)});
  storage::ExportFilter g;
  g.network = "net-a";
  g.min_score = 0.75;
  for (const auto& p : storage::query_peers(db, g, now)) CHECK(p.score >= 0.75);
  CHECK(storage::query_peers(db, g, now).size() < 11);
  // Everything filtered out: the report says which filter took how many.
  g.min_score = 1.0;
  g.reachable_only = true;
  g.seen_within = std::chrono::seconds(1);
  CHECK(storage::query_peers(db, g, now, &report).empty());
  CHECK(report.summary("net-a") == "0 of the 13 node IDs with addresses in net-a left: "
                                   "misbehaving removed 1, never_verified removed 1, "
                                   "reachable_only removed 1, min_score removed 9, "
                                   "seen_within removed 1");
  storage::ExportFilter b;
  b.network = "net-b";
  CHECK(storage::query_peers(db, b, now).size() == 3); // networks apart
}

TEST_CASE("exports: every format parses back") {
  test::TempDir dir;
  const auto file = dir.path() / "obs.db";
  build_db(file);
  auto db = storage::Database::open_read_only(file);
  storage::ExportFilter f;
  f.network = "net-a";
  auto peers = storage::query_peers(db, f, now_ms());
  REQUIRE(peers.size() == 11);
  const auto want = ids(peers);

  for (auto fmt_ : {storage::ExportFormat::kPersistentPeers, storage::ExportFormat::kSeeds}) {
    std::string text = storage::format_peers(peers, fmt_);
    REQUIRE(text.back() == '\n');
    text.pop_back();
    std::set<std::string> got;
    for (const auto& entry : split(text, ',')) {
      auto a = parse_peer_address(entry);
      REQUIRE_MESSAGE(a.ok(), entry);
      CHECK(a->net_address().has_value());
      got.insert(a->id);
    }
    CHECK(got == want);
  }
  {
    auto j = nlohmann::json::parse(storage::format_peers(peers, storage::ExportFormat::kJson));
    REQUIRE(j.size() == 11);
    std::set<std::string> got;
    for (const auto& e : j) {
      got.insert(e["id"].get<std::string>());
      CHECK(e["network"] == "net-a");
      CHECK(parse_peer_address(e["address"].get<std::string>()).ok());
    }
    CHECK(got == want);
    CHECK(j[0]["moniker"] == "node-1");
  }
  {
    auto lines = split(storage::format_peers(peers, storage::ExportFormat::kCsv), '\n');
    REQUIRE(lines.size() == 12);
    CHECK(lines[0].rfind("id,ip,port,network,state", 0) == 0);
    std::set<std::string> got;
    for (std::size_t i = 1; i < lines.size(); ++i) {
      got.insert(lines[i].substr(0, 40));
      if (lines[i].find(id_of(3)) == 0)
        CHECK(lines[i].find(",\"comma, \"\"quoted\"\"\",") != std::string::npos);
    }
    CHECK(got == want);
  }
  {
    auto book =
        storage::from_addrbook_json(storage::format_peers(peers, storage::ExportFormat::kAddrbook));
    INFO((book.ok() ? std::string() : book.error().message()));
    REQUIRE(book.ok());
    std::set<std::string> got;
    for (const auto& ka : book->addrs) {
      got.insert(ka.addr.id);
      // Old buckets: verified at the last contact; node 9 was verified before that.
      CHECK(ka.is_old() == (ka.addr.id != id_of(9)));
    }
    CHECK(got == want);
  }
}

TEST_CASE("api: the same lists as the exports; bad parameters are 400, unknown networks 404") {
  test::TempDir dir;
  const auto file = dir.path() / "obs.db";
  build_db(file);
  auto db = storage::Database::open_read_only(file);
  storage::ExportFilter f;
  f.network = "net-a";
  f.reachable_only = true;
  f.limit = 5;
  const auto expected = storage::format_peers(storage::query_peers(db, f, now_ms()),
                                              storage::ExportFormat::kPersistentPeers);
  auto r =
      app::handle_api_request(file, "GET", "/api/v1/peers",
                              "network=net-a&reachable_only=true&limit=5&format=persistent_peers");
  CHECK(r.status == 200);
  CHECK(r.content_type == "text/plain");
  CHECK(r.body == expected);
  auto nets = app::handle_api_request(file, "GET", "/api/v1/networks", "");
  REQUIRE(nets.status == 200);
  auto j = nlohmann::json::parse(nets.body);
  REQUIRE(j.size() == 2);
  CHECK(j[0]["network"] == "net-a");
  CHECK(j[0]["nodes"] == 13);
  CHECK(j[0]["reachable"] == 10);
  CHECK(j[0]["misbehaving"] == 1);
  CHECK(j[0]["confirmed"] == true);
  // An answer that filters everything out says why.
  auto none = app::handle_api_request(file, "GET", "/api/v1/peers",
                                      "network=net-a&min_score=1&seen_within=1s&format=json");
  CHECK(none.status == 200);
  CHECK(nlohmann::json::parse(none.body).empty());
  REQUIRE(none.headers.size() == 1);
  CHECK(none.headers[0].first == "X-Seedscope-Filter");
  CHECK(none.headers[0].second.find(
            "ids=13; returned=0; excluded=0; misbehaving=1; never_verified=1") == 0);
  auto nodes = app::handle_api_request(file, "GET", "/api/v1/nodes", "network=net-b");
  CHECK(nodes.status == 200);
  CHECK(nlohmann::json::parse(nodes.body).size() == 3);
  // Every node of a network, as many as /networks counts, peer or not (never verified,
  // misbehaving), each with its best address and state.
  auto all_a = nlohmann::json::parse(
      app::handle_api_request(file, "GET", "/api/v1/nodes", "network=net-a").body);
  CHECK(all_a.size() == 13);
  std::map<std::string, std::string> state;
  for (const auto& n : all_a) state[n["id"]] = n["state"];
  CHECK(state[id_of(13)] == "misbehaving");
  CHECK(state[id_of(10)] == "unreachable");
  CHECK(state[id_of(1)] == "reachable");
  CHECK(all_a[0]["protocol_version"]["block"] == 11);
  CHECK(app::handle_api_request(file, "GET", "/api/v1/nodes", "network=net-a&limit=3").status ==
        400);
  for (const char* bad :
       {"network=net-a&limit=abc", "network=net-a&limit=0", "network=net-a&min_score=2",
        "network=net-a&family=ipx", "network=net-a&seen_within=soon", "network=net-a&bogus=1",
        "limit=3", "network=net-a&format=xml", "network=net-a&reachable_only=maybe",
        "network=net-a&network=net-b", "network=%zz"}) {
    INFO(bad);
    auto e = app::handle_api_request(file, "GET", "/api/v1/peers", bad);
    CHECK(e.status == 400);
    CHECK(nlohmann::json::parse(e.body).contains("error"));
  }
  CHECK(app::handle_api_request(file, "GET", "/api/v1/peers", "network=nope").status == 404);
  CHECK(app::handle_api_request(file, "GET", "/api/v2/x", "").status == 404);
  CHECK(app::handle_api_request(file, "POST", "/api/v1/networks", "").status == 405);
  CHECK(app::handle_api_request(dir.path() / "missing.db", "GET", "/api/v1/networks", "").status ==
        503);

  // Over HTTP.
  app::ApiServer server(file, "127.0.0.1:0");
  REQUIRE(server.port() > 0);
  auto http = test::http_get(
      server.port(),
      "/api/v1/peers?network=net-a&reachable_only=true&limit=5&format=persistent_peers");
  CHECK(http.find("HTTP/1.1 200 OK") == 0);
  CHECK(http.substr(http.find("\r\n\r\n") + 4) == expected);
  CHECK(
      test::http_get(server.port(), "/api/v1/nodes?network=net-a&limit=-1").find("HTTP/1.1 400") ==
      0);
  CHECK(test::http_get(server.port(), "/api/v1/nodes?network=zzz").find("HTTP/1.1 404") == 0);
}

// Found by api_query_fuzz: an error naming a client's bytes that are not UTF-8 threw from
// the JSON encoder, so the server answered 500 "internal error" instead of 400 or 404.
TEST_CASE("api: a parameter, network or path that is not UTF-8 is answered with a JSON error") {
  test::TempDir dir;
  const auto file = dir.path() / "obs.db";
  build_db(file);
  struct Case {
    const char* path;
    const char* query;
    int status;
  };
  for (const Case& c :
       {Case{"/api/v1/peers", "network=net-a&%ff=1", 400},
        Case{"/api/v1/peers", "network=net-a&format=%c3%28", 400},
        Case{"/api/v1/nodes", "network=%ff", 404}, Case{"/api/v1/peers", "network=%fe%ff", 404},
        Case{"/api/v1/\xff", "", 404}}) {
    INFO(c.path << "?" << c.query);
    app::ApiResponse r;
    CHECK_NOTHROW(r = app::handle_api_request(file, "GET", c.path, c.query));
    CHECK(r.status == c.status);
    const auto j = nlohmann::json::parse(r.body, nullptr, false);
    REQUIRE(j.is_object());
    CHECK(j["error"].get<std::string>().find("\xef\xbf\xbd") != std::string::npos); // U+FFFD
  }
}

// Found by api_query_fuzz: seen_within under a second was truncated to 0 s, a filter nothing
// passes, though the parameter was accepted as positive.
TEST_CASE("api: seen_within is rounded up to whole seconds") {
  auto seen_within = [](const std::string& value) {
    auto parsed = app::parse_api_request("/api/v1/peers", "network=net-a&seen_within=" + value);
    REQUIRE(std::holds_alternative<app::ApiQuery>(parsed));
    return std::get<app::ApiQuery>(parsed).filter.seen_within;
  };
  CHECK(seen_within("500ms") == std::chrono::seconds(1));
  CHECK(seen_within("1ms") == std::chrono::seconds(1));
  CHECK(seen_within("1500ms") == std::chrono::seconds(2));
  CHECK(seen_within("24h") == std::chrono::hours(24));
}

TEST_CASE("`seedscope export` writes the list; a bad format or unknown network is a clear error") {
  test::TempDir dir;
  const auto file = dir.path() / "obs.db";
  build_db(file);
  const auto out = dir.path() / "peers.json";
  auto r =
      test::run_process({SEEDSCOPE_BINARY, "--home", (dir.path() / "home").string(), "export",
                         "--db", file.string(), "--network", "net-a", "--format", "json",
                         "--reachable-only", "--one-per-group", "--ipv4", "--out", out.string()});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(test::read_file(out));
  CHECK(j.size() == 5); // 4 groups of two, plus 30.0/16
  auto bad = test::run_process({SEEDSCOPE_BINARY, "export", "--db", file.string(), "--network",
                                "net-a", "--format", "yaml"});
  CHECK(bad.exit_code != 0);
  CHECK(bad.err.find("--format") != std::string::npos);
  auto none =
      test::run_process({SEEDSCOPE_BINARY, "export", "--db", file.string(), "--network", "net-z"});
  CHECK(none.exit_code != 0);
  CHECK(none.err.find("no network \"net-z\"") != std::string::npos);
}

TEST_CASE("`seedscope export --limit` takes 1 and up and without it lists every node") {
  test::TempDir dir;
  const auto file = dir.path() / "obs.db";
  build_db(file);
  auto run = [&](std::vector<std::string> extra) {
    std::vector<std::string> argv = {SEEDSCOPE_BINARY, "--home", (dir.path() / "home").string(),
                                     "export",         "--db",   file.string(),
                                     "--network",      "net-a"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return test::run_process(argv);
  };
  auto all = run({});
  INFO(all.err);
  REQUIRE(all.exit_code == 0);
  CHECK(split(all.out, ',').size() == 11); // the verified nodes of net-a
  auto one = run({"--limit", "1"});
  REQUIRE(one.exit_code == 0);
  CHECK(split(one.out, ',').size() == 1);
  CHECK(split(all.out, ',')[0] + "\n" == one.out); // the best node first
  for (const char* bad :
       {"0", "-1", "-0", "abc", "1.5", "", "99999999999999999999999", "1000000001"}) {
    CAPTURE(bad);
    auto r = run({"--limit", bad});
    CHECK(r.exit_code == 2); // a usage error
    CHECK(r.out.empty());
    CHECK(r.err == fmt::format("seedscope: --limit: \"{}\" is not a whole number from 1 to "
                               "1000000000\n",
                               bad));
  }
}

} // namespace seedscope
