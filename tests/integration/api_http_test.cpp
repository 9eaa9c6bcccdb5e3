// `seedscope api` as an operator runs it: a real process on a database filled here, every
// endpoint in every format over HTTP from 32 concurrent clients, each answer compared with
// handle_api_request's for the same request (the transport adds and loses nothing), then the
// listen address forms of --listen and the one-line errors for a bad port or a port in use.
#include <csignal>
#include <regex>
#include <set>
#include <thread>
#include <tuple>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <ostream>

#include "crawler/app/api_server.hpp"
#include "storage/addrbook_json.hpp"
#include "storage/observatory.hpp"
#include "support/http_client.hpp"
#include "support/loop_harness.hpp"
#include "support/process.hpp"

#ifndef SEEDSCOPE_BINARY
#error "SEEDSCOPE_BINARY must be defined"
#endif

namespace seedscope {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// "net-a": 300 nodes, every fifth unreachable now (verified two days ago), 30 of the reachable ones
// on IPv6, the others in 60 /16 groups, every eleventh with a comma and quotes in its moniker (for
// CSV); "net-b": 20 reachable nodes.
void build_db(const fs::path& file) {
  storage::load_observatory(file);
  storage::ObservatoryWriter w(file);
  const auto t =
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  auto put = [&](const std::string& network, int n, bool reachable, bool v6) {
    crawl::ScheduledAddress a;
    const IpAddress ip = v6 ? *IpAddress::parse(fmt::format("2a01:4f8:{:x}::{:x}", n % 7 + 1, n))
                            : IpAddress::v4(std::uint8_t(11 + n % 60), std::uint8_t(n / 60), 0, 1);
    a.addr = NetAddress{fmt::format("{:040x}", n), ip, 26656};
    a.network = network;
    a.state = reachable ? crawl::AddrState::kReachable : crawl::AddrState::kUnreachable;
    a.first_seen = t - 100h;
    a.last_attempt = t - 10min;
    // Every node was verified once (peer lists hold only those); the unreachable ones two days ago.
    a.last_success = reachable ? t - std::chrono::minutes(n % 120) : t - 48h;
    a.next_attempt = t + 10min;
    w.post(observe::AddressUpdate{a, t});
    NodeInfo info;
    info.node_id = a.addr.id;
    info.network = network;
    info.version = n % 3 == 0 ? "0.37.4" : "0.34.24";
    info.moniker = n % 11 == 0 ? fmt::format("node {}, \"quoted\"", n) : fmt::format("node-{}", n);
    info.listen_addr = "tcp://0.0.0.0:26656";
    info.channels = Bytes{0x00};
    w.post(observe::NodeSeen{info, t});
    crawl::Availability av;
    for (int k = 0; k < 20; ++k)
      av.update(reachable && k % (n % 5 + 1) == 0, t - std::chrono::minutes(10 * (20 - k)));
    w.post(observe::AvailabilityUpdate{network, a.addr.id, av});
  };
  for (int n = 1; n <= 300; ++n) put("net-a", n, n % 5 != 0, n % 10 == 3);
  for (int n = 1001; n <= 1020; ++n) put("net-b", n, true, false);
}

struct Case {
  std::string method;
  std::string target;
  int status;
  std::string content_type; // and body: handle_api_request's, filled in by cases()
  std::string body;
};

std::vector<Case> cases(const fs::path& db) {
  const std::vector<std::tuple<std::string, std::string, int>> requests = {
      {"GET", "/api/v1/networks", 200},
      {"GET", "/api/v1/nodes?network=net-a", 200},
      {"GET", "/api/v1/nodes?network=net-b", 200},
      {"GET", "/api/v1/peers?network=net-a", 200},
      {"GET", "/api/v1/peers?network=net-a&format=persistent_peers&one_per_group=true", 200},
      {"GET", "/api/v1/peers?network=net-a&format=seeds&limit=10&reachable_only=1", 200},
      {"GET", "/api/v1/peers?network=net-a&format=json", 200},
      {"GET", "/api/v1/peers?network=net-a&format=json&family=ipv6&seen_within=24h", 200},
      {"GET", "/api/v1/peers?network=net-a&format=csv", 200},
      {"GET", "/api/v1/peers?network=net-a&format=addrbook", 200},
      {"GET", "/api/v1/peers?network=net-b&format=csv&min_score=0.5", 200},
      {"HEAD", "/api/v1/peers?network=net-a&format=json", 200},
      {"HEAD", "/api/v1/networks", 200},
      {"GET", "/api/v1/peers?network=net-a&format=xml", 400},
      {"GET", "/api/v1/nodes?network=net-a&limit=5", 400}, // a node list takes no filters
      {"GET", "/api/v1/peers?format=json", 400},
      {"GET", "/api/v1/networks?x=1", 400},
      {"GET", "/api/v1/peers?network=%zz", 400},
      {"GET", "/api/v1/peers?network=nope&format=csv", 404},
      {"GET", "/api/v1/nodes?network=nope", 404},
      {"GET", "/api/v2/networks", 404},
      {"GET", "/", 404},
      {"POST", "/api/v1/networks", 405},
      {"DELETE", "/api/v1/peers?network=net-a", 405},
  };
  std::vector<Case> out;
  for (const auto& [method, target, status] : requests)
    out.push_back(Case{method, target, status, "", ""});
  for (auto& c : out) {
    if (c.status == 405) continue; // the server's own answer
    const auto q = c.target.find('?');
    auto r = app::handle_api_request(db, c.method, c.target.substr(0, q),
                                     q == std::string::npos ? "" : c.target.substr(q + 1));
    INFO(c.target);
    REQUIRE(r.status == c.status);
    c.content_type = r.content_type + "; charset=utf-8";
    c.body = r.body;
  }
  return out;
}

// An addrbook.json's addresses and buckets: its key and bucket positions are random.
std::set<std::string> book_content(const std::string& json) {
  std::set<std::string> out;
  auto book = storage::from_addrbook_json(json);
  if (!book.ok()) return {"unparsable: " + book.error().message()};
  for (const auto& ka : book->addrs)
    out.insert(ka.addr.to_string() + (ka.is_old() ? " old" : " new"));
  return out;
}

// What is wrong with `response` as the answer to `c` ("" when nothing).
std::string mismatch(const Case& c, const std::string& response) {
  const int status = test::http_status(response);
  if (status != c.status) return fmt::format("status {} instead of {}", status, c.status);
  const std::string body = test::http_body(response);
  if (c.status == 405) return test::http_header(response, "Allow") == "GET, HEAD" ? "" : "no Allow";
  if (test::http_header(response, "Content-Type") != c.content_type)
    return "content type " + test::http_header(response, "Content-Type");
  if (c.method == "HEAD")
    return !body.empty() ? "a body for HEAD"
           : test::http_header(response, "Content-Length") != std::to_string(c.body.size())
               ? "content length " + test::http_header(response, "Content-Length")
               : "";
  if (test::http_header(response, "Content-Length") != std::to_string(body.size()))
    return "content length " + test::http_header(response, "Content-Length");
  if (c.target.find("format=addrbook") != std::string::npos)
    return book_content(body) == book_content(c.body) ? "" : "another address book";
  return body == c.body ? "" : fmt::format("body of {} bytes differs", body.size());
}

// Waits for the api's "serving ... on http://ADDR/api/v1/networks" line; returns ADDR.
std::string served_address(const fs::path& err_file) {
  const std::string address = test::wait_for_match(err_file, R"(url=http://(\S+)/api/v1/networks)");
  INFO(test::read_file(err_file));
  REQUIRE_FALSE(address.empty());
  return address;
}

} // namespace

TEST_CASE("api over HTTP: every endpoint and format from 32 concurrent clients") {
  test::TempDir dir;
  const auto db = dir.path() / "obs.db";
  build_db(db);
  const auto all = cases(db);
  {
    // The oracle itself says what it should: the formats parse and hold the nodes.
    CHECK(nlohmann::json::parse(all[1].body).size() == 300);
    CHECK(nlohmann::json::parse(all[2].body).size() == 20);
    CHECK(std::count(all[3].body.begin(), all[3].body.end(), ',') == 299);
    CHECK(nlohmann::json::parse(all[7].body).size() == 30); // the IPv6 nodes
    CHECK(std::count(all[8].body.begin(), all[8].body.end(), '\n') >= 301);
    auto book = storage::from_addrbook_json(all[9].body);
    REQUIRE(book.ok());
    CHECK(book->addrs.size() == 300);
  }
  test::ChildProcess api({SEEDSCOPE_BINARY, "--home", (dir.path() / "home").string(), "api", "--db",
                          db.string(), "--listen", "127.0.0.1:0"},
                         dir.path() / "api.out", dir.path() / "api.err");
  const std::uint16_t port = test::port_of(served_address(dir.path() / "api.err"));

  constexpr int kClients = 32;
  constexpr int kPerClient = 100;
  std::vector<std::vector<std::string>> errors(kClients);
  std::vector<int> done(kClients, 0);
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> clients;
  for (int k = 0; k < kClients; ++k)
    clients.emplace_back([&, k] {
      for (int i = 0; i < kPerClient; ++i) {
        const Case& c = all[std::size_t(k + i) % all.size()];
        const std::string why = mismatch(c, test::http_request(port, c.method, c.target));
        if (!why.empty() && errors[k].size() < 5)
          errors[k].push_back(c.method + " " + c.target + ": " + why);
        ++done[k];
      }
    });
  for (auto& t : clients) t.join();
  const auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  MESSAGE(fmt::format("{} requests from {} clients in {:.2f} s ({:.0f} per second)",
                      kClients * kPerClient, kClients, elapsed, kClients * kPerClient / elapsed));
  int total = 0;
  for (int k = 0; k < kClients; ++k) {
    total += done[k];
    for (const auto& e : errors[k]) FAIL_CHECK(e);
  }
  CHECK(total == kClients * kPerClient);
  CHECK(elapsed < 90);
  // Still serving, and it stops cleanly.
  INFO(test::read_file(dir.path() / "api.err"));
  CHECK_FALSE(api.wait(Millis(0)).has_value());
  CHECK(mismatch(all[0], test::http_request(port, "GET", all[0].target)).empty());
  api.signal(SIGTERM);
  CHECK(api.wait(Millis(10000)) == 0);
}

TEST_CASE("api --listen takes every interface, tcp:// and IPv6 forms") {
  test::TempDir dir;
  const auto db = dir.path() / "obs.db";
  build_db(db);
  struct Form {
    std::string listen;
    std::string address_prefix; // of the served address
    std::string connect_host;
  };
  for (const Form& f :
       {Form{":0", "0.0.0.0:", "127.0.0.1"}, Form{"tcp://127.0.0.1:0", "127.0.0.1:", "127.0.0.1"},
        Form{"[::1]:0", "[::1]:", "::1"}}) {
    INFO(f.listen);
    const auto err = dir.path() / "api.err";
    test::ChildProcess api({SEEDSCOPE_BINARY, "--home", (dir.path() / "home").string(), "api",
                            "--db", db.string(), "--listen", f.listen},
                           dir.path() / "api.out", err);
    const std::string address = served_address(err);
    CHECK(address.rfind(f.address_prefix, 0) == 0);
    const std::string r =
        test::http_request(test::port_of(address), "GET", "/api/v1/networks", f.connect_host);
    CHECK(test::http_status(r) == 200);
    CHECK(nlohmann::json::parse(test::http_body(r)).size() == 2);
    api.signal(SIGTERM);
    CHECK(api.wait(Millis(10000)) == 0);
  }
}

TEST_CASE("api --listen on a port in use or a bad port is one line with the reason") {
  test::TempDir dir;
  const auto db = dir.path() / "obs.db";
  build_db(db);
  app::ApiServer holder(db, "127.0.0.1:0");
  const std::string taken = fmt::format("127.0.0.1:{}", holder.port());
  auto run = [&](const std::string& listen) {
    return test::run_process({SEEDSCOPE_BINARY, "--home", (dir.path() / "home").string(), "api",
                              "--db", db.string(), "--listen", listen});
  };
  auto in_use = run(taken);
  CHECK(in_use.exit_code == 1);
  CHECK(in_use.err ==
        "seedscope: api: cannot listen on " + taken + ": address already in use (EADDRINUSE)\n");
  auto bad_port = run("127.0.0.1:70000");
  CHECK(bad_port.exit_code == 1);
  CHECK(bad_port.err == "seedscope: api: cannot listen on 127.0.0.1:70000: port \"70000\" is not a "
                        "number from 0 to 65535\n");
  auto bad_host = run("localhost:26661");
  CHECK(bad_host.exit_code == 1);
  CHECK(bad_host.err == "seedscope: api: cannot listen on localhost:26661: host \"localhost\" is "
                        "not an IP address\n");
  // The holder kept serving.
  CHECK(test::http_status(test::http_request(holder.port(), "GET", "/api/v1/networks")) == 200);
}

} // namespace seedscope
