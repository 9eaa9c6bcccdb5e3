// Good citizenship: nodes on the exclude list ([crawler] exclude_file) are never dialed,
// served or exported, by the crawler, the plain node (`seedscope start`), `seedscope export`,
// `addrbook export` and the API; the file is re-read when it changes.
#include <signal.h>

#include <set>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "crawler/app/api_server.hpp"
#include "crawler/app/config.hpp"
#include "crawler/app/exclude_file.hpp"
#include "crawler/engine/crawler.hpp"
#include "crawler/netsim/netsim.hpp"
#include "storage/database.hpp"
#include "storage/exports.hpp"
#include "support/loop_harness.hpp"
#include "support/pex_client.hpp"
#include "support/process.hpp"

namespace seedscope {
namespace {

namespace fs = std::filesystem;
const std::string kExcludeBinary = SEEDSCOPE_BINARY;

netsim::Scenario exclude_scenario(std::uint32_t offset) {
  return netsim::parse_scenario(
      fmt::format("seed = 21\naddress_offset = {}\n[[network]]\nchain_id = \"excl-1\"\n"
                  "nodes = 40\nknown_peers = 12\nseed_nodes = 1\n",
                  offset),
      "exclude-test");
}

// Four ordinary nodes of the simulation (not its seed): excluded by ID, by IP, by CIDR, and
// one excluded later (a reload).
struct Picks {
  const netsim::SimNode *by_id, *by_ip, *by_cidr, *later;
  std::vector<const netsim::SimNode*> first() const { return {by_id, by_ip, by_cidr}; }
};
Picks pick(const netsim::SimNetwork& net) {
  std::vector<const netsim::SimNode*> plain;
  for (const auto& n : net.nodes())
    if (n.behaviour == netsim::Behaviour::kNormal) plain.push_back(&n);
  REQUIRE(plain.size() >= 10);
  return {plain[2], plain[4], plain[6], plain[8]};
}
std::string list_text(const Picks& p) {
  const NetAddress cidr = p.by_cidr->address();
  const int second_octet = cidr.ip.bytes()[13];
  return fmt::format("# test\n{}\n{}\n127.{}.0.0/16\n", p.by_id->id,
                     p.by_ip->address().ip.to_string(), second_octet);
}
// Whether `text` mentions a node: its ID or its address.
bool mentions(const std::string& text, const netsim::SimNode& n) {
  return text.find(n.id) != std::string::npos ||
         text.find(n.address().dial_string()) != std::string::npos;
}

} // namespace

TEST_CASE("exclude file: read at start, reloaded on change, a bad reload keeps the list") {
  test::TempDir dir;
  const fs::path file = dir.path() / "exclude.txt";
  app::ExcludeFile missing(file); // no file yet: an empty list, no error
  CHECK(missing.list().empty());
  CHECK(missing.refresh().empty());
  test::write_file(file, std::string(40, 'a') + "\n203.0.113.0/24\n");
  auto lines = missing.refresh().lines;
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find("exclude list reloaded: 2 entries") != std::string::npos);
  CHECK(missing.list().excluded_id(std::string(40, 'a')));
  CHECK(missing.refresh().empty()); // unchanged

  const ExcludeList* in_use = &missing.list();
  test::write_file(file, "203.0.113.0/24\nnonsense\n198.51.100.0/99\n");
  lines = missing.refresh().lines;
  REQUIRE(lines.size() == 3);
  CHECK(lines[0].find("exclude.txt:2: ") != std::string::npos);
  CHECK(lines[1].find("exclude.txt:3: ") != std::string::npos);
  CHECK(lines[2].find("not reloaded") != std::string::npos);
  CHECK(&missing.list() == in_use);
  CHECK(missing.list().size() == 2); // the previous list
  CHECK(missing.list().excluded_id(std::string(40, 'a')));
  CHECK(missing.refresh().empty()); // said once per change

  test::write_file(file, "198.51.100.7\n");
  lines = missing.refresh().lines;
  REQUIRE(lines.size() == 1);
  CHECK(missing.list().size() == 1);
  CHECK(missing.list().excluded_ip(*IpAddress::parse("198.51.100.7")));
  CHECK_FALSE(missing.list().excluded_id(std::string(40, 'a')));
  fs::remove(file);
  lines = missing.refresh().lines;
  REQUIRE(lines.size() == 1);
  CHECK(missing.list().empty());

  // A bad file at start-up: every problem at once.
  test::write_file(file, "1.2.3.4/40\nok?\n10.0.0.1\n");
  try {
    app::ExcludeFile bad(file);
    FAIL("a bad file must stop start-up");
  } catch (const app::ConfigError& e) {
    const std::string what = e.what();
    CHECK(what.find("exclude.txt:1: ") != std::string::npos);
    CHECK(what.find("exclude.txt:2: ") != std::string::npos);
  }
  CHECK(app::ExcludeFile({}).list().empty()); // "": disabled
}

TEST_CASE("crawler: excluded nodes are never dialed, served or exported; a reload applies") {
  runtime::Loop loop;
  netsim::SimNetwork net(exclude_scenario(41000));
  netsim::Netsim sim(loop, net);
  sim.start();
  const Picks p = pick(net);
  std::vector<std::string> errors;
  ExcludeList list = ExcludeList::parse(list_text(p), "exclude.txt", errors);
  REQUIRE(errors.empty());

  test::TempDir dir;
  const auto db_file = dir.path() / "obs.db";
  storage::load_observatory(db_file);
  storage::ObservatoryWriter writer(db_file);
  engine::CrawlerOptions o;
  o.key = std::make_shared<const crypto::NodeKey>(crypto::NodeKey::generate());
  o.our_info.moniker = "exclude-test";
  o.our_info.version = "seedscope-test";
  o.our_info.listen_addr = "tcp://127.0.0.1:0";
  o.laddr = "tcp://127.0.0.1:0";
  o.loopback_only = true;
  o.schedule.recrawl_interval = Millis(1500);
  o.exclude = &list;
  o.max_contacts_per_subnet_per_second = 2;
  o.observer = &writer;
  engine::Crawler crawler(loop, o);
  for (const auto& a : net.seed_addresses()) crawler.add_seed(a);
  crawler.start();

  auto known = [&](const netsim::SimNode& n) {
    auto it = crawler.nodes().find("excl-1");
    return it != crawler.nodes().end() && it->second.count(n.id) != 0;
  };
  auto covered = [&] {
    std::size_t hit = 0, want = 0;
    for (const auto& n : net.nodes()) {
      if (n.behaviour != netsim::Behaviour::kNormal || list.excluded(n.address())) continue;
      ++want;
      hit += known(n);
    }
    return hit * 100 >= want * 95;
  };
  test::run_until(
      loop, [&] { return covered() && known(*p.later); }, Millis(20000));

  PeerAddress target;
  target.id = o.key->node_id();
  target.host = "127.0.0.1";
  target.port = crawler.port();
  target.ip = IpAddress::parse("127.0.0.1");
  auto served_clean = [&](const std::vector<const netsim::SimNode*>& excluded) {
    const auto answer = test::pex_request(loop, target, "excl-1", Millis(10000));
    REQUIRE(answer.addrs);
    CHECK(answer.addrs->size() >= 10);
    for (const auto* n : excluded) {
      INFO(n->id);
      for (const auto& a : *answer.addrs) CHECK_FALSE(list.excluded(a));
      for (const auto& a : crawler.seed_answer("excl-1")) CHECK(a.id != n->id);
    }
  };
  // Never dialed (netsim saw no connection), never known, never served.
  for (const auto* n : p.first()) {
    INFO(n->id, " ", n->address().to_string());
    CHECK(sim.accepted_by(n->id) == 0);
    CHECK_FALSE(known(*n));
  }
  CHECK(crawler.stats().excluded_not_learnt > 0);
  served_clean(p.first());

  // A reload: the one excluded later is a known node; it is not dialed again, while the
  // others are recrawled, and no longer served.
  std::vector<std::string> more;
  list = ExcludeList::parse(list_text(p) + p.later->address().ip.to_string() + "\n", "x", more);
  REQUIRE(more.empty());
  const auto dialed_later = sim.accepted_by(p.later->id);
  CHECK(dialed_later > 0);
  const auto contacts = crawler.stats().contacts;
  test::run_until(
      loop, [&] { return crawler.stats().contacts >= contacts + 60; }, Millis(20000));
  CHECK(sim.accepted_by(p.later->id) == dialed_later);
  CHECK(crawler.stats().excluded_not_dialed > 0);
  std::vector<const netsim::SimNode*> all = p.first();
  all.push_back(p.later);
  served_clean(all);

  // An excluded IP is closed at accept: our own client's, 127.0.0.1.
  list = ExcludeList::parse(list_text(p) + "127.0.0.1\n", "x", more);
  const auto refused = crawler.stats().excluded_refused;
  const auto shut = test::pex_request(loop, target, "excl-1", Millis(5000));
  CHECK_FALSE(shut.connected);
  CHECK(crawler.stats().excluded_refused == refused + 1);
  list = ExcludeList::parse(list_text(p) + p.later->address().ip.to_string() + "\n", "x", more);

  crawler.stop();
  sim.stop();
  writer.flush();
  test::drain(loop);

  // Exports: the database holds the node excluded later (crawled before), every export
  // leaves it out, and none holds the ones excluded from the start.
  auto db = storage::Database::open_read_only(db_file);
  storage::ExportFilter f;
  f.network = "excl-1";
  const auto now =
      std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now());
  const auto unfiltered = storage::query_peers(db, f, now);
  CHECK(std::any_of(unfiltered.begin(), unfiltered.end(),
                    [&](const auto& e) { return e.addr.id == p.later->id; }));
  f.exclude = &list;
  storage::FilterReport report;
  const auto peers = storage::query_peers(db, f, now, &report);
  CHECK(peers.size() + 1 == unfiltered.size());
  CHECK(report.removed.front() == std::pair<std::string, std::size_t>("excluded", 1));
  for (auto format : {storage::ExportFormat::kPersistentPeers, storage::ExportFormat::kSeeds,
                      storage::ExportFormat::kJson, storage::ExportFormat::kCsv,
                      storage::ExportFormat::kAddrbook}) {
    const std::string text = storage::format_peers(peers, format);
    INFO(to_string(format));
    CHECK(mentions(storage::format_peers(unfiltered, format), *p.later));
    for (const auto* n : all) CHECK_FALSE(mentions(text, *n));
  }
  CHECK(storage::query_nodes(db, "excl-1").size() ==
        storage::query_nodes(db, "excl-1", &list).size() + 1);
  for (const auto& r : storage::query_nodes(db, "excl-1", &list)) CHECK(r.id != p.later->id);
  // The API with the list, every format.
  for (const char* format : {"persistent_peers", "seeds", "json", "csv", "addrbook"}) {
    const auto r = app::handle_api_request(db_file, "GET", "/api/v1/peers",
                                           std::string("network=excl-1&format=") + format, &list);
    INFO(format, " ", r.body);
    CHECK(r.status == 200);
    for (const auto* n : all) CHECK_FALSE(mentions(r.body, *n));
  }
  const auto nodes =
      app::handle_api_request(db_file, "GET", "/api/v1/nodes", "network=excl-1", &list);
  CHECK(nodes.status == 200);
  for (const auto* n : all) CHECK(nodes.body.find(n->id) == std::string::npos);

  // `seedscope export` in every format, the list from the home's config/exclude.txt.
  const fs::path home = dir.path() / "home";
  fs::create_directories(home / "config");
  test::write_file(home / "config" / "exclude.txt",
                   list_text(p) + p.later->address().ip.to_string() + "\n");
  for (const char* format : {"persistent_peers", "seeds", "json", "csv", "addrbook"}) {
    auto r = test::run_process({kExcludeBinary, "export", "--home", home.string(), "--db",
                                db_file.string(), "--network", "excl-1", "--format", format});
    INFO(format, " ", r.err);
    CHECK(r.exit_code == 0);
    CHECK_FALSE(r.out.empty());
    for (const auto* n : all) CHECK_FALSE(mentions(r.out, *n));
  }
  // A bad file is an error naming its line, not an export without the list.
  test::write_file(home / "config" / "exclude.txt", "127.0.0.1/77\n");
  auto bad = test::run_process({kExcludeBinary, "export", "--home", home.string(), "--db",
                                db_file.string(), "--network", "excl-1"});
  CHECK(bad.exit_code == 1);
  CHECK(bad.err.find("exclude.txt:1: ") != std::string::npos);
}

TEST_CASE("start: the plain node never dials, serves or exports excluded nodes") {
  runtime::Loop loop;
  netsim::SimNetwork net(exclude_scenario(42000));
  netsim::Netsim sim(loop, net);
  sim.start();
  const Picks p = pick(net);
  std::string seeds;
  for (const auto& a : net.seed_addresses()) seeds += (seeds.empty() ? "" : ",") + a.to_string();

  test::TempDir dir;
  const fs::path home = dir.path() / "node";
  auto init = test::run_process({kExcludeBinary, "init", "--home", home.string()});
  REQUIRE(init.exit_code == 0);
  const std::uint16_t port = test::free_tcp_port();
  test::write_file(home / "config" / "config.toml",
                   fmt::format("moniker = \"exclude-node\"\nnetwork = \"excl-1\"\n[p2p]\nladdr = "
                               "\"tcp://127.0.0.1:{}\"\nmax_num_outbound_peers = 60\n"
                               "loopback_only = true\nseeds = \"{}\"\n"
                               "[instrumentation]\nprometheus = false\n",
                               port, seeds));
  test::write_file(home / "config" / "exclude.txt", list_text(p));
  test::ChildProcess node({kExcludeBinary, "start", "--home", home.string()}, dir.path() / "out",
                          dir.path() / "err");
  REQUIRE(test::wait_for_port(port, Millis(10000)));
  PeerAddress target;
  target.id = init.out.substr(0, 40);
  target.host = "127.0.0.1";
  target.port = port;
  target.ip = IpAddress::parse("127.0.0.1");

  // It learns the network from the seed and dials what it learns (normal mode: up to 60
  // outbound peers); ask it until its book holds a good part of the network.
  std::optional<std::vector<NetAddress>> answer;
  for (int attempt = 0; attempt < 40; ++attempt) {
    auto a = test::pex_request(loop, target, "excl-1");
    if (a.addrs && a.addrs->size() >= 10) {
      answer = a.addrs;
      break;
    }
    test::poll_until(
        loop, [] { return false; }, Millis(100), Millis(500));
  }
  INFO(test::read_file(dir.path() / "err"));
  REQUIRE(answer);
  for (const auto* n : p.first()) {
    INFO(n->id);
    CHECK(sim.accepted_by(n->id) == 0);
    for (const auto& a : *answer) CHECK(a.id != n->id);
  }
  const std::string later_id = answer->front().id; // in its book, not excluded yet

  // A reload (checked every 10 s) that names our client's IP: refused at accept.
  test::write_file(home / "config" / "exclude.txt", list_text(p) + "127.0.0.1/32\n");
  test::run_until_polled(
      loop,
      [&] {
        return test::read_file(dir.path() / "err").find("exclude list reloaded: 4 entries") !=
               std::string::npos;
      },
      Millis(200), Millis(20000));
  CHECK_FALSE(test::pex_request(loop, target, "excl-1", Millis(3000)).connected);
  node.signal(SIGTERM);
  REQUIRE(node.wait(Millis(15000)) == 0);
  sim.stop();
  test::drain(loop);

  // addrbook export: the book has a node we exclude now, the export not.
  auto before =
      test::run_process({kExcludeBinary, "addrbook", "export", "--home", home.string(), "-"});
  REQUIRE(before.exit_code == 0);
  CHECK(before.out.find(later_id) != std::string::npos);
  test::write_file(home / "config" / "exclude.txt", later_id + "\n");
  auto after =
      test::run_process({kExcludeBinary, "addrbook", "export", "--home", home.string(), "-"});
  REQUIRE(after.exit_code == 0);
  CHECK(after.out.find(later_id) == std::string::npos);
  for (const auto* n : p.first()) CHECK(after.out.find(n->id) == std::string::npos);
}

} // namespace seedscope
