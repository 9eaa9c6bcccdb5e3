// The life of one crawl contact (core/crawl/contact.hpp) on a fake clock: every outcome class
// of PROTOCOL.md and netsim, from the events the runtime reports. No sockets, no sleeps.
#include <doctest/doctest.h>

#include <ostream>

#include "core/crawl/contact.hpp"
#include "core/pex/pex_messages.hpp"
#include "support/fake_clock.hpp"

namespace seedscope::crawl {
namespace {

using namespace std::chrono_literals;
using Kind = ContactAction::Kind;

NetAddress addr(int n) {
  char hex[41];
  std::snprintf(hex, sizeof hex, "%040x", n);
  return NetAddress{hex, IpAddress::v4(11, std::uint8_t(n), 0, 1), 26656};
}

NodeInfo info_of(const NetAddress& a, std::string network = "chain-1") {
  NodeInfo i;
  i.node_id = a.id;
  i.network = std::move(network);
  i.moniker = "m";
  i.version = "0.34.24";
  i.listen_addr = "tcp://" + a.dial_string();
  i.channels = Bytes{0x00};
  return i;
}

ScheduledAddress scheduled(const NetAddress& a) {
  ScheduledAddress s;
  s.addr = a;
  s.network = "chain-1";
  return s;
}

struct Outbound {
  test::FakeClock clock;
  ContactConfig config;
  NetAddress target = addr(1);
  Contact c = Contact::outbound(scheduled(target), config, clock);

  // Runs the runtime's timer: advance to the deadline and tick.
  void until_deadline() {
    REQUIRE(c.next_deadline() != TimePoint::max());
    clock.advance(c.next_deadline() - clock.mono());
    c.on_tick();
  }
  void handshake() { c.on_upgraded(info_of(target), {1.5, 7.0}); }
  std::vector<ContactAction> actions() { return c.take_actions(); }
  observe::ContactRecord record() {
    observe::ContactRecord out;
    int n = 0;
    for (auto& o : c.take_observations())
      if (auto* r = std::get_if<observe::ContactRecord>(&o)) out = *r, ++n;
    REQUIRE(n == 1);
    return out;
  }
};

bool closes(const std::vector<ContactAction>& a, bool graceful) {
  return !a.empty() && a.back().kind == Kind::kClose && a.back().graceful == graceful;
}

} // namespace

TEST_CASE("contact: handshake, request after the delay, answer: ok with what it learnt") {
  Outbound o;
  o.handshake();
  auto seen = o.c.take_observations();
  REQUIRE(seen.size() == 1);
  CHECK(std::get<observe::NodeSeen>(seen[0]).outbound);
  CHECK(o.actions().empty()); // nothing is sent before request_delay
  CHECK(o.c.next_deadline() == o.clock.mono() + 250ms);
  o.until_deadline();
  auto sent = o.actions();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].kind == Kind::kSend);
  CHECK(to_hex(sent[0].pex_message) == "0a00"); // PexRequest
  CHECK(o.c.next_deadline() == o.clock.mono() + 10s);
  o.clock.advance(40ms);
  o.c.on_message(pex::encode_pex_addrs({addr(2), addr(3)}));
  CHECK(o.c.finished());
  CHECK(o.c.outcome() == Outcome::kOk);
  CHECK(o.c.verdict() == Verdict::kVerified);
  CHECK(o.c.learnt() == std::vector<NetAddress>{addr(2), addr(3)});
  CHECK(closes(o.actions(), true));
  auto r = o.record();
  CHECK(r.outcome == Outcome::kOk);
  CHECK(r.addr == o.target);
  CHECK(r.network == "chain-1");
  CHECK(r.addrs_received == 2);
  CHECK(r.connect_ms == 1.5);
  CHECK(r.handshake_ms == 7.0);
  CHECK(o.c.next_deadline() == TimePoint::max());
}

TEST_CASE("contact: an answer of more than 250 addresses is taken up to 250") {
  Outbound o;
  o.handshake();
  o.until_deadline();
  std::vector<NetAddress> many;
  for (int n = 100; n < 10'100; ++n) many.push_back(addr(n));
  o.c.on_message(pex::encode_pex_addrs(many));
  CHECK(o.c.outcome() == Outcome::kOk);
  REQUIRE(o.c.learnt().size() == 250);
  CHECK(o.c.learnt().back() == addr(349));
  CHECK(o.record().addrs_received == 10'000); // what it sent, for the record
}

TEST_CASE("contact: no answer within pex_timeout is no_answer") {
  Outbound o;
  o.handshake();
  o.until_deadline(); // the request
  o.actions();
  o.until_deadline(); // the timeout
  CHECK(o.c.outcome() == Outcome::kNoAnswer);
  CHECK(o.c.verdict() == Verdict::kVerified);
  CHECK(closes(o.actions(), true));
  auto r = o.record();
  CHECK(r.failure.stage == Stage::kPex);
  CHECK(r.failure.reason == Reason::kTimeout);
}

TEST_CASE("contact: a hang-up right after the handshake is full, later it is no_answer") {
  SUBCASE("within full_window, nothing said: full") {
    Outbound o;
    o.handshake();
    o.clock.advance(100ms);
    o.c.on_peer_failed({Stage::kMConnection, Reason::kClosed}, "EOF");
    CHECK(o.c.outcome() == Outcome::kFull);
    CHECK(o.c.verdict() == Verdict::kVerified);
    CHECK(o.record().failure.reason == Reason::kFullAfterHandshake);
  }
  SUBCASE("after full_window: no_answer") {
    Outbound o;
    o.handshake();
    o.until_deadline();
    o.clock.advance(3s);
    o.c.on_peer_failed({Stage::kMConnection, Reason::kClosed}, "EOF");
    CHECK(o.c.outcome() == Outcome::kNoAnswer);
  }
  SUBCASE("a pong timeout: no_answer") {
    Outbound o;
    o.handshake();
    o.clock.advance(3s);
    o.c.on_peer_failed({Stage::kMConnection, Reason::kPongTimeout}, "no pong");
    CHECK(o.c.outcome() == Outcome::kNoAnswer);
  }
}

TEST_CASE("contact: protocol violations after the handshake are misbehaving, not reachable") {
  SUBCASE("PexAddrs before our request: unsolicited") {
    Outbound o;
    o.handshake();
    o.clock.advance(10ms);
    o.c.on_message(pex::encode_pex_addrs({addr(5)}));
    CHECK(o.c.outcome() == Outcome::kMisbehaving);
    CHECK(o.c.verdict() == Verdict::kMisbehaved);
    CHECK(o.c.learnt().empty());
    CHECK(closes(o.actions(), false));
    CHECK(o.record().failure.reason == Reason::kUnsolicitedAddrs);
  }
  SUBCASE("garbage packets (the MConnection fails)") {
    Outbound o;
    o.handshake();
    o.c.on_peer_failed({Stage::kMConnection, Reason::kMalformed}, "bad packet");
    CHECK(o.c.outcome() == Outcome::kMisbehaving);
    CHECK(o.record().failure.reason == Reason::kMalformed);
  }
  SUBCASE("an oversized message") {
    Outbound o;
    o.handshake();
    o.c.on_peer_failed({Stage::kMConnection, Reason::kMessageTooLarge}, "10 MiB");
    CHECK(o.c.outcome() == Outcome::kMisbehaving);
  }
  SUBCASE("an undecodable PEX message") {
    Outbound o;
    o.handshake();
    o.c.on_message(Bytes{0xff, 0xff, 0xff});
    CHECK(o.c.outcome() == Outcome::kMisbehaving);
    CHECK(o.record().failure.stage == Stage::kPex);
  }
  SUBCASE("a second PexAddrs is not taken as a second answer") {
    Outbound o;
    o.handshake();
    o.until_deadline();
    o.c.on_message(pex::encode_pex_addrs({addr(2)}));
    CHECK(o.c.outcome() == Outcome::kOk);
    o.c.on_message(pex::encode_pex_addrs({addr(3)})); // after the end: ignored
    CHECK(o.c.learnt() == std::vector<NetAddress>{addr(2)});
  }
}

TEST_CASE("contact: upgrade failures are classified, incompatible nodes still recorded") {
  struct Case {
    Failure failure;
    Outcome outcome;
  };
  const Case cases[] = {
      {{Stage::kDial, Reason::kRefused}, Outcome::kRefused},
      {{Stage::kDial, Reason::kTimeout}, Outcome::kTimeout},
      {{Stage::kDial, Reason::kUnreachable}, Outcome::kUnreachable},
      {{Stage::kSecretHandshake, Reason::kTimeout}, Outcome::kHandshakeTimeout},
      {{Stage::kSecretHandshake, Reason::kClosed}, Outcome::kHandshakeFailed},
      {{Stage::kSecretHandshake, Reason::kAuthFailure}, Outcome::kAuthFailure},
      {{Stage::kSecretHandshake, Reason::kIdMismatch}, Outcome::kIdMismatch},
      {{Stage::kNodeInfo, Reason::kIdMismatch}, Outcome::kIdMismatch},
      {{Stage::kNodeInfo, Reason::kIncompatibleVersion}, Outcome::kIncompatible},
      {{Stage::kNodeInfo, Reason::kIncompatibleNetwork}, Outcome::kIncompatible},
      {{Stage::kNodeInfo, Reason::kSelf}, Outcome::kSelf},
      {{Stage::kLocalPolicy, Reason::kNotAllowed}, Outcome::kRejected},
  };
  for (const Case& k : cases) {
    CAPTURE(to_string(k.outcome));
    Outbound o;
    const bool with_info = k.failure.reason == Reason::kIncompatibleVersion ||
                           k.failure.reason == Reason::kIncompatibleNetwork;
    std::optional<NodeInfo> info;
    if (with_info) info = info_of(o.target, "other-chain");
    o.c.on_upgrade_failed(k.failure, "detail", info, {2.0, 0});
    CHECK(o.c.finished());
    CHECK(o.c.outcome() == k.outcome);
    CHECK(o.c.verdict() == Verdict::kFailed);
    auto obs = o.c.take_observations();
    REQUIRE(obs.size() == (with_info ? 2u : 1u));
    if (with_info) {
      CHECK(std::get<observe::NodeSeen>(obs[0]).info.network == "other-chain");
      CHECK(std::get<observe::ContactRecord>(obs[1]).network == "other-chain");
    }
    const auto& r = std::get<observe::ContactRecord>(obs.back());
    CHECK(r.failure.stage == k.failure.stage);
    CHECK(r.failure.reason == k.failure.reason);
    CHECK(r.connect_ms == 2.0);
  }
}

TEST_CASE("contact: a node that asks us during our contact is answered once") {
  test::FakeClock clock;
  int asked = 0;
  Contact c = Contact::outbound(scheduled(addr(1)), {}, clock, [&](const NodeInfo& r) {
    ++asked;
    CHECK(r.network == "chain-1");
    return std::vector<NetAddress>{addr(7)};
  });
  c.on_upgraded(info_of(addr(1)), {});
  c.on_message(pex::encode_pex_request());
  c.on_message(pex::encode_pex_request()); // once per connection
  auto a = c.take_actions();
  REQUIRE(a.size() == 1);
  CHECK(pex::decode_pex_message(a[0].pex_message)->addrs == std::vector<NetAddress>{addr(7)});
  CHECK(asked == 1);
  CHECK_FALSE(c.finished()); // our own request is still to come
}

TEST_CASE("contact: the seed service answers an inbound request once, then hangs up") {
  test::FakeClock clock;
  const NetAddress remote{"", IpAddress::v4(12, 0, 0, 1), 40000};
  std::string asked_for;
  Contact c = Contact::inbound(remote, {}, clock, [&](const NodeInfo& r) {
    asked_for = r.network;
    return std::vector<NetAddress>{addr(2), addr(3), addr(4)};
  });
  c.on_upgraded(info_of(addr(9), "chain-9"), {0, 3.0});
  CHECK_FALSE(std::get<observe::NodeSeen>(c.take_observations()[0]).outbound);
  CHECK(c.next_deadline() == clock.mono() + 5s);
  c.on_message(pex::encode_pex_request());
  CHECK(asked_for == "chain-9");
  CHECK(c.outcome() == Outcome::kServed);
  CHECK(c.served() == 3);
  auto a = c.take_actions();
  REQUIRE(a.size() == 2);
  CHECK(a[0].kind == Kind::kSend);
  CHECK(closes(a, true)); // flush the answer, then hang up
  auto r = std::get<observe::ContactRecord>(c.take_observations().back());
  CHECK(r.inbound);
  CHECK(r.addr.id == addr(9).id); // its socket address with the authenticated ID
  CHECK(r.addr.port == 40000);
  CHECK(r.network == "chain-9");
}

TEST_CASE("contact: inbound peers that ask nothing, hang up, break rules or are refused") {
  test::FakeClock clock;
  const NetAddress remote{"", IpAddress::v4(12, 0, 0, 1), 40000};
  auto make = [&] { return Contact::inbound(remote, {}, clock, {}); };
  SUBCASE("nothing asked within inbound_hold: idle") {
    Contact c = make();
    c.on_upgraded(info_of(addr(9)), {});
    clock.advance(5s);
    c.on_tick();
    CHECK(c.outcome() == Outcome::kIdle);
  }
  SUBCASE("it hangs up: idle") {
    Contact c = make();
    c.on_upgraded(info_of(addr(9)), {});
    c.on_peer_failed({Stage::kMConnection, Reason::kClosed}, "EOF");
    CHECK(c.outcome() == Outcome::kIdle);
  }
  SUBCASE("PexAddrs from an inbound peer: unsolicited") {
    Contact c = make();
    c.on_upgraded(info_of(addr(9)), {});
    c.on_message(pex::encode_pex_addrs({addr(1)}));
    CHECK(c.outcome() == Outcome::kMisbehaving);
  }
  SUBCASE("refused by our policy: rejected, the node not recorded") {
    Contact c = make();
    c.on_rejected({Stage::kLocalPolicy, Reason::kPeerLimit}, "full", info_of(addr(9)));
    auto obs = c.take_observations();
    REQUIRE(obs.size() == 1); // no NodeSeen
    auto r = std::get<observe::ContactRecord>(obs[0]);
    CHECK(r.outcome == Outcome::kRejected);
    CHECK(r.network == "chain-1");
    CHECK(closes(c.take_actions(), false));
  }
  SUBCASE("a failed inbound upgrade with a made-up chain ID files no network") {
    Contact c = make();
    c.on_upgrade_failed({Stage::kNodeInfo, Reason::kInvalidNodeInfo}, "chain ID",
                        info_of(addr(9), "weird chain"), {});
    auto r = std::get<observe::ContactRecord>(c.take_observations().back());
    CHECK(r.network.empty());
    CHECK(r.outcome == Outcome::kIncompatible);
  }
}

TEST_CASE("contact: abandoned at shutdown, nothing recorded") {
  Outbound o;
  o.handshake();
  o.c.take_observations();
  o.c.abandon();
  CHECK(o.c.finished());
  CHECK(o.c.abandoned());
  CHECK(o.c.take_observations().empty());
  CHECK(closes(o.actions(), false));
  o.c.on_message(pex::encode_pex_addrs({addr(2)}));
  CHECK(o.c.take_observations().empty());
}

} // namespace seedscope::crawl
