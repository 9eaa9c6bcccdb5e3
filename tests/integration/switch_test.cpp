// Switches on real libuv sockets over loopback: messages on several channels, ping/pong,
// rate limits, protocol violations, limits and filters, persistent peers, graceful stop.
#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <ostream>

#include "core/crypto/keys.hpp"
#include "core/proto/p2p.pb.h"
#include "core/wire/delimited.hpp"
#include "crawler/runtime/switch.hpp"
#include "support/echo_reactor.hpp"
#include "support/loop_harness.hpp"

namespace seedscope {
namespace {

using runtime::Switch;
using runtime::SwitchConfig;
using test::EchoReactor;
using test::run_until;

std::shared_ptr<const crypto::NodeKey> new_key() {
  return std::make_shared<const crypto::NodeKey>(crypto::NodeKey::generate());
}

SwitchConfig fast_config() {
  SwitchConfig c;
  c.dial.dial_timeout = Millis(2000);
  c.dial.upgrade.our_info.network = "switch-test";
  c.dial.upgrade.our_info.moniker = "node";
  c.dial.upgrade.our_info.listen_addr = "tcp://127.0.0.1:0";
  c.dial.upgrade.handshake_timeout = Millis(3000);
  c.mconn.send_rate = 0;
  c.mconn.recv_rate = 0;
  c.mconn.flush_throttle = Millis(1);
  c.limits.allow_duplicate_ip = true; // every test peer comes from 127.0.0.1
  return c;
}

// Records what the switch reports.
struct Recorder : runtime::SwitchObserver {
  void on_peer_added(const PeerInfo& p) override { added.push_back(p.id); }
  void on_peer_removed(const PeerInfo& p, const Failure& why, const std::string&) override {
    removed.push_back({p.id, why});
  }
  void on_connect_failed(const runtime::UpgradeFailure& f) override { failed.push_back(f); }
  std::vector<std::string> added;
  std::vector<std::pair<std::string, Failure>> removed;
  std::vector<runtime::UpgradeFailure> failed;
};

// A switch with an echo reactor, listening on 127.0.0.1.
struct Node {
  Node(runtime::Loop& loop, SwitchConfig cfg = fast_config(), bool echo = false,
       std::shared_ptr<const crypto::NodeKey> k = new_key(), std::uint16_t listen_port = 0)
      : key(std::move(k)),
        reactor(echo),
        sw(loop, key, std::move(cfg), &rec) {
    sw.add_reactor(reactor);
    port = sw.listen(fmt::format("tcp://127.0.0.1:{}", listen_port));
  }
  PeerAddress address() const {
    return parse_peer_address(fmt::format("{}@127.0.0.1:{}", key->node_id(), port)).value();
  }
  std::string id() const { return key->node_id(); }

  std::shared_ptr<const crypto::NodeKey> key;
  Recorder rec;
  EchoReactor reactor;
  Switch sw;
  std::uint16_t port = 0;
};

Bytes delimited_packet(const wire::Packet& p) {
  Bytes out;
  wire::write_delimited(out, p);
  return out;
}

} // namespace

TEST_CASE("switch: messages of every size on several channels, both directions") {
  crypto::init_sodium();
  runtime::Loop loop;
  Node a(loop);
  Node b(loop);
  a.sw.dial(b.address());
  run_until(loop, [&] { return a.sw.num_peers() == 1 && b.sw.num_peers() == 1; });
  CHECK(a.sw.find_peer(b.id())->info().outbound);
  CHECK_FALSE(b.sw.find_peer(a.id())->info().outbound);

  const std::vector<std::size_t> sizes = {0, 1, 1024, 1025, 100 * 1024, 1536 * 1024};
  std::size_t expected = 0;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    const auto ch = i % 2 == 0 ? EchoReactor::kLow : EchoReactor::kHigh;
    auto payload = test::pattern_bytes(sizes[i], static_cast<std::uint8_t>(i));
    // Queues hold 16 messages: both sides send at once.
    REQUIRE(a.sw.send(b.id(), ch, payload));
    REQUIRE(b.sw.send(a.id(), ch, payload));
    expected++;
  }
  run_until(
      loop,
      [&] {
        return a.reactor.received.size() == expected && b.reactor.received.size() == expected;
      },
      Millis(20000));
  for (auto* node : {&a, &b}) {
    std::size_t low = 0, high = 0;
    for (const auto& r : node->reactor.received) {
      // Per channel, order is kept: the i-th message on a channel is the i-th sent on it.
      const std::size_t idx = r.channel == EchoReactor::kLow ? 2 * low++ : 2 * high++ + 1;
      CHECK(r.data == test::pattern_bytes(sizes[idx], static_cast<std::uint8_t>(idx)));
    }
    CHECK(low == 3);
    CHECK(high == 3);
  }
  // Counters of the receiving side.
  const auto* stats = b.sw.find_peer(a.id())->mconnection().stats(EchoReactor::kHigh);
  REQUIRE(stats != nullptr);
  CHECK(stats->messages_received == 3);
  CHECK(stats->bytes_received > 1025 + 1536 * 1024);
  CHECK(a.sw.find_peer(b.id())->mconnection().stats(EchoReactor::kLow)->messages_sent == 3);
}

TEST_CASE("switch: pings keep an idle peer; a peer that stops answering is dropped") {
  crypto::init_sodium();
  runtime::Loop loop;
  SwitchConfig cfg = fast_config();
  cfg.mconn.ping_interval = Millis(200);
  cfg.mconn.pong_timeout = Millis(150);
  Node a(loop, cfg);
  Node b(loop, cfg);
  a.sw.dial(b.address());
  run_until(loop, [&] { return a.sw.num_peers() == 1; });

  // A mute peer: a bare Connection that never answers pings.
  auto mute_key = new_key();
  runtime::Transport mute(loop, mute_key);
  std::unique_ptr<runtime::Connection> mute_conn;
  runtime::DialOptions d = cfg.dial;
  d.upgrade.our_info.channels = {EchoReactor::kLow};
  mute.dial(a.address(), d, [&](runtime::UpgradeResult r) {
    REQUIRE(r.ok());
    mute_conn = std::move(r.connection);
    mute_conn->set_handlers([](ByteSpan) {}, [](const Failure&, const std::string&) {});
  });
  run_until(loop, [&] { return a.sw.has_peer(mute_key->node_id()); });
  // Dropped by the configured schedule (ping at 200 ms, pong timeout 150 ms; the defaults,
  // 60 s and 45 s, would outlast the limit). By then a pinged b at least once, and b a.
  run_until(
      loop, [&] { return !a.sw.has_peer(mute_key->node_id()); }, Millis(3000));
  CHECK(a.sw.num_peers() == 1);
  CHECK(b.sw.num_peers() == 1);
  REQUIRE(a.rec.removed.size() == 1); // b's pong timeout would have come first

  CHECK(a.rec.removed.back().first == mute_key->node_id());
  CHECK(a.rec.removed.back().second.stage == Stage::kMConnection);
  CHECK(a.rec.removed.back().second.reason == Reason::kPongTimeout);
  CHECK(a.sw.has_peer(b.id())); // the answering peer stays
}

TEST_CASE("switch: send_rate paces a transfer") {
  crypto::init_sodium();
  runtime::Loop loop;
  SwitchConfig slow = fast_config();
  slow.mconn.send_rate = 200'000;
  Node a(loop, slow);
  Node b(loop);
  a.sw.dial(b.address());
  run_until(loop, [&] { return a.sw.num_peers() == 1 && b.sw.num_peers() == 1; });
  const auto t0 = std::chrono::steady_clock::now();
  REQUIRE(a.sw.send(b.id(), EchoReactor::kLow, test::pattern_bytes(400'000, 3)));
  run_until(
      loop, [&] { return b.reactor.received.size() == 1; }, Millis(10000));
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  MESSAGE("400 kB at send_rate 200 kB/s took " << secs << " s");
  // 404 kB on the wire less a 20 kB initial burst, at 200 kB/s: about 1.9 s.
  CHECK(secs > 1.5);
  CHECK(secs < 3.0);
}

TEST_CASE("switch: each protocol violation closes that peer only") {
  crypto::init_sodium();
  struct Case {
    const char* name;
    Bytes bytes;
    Reason reason;
  };
  std::vector<Case> cases;
  {
    wire::Packet p;
    p.mutable_packet_msg()->set_channel_id(0x55);
    p.mutable_packet_msg()->set_eof(true);
    cases.push_back({"unknown channel", delimited_packet(p), Reason::kUnknownChannel});
  }
  cases.push_back({"oversized packet", Bytes{0xff, 0xff, 0x03}, Reason::kMessageTooLarge});
  cases.push_back({"undecodable packet", Bytes{0x03, 0xff, 0xff, 0xff}, Reason::kMalformed});
  cases.push_back({"empty packet", Bytes{0x00}, Reason::kUnknownPacketType});
  {
    // 4 MiB + 1 in 1024-byte packets without eof: over the channel's capacity.
    Bytes all;
    Bytes chunk(1024, 0x61);
    for (int i = 0; i < 4 * 1024 + 1; ++i) {
      wire::Packet p;
      p.mutable_packet_msg()->set_channel_id(EchoReactor::kLow);
      p.mutable_packet_msg()->set_data(chunk.data(), chunk.size());
      append(all, delimited_packet(p));
    }
    cases.push_back({"message over capacity", all, Reason::kOverCapacity});
  }

  runtime::Loop loop;
  Node a(loop);
  Node good(loop);
  good.sw.dial(a.address());
  run_until(loop, [&] { return a.sw.has_peer(good.id()); });
  for (const auto& c : cases) {
    CAPTURE(c.name);
    auto bad_key = new_key();
    runtime::Transport bad(loop, bad_key);
    std::unique_ptr<runtime::Connection> conn;
    runtime::DialOptions d = fast_config().dial;
    d.upgrade.our_info.channels = {EchoReactor::kLow};
    bad.dial(a.address(), d, [&](runtime::UpgradeResult r) {
      REQUIRE(r.ok());
      conn = std::move(r.connection);
      conn->set_handlers([](ByteSpan) {}, [](const Failure&, const std::string&) {});
      conn->send(c.bytes);
    });
    run_until(loop, [&] {
      for (const auto& [id, why] : a.rec.removed)
        if (id == bad_key->node_id()) return true;
      return false;
    });
    CHECK(a.rec.removed.back().second.stage == Stage::kMConnection);
    CHECK(a.rec.removed.back().second.reason == c.reason);
    // The good peer is still served.
    const std::size_t before = good.reactor.received.size();
    REQUIRE(a.sw.send(good.id(), EchoReactor::kHigh, test::pattern_bytes(10, 1)));
    run_until(loop, [&] { return good.reactor.received.size() == before + 1; });
    conn.reset();
  }
  CHECK(a.sw.num_peers() == 1);
}

TEST_CASE("switch: inbound limit, unconditional IDs, duplicate ID and IP, self") {
  crypto::init_sodium();
  runtime::Loop loop;
  auto vip = new_key();
  SwitchConfig cfg = fast_config();
  cfg.limits.unconditional_ids.insert(vip->node_id());
  Node hub(loop, cfg);
  std::vector<std::unique_ptr<Node>> dialers;
  for (int i = 0; i < 41; ++i) {
    dialers.push_back(std::make_unique<Node>(loop));
    dialers.back()->sw.dial(hub.address());
    // One at a time, so exactly the 41st finds the slots full.
    run_until(loop, [&] {
      return dialers.back()->sw.num_peers() + dialers.back()->rec.failed.size() +
                 dialers.back()->rec.removed.size() + hub.rec.failed.size() >
             0;
    });
    run_until(loop, [&] { return hub.sw.num_peers() + hub.rec.failed.size() == dialers.size(); });
  }
  CHECK(hub.sw.num_peers() == 40);
  CHECK(hub.sw.peer_set().inbound() == 40);
  REQUIRE(hub.rec.failed.size() == 1);
  CHECK(hub.rec.failed[0].failure.stage == Stage::kLocalPolicy);
  CHECK(hub.rec.failed[0].failure.reason == Reason::kPeerLimit);
  CHECK_FALSE(hub.sw.has_peer(dialers.back()->id()));

  // An unconditional ID is accepted beyond the limit.
  Node special(loop, fast_config(), false, vip);
  special.sw.dial(hub.address());
  run_until(loop, [&] { return hub.sw.has_peer(vip->node_id()); });
  CHECK(hub.sw.num_peers() == 41);

  // A second connection with an ID that is already connected is refused.
  Node twin(loop, fast_config(), false, dialers.front()->key);
  twin.sw.dial(hub.address());
  run_until(loop, [&] { return hub.rec.failed.size() == 2; });
  CHECK(hub.rec.failed[1].failure.reason == Reason::kDuplicatePeer);

  // Dialing ourselves is refused.
  std::optional<Failure> self;
  hub.sw.dial_peer(hub.address(), [&](const std::optional<Failure>& f) { self = f; });
  run_until(loop, [&] { return self.has_value(); });
  CHECK(self->reason == Reason::kSelf);
}

TEST_CASE("switch: full outbound slots refuse a dial before it starts; persistent peers are not "
          "counted") {
  crypto::init_sodium();
  runtime::Loop loop;
  SwitchConfig cfg = fast_config();
  cfg.limits.max_outbound = 1;
  Node a(loop, cfg);
  Node b(loop), c(loop), d(loop);
  std::optional<std::optional<Failure>> first, second;
  a.sw.dial_peer(b.address(), [&](const std::optional<Failure>& f) { first = f; });
  // One dial in flight fills the one slot: the next is refused at once, nothing dialed.
  a.sw.dial_peer(c.address(), [&](const std::optional<Failure>& f) { second = f; });
  run_until(loop, [&] { return first.has_value() && second.has_value(); });
  CHECK_FALSE(first->has_value());
  REQUIRE(second->has_value());
  CHECK((*second)->stage == Stage::kLocalPolicy);
  CHECK((*second)->reason == Reason::kPeerLimit);
  CHECK(c.rec.added.empty()); // c never saw a handshake
  CHECK(c.sw.num_peers() == 0);
  // A persistent peer is kept connected whatever the outbound count.
  a.sw.add_persistent_peer(d.address());
  run_until(loop, [&] { return a.sw.has_peer(d.id()); });
  CHECK(a.sw.num_outbound() == 2);
}

TEST_CASE("switch: duplicate IP refused unless allow_duplicate_ip") {
  crypto::init_sodium();
  runtime::Loop loop;
  SwitchConfig strict = fast_config();
  strict.limits.allow_duplicate_ip = false;
  Node hub(loop, strict);
  Node first(loop);
  Node second(loop);
  first.sw.dial(hub.address());
  run_until(loop, [&] { return hub.sw.num_peers() == 1; });
  std::optional<Failure> outcome;
  second.sw.dial_peer(hub.address(), [&](const std::optional<Failure>& f) { outcome = f; });
  run_until(loop, [&] { return hub.rec.failed.size() == 1; });
  CHECK(hub.rec.failed[0].failure.reason == Reason::kDuplicateIp);
  CHECK(hub.sw.num_peers() == 1);
}

TEST_CASE("switch: a persistent peer that restarts is reconnected") {
  crypto::init_sodium();
  runtime::Loop loop;
  SwitchConfig cfg = fast_config();
  // Asked after every disconnect and failed redial, with the failures so far and a jitter
  // draw; 50 ms instead of Go's 5 s + jitter.
  std::vector<int> asked;
  std::vector<double> jitters;
  cfg.reconnect_schedule = [&](int failures, double jitter01) -> std::optional<Millis> {
    asked.push_back(failures);
    jitters.push_back(jitter01);
    return Millis(50);
  };
  Node a(loop, cfg);
  auto b_key = new_key();
  auto b = std::make_unique<Node>(loop, fast_config(), false, b_key);
  const std::uint16_t port = b->port;
  const PeerAddress b_addr = b->address();
  a.sw.add_persistent_peer(b_addr);
  run_until(loop, [&] { return a.sw.has_peer(b_key->node_id()); });
  CHECK(a.sw.find_peer(b_key->node_id())->info().persistent);

  CHECK(asked.empty());

  b.reset(); // B goes away
  run_until(loop, [&] { return !a.sw.has_peer(b_key->node_id()); });
  run_until(loop, [&] { return asked.size() >= 4; }); // the disconnect, then 3 refused redials
  for (std::size_t i = 0; i < asked.size(); ++i) CHECK(asked[i] == static_cast<int>(i));
  for (double j : jitters) CHECK((j >= 0.0 && j < 1.0));
  CHECK(a.rec.failed.size() >= 3);
  CHECK(a.rec.failed.front().failure.reason == Reason::kRefused);
  b = std::make_unique<Node>(loop, fast_config(), false, b_key, port); // back on its port
  run_until(
      loop, [&] { return a.sw.has_peer(b_key->node_id()) && b->sw.has_peer(a.id()); },
      Millis(5000));

  // Connecting reset the count: the next disconnect starts the schedule again.
  asked.clear();
  b.reset();
  run_until(loop, [&] { return !asked.empty(); });
  CHECK(asked.front() == 0);
}

TEST_CASE("switch: stop() flushes queued messages before closing") {
  crypto::init_sodium();
  runtime::Loop loop;
  Node a(loop);
  Node b(loop);
  a.sw.dial(b.address());
  run_until(loop, [&] { return a.sw.num_peers() == 1 && b.sw.num_peers() == 1; });
  REQUIRE(a.sw.send(b.id(), EchoReactor::kLow, test::pattern_bytes(1 << 20, 9)));
  a.sw.stop();
  run_until(loop, [&] { return !b.reactor.received.empty() && b.sw.num_peers() == 0; });
  CHECK(b.reactor.received[0].data == test::pattern_bytes(1 << 20, 9));
  CHECK(b.rec.removed.back().second.reason == Reason::kClosed);
}

TEST_CASE("switch: two reactors on one channel is an error at start-up") {
  crypto::init_sodium();
  runtime::Loop loop;
  Switch sw(loop, new_key(), fast_config());
  EchoReactor one, two;
  sw.add_reactor(one);
  CHECK_THROWS_AS(sw.add_reactor(two), std::invalid_argument);
}

TEST_CASE("switch: loopback_only refuses every other dial without touching the network") {
  runtime::Loop loop;
  SwitchConfig cfg = fast_config();
  cfg.loopback_only = true;
  Node a(loop, cfg);
  Node b(loop);
  std::vector<std::optional<Failure>> outcomes;
  auto record = [&](const std::optional<Failure>& f) { outcomes.push_back(f); };
  const std::string id = crypto::NodeKey::generate().node_id();
  for (const char* host : {"10.0.0.1", "192.168.1.1", "8.8.8.8", "[2001:db8::1]", "example.com"})
    a.sw.dial_peer(parse_peer_address(fmt::format("{}@{}:26656", id, host)).value(), record);
  a.sw.dial_peer(b.address(), record); // loopback: allowed
  run_until(loop, [&] { return outcomes.size() == 6; });
  for (std::size_t i = 0; i < 5; ++i) {
    REQUIRE(outcomes[i].has_value());
    CHECK(outcomes[i]->stage == Stage::kLocalPolicy);
    CHECK(outcomes[i]->reason == Reason::kNotAllowed);
  }
  CHECK_FALSE(outcomes[5].has_value());
  CHECK(a.rec.failed.empty()); // nothing was dialed
}

} // namespace seedscope
