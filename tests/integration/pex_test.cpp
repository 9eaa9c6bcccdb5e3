// PEX on loopback: whole nodes (switch + PEX reactor + address book, as `seedscope start`
// runs them) against a scripted client, and five nodes discovering each other through a seed.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <ostream>

#include "core/crypto/keys.hpp"
#include "core/pex/pex_messages.hpp"
#include "core/proto/p2p.pb.h"
#include "crawler/app/node.hpp"
#include "crawler/runtime/switch.hpp"
#include "crawler/runtime/transport.hpp"
#include "support/loop_harness.hpp"

namespace seedscope {
namespace {

using app::Node;
using app::NodeOptions;
using test::run_until;

constexpr const char* kNetwork = "pex-test";

std::shared_ptr<const crypto::NodeKey> new_key() {
  return std::make_shared<const crypto::NodeKey>(crypto::NodeKey::generate());
}

app::Config node_config(const std::string& ip) {
  app::Config c = app::default_config();
  c.moniker = "node-" + ip;
  c.network = kNetwork;
  c.p2p.laddr = fmt::format("tcp://{}:0", ip);
  c.p2p.allow_duplicate_ip = true; // every dial leaves from 127.0.0.1
  c.p2p.flush_throttle_timeout = Millis(5);
  c.p2p.dial_timeout = Millis(2000);
  c.p2p.handshake_timeout = Millis(3000);
  return c;
}

NodeOptions node_options(const app::Config& config, std::uint64_t seed) {
  NodeOptions o;
  o.config = config;
  o.key = new_key();
  o.rng_seed = seed;
  o.loopback_only = true; // strict book with loopback as routable; dials stay on loopback
  return o;
}

// A client that speaks PEX by hand: records every decoded message and lets the test answer.
class ScriptedPex final : public Reactor {
public:
  std::string_view name() const override { return "scripted-pex"; }
  std::vector<mconn::ChannelDescriptor> channels() const override {
    mconn::ChannelDescriptor d;
    d.id = pex::kPexChannel;
    d.priority = 1;
    d.send_queue_capacity = 10;
    d.recv_message_capacity = pex::kMaxMsgSize;
    return {d};
  }
  void add_peer(const PeerInfo& peer) override { connected.push_back(peer.id); }
  void remove_peer(const PeerInfo& peer, const Failure& why) override {
    removed.push_back({peer.id, why});
  }
  void receive(const PeerInfo& peer, mconn::ChannelId, ByteSpan msg) override {
    auto decoded = pex::decode_pex_message(msg);
    REQUIRE(decoded.ok());
    received.push_back(*decoded);
    if (on_message) on_message(peer, *decoded);
  }
  bool send(const std::string& peer, Bytes msg) {
    return switch_->send(peer, 0x00, std::move(msg));
  }
  std::size_t count(pex::PexMessage::Kind kind) const {
    std::size_t n = 0;
    for (const auto& m : received) n += m.kind == kind;
    return n;
  }

  std::function<void(const PeerInfo&, const pex::PexMessage&)> on_message;
  std::vector<std::string> connected;
  std::vector<std::pair<std::string, Failure>> removed;
  std::vector<pex::PexMessage> received;
};

struct Client {
  explicit Client(runtime::Loop& loop) : key(new_key()), sw(loop, key, config()) {
    sw.add_reactor(pex);
    port = sw.listen("tcp://127.0.0.1:0");
  }
  static runtime::SwitchConfig config() {
    runtime::SwitchConfig c;
    c.dial.dial_timeout = Millis(2000);
    c.dial.upgrade.our_info.network = kNetwork;
    c.dial.upgrade.our_info.moniker = "scripted-client";
    c.dial.upgrade.our_info.listen_addr = "tcp://127.0.0.1:0";
    c.dial.upgrade.handshake_timeout = Millis(3000);
    c.mconn.flush_throttle = Millis(1);
    c.limits.allow_duplicate_ip = true;
    return c;
  }
  PeerAddress address() const {
    return parse_peer_address(fmt::format("{}@127.0.0.1:{}", key->node_id(), port)).value();
  }
  std::string id() const { return key->node_id(); }

  std::shared_ptr<const crypto::NodeKey> key;
  ScriptedPex pex;
  runtime::Switch sw;
  std::uint16_t port = 0;
};

WallTime wall_now() {
  return std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now());
}

// The same ID and address for the same `i`: loopback addresses where nothing listens.
NetAddress some_address(int i) {
  return NetAddress{fmt::format("{:040x}", 0xabc000 + i),
                    IpAddress::v4(127, 66, static_cast<std::uint8_t>(i / 250),
                                  static_cast<std::uint8_t>(1 + i % 250)),
                    26656};
}

} // namespace

TEST_CASE("pex: an unsolicited PexAddrs gets the peer stopped and banned") {
  runtime::Loop loop;
  Node node(loop, node_options(node_config("127.0.0.1"), 1));
  node.start();
  Client client(loop);
  client.sw.dial(*node.dial_address());
  run_until(loop, [&] { return node.net().has_peer(client.id()); });
  // An inbound peer is in the book under its advertised address (non-strict book).
  CHECK(node.book().has(client.id()));

  REQUIRE(client.pex.send(node.id(), pex::encode_pex_addrs({some_address(1)})));
  run_until(loop, [&] { return !client.pex.removed.empty(); });
  CHECK_FALSE(node.net().has_peer(client.id()));
  CHECK(node.book().is_banned(client.id(), wall_now()));
  CHECK_FALSE(node.book().has(some_address(1).id)); // nothing learnt from it

  // A banned ID that dials back is still served by the switch, but not put back in the book.
  node.stop();
  client.sw.stop();
  test::drain(loop);
}

TEST_CASE("pex: a third PexRequest within the minimum interval gets the peer stopped and banned") {
  runtime::Loop loop;
  Node node(loop, node_options(node_config("127.0.0.1"), 2));
  node.start();
  for (int i = 0; i < 5; ++i)
    (void)node.book().add_address(some_address(i), some_address(i), wall_now());
  Client client(loop);
  client.sw.dial(*node.dial_address());
  run_until(loop, [&] { return node.net().has_peer(client.id()); });

  // Two requests are free; each is answered.
  REQUIRE(client.pex.send(node.id(), pex::encode_pex_request()));
  REQUIRE(client.pex.send(node.id(), pex::encode_pex_request()));
  run_until(loop, [&] { return client.pex.count(pex::PexMessage::Kind::kAddrs) == 2; });
  CHECK(client.pex.removed.empty());
  // The third comes well within ensure_peers_period / 3 (10 s).
  REQUIRE(client.pex.send(node.id(), pex::encode_pex_request()));
  run_until(loop, [&] { return !client.pex.removed.empty(); });
  CHECK(client.pex.count(pex::PexMessage::Kind::kAddrs) == 2);
  CHECK(node.book().is_banned(client.id(), wall_now()));

  // It comes back at once, and so does a new ID from its IP: both are closed at accept.
  client.sw.dial(*node.dial_address());
  run_until(loop, [&] { return node.net().refused_banned() == 1 && client.sw.num_dialing() == 0; });
  CHECK_FALSE(node.net().has_peer(client.id()));
  CHECK(client.pex.count(pex::PexMessage::Kind::kAddrs) == 2);
  Client other(loop);
  other.sw.dial(*node.dial_address());
  run_until(loop, [&] { return node.net().refused_banned() == 2 && other.sw.num_dialing() == 0; });
  CHECK_FALSE(node.net().has_peer(other.id()));
  CHECK(node.net().bans().ips() == 1);
  CHECK(node.net().bans().ids() == 1);

  node.stop();
  client.sw.stop();
  other.sw.stop();
  test::drain(loop);
}

TEST_CASE("pex: a seed answers an inbound request once, then disconnects") {
  runtime::Loop loop;
  app::Config cfg = node_config("127.0.0.1");
  cfg.p2p.seed_mode = true;
  Node seed(loop, node_options(cfg, 3));
  seed.start(); // no seeds and an empty book: its first crawl dials nobody
  // 20 addresses the seed reached in our chain, 20 it only heard of.
  for (int i = 0; i < 40; ++i) {
    (void)seed.book().add_address(some_address(i), some_address(i), wall_now());
    if (i < 20) seed.book().mark_good(some_address(i).id, wall_now(), kNetwork);
  }
  Client client(loop);
  client.sw.dial(*seed.dial_address());
  run_until(loop, [&] { return !client.pex.connected.empty(); });

  // Ask twice in a row: one answer only, then the seed hangs up after flushing it.
  REQUIRE(client.pex.send(seed.id(), pex::encode_pex_request()));
  REQUIRE(client.pex.send(seed.id(), pex::encode_pex_request()));
  run_until(loop, [&] { return !client.pex.removed.empty(); });
  REQUIRE(client.pex.count(pex::PexMessage::Kind::kAddrs) == 1);
  const auto& addrs = client.pex.received.front().addrs;
  // The 20 verified ones, none it only heard of (nor the client's own).
  CHECK(addrs.size() == 20);
  for (const auto& a : addrs) CHECK(seed.book().find(a.id)->network == kNetwork);
  CHECK_FALSE(seed.net().has_peer(client.id()));
  CHECK_FALSE(seed.book().is_banned(client.id(), wall_now())); // a polite peer is not banned

  seed.stop();
  client.sw.stop();
  test::drain(loop);
}

TEST_CASE("pex: a seed hangs up an inbound peer that asks nothing, freeing its slot") {
  runtime::Loop loop;
  app::Config cfg = node_config("127.0.0.1");
  cfg.p2p.seed_mode = true;
  cfg.p2p.max_num_inbound_peers = 1;
  NodeOptions o = node_options(cfg, 5);
  o.pex.seed_request_wait = Millis(300);
  Node seed(loop, o);
  seed.start();
  // An idle peer takes the only inbound slot; the seed hangs up on it after the wait.
  Client idle(loop);
  idle.sw.dial(*seed.dial_address());
  run_until(loop, [&] { return seed.net().has_peer(idle.id()); });
  run_until(loop, [&] { return !idle.pex.removed.empty(); });
  CHECK_FALSE(seed.net().has_peer(idle.id()));
  CHECK(seed.pex()->stats().idle_hung_up == 1);
  // The slot is free for a peer that asks.
  Client asks(loop);
  asks.sw.dial(*seed.dial_address());
  run_until(loop, [&] { return !asks.pex.connected.empty(); });
  REQUIRE(asks.pex.send(seed.id(), pex::encode_pex_request()));
  run_until(loop, [&] { return asks.pex.count(pex::PexMessage::Kind::kAddrs) == 1; });
  CHECK(seed.pex()->stats().idle_hung_up == 1);

  seed.stop();
  idle.sw.stop();
  asks.sw.stop();
  test::drain(loop);
}

TEST_CASE("pex: a full seed drops the inbound peer that waited longest without asking") {
  runtime::Loop loop;
  app::Config cfg = node_config("127.0.0.1");
  cfg.p2p.seed_mode = true;
  cfg.p2p.max_num_inbound_peers = 2;
  NodeOptions o = node_options(cfg, 7);
  o.pex.seed_request_wait = Millis(60000); // the idle peers are not hung up by the wait here
  Node seed(loop, o);
  seed.start();
  Client first(loop), second(loop);
  first.sw.dial(*seed.dial_address());
  run_until(loop, [&] { return seed.net().has_peer(first.id()); });
  second.sw.dial(*seed.dial_address());
  run_until(loop, [&] { return seed.net().has_peer(second.id()); });
  // A third finds both slots taken: the first (the longest waiting) makes room for it.
  Client third(loop);
  third.sw.dial(*seed.dial_address());
  run_until(loop, [&] { return !third.pex.connected.empty() && !first.pex.removed.empty(); });
  CHECK(seed.net().has_peer(second.id()));
  CHECK(seed.net().inbound_evictions() == 1);
  REQUIRE(third.pex.send(seed.id(), pex::encode_pex_request()));
  run_until(loop, [&] { return third.pex.count(pex::PexMessage::Kind::kAddrs) == 1; });

  seed.stop();
  for (Client* c : {&first, &second, &third}) c->sw.stop();
  test::drain(loop);
}

TEST_CASE("pex: a peer that floods pings and stops reading cannot freeze a seed") {
  runtime::Loop loop;
  app::Config cfg = node_config("127.0.0.1");
  cfg.p2p.seed_mode = true;
  Node seed(loop, node_options(cfg, 6));
  seed.start();
  for (int i = 0; i < 40; ++i) {
    (void)seed.book().add_address(some_address(i), some_address(i), wall_now());
    seed.book().mark_good(some_address(i).id, wall_now(), kNetwork);
  }
  // The attacker completes the handshake, sends 1 MiB of PacketPing (more than twice the
  // receive bucket's 512 kB burst) and never reads again.
  runtime::Transport attacker(loop, new_key());
  runtime::DialOptions dial = Client::config().dial;
  dial.upgrade.our_info.channels = Bytes{0x00};
  std::unique_ptr<runtime::Connection> conn;
  attacker.dial(*seed.dial_address(), dial, [&](runtime::UpgradeResult r) {
    REQUIRE(r.ok());
    conn = std::move(r.connection);
  });
  run_until(loop, [&] { return conn != nullptr; });
  conn->set_handlers([](ByteSpan) {}, {});
  conn->pause_reading();
  Bytes pings;
  for (int i = 0; i < 349'525; ++i) append(pings, Bytes{0x02, 0x0a, 0x00});
  REQUIRE(conn->send(pings));
  // Meanwhile and afterwards, honest peers are answered at once. The old node spun at 0 ms
  // timers once the bucket had refilled, and this loop (the seed's too) never came back.
  const auto start = std::chrono::steady_clock::now();
  for (int round = 0; round < 3; ++round) {
    Client honest(loop);
    honest.sw.dial(*seed.dial_address());
    run_until(loop, [&] { return !honest.pex.connected.empty(); });
    REQUIRE(honest.pex.send(seed.id(), pex::encode_pex_request()));
    const auto asked = std::chrono::steady_clock::now();
    run_until(loop, [&] { return honest.pex.count(pex::PexMessage::Kind::kAddrs) == 1; });
    CHECK(std::chrono::steady_clock::now() - asked < std::chrono::seconds(1));
    honest.sw.stop();
  }
  // The flood has been read by now (1 MiB at 5 MB/s), and the seed still answers.
  run_until(loop, [&] {
    return std::chrono::steady_clock::now() - start > std::chrono::milliseconds(500);
  });
  Client last(loop);
  last.sw.dial(*seed.dial_address());
  run_until(loop, [&] { return !last.pex.connected.empty(); });
  REQUIRE(last.pex.send(seed.id(), pex::encode_pex_request()));
  run_until(
      loop, [&] { return last.pex.count(pex::PexMessage::Kind::kAddrs) == 1; }, Millis(2000));

  conn->abort();
  seed.stop();
  last.sw.stop();
  attacker.close();
  test::drain(loop);
}

TEST_CASE("pex: an invalid address in a requested list gets the peer stopped") {
  runtime::Loop loop;
  Client client(loop);
  // The client is the node's seed: with an empty book the node dials it and asks for addresses.
  app::Config cfg = node_config("127.0.0.1");
  cfg.p2p.seeds = client.address().to_string();
  Node node(loop, node_options(cfg, 4));
  bool answered = false;
  client.pex.on_message = [&](const PeerInfo& peer, const pex::PexMessage& m) {
    if (!m.is_request()) return;
    wire::Message msg;
    auto* a = msg.mutable_pex_addrs()->add_addrs();
    a->set_id(crypto::NodeKey::generate().node_id());
    a->set_ip("10.0.0.300"); // net.ParseIP refuses it
    a->set_port(26656);
    const std::string raw = msg.SerializeAsString();
    answered = client.pex.send(peer.id, Bytes(raw.begin(), raw.end()));
  };
  node.start();
  run_until(loop, [&] { return answered && !client.pex.removed.empty(); });
  CHECK_FALSE(node.net().has_peer(client.id()));
  CHECK(node.book().size() == 0);

  node.stop();
  client.sw.stop();
  test::drain(loop);
}

TEST_CASE("pex: five nodes discover each other through a seed") {
  runtime::Loop loop;
  std::vector<std::unique_ptr<Node>> nodes;
  auto make = [&](const std::string& ip, bool seed_mode, const std::string& seeds, int n) {
    app::Config cfg = node_config(ip);
    cfg.p2p.seed_mode = seed_mode;
    cfg.p2p.seeds = seeds;
    NodeOptions o = node_options(cfg, 100 + static_cast<std::uint64_t>(n));
    o.pex.ensure_peers_period = Millis(300);
    o.pex.crawl_period = Millis(300);
    o.pex.min_time_between_crawls = Millis(600);
    nodes.push_back(std::make_unique<Node>(loop, std::move(o)));
    nodes.back()->start();
  };
  make("127.0.0.2", true, "", 0);
  const std::string seed = nodes[0]->dial_address()->to_string();
  for (int i = 1; i <= 4; ++i) make(fmt::format("127.0.0.{}", 2 + i), false, seed, i);

  auto everyone_knows_everyone = [&] {
    for (auto& n : nodes)
      for (auto& m : nodes)
        if (n != m && !n->book().has(m->id())) return false;
    return true;
  };
  auto normal_nodes_meshed = [&] {
    for (std::size_t i = 1; i < nodes.size(); ++i)
      for (std::size_t j = 1; j < nodes.size(); ++j)
        if (i != j && !nodes[i]->net().has_peer(nodes[j]->id())) return false;
    return true;
  };
  auto dump = [&] {
    std::string out;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      out += fmt::format("node {} book:", i);
      for (std::size_t j = 0; j < nodes.size(); ++j)
        if (nodes[i]->book().has(nodes[j]->id())) out += fmt::format(" {}", j);
      out += " peers:";
      for (std::size_t j = 0; j < nodes.size(); ++j)
        if (nodes[i]->net().has_peer(nodes[j]->id())) out += fmt::format(" {}", j);
      out += fmt::format(" (book size {}, {} peers)\n", nodes[i]->book().size(),
                         nodes[i]->net().num_peers());
    }
    return out;
  };
  INFO("state at the end:\n" << dump());
  run_until(
      loop, [&] { return everyone_knows_everyone() && normal_nodes_meshed(); }, Millis(30000));
  // Each learnt address is the node's own listen address, not its outgoing socket address.
  for (auto& n : nodes)
    for (auto& m : nodes) {
      if (n == m) continue;
      const auto* known = n->book().find(m->id());
      REQUIRE(known != nullptr);
      CHECK(known->addr == m->dial_address()->net_address().value());
    }
  for (auto& n : nodes) n->stop();
  test::drain(loop);
}

} // namespace seedscope

#include "storage/addr_book_store.hpp"
#include "support/process.hpp"

namespace seedscope {

TEST_CASE("node: the address book is saved soon after a change and on stop, and loaded at start") {
  test::TempDir dir;
  auto db = storage::Database::open(dir.path() / "seedscope.db");
  storage::SqliteAddrBookStore store(db);
  app::Config cfg = node_config("127.0.0.1");
  std::string key_hex;
  {
    runtime::Loop loop;
    NodeOptions o = node_options(cfg, 9);
    o.store = &store;
    o.save_interval = Millis(50);
    Node node(loop, o);
    node.start();
    for (int i = 0; i < 10; ++i)
      REQUIRE(node.book().add_address(some_address(i), some_address(100), wall_now()).ok());
    key_hex = node.book().key_hex();
    // Within the save interval, without stopping.
    run_until(loop, [&] {
      auto loaded = store.load();
      return loaded.ok() && loaded->has_value() && (*loaded)->addrs.size() == 10;
    });
    (void)node.book().add_address(some_address(10), some_address(100), wall_now());
    node.stop(); // saves the 11th at once
    auto loaded = store.load();
    REQUIRE(loaded.ok());
    CHECK((*loaded)->addrs.size() == 11);
    test::drain(loop);
  }
  runtime::Loop loop;
  NodeOptions o = node_options(cfg, 10);
  o.store = &store;
  Node node(loop, o);
  node.start();
  CHECK(node.book().size() == 11);
  CHECK(node.book().key_hex() == key_hex);
  CHECK(node.book().has(some_address(10).id));
  node.stop();
  test::drain(loop);
}

} // namespace seedscope
