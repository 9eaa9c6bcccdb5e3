// The PEX reactor against a fake switch, a fake clock, a seeded RNG and a real address book.
// No sockets, no sleeps: the test completes dials and advances time by hand.
#include <doctest/doctest.h>

#include <cstdio>

#include "core/pex/pex_reactor.hpp"
#include "core/proto/p2p.pb.h"
#include "support/fake_clock.hpp"
#include "support/fake_switch.hpp"

using namespace seedscope;
using namespace seedscope::pex;
using test::FakeClock;
using test::FakeSwitch;
using namespace std::chrono_literals;

namespace {

std::string node_id(int n) {
  char buf[41];
  std::snprintf(buf, sizeof buf, "%040x", n);
  return buf;
}

// One /16 per address, so that bucket placement spreads them.
NetAddress addr(int n, std::uint16_t port = 26656) {
  return NetAddress{
      node_id(n),
      IpAddress::v4(11, static_cast<std::uint8_t>(n % 256), static_cast<std::uint8_t>(n / 256), 1),
      port};
}

PeerInfo peer_from(const NetAddress& a, bool outbound, std::string listen_addr = {}) {
  PeerInfo p;
  p.id = a.id;
  p.outbound = outbound;
  p.node_info.node_id = a.id;
  p.node_info.listen_addr = listen_addr.empty() ? "tcp://" + a.dial_string() : listen_addr;
  p.socket = NetAddress{a.id, a.ip, static_cast<std::uint16_t>(outbound ? a.port : 40000)};
  return p;
}

PexMessage decode(const Bytes& b) {
  auto m = decode_pex_message(b);
  REQUIRE(m.ok());
  return *m;
}

Bytes raw_addrs_with_port(const NetAddress& a, std::uint32_t port) {
  wire::Message m;
  auto* e = m.mutable_pex_addrs()->add_addrs();
  e->set_id(a.id);
  e->set_ip(a.ip.to_string());
  e->set_port(port);
  std::string s = m.SerializeAsString();
  return Bytes(s.begin(), s.end());
}

struct Fixture {
  FakeClock clock;
  SeededRng rng{7};
  SeededRng book_rng{11};
  AddrBook book{AddrBookConfig{true, std::string("00112233445566778899aabb")}, book_rng};
  std::unique_ptr<PexReactor> reactor;
  std::unique_ptr<FakeSwitch> sw;

  explicit Fixture(PexReactorConfig config = {}) {
    reactor = std::make_unique<PexReactor>(book, rng, clock, std::move(config));
    sw = std::make_unique<FakeSwitch>(clock, *reactor);
  }
  void fill_book(int from, int to) {
    for (int n = from; n < to; ++n)
      REQUIRE(book.add_address(addr(n), addr(9999), clock.wall()).ok());
  }
  void receive(const PeerInfo& p, const Bytes& msg) { reactor->receive(p, kPexChannel, msg); }
  void request_from(const PeerInfo& p) { receive(p, encode_pex_request()); }
};

PexReactorConfig seed_config() {
  PexReactorConfig c;
  c.seed_mode = true;
  return c;
}

} // namespace

TEST_CASE("PEX channel descriptor") {
  Fixture f;
  auto chs = f.reactor->channels();
  REQUIRE(chs.size() == 1);
  CHECK(chs[0].id == 0x00);
  CHECK(chs[0].priority == 1);
  CHECK(chs[0].send_queue_capacity == 10);
  CHECK(chs[0].recv_message_capacity == 64000);
}

TEST_CASE("an outbound peer is asked for addresses and its answer fills the book") {
  Fixture f;
  const PeerInfo p = peer_from(addr(1), true);
  f.sw->connect(p);
  REQUIRE(f.sw->sent_to(p.id).size() == 1);
  CHECK(to_hex(f.sw->sent_to(p.id)[0].msg) == "0a00");
  CHECK(f.reactor->request_outstanding(p.id));

  f.receive(p, encode_pex_addrs({addr(2), addr(3)}));
  CHECK(f.book.has(node_id(2)));
  CHECK(f.book.has(node_id(3)));
  CHECK(f.book.find(node_id(2))->src == addr(1));
  CHECK_FALSE(f.reactor->request_outstanding(p.id));
  CHECK(f.sw->stopped.empty());
}

TEST_CASE("one outstanding request per peer") {
  Fixture f;
  const PeerInfo p = peer_from(addr(1), true);
  f.sw->connect(p);
  f.reactor->request_addrs(p.id);
  f.reactor->request_addrs(p.id);
  CHECK(f.sw->sent_to(p.id).size() == 1);
  f.receive(p, encode_pex_addrs({}));
  f.reactor->request_addrs(p.id);
  CHECK(f.sw->sent_to(p.id).size() == 2);
}

TEST_CASE("request state ends with the connection; an unsent request is not outstanding") {
  Fixture f;
  const PeerInfo p = peer_from(addr(1), true);
  f.sw->connect(p);
  f.sw->disconnect(p.id);
  CHECK_FALSE(f.reactor->request_outstanding(p.id));
  f.sw->connect(p);
  CHECK(f.sw->sent_to(p.id).size() == 2);

  const PeerInfo q = peer_from(addr(2), true);
  f.sw->send_ok = false;
  f.sw->connect(q);
  CHECK_FALSE(f.reactor->request_outstanding(q.id));
}

TEST_CASE("an unsolicited list gets the peer stopped and banned") {
  Fixture f;
  const PeerInfo p = peer_from(addr(5), false);
  f.sw->connect(p);
  REQUIRE(f.book.has(p.id));
  f.receive(p, encode_pex_addrs({addr(2)}));
  REQUIRE(f.sw->stopped.size() == 1);
  CHECK(f.sw->stopped[0].why.stage == Stage::kPex);
  CHECK(f.sw->stopped[0].why.reason == Reason::kUnsolicitedAddrs);
  CHECK_FALSE(f.sw->stopped[0].graceful);
  CHECK(f.book.is_banned(p.id, f.clock.wall()));
  CHECK_FALSE(f.book.has(node_id(2)));
  // New connections of its ID and from its IP are refused for the ban time.
  REQUIRE(f.sw->bans.size() == 1);
  CHECK(f.sw->bans[0].id == p.id);
  CHECK(f.sw->bans[0].ip == p.socket.ip);
  CHECK(f.sw->bans[0].duration == std::chrono::hours(24));
}

TEST_CASE("a PexAddrs answer is taken up to 250 addresses") {
  Fixture f;
  const PeerInfo p = peer_from(addr(1), true);
  f.sw->connect(p);
  std::vector<NetAddress> many;
  for (int n = 1000; n < 1300; ++n) many.push_back(addr(n));
  f.receive(p, encode_pex_addrs(many));
  CHECK(f.sw->stopped.empty());
  CHECK(f.reactor->stats().addresses_ignored == 50);
  CHECK(f.reactor->stats().addresses_received == 300);
  CHECK_FALSE(f.book.has(node_id(1250)));
  CHECK_FALSE(f.book.has(node_id(1299)));
  std::size_t taken = 0;
  for (int n = 1000; n < 1250; ++n) taken += f.book.has(node_id(n)) ? 1 : 0;
  CHECK(taken > 0);
}

TEST_CASE("seed mode answers one IP at most 10 times a minute") {
  Fixture f(seed_config());
  f.sw->remove_on_stop = false;
  auto from_ip = [&](int n, std::uint8_t last) {
    PeerInfo p = peer_from(addr(n), false);
    p.socket.ip = IpAddress::v4(192, 0, 2, last);
    return p;
  };
  for (int i = 0; i < 10; ++i) {
    const PeerInfo p = from_ip(100 + i, 1);
    f.sw->connect(p);
    f.request_from(p);
    CHECK(f.sw->sent_to(p.id).size() == 1);
  }
  const PeerInfo eleventh = from_ip(200, 1);
  f.sw->connect(eleventh);
  f.request_from(eleventh);
  CHECK(f.sw->sent_to(eleventh.id).empty());
  REQUIRE_FALSE(f.sw->stopped.empty());
  CHECK(f.sw->stopped.back().peer == eleventh.id);
  CHECK(f.sw->stopped.back().why.reason == Reason::kTooManyRequests);
  CHECK(f.sw->stopped.back().graceful);
  CHECK(f.sw->bans.empty()); // hung up, not banned: a NAT may hide many nodes
  CHECK(f.reactor->stats().answers_refused == 1);
  // Another IP is answered; a minute later so is the first again.
  const PeerInfo other = from_ip(201, 2);
  f.sw->connect(other);
  f.request_from(other);
  CHECK(f.sw->sent_to(other.id).size() == 1);
  f.clock.advance(60s);
  const PeerInfo later = from_ip(202, 1);
  f.sw->connect(later);
  f.request_from(later);
  CHECK(f.sw->sent_to(later.id).size() == 1);
}

TEST_CASE("requests: two free, then one per ensure_peers_period / 3") {
  Fixture f;
  const PeerInfo p = peer_from(addr(5), false);
  f.sw->connect(p);
  f.request_from(p);
  f.request_from(p); // the second is free too
  CHECK(f.sw->stopped.empty());
  CHECK(f.sw->sent_to(p.id).size() == 2);
  CHECK_FALSE(decode(f.sw->sent_to(p.id)[0].msg).is_request());

  SUBCASE("a third within 10 s: stopped and banned") {
    f.clock.advance(9999ms);
    f.request_from(p);
    REQUIRE(f.sw->stopped.size() == 1);
    CHECK(f.sw->stopped[0].why.reason == Reason::kTooManyRequests);
    CHECK(f.sw->stopped[0].why.stage == Stage::kPex);
    CHECK(f.book.is_banned(p.id, f.clock.wall()));
    CHECK(f.sw->sent_to(p.id).size() == 2);
  }
  SUBCASE("10 s apart is fine, then too soon again") {
    f.clock.advance(10s);
    f.request_from(p);
    CHECK(f.sw->stopped.empty());
    CHECK(f.sw->sent_to(p.id).size() == 3);
    f.clock.advance(5s);
    f.request_from(p);
    CHECK(f.sw->stopped.size() == 1);
  }
}

TEST_CASE("an invalid address rejects the whole list: stop and ban") {
  Fixture f;
  f.fill_book(1, 2); // we dialed it, so the book knows it
  const PeerInfo p = peer_from(addr(1), true);
  f.sw->connect(p);
  f.receive(p, raw_addrs_with_port(addr(2), 70000));
  REQUIRE(f.sw->stopped.size() == 1);
  CHECK(f.sw->stopped[0].why.reason == Reason::kBadAddrs);
  CHECK(f.book.is_banned(p.id, f.clock.wall()));
  CHECK_FALSE(f.book.has(node_id(2)));
}

TEST_CASE("an undecodable message stops the peer without a ban") {
  Fixture f;
  const PeerInfo p = peer_from(addr(5), false);
  f.sw->connect(p);
  f.receive(p, Bytes{0xff});
  REQUIRE(f.sw->stopped.size() == 1);
  CHECK(f.sw->stopped[0].why.reason == Reason::kMalformed);
  CHECK_FALSE(f.book.is_banned(p.id, f.clock.wall()));
}

TEST_CASE("port 0 and refused addresses are skipped without punishment") {
  Fixture f;
  const PeerInfo p = peer_from(addr(1), true);
  f.sw->connect(p);
  NetAddress bad_id = addr(4);
  bad_id.id = "zz";
  NetAddress private_ip{node_id(6), IpAddress::v4(192, 168, 1, 1), 26656};
  f.receive(p, encode_pex_addrs({addr(2, 0), bad_id, private_ip, addr(3)}));
  CHECK(f.sw->stopped.empty());
  CHECK_FALSE(f.book.has(node_id(2)));
  CHECK_FALSE(f.book.has(node_id(6)));
  CHECK(f.book.has(node_id(3)));
}

TEST_CASE("seed mode answers an inbound request once, verified addresses only, and hangs up") {
  Fixture f(seed_config());
  f.fill_book(100, 110);
  // 100..104 were reached (an outbound handshake in chain-a); 105..109 are only hearsay, and
  // so is the address the requester advertises.
  for (int n = 100; n < 105; ++n) f.book.mark_good(node_id(n), f.clock.wall(), "chain-a");
  f.sw->remove_on_stop = false;
  PeerInfo p = peer_from(addr(5), false);
  p.node_info.network = "chain-a";
  f.sw->connect(p); // its own address joins the book, unverified
  f.request_from(p);
  REQUIRE(f.sw->sent_to(p.id).size() == 1);
  auto m = decode(f.sw->sent_to(p.id)[0].msg);
  REQUIRE(m.addrs.size() == 5); // fewer than 32: every verified one, nothing else
  for (const auto& a : m.addrs) {
    const KnownAddress* ka = f.book.find(a.id);
    REQUIRE(ka != nullptr);
    CHECK(ka->network == "chain-a");
  }
  // A requester of another chain gets none of them.
  PeerInfo q = peer_from(addr(6), false);
  q.node_info.network = "fake-a";
  f.sw->connect(q);
  f.request_from(q);
  REQUIRE(f.sw->sent_to(q.id).size() == 1);
  CHECK(decode(f.sw->sent_to(q.id)[0].msg).addrs.empty());
  REQUIRE(f.sw->stopped.size() == 2);
  CHECK(f.sw->stopped[0].graceful);
  CHECK(f.sw->stopped[0].why.stage == Stage::kPex);
  CHECK(f.sw->stopped[0].why.reason == Reason::kDone);

  f.request_from(p);
  f.request_from(p);
  CHECK(f.sw->sent_to(p.id).size() == 1);
  CHECK(f.sw->stopped.size() == 2);
  CHECK_FALSE(f.book.is_banned(p.id, f.clock.wall()));
}

TEST_CASE("a seed of several chains answers each requester with its own chain only") {
  PexReactorConfig c = seed_config();
  c.chains_apart = true; // the node adopts each peer's network
  Fixture f(c);
  f.sw->remove_on_stop = false;
  // Crawled: nodes 100..139 verified in chain-a, 200..209 in chain-b; 300..309 only learnt.
  auto crawled = [&](int from, int to, const char* chain) {
    for (int n = from; n < to; ++n) {
      PeerInfo p = peer_from(addr(n), true);
      p.node_info.network = chain;
      REQUIRE(f.book.add_address(addr(n), addr(n), f.clock.wall()).ok());
      f.sw->connect(p); // an outbound handshake with the node of that chain
      f.sw->disconnect(p.id);
    }
  };
  crawled(100, 140, "chain-a");
  crawled(200, 210, "chain-b");
  f.fill_book(300, 310);
  CHECK(f.book.find(node_id(100))->network == "chain-a");
  CHECK(f.book.find(node_id(300))->network.empty());
  auto answer_to = [&](int n, const char* chain) {
    PeerInfo p = peer_from(addr(n), false);
    p.node_info.network = chain;
    f.sw->connect(p);
    f.request_from(p);
    REQUIRE(f.sw->sent_to(p.id).size() == 1);
    return decode(f.sw->sent_to(p.id)[0].msg).addrs;
  };
  auto b = answer_to(5, "chain-b");
  CHECK(b.size() == 10);
  for (const auto& a : b) CHECK(f.book.find(a.id)->network == "chain-b");
  auto a = answer_to(6, "chain-a");
  CHECK(a.size() == 32); // GetSelection's sizing over the 40 of chain-a
  for (const auto& x : a) CHECK(f.book.find(x.id)->network == "chain-a");
  CHECK(answer_to(7, "chain-z").empty()); // a chain it knows nothing of
}

TEST_CASE("seed mode serves an outbound peer by the normal rule") {
  Fixture f(seed_config());
  const PeerInfo p = peer_from(addr(1), true);
  f.sw->connect(p);
  f.request_from(p);
  CHECK(f.sw->stopped.empty());
  CHECK_FALSE(decode(f.sw->sent.back().msg).is_request());
}

TEST_CASE("an inbound peer's advertised address joins the book, its own source") {
  Fixture f;
  SUBCASE("routable listen address as advertised") {
    PeerInfo p = peer_from(addr(8), false, "tcp://11.8.0.1:26657");
    f.sw->connect(p);
    REQUIRE(f.book.has(p.id));
    CHECK(f.book.find(p.id)->addr == NetAddress{p.id, IpAddress::v4(11, 8, 0, 1), 26657});
    CHECK(f.book.find(p.id)->src == f.book.find(p.id)->addr);
    CHECK(f.sw->sent.empty()); // no request to an inbound peer yet
  }
  SUBCASE("0.0.0.0: the observed IP with the advertised port") {
    PeerInfo p = peer_from(addr(7), false, "tcp://0.0.0.0:26656");
    p.socket = NetAddress{p.id, IpAddress::v4(11, 7, 0, 9), 40000};
    f.sw->connect(p);
    REQUIRE(f.book.has(p.id));
    CHECK(f.book.find(p.id)->addr == NetAddress{p.id, IpAddress::v4(11, 7, 0, 9), 26656});
  }
  SUBCASE("[::] over IPv6") {
    PeerInfo p = peer_from(addr(7), false, "tcp://[::]:26656");
    p.socket = NetAddress{p.id, *IpAddress::parse("2a01:4f8::9"), 40000};
    f.sw->connect(p);
    REQUIRE(f.book.has(p.id));
    CHECK(f.book.find(p.id)->addr.ip == *IpAddress::parse("2a01:4f8::9"));
  }
  SUBCASE("an outbound peer is not added again") {
    f.sw->connect(peer_from(addr(9), true));
    CHECK_FALSE(f.book.has(node_id(9)));
  }
}

TEST_CASE("ensurePeers dials up to the outbound target") {
  Fixture f;
  f.fill_book(1, 21);
  f.reactor->start(); // no peers, nobody dialed: at once
  CHECK(f.reactor->next_deadline() == f.clock.mono() + 30s);
  REQUIRE(f.sw->dials.size() == 10);
  std::set<std::string> ids;
  for (const auto& d : f.sw->dials) ids.insert(d.addr.id);
  CHECK(ids.size() == 10);

  std::vector<std::string> connected;
  for (int i = 0; i < 3; ++i) {
    connected.push_back(f.sw->dials.front().addr.id);
    f.sw->complete_dial(connected.back());
  }
  f.sw->fail_all_dials();
  CHECK(f.sw->num_outbound() == 3);
  f.clock.advance(29s);
  f.reactor->on_tick(); // not yet
  CHECK(f.sw->dials.empty());
  f.clock.advance(1s);
  f.reactor->on_tick();
  CHECK(f.sw->dials.size() > 0);
  CHECK(f.sw->dials.size() <= 7);
  for (const auto& d : f.sw->dials)
    CHECK(std::find(connected.begin(), connected.end(), d.addr.id) == connected.end());
  CHECK(f.reactor->next_deadline() == f.clock.mono() + 30s);
}

TEST_CASE("normal mode with peers waits a random delay before ensurePeers") {
  Fixture f;
  f.fill_book(1, 5);
  f.sw->connect(peer_from(addr(50), false));
  const TimePoint t0 = f.clock.mono();
  f.reactor->start();
  CHECK(f.sw->dials.empty());
  CHECK(f.reactor->next_deadline() >= t0);
  CHECK(f.reactor->next_deadline() < t0 + 30s);
  f.clock.advance(std::chrono::duration_cast<Millis>(f.reactor->next_deadline() - t0));
  f.reactor->on_tick();
  CHECK_FALSE(f.sw->dials.empty());
}

TEST_CASE("dial back-off: 2^n s plus up to 1 s after n failures") {
  Fixture f;
  f.fill_book(1, 2);
  const NetAddress a = addr(1);
  REQUIRE(f.reactor->dial_peer(a));
  f.sw->complete_dial(a.id, Failure{Stage::kDial, Reason::kTimeout});
  CHECK(f.reactor->attempts_to_dial(a) == 1);
  CHECK(f.book.find(a.id)->attempts == 1);
  CHECK_FALSE(f.reactor->dial_peer(a));
  f.clock.advance(1999ms);
  CHECK_FALSE(f.reactor->dial_peer(a));
  f.clock.advance(1002ms);
  REQUIRE(f.reactor->dial_peer(a));
  f.sw->complete_dial(a.id, Failure{Stage::kSecretHandshake, Reason::kTimeout});
  CHECK(f.reactor->attempts_to_dial(a) == 2);
  f.clock.advance(3999ms);
  CHECK_FALSE(f.reactor->dial_peer(a));
  f.clock.advance(1002ms);
  REQUIRE(f.reactor->dial_peer(a));
  f.sw->complete_dial(a.id);
  CHECK(f.reactor->attempts_to_dial(a) == 0);
  CHECK(f.book.find(a.id)->is_old()); // marked good on connect
}

TEST_CASE("an address already dialed or connected is not an attempt") {
  Fixture f;
  f.fill_book(1, 2);
  REQUIRE(f.reactor->dial_peer(addr(1)));
  REQUIRE(f.reactor->dial_peer(addr(1))); // the switch refuses it, later
  f.sw->run_deferred();
  CHECK(f.reactor->attempts_to_dial(addr(1)) == 0);
  CHECK(f.book.find(node_id(1))->attempts == 0);
  CHECK(f.sw->dials.size() == 1);
}

TEST_CASE("refusals by our own filters are not held against the address") {
  Fixture f;
  f.fill_book(1, 2);
  for (const Reason r : {Reason::kPeerLimit, Reason::kDuplicateIp, Reason::kShutdown}) {
    REQUIRE(f.reactor->dial_peer(addr(1)));
    f.sw->complete_dial(node_id(1), Failure{Stage::kLocalPolicy, r});
    CHECK(f.reactor->attempts_to_dial(addr(1)) == 0);
    CHECK(f.book.find(node_id(1))->attempts == 0);
  }
}

TEST_CASE("more than 16 failed dials: marked bad, unless persistent") {
  for (const bool persistent : {false, true}) {
    CAPTURE(persistent);
    PexReactorConfig c;
    c.persistent_peers_max_dial_period = 10s;
    Fixture f(c);
    f.fill_book(1, 3);
    const NetAddress a = addr(persistent ? 2 : 1);
    if (persistent) f.sw->persistent.insert(a.id);
    for (int i = 1; i <= 17; ++i) {
      REQUIRE(f.reactor->dial_peer(a));
      f.sw->complete_dial(a.id, Failure{Stage::kDial, Reason::kRefused});
      f.clock.advance(persistent ? 10001ms : Millis((1000LL << i) + 1001));
    }
    CHECK(f.reactor->attempts_to_dial(a) == 17);
    if (!persistent) {
      CHECK_FALSE(f.reactor->dial_peer(a));
      CHECK(f.book.is_banned(a.id, f.clock.wall()));
      CHECK_FALSE(f.book.has(a.id));
    } else {
      CHECK(f.reactor->dial_peer(a)); // the back-off is capped at 10 s
      CHECK_FALSE(f.book.is_banned(a.id, f.clock.wall()));
    }
  }
}

TEST_CASE("an authentication failure is marked bad at once") {
  for (const Reason reason : {Reason::kAuthFailure, Reason::kIdMismatch}) {
    Fixture f;
    f.fill_book(1, 2);
    REQUIRE(f.reactor->dial_peer(addr(1)));
    f.sw->complete_dial(node_id(1), Failure{Stage::kSecretHandshake, reason});
    CHECK(f.book.is_banned(node_id(1), f.clock.wall()));
    CHECK_FALSE(f.book.has(node_id(1)));
    CHECK(f.reactor->attempts_to_dial(addr(1)) == 0);
  }
}

TEST_CASE("dialing ourselves: the address becomes ours and leaves the book") {
  Fixture f;
  f.fill_book(1, 2);
  REQUIRE(f.reactor->dial_peer(addr(1)));
  f.sw->complete_dial(node_id(1), Failure{Stage::kNodeInfo, Reason::kSelf});
  CHECK_FALSE(f.book.has(node_id(1)));
  CHECK(f.book.is_our_address(addr(1)));
  CHECK(f.reactor->attempts_to_dial(addr(1)) == 0);
}

TEST_CASE("seeds are dialed only when there is nothing else to dial") {
  PexReactorConfig c;
  auto s1 = parse_peer_address(node_id(201) + "@11.201.0.1:26656");
  auto s2 = parse_peer_address(node_id(202) + "@seed.example.com:26656");
  REQUIRE(s1.ok());
  REQUIRE(s2.ok());
  c.seeds = {*s1, *s2};
  Fixture f(c);
  SUBCASE("empty book: one seed, then the next when it fails") {
    f.reactor->start();
    REQUIRE(f.sw->dials.size() == 1);
    const std::string first = f.sw->dials[0].addr.id;
    CHECK((first == s1->id || first == s2->id));
    f.sw->fail_all_dials();
    REQUIRE(f.sw->dials.size() == 1);
    CHECK(f.sw->dials[0].addr.id != first);
    f.sw->fail_all_dials();
    CHECK(f.sw->dials.empty());
  }
  SUBCASE("addresses in the book: no seed") {
    f.fill_book(1, 6);
    f.reactor->start();
    CHECK_FALSE(f.sw->dials.empty());
    for (const auto& d : f.sw->dial_log) {
      CHECK(d.id != s1->id);
      CHECK(d.id != s2->id);
    }
  }
}

TEST_CASE("a node of several chains dials every seed, not only the first that connects") {
  PexReactorConfig c = seed_config();
  c.chains_apart = true;
  auto s1 = parse_peer_address(node_id(201) + "@11.201.0.1:26656");
  auto s2 = parse_peer_address(node_id(202) + "@11.202.0.1:26656");
  REQUIRE(s1.ok());
  REQUIRE(s2.ok());
  c.seeds = {*s1, *s2};
  Fixture f(c);
  f.reactor->start();
  REQUIRE(f.sw->dials.size() == 2); // both at once: each may be another chain's
  f.sw->complete_dial(s1->id);
  f.sw->complete_dial(s2->id);
  CHECK(f.sw->peers().size() == 2);
}

TEST_CASE("addresses learnt from a seed are dialed at once") {
  PexReactorConfig c;
  auto s1 = parse_peer_address(node_id(201) + "@11.201.0.1:26656");
  REQUIRE(s1.ok());
  c.seeds = {*s1};
  Fixture f(c);
  f.reactor->start();
  REQUIRE(f.sw->dials.size() == 1);
  f.sw->complete_dial(s1->id);
  const PeerInfo seed = f.sw->peers().at(0);
  REQUIRE(f.reactor->request_outstanding(seed.id));
  f.receive(seed, encode_pex_addrs({addr(2), addr(3)}));
  CHECK(f.sw->dialing(node_id(2)));
  CHECK(f.sw->dialing(node_id(3)));

  // Only into free outbound slots: with the slots full, the rest wait in the book.
  f.sw->max_outbound_peers = f.sw->num_outbound() + f.sw->num_dialing();
  f.reactor->request_addrs(seed.id);
  f.receive(seed, encode_pex_addrs({addr(6), addr(7)}));
  CHECK(f.book.has(node_id(6)));
  CHECK_FALSE(f.sw->dialing(node_id(6)));
  CHECK_FALSE(f.sw->dialing(node_id(7)));
  f.sw->max_outbound_peers = 10;

  // Not so from an ordinary peer.
  const PeerInfo p = peer_from(addr(4), true);
  f.sw->connect(p);
  f.receive(p, encode_pex_addrs({addr(5)}));
  CHECK(f.book.has(node_id(5)));
  CHECK_FALSE(f.sw->dialing(node_id(5)));
}

TEST_CASE("seed mode crawls: asks every peer it reaches, at most every 2 minutes") {
  Fixture f(seed_config());
  f.fill_book(1, 6);
  f.reactor->start(); // no seeds: crawl at once
  REQUIRE(f.sw->dials.size() == 5);
  const std::string a = f.sw->dials[0].addr.id, b = f.sw->dials[1].addr.id;
  f.sw->complete_dial(a);
  f.sw->complete_dial(b);
  CHECK(f.sw->sent_to(a).size() == 1); // add_peer and the crawl share one outstanding request
  CHECK(f.reactor->request_outstanding(a));
  f.sw->fail_all_dials();
  const std::size_t dialed = f.sw->dial_log.size();

  for (int i = 0; i < 3; ++i) {
    f.clock.advance(30s);
    f.reactor->on_tick();
  }
  CHECK(f.sw->dial_log.size() == dialed); // within 2 minutes of the last crawl
  f.clock.advance(30s);
  f.reactor->on_tick(); // 2 minutes: crawled again; connected ones refused by the switch
  CHECK(f.sw->dial_log.size() == dialed + 3);
  f.sw->run_deferred();
  CHECK(f.sw->sent_to(a).size() == 1);
}

TEST_CASE("seed mode hangs up on inbound peers that ask nothing within the request wait") {
  Fixture f(seed_config());
  f.sw->remove_on_stop = false;
  f.reactor->start();
  const TimePoint t0 = f.clock.mono();
  const PeerInfo idle = peer_from(addr(1), false);
  const PeerInfo asks = peer_from(addr(2), false);
  PeerInfo kept = peer_from(addr(3), false);
  f.sw->persistent.insert(kept.id);
  f.sw->connect(idle);
  f.sw->connect(asks);
  f.sw->connect(kept);
  // The deadline is the request wait, before the next crawl round.
  CHECK(f.reactor->next_deadline() == t0 + 5s);
  // The one to drop for a newcomer: the first that connected (same millisecond, earlier).
  CHECK(f.reactor->longest_waiting() == idle.id);
  f.clock.advance(4s);
  f.request_from(asks); // answered and hung up as a seed does
  REQUIRE(f.sw->stopped.size() == 1);
  CHECK(f.sw->stopped[0].why.reason == Reason::kDone);
  f.clock.advance(999ms);
  f.reactor->on_tick();
  CHECK(f.sw->stopped.size() == 1);
  f.clock.advance(1ms);
  f.reactor->on_tick();
  REQUIRE(f.sw->stopped.size() == 2);
  CHECK(f.sw->stopped[1].peer == idle.id);
  CHECK(f.sw->stopped[1].graceful);
  CHECK(f.sw->stopped[1].why.stage == Stage::kPex);
  CHECK(f.sw->stopped[1].why.reason == Reason::kTimeout);
  CHECK(f.reactor->stats().idle_hung_up == 1);
  // A persistent peer is not hung up; nothing is left waiting: the next deadline is the crawl.
  CHECK(f.reactor->next_deadline() == t0 + 30s);
  CHECK_FALSE(f.reactor->longest_waiting().has_value());
  // Not a seed: an idle inbound peer is nothing unusual.
  Fixture g(PexReactorConfig{});
  g.sw->connect(peer_from(addr(4), false));
  g.clock.advance(1h);
  g.reactor->on_tick();
  CHECK(g.sw->stopped.empty());
}

TEST_CASE("seed mode hangs up on outbound peers connected longer than the disconnect wait") {
  Fixture f(seed_config());
  const PeerInfo old_out = peer_from(addr(1), true);
  PeerInfo kept = peer_from(addr(2), true);
  kept.persistent = true;
  f.sw->persistent.insert(kept.id);
  f.sw->connect(old_out);
  f.sw->connect(kept);
  f.reactor->start();
  f.clock.advance(27h);
  const PeerInfo young = peer_from(addr(3), true);
  f.sw->connect(young);
  f.clock.advance(1h);
  f.reactor->on_tick();
  REQUIRE(f.sw->stopped.size() == 1);
  CHECK(f.sw->stopped[0].peer == old_out.id);
  CHECK(f.sw->stopped[0].graceful);
  CHECK(f.sw->stopped[0].why.reason == Reason::kDone);
  CHECK(f.sw->has_peer(kept.id));
  CHECK(f.sw->has_peer(young.id));
}

TEST_CASE("a dial that ends after the reactor is gone is ignored") {
  FakeClock clock;
  SeededRng rng{1};
  AddrBook book{AddrBookConfig{}, rng};
  auto reactor = std::make_unique<PexReactor>(book, rng, clock, PexReactorConfig{});
  FakeSwitch sw(clock, *reactor);
  REQUIRE(book.add_address(addr(1), addr(2), clock.wall()).ok());
  REQUIRE(reactor->dial_peer(addr(1)));
  auto done = sw.dials.at(0).done;
  reactor.reset();
  done(Failure{Stage::kDial, Reason::kRefused});
  CHECK(book.find(node_id(1))->attempts == 0);
}

TEST_CASE("seed mode hangs up on a crawled peer once it answered (freeing both slots)") {
  Fixture f(seed_config());
  const PeerInfo p = peer_from(addr(1), true);
  f.sw->connect(p);
  REQUIRE(f.reactor->request_outstanding(p.id));
  f.receive(p, encode_pex_addrs({addr(2), addr(3)}));
  CHECK(f.book.has(node_id(2)));
  REQUIRE(f.sw->stopped.size() == 1);
  CHECK(f.sw->stopped[0].peer == p.id);
  CHECK(f.sw->stopped[0].why.reason == Reason::kDone);
  CHECK(f.sw->stopped[0].graceful);
  // In normal mode the same answer keeps the peer.
  Fixture g;
  g.sw->connect(p);
  g.receive(p, encode_pex_addrs({addr(2)}));
  CHECK(g.sw->stopped.empty());
}
