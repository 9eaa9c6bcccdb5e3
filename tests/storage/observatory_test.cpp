// The observatory (schema v3): what the crawler posts is written by the writer thread in
// batches and read back at start-up; NodeInfo changes make history; advertisers are counted
// once per source; old contacts are pruned.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <thread>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <ostream>

#include "storage/database.hpp"
#include "storage/observatory.hpp"
#include "storage/queries.hpp"

using namespace seedscope;
using namespace seedscope::storage;
using namespace seedscope::observe;
namespace fs = std::filesystem;

namespace {

struct ObsDir {
  ObsDir() {
    std::random_device rd;
    path = fs::temp_directory_path() / fmt::format("seedscope-obs-{:x}", rd() ^ (rd() << 16));
    fs::create_directories(path);
  }
  ~ObsDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path path;
};

WallTime now_ms() {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

NetAddress address(int i) {
  return NetAddress{fmt::format("{:040x}", i),
                    IpAddress::v4(1, 2, std::uint8_t(i >> 8), std::uint8_t(i)), 26656};
}

NodeInfo info(int i, std::string version, std::string moniker) {
  NodeInfo n;
  n.node_id = address(i).id;
  n.network = "chain-1";
  n.version = std::move(version);
  n.moniker = std::move(moniker);
  n.listen_addr = "tcp://0.0.0.0:26656";
  n.channels = Bytes{0x00, 0x20};
  n.tx_index = "on";
  return n;
}

std::int64_t count(Database& db, const std::string& sql) {
  auto st = db.prepare(sql);
  REQUIRE(st.step());
  return st.column_int(0);
}

} // namespace

TEST_CASE("observatory: records are written in batches and the crawl state reads back") {
  ObsDir dir;
  const auto file = dir.path / "obs.db";
  auto empty = load_observatory(file);
  CHECK(empty.addresses.empty());
  CHECK(empty.availability.empty());

  const auto t = now_ms();
  std::vector<crawl::ScheduledAddress> sent;
  crawl::Availability av;
  av.update(true, t);
  av.update(false, t + std::chrono::minutes(10));
  {
    ObservatoryWriter w(file);
    for (int i = 1; i <= 500; ++i) {
      crawl::ScheduledAddress a;
      a.addr = address(i);
      a.network = "chain-1";
      a.state = i % 3 == 0 ? crawl::AddrState::kUnreachable : crawl::AddrState::kReachable;
      a.failures = i % 3 == 0 ? 2 : 0;
      a.first_seen = t;
      a.last_attempt = t + std::chrono::seconds(i);
      if (i % 3 != 0) a.last_success = a.last_attempt;
      a.next_attempt = i % 7 == 0 ? WallTime::max() : t + std::chrono::minutes(10);
      if (i % 7 == 0) a.state = crawl::AddrState::kRetired;
      sent.push_back(a);
      w.post(AddressUpdate{a, t});
    }
    w.post(AvailabilityUpdate{"chain-1", address(1).id, av});
    for (int i = 0; i < 50; ++i) {
      ContactRecord c;
      c.at = t;
      c.addr = address(i + 1);
      c.network = "chain-1";
      c.outcome = i % 2 ? crawl::Outcome::kOk : crawl::Outcome::kRefused;
      c.failure = i % 2 ? Failure{} : Failure{Stage::kDial, Reason::kRefused};
      c.connect_ms = 1.5;
      c.addrs_received = i % 2 ? 20 : 0;
      w.post(std::move(c));
    }
    w.flush();
    const auto s = w.stats();
    CHECK(s.records_written == 551);
    CHECK(s.contacts_written == 50); // what the status line reports as saved
    CHECK(s.batches >= 1);
    CHECK(s.dropped == 0);
    CHECK(s.pending == 0);
  }
  auto back = load_observatory(file);
  REQUIRE(back.addresses.size() == sent.size());
  std::map<std::string, crawl::ScheduledAddress> by_key;
  for (const auto& a : back.addresses) by_key[a.addr.to_string()] = a;
  for (const auto& a : sent) {
    INFO(a.addr.to_string());
    const auto& b = by_key.at(a.addr.to_string());
    CHECK(b.state == a.state);
    CHECK(b.failures == a.failures);
    CHECK(b.network == a.network);
    CHECK(b.first_seen == a.first_seen);
    CHECK(b.last_attempt == a.last_attempt);
    CHECK(b.last_success == a.last_success);
    CHECK(b.next_attempt == a.next_attempt);
  }
  REQUIRE(back.availability.size() == 1);
  CHECK(back.availability[0].id == address(1).id);
  for (std::size_t i = 0; i < crawl::kWindowCount; ++i) {
    CHECK(back.availability[0].availability.windows[i].reliability ==
          doctest::Approx(av.windows[i].reliability));
    CHECK(back.availability[0].availability.windows[i].count ==
          doctest::Approx(av.windows[i].count));
  }
  auto db = Database::open(file);
  CHECK(count(db, "SELECT count(*) FROM contacts") == 50);
  CHECK(count(db, "SELECT count(*) FROM contacts WHERE outcome = 'ok' AND addrs_received = 20") ==
        25);
  CHECK(count(db,
              "SELECT count(*) FROM addresses WHERE state = 'retired' AND next_attempt IS NULL") ==
        71);
  CHECK(count(db, "PRAGMA user_version") == 4);
}

TEST_CASE(
    "observatory: NodeInfo history on version or moniker changes; advertisers counted per source") {
  ObsDir dir;
  const auto file = dir.path / "obs.db";
  load_observatory(file);
  const auto t = now_ms();
  {
    ObservatoryWriter w(file);
    w.post(NodeSeen{info(1, "0.34.24", "alpha"), t});
    w.post(NodeSeen{info(1, "0.34.24", "alpha"), t + std::chrono::seconds(1)});   // same
    w.post(NodeSeen{info(1, "0.34.28", "alpha"), t + std::chrono::seconds(2)});   // upgrade
    w.post(NodeSeen{info(1, "0.34.28", "alpha-2"), t + std::chrono::seconds(3)}); // renamed
    crawl::ScheduledAddress target;
    target.addr = address(9);
    target.network = "chain-1";
    w.post(AddressUpdate{target, t});
    for (int src = 1; src <= 3; ++src)
      for (int rep = 0; rep < 3; ++rep)
        w.post(
            Advertised{"chain-1", address(src).id, address(9), t + std::chrono::seconds(10 * rep)});
  }
  auto db = Database::open(file);
  CHECK(count(db, "SELECT count(*) FROM node_info_history") == 3);
  CHECK(count(db, "SELECT count(*) FROM nodes") == 1);
  {
    auto st = db.prepare("SELECT version, moniker, tx_index, channels FROM nodes");
    REQUIRE(st.step());
    CHECK(st.column_text(0) == "0.34.28");
    CHECK(st.column_text(1) == "alpha-2");
    CHECK(st.column_text(2) == "on");
    CHECK(st.column_text(3) == "0020");
  }
  CHECK(count(db, "SELECT count(*) FROM advertised") == 3);
  CHECK(count(db, "SELECT advertisers FROM addresses") == 3);
  CHECK(count(db, "SELECT CAST(max(last_seen) - min(first_seen) AS INTEGER) FROM advertised") ==
        20);
  CHECK(count(db, "SELECT nodes FROM network_summary WHERE network = 'chain-1'") == 1);
}

TEST_CASE("observatory: the network counts have one definition: nodes, reachable, misbehaving") {
  ObsDir dir;
  const auto file = dir.path / "obs.db";
  load_observatory(file);
  const auto t = now_ms();
  {
    ObservatoryWriter w(file);
    auto put = [&](int i, const std::string& net, crawl::AddrState state, bool outbound) {
      NodeInfo n = info(i, "0.34.24", "m");
      n.network = net;
      w.post(NodeSeen{n, t, outbound});
      crawl::ScheduledAddress a;
      a.addr = address(i);
      a.network = net;
      a.state = state;
      w.post(AddressUpdate{a, t});
    };
    put(1, "chain-1", crawl::AddrState::kReachable, true);
    put(2, "chain-1", crawl::AddrState::kReachable, true);
    put(3, "chain-1", crawl::AddrState::kMisbehaving, true);
    put(4, "chain-1", crawl::AddrState::kUnreachable, true);
    // A second address of node 1 (reachable too): still one reachable node.
    crawl::ScheduledAddress again;
    again.addr = NetAddress{address(1).id, IpAddress::v4(9, 9, 9, 9), 26656};
    again.network = "chain-1";
    again.state = crawl::AddrState::kReachable;
    w.post(AddressUpdate{again, t});
    // An address learnt for chain-1 whose node never answered.
    crawl::ScheduledAddress learnt;
    learnt.addr = address(5);
    learnt.network = "chain-1";
    w.post(AddressUpdate{learnt, t});
    // A chain known only from an inbound peer.
    put(6, "only-inbound", crawl::AddrState::kNew, false);
  }
  auto db = Database::open(file);
  auto counts = network_counts(db);
  REQUIRE(counts.size() == 2);
  CHECK(counts[0].network == "chain-1");
  CHECK(counts[0].nodes == 4);
  CHECK(counts[0].reachable == 2);
  CHECK(counts[0].misbehaving == 1);
  CHECK(counts[0].addresses == 6);
  CHECK(counts[0].confirmed);
  CHECK(counts[1].network == "only-inbound");
  CHECK_FALSE(counts[1].confirmed);
  // The documented view agrees.
  CHECK(count(db, "SELECT reachable FROM network_summary WHERE network = 'chain-1'") == 2);
  CHECK(count(db, "SELECT nodes FROM network_summary WHERE network = 'chain-1'") == 4);
  auto state = load_observatory(file);
  CHECK(state.networks.size() == 2);
  CHECK(state.nodes.size() == 5);
}

TEST_CASE("observatory: migrating a version 2 database files misbehaving addresses apart") {
  ObsDir dir;
  const auto file = dir.path / "obs.db";
  {
    auto db = Database::open_at_version(file, 2);
    REQUIRE(count(db, "PRAGMA user_version") == 2);
    db.exec(
        "INSERT INTO nodes VALUES ('chain-1', 'a', 'm', 'v', 8, 11, 0, '', '', '', '00', 10, 20);"
        "INSERT INTO nodes VALUES ('chain-1', 'b', 'm', 'v', 8, 11, 0, '', '', '', '00', 10, 20);"
        "INSERT INTO nodes VALUES ('lonely', 'c', 'm', 'v', 8, 11, 0, '', '', '', '00', 10, 20);"
        // a: its last contact misbehaved (the old code recorded it reachable)
        "INSERT INTO addresses VALUES ('a', '1.1.1.1', 1, 'chain-1', 'reachable', 0, 1, 2, 30, "
        "30, 40, 0);"
        "INSERT INTO contacts VALUES (20, 'out', 'a', '1.1.1.1', 1, 'chain-1', 'ok', '', '', '', "
        "1, 1, 5);"
        "INSERT INTO contacts VALUES (30, 'out', 'a', '1.1.1.1', 1, 'chain-1', 'misbehaving', "
        "'pex', 'unsolicited_addrs', '', 1, 1, 0);"
        // b: misbehaved once, behaved since
        "INSERT INTO addresses VALUES ('b', '2.2.2.2', 1, 'chain-1', 'reachable', 0, 1, 2, 30, "
        "30, 40, 0);"
        "INSERT INTO contacts VALUES (20, 'out', 'b', '2.2.2.2', 1, 'chain-1', 'misbehaving', "
        "'pex', 'unsolicited_addrs', '', 1, 1, 0);"
        "INSERT INTO contacts VALUES (30, 'out', 'b', '2.2.2.2', 1, 'chain-1', 'ok', '', '', '', "
        "1, 1, 5);");
  }
  auto db = Database::open(file);
  CHECK(count(db, "PRAGMA user_version") == 4);
  CHECK(count(db, "SELECT count(*) FROM addresses WHERE id = 'a' AND state = 'misbehaving'") == 1);
  CHECK(count(db, "SELECT count(*) FROM addresses WHERE id = 'b' AND state = 'reachable'") == 1);
  auto counts = network_counts(db);
  REQUIRE(counts.size() == 2);
  CHECK(counts[0].network == "chain-1");
  CHECK(counts[0].reachable == 1);
  CHECK(counts[0].misbehaving == 1);
  CHECK(counts[0].confirmed); // an address of it had a success
  CHECK_FALSE(counts[1].confirmed);
}

TEST_CASE("observatory: contacts older than the retention are pruned") {
  ObsDir dir;
  const auto file = dir.path / "obs.db";
  load_observatory(file);
  WriterOptions o;
  o.contact_retention = std::chrono::seconds(3600);
  o.prune_interval = std::chrono::seconds(0);
  o.batch_interval = std::chrono::milliseconds(10);
  const auto t = now_ms();
  {
    ObservatoryWriter w(file, o);
    for (int i = 0; i < 10; ++i) {
      ContactRecord c;
      c.at = i < 4 ? t - std::chrono::hours(2) : t;
      c.addr = address(i + 1);
      c.outcome = crawl::Outcome::kRefused;
      w.post(std::move(c));
    }
    w.flush();
    // The prune runs after a batch; give it a few rounds, bounded.
    for (int i = 0; i < 200 && w.stats().contacts_pruned < 4; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    CHECK(w.stats().contacts_pruned == 4);
  }
  auto db = Database::open(file);
  CHECK(count(db, "SELECT count(*) FROM contacts") == 6);
}

TEST_CASE("observatory: a file that is not ours is refused, untouched") {
  ObsDir dir;
  const auto file = dir.path / "junk.db";
  {
    std::ofstream out(file, std::ios::binary);
    out << "this is not a database";
  }
  CHECK_THROWS_AS(load_observatory(file), StorageError);
  CHECK_THROWS_AS(ObservatoryWriter{file}, StorageError);
  std::ifstream in(file, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(text == "this is not a database");
}

TEST_CASE("observatory: unauthenticated inbound connections are one row per minute and failure") {
  ObsDir dir;
  const auto file = dir.path / "obs.db";
  load_observatory(file);
  WriterOptions o;
  o.batch_interval = std::chrono::milliseconds(10);
  // A fixed minute, seconds into it, so that the 5,000 fall in one window.
  const WallTime minute = std::chrono::floor<std::chrono::minutes>(now_ms());
  {
    ObservatoryWriter w(file, o);
    auto stranger = [&](int i, Reason reason, WallTime at) {
      ContactRecord c;
      c.at = at;
      c.inbound = true;
      c.addr = NetAddress{"", IpAddress::v4(10, 0, std::uint8_t(i >> 8), std::uint8_t(i)), 40000};
      c.outcome = crawl::Outcome::kHandshakeFailed;
      c.failure = {Stage::kSecretHandshake, reason};
      c.detail = "peer closed";
      w.post(std::move(c));
    };
    for (int i = 0; i < 5000; ++i)
      stranger(i % 300, i % 2 ? Reason::kClosed : Reason::kTimeout,
               minute + std::chrono::seconds(1));
    // The next minute starts new rows.
    stranger(1, Reason::kClosed, minute + std::chrono::seconds(61));
    // An authenticated inbound peer keeps its own row, as does every outbound contact.
    ContactRecord known;
    known.at = minute + std::chrono::seconds(2);
    known.inbound = true;
    known.addr = address(7);
    known.outcome = crawl::Outcome::kOk;
    w.post(known);
    w.flush();
  }
  auto db = Database::open(file);
  CHECK(count(db, "SELECT count(*) FROM contacts") == 4);
  CHECK(count(db, "SELECT count(*) FROM contacts WHERE id = ''") == 3);
  auto st = db.prepare("SELECT detail FROM contacts WHERE id = '' AND reason = 'timeout'");
  REQUIRE(st.step());
  CHECK(st.column_text(0) ==
        "2500 unauthenticated inbound connections from 150 addresses this minute; the last: peer "
        "closed");
}
