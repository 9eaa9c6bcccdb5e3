// The Transport on real libuv sockets over loopback: handshakes in both directions, data after
// the upgrade, and every rejection classified as its (stage, reason) with the socket closed.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <optional>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "core/crypto/keys.hpp"
#include "core/types/net_address.hpp"
#include "crawler/runtime/transport.hpp"
#include "support/loop_harness.hpp"

namespace seedscope {
namespace {

using runtime::Connection;
using runtime::Direction;
using runtime::UpgradeOptions;
using runtime::UpgradeResult;
using test::run_until;

UpgradeOptions options(std::string network, std::string moniker = "test-node") {
  UpgradeOptions o;
  o.our_info.listen_addr = "tcp://127.0.0.1:26656";
  o.our_info.network = std::move(network);
  o.our_info.version = "0.34.24";
  o.our_info.channels = Bytes{0x00, 0x20, 0x30};
  o.our_info.moniker = std::move(moniker);
  o.our_info.tx_index = "on";
  o.handshake_timeout = Millis(5000);
  return o;
}

runtime::DialOptions dial_options(UpgradeOptions upgrade) {
  runtime::DialOptions d;
  d.upgrade = std::move(upgrade);
  d.dial_timeout = Millis(3000);
  return d;
}

// One seedscope endpoint: a key and a transport, recording its inbound upgrades.
struct Endpoint {
  explicit Endpoint(runtime::Loop& loop)
      : key(std::make_shared<const crypto::NodeKey>(crypto::NodeKey::generate())),
        transport(loop, key) {}

  void listen(UpgradeOptions o, PendingPoolConfig pool = {}) {
    port = transport.listen(
        "tcp://127.0.0.1:0", std::move(o),
        [this](UpgradeResult r) { inbound.push_back(std::move(r)); }, pool);
  }
  PeerAddress address(const std::string& id) const {
    auto a = parse_peer_address(fmt::format("{}@127.0.0.1:{}", id, port));
    REQUIRE(a.ok());
    return a.value();
  }
  PeerAddress address() const { return address(key->node_id()); }
  std::string id() const { return key->node_id(); }

  std::shared_ptr<const crypto::NodeKey> key;
  runtime::Transport transport;
  std::vector<UpgradeResult> inbound;
  std::uint16_t port = 0;
};

// Dials and runs the loop until the dial and (when `inbound_from` is set) its inbound side
// have both finished.
UpgradeResult dial_and_wait(runtime::Loop& loop, Endpoint& from, const PeerAddress& to,
                            runtime::DialOptions o, Endpoint* inbound_at = nullptr) {
  std::optional<UpgradeResult> result;
  from.transport.dial(to, std::move(o), [&](UpgradeResult r) { result = std::move(r); });
  run_until(loop, [&] {
    return result.has_value() && (inbound_at == nullptr || !inbound_at->inbound.empty());
  });
  return std::move(*result);
}

void require_failure(const UpgradeResult& r, Stage stage, Reason reason) {
  INFO("got ",
       (r.ok() ? "success"
               : std::string(to_string(r.failure.failure.stage)) + "/" +
                     std::string(to_string(r.failure.failure.reason)) + ": " + r.failure.detail));
  REQUIRE_FALSE(r.ok());
  CHECK(r.failure.failure.stage == stage);
  CHECK(r.failure.failure.reason == reason);
}

// Each side sends to the other (5000 bytes one way, 100 KiB the other), then `a` closes
// gracefully and `b` sees the end of the stream.
void exchange_data(runtime::Loop& loop, Connection& a, Connection& b) {
  const Bytes a_to_b = test::pattern_bytes(5000, 1);
  const Bytes b_to_a = test::pattern_bytes(100 * 1024, 2);
  Bytes got_a = a.take_leftover_plaintext();
  Bytes got_b = b.take_leftover_plaintext();
  std::optional<Failure> a_end, b_end;
  a.set_handlers([&](ByteSpan d) { append(got_a, d); },
                 [&](const Failure& f, const std::string&) { a_end = f; });
  b.set_handlers([&](ByteSpan d) { append(got_b, d); },
                 [&](const Failure& f, const std::string&) { b_end = f; });
  REQUIRE(a.send(a_to_b));
  REQUIRE(b.send(b_to_a));
  run_until(loop, [&] { return got_a.size() >= b_to_a.size() && got_b.size() >= a_to_b.size(); });
  CHECK(got_a == b_to_a);
  CHECK(got_b == a_to_b);

  a.close();
  run_until(loop, [&] { return b_end.has_value(); });
  CHECK(b_end->stage == Stage::kMConnection);
  CHECK(b_end->reason == Reason::kClosed);
  CHECK_FALSE(a_end.has_value()); // close() is silent
}

TEST_CASE("two endpoints handshake in both dial directions and exchange data") {
  crypto::init_sodium();
  runtime::Loop loop;
  Endpoint a(loop), b(loop);
  a.listen(options("test-chain", "node-a"));
  b.listen(options("test-chain", "node-b"));

  SUBCASE("b dials a") {
    UpgradeResult out =
        dial_and_wait(loop, b, a.address(), dial_options(options("test-chain", "node-b")), &a);
    REQUIRE(out.ok());
    REQUIRE(a.inbound.size() == 1);
    REQUIRE(a.inbound[0].ok());
    Connection& outbound = *out.connection;
    Connection& inbound = *a.inbound[0].connection;
    CHECK(outbound.peer_id() == a.id());
    CHECK(inbound.peer_id() == b.id());
    CHECK(outbound.peer_info().moniker == "node-a");
    CHECK(inbound.peer_info().moniker == "node-b");
    CHECK(outbound.direction() == Direction::kOutbound);
    CHECK(inbound.direction() == Direction::kInbound);
    CHECK(outbound.remote_address() == fmt::format("127.0.0.1:{}", a.port));
    CHECK(outbound.remote() == NetAddress{a.id(), IpAddress::v4(127, 0, 0, 1), a.port}); // typed
    CHECK(outbound.timings().tcp_connect_ms >= 0);
    CHECK(outbound.timings().handshake_ms > 0);
    exchange_data(loop, outbound, inbound);
  }
  SUBCASE("a dials b") {
    UpgradeResult out =
        dial_and_wait(loop, a, b.address(), dial_options(options("test-chain", "node-a")), &b);
    REQUIRE(out.ok());
    REQUIRE(b.inbound.size() == 1);
    REQUIRE(b.inbound[0].ok());
    CHECK(out.connection->peer_id() == b.id());
    exchange_data(loop, *b.inbound[0].connection, *out.connection);
  }
}

TEST_CASE("handshake over IPv6 loopback") {
  crypto::init_sodium();
  runtime::Loop loop;
  Endpoint a(loop), b(loop);
  UpgradeOptions o = options("test-chain");
  a.port = a.transport.listen("tcp://[::1]:0", o,
                              [&](UpgradeResult r) { a.inbound.push_back(std::move(r)); });
  auto addr = parse_peer_address(fmt::format("{}@[::1]:{}", a.id(), a.port));
  REQUIRE(addr.ok());
  UpgradeResult out = dial_and_wait(loop, b, addr.value(), dial_options(o), &a);
  REQUIRE(out.ok());
  REQUIRE(a.inbound[0].ok());
  CHECK(out.connection->remote_address() == fmt::format("[::1]:{}", a.port));
  CHECK(a.inbound[0].connection->remote_address().rfind("[::1]:", 0) == 0);
}

TEST_CASE("a network-adopting endpoint handshakes with one of a fixed network") {
  crypto::init_sodium();
  runtime::Loop loop;
  Endpoint adopter(loop), fixed(loop);
  UpgradeOptions adopt = options("");
  adopt.adopt_peer_network = true;

  SUBCASE("the adopter listens") {
    adopt.our_info.listen_addr = "tcp://127.0.0.1:0";
    adopter.listen(adopt);
    UpgradeResult out =
        dial_and_wait(loop, fixed, adopter.address(), dial_options(options("chain-x")), &adopter);
    REQUIRE(out.ok());
    REQUIRE(adopter.inbound[0].ok());
    CHECK(adopter.inbound[0].connection->our_info().network == "chain-x");
    CHECK(out.connection->peer_info().network == "chain-x");
    // Port 0 in the advertised address is replaced by the bound port.
    CHECK(out.connection->peer_info().listen_addr ==
          fmt::format("tcp://127.0.0.1:{}", adopter.port));
  }
  SUBCASE("the adopter dials") {
    fixed.listen(options("chain-y"));
    UpgradeResult out = dial_and_wait(loop, adopter, fixed.address(), dial_options(adopt), &fixed);
    REQUIRE(out.ok());
    REQUIRE(fixed.inbound[0].ok());
    CHECK(out.connection->our_info().network == "chain-y");
    CHECK(fixed.inbound[0].connection->peer_info().network == "chain-y");
  }
}

TEST_CASE("two network-adopting endpoints settle after the grace period") {
  crypto::init_sodium();
  runtime::Loop loop;
  Endpoint a(loop), b(loop);
  UpgradeOptions adopt = options("fallback-net");
  adopt.adopt_peer_network = true;
  adopt.adopt_grace = Millis(100);
  a.listen(adopt);
  UpgradeResult out = dial_and_wait(loop, b, a.address(), dial_options(adopt), &a);
  REQUIRE(out.ok());
  REQUIRE(a.inbound[0].ok());
  CHECK(out.connection->peer_info().network == "fallback-net");
}

TEST_CASE("rejections are classified and close the connection") {
  crypto::init_sodium();
  runtime::Loop loop;
  Endpoint a(loop), b(loop);

  SUBCASE("incompatible network") {
    a.listen(options("net-a"));
    UpgradeResult out = dial_and_wait(loop, b, a.address(), dial_options(options("net-b")), &a);
    require_failure(out, Stage::kNodeInfo, Reason::kIncompatibleNetwork);
    REQUIRE(out.failure.peer_info.has_value()); // a crawler records it
    CHECK(out.failure.peer_info->network == "net-a");
    CHECK(out.failure.peer_id == a.id());
    require_failure(a.inbound[0], Stage::kNodeInfo, Reason::kIncompatibleNetwork);
    CHECK(a.inbound[0].failure.peer_info->network == "net-b");
  }
  SUBCASE("incompatible block version") {
    a.listen(options("net"));
    UpgradeOptions old = options("net");
    old.our_info.protocol_version.block = 10;
    UpgradeResult out = dial_and_wait(loop, b, a.address(), dial_options(old), &a);
    require_failure(out, Stage::kNodeInfo, Reason::kIncompatibleVersion);
    require_failure(a.inbound[0], Stage::kNodeInfo, Reason::kIncompatibleVersion);
  }
  SUBCASE("self connection") {
    a.listen(options("net"));
    UpgradeResult out = dial_and_wait(loop, a, a.address(), dial_options(options("net")), &a);
    require_failure(out, Stage::kNodeInfo, Reason::kSelf);
    require_failure(a.inbound[0], Stage::kNodeInfo, Reason::kSelf);
  }
  SUBCASE("dialed ID mismatch") {
    a.listen(options("net"));
    std::string wrong_id = crypto::NodeKey::generate().node_id();
    UpgradeResult out =
        dial_and_wait(loop, b, a.address(wrong_id), dial_options(options("net")), &a);
    require_failure(out, Stage::kSecretHandshake, Reason::kIdMismatch);
    // a sees the connection closed under it.
    REQUIRE_FALSE(a.inbound[0].ok());
    CHECK((a.inbound[0].failure.failure.reason == Reason::kClosed ||
           a.inbound[0].failure.failure.reason == Reason::kIoError));
  }
}

PeerAddress loopback_address(const std::string& id, std::uint16_t port) {
  auto a = parse_peer_address(fmt::format("{}@127.0.0.1:{}", id, port));
  REQUIRE(a.ok());
  return a.value();
}

TEST_CASE("misbehaving and absent peers are classified") {
  crypto::init_sodium();
  runtime::Loop loop;
  Endpoint b(loop);
  const std::string some_id = crypto::NodeKey::generate().node_id();

  SUBCASE("a peer that accepts and stays silent: secret handshake timeout") {
    test::RawPeer silent(loop);
    UpgradeOptions o = options("net");
    o.handshake_timeout = Millis(300);
    UpgradeResult out =
        dial_and_wait(loop, b, loopback_address(some_id, silent.port()), dial_options(o));
    require_failure(out, Stage::kSecretHandshake, Reason::kTimeout);
    CHECK(out.failure.timings.handshake_ms >= 290);
    // We sent our ephemeral key, then closed the socket.
    run_until(loop, [&] { return silent.all_closed_by_peer(); });
    CHECK(silent.received().size() == 35);
  }
  SUBCASE("a peer that sends garbage: secret handshake failure") {
    test::RawPeer garbage(loop, Bytes(100, 0xff)); // a length prefix that never ends
    UpgradeResult out = dial_and_wait(loop, b, loopback_address(some_id, garbage.port()),
                                      dial_options(options("net")));
    REQUIRE_FALSE(out.ok());
    CHECK(out.failure.failure.stage == Stage::kSecretHandshake);
    CHECK(out.failure.failure.reason == Reason::kMalformed);
    run_until(loop, [&] { return garbage.all_closed_by_peer(); });
  }
  SUBCASE("a peer that closes at once: closed during the secret handshake") {
    test::RawPeer closer(loop);
    std::optional<UpgradeResult> out;
    b.transport.dial(loopback_address(some_id, closer.port()), dial_options(options("net")),
                     [&](UpgradeResult r) { out = std::move(r); });
    run_until(loop, [&] { return closer.accepted() == 1; });
    closer.close_all();
    run_until(loop, [&] { return out.has_value(); });
    require_failure(*out, Stage::kSecretHandshake, Reason::kClosed);
  }
  SUBCASE("a closed port: refused") {
    UpgradeResult out = dial_and_wait(loop, b, loopback_address(some_id, test::free_tcp_port()),
                                      dial_options(options("net")));
    require_failure(out, Stage::kDial, Reason::kRefused);
  }
  SUBCASE("an address that never answers: dial timeout") {
    test::BlackholeAddress blackhole;
    runtime::DialOptions o = dial_options(options("net"));
    o.dial_timeout = Millis(300);
    UpgradeResult out = dial_and_wait(loop, b, loopback_address(some_id, blackhole.port()), o);
    require_failure(out, Stage::kDial, Reason::kTimeout);
    CHECK(out.failure.timings.tcp_connect_ms >= 290);
  }
  SUBCASE("a host name that does not resolve: DNS failure") {
    auto addr = parse_peer_address(some_id + "@no-such-host.invalid:26656");
    REQUIRE(addr.ok());
    UpgradeResult out = dial_and_wait(loop, b, addr.value(), dial_options(options("net")));
    require_failure(out, Stage::kDial, Reason::kDnsFailure);
  }
  SUBCASE("a host name that resolves: localhost") {
    Endpoint a(loop);
    a.listen(options("net"));
    auto addr = parse_peer_address(fmt::format("{}@localhost:{}", a.id(), a.port));
    REQUIRE(addr.ok());
    REQUIRE_FALSE(addr->ip.has_value());
    std::optional<UpgradeResult> out;
    b.transport.dial(addr.value(), dial_options(options("net")),
                     [&](UpgradeResult r) { out = std::move(r); });
    run_until(loop, [&] { return out.has_value(); });
    // localhost may resolve to ::1 first while we listen on 127.0.0.1 only.
    if (!out->ok()) CHECK(out->failure.failure.reason == Reason::kRefused);
  }
}

// A TCP connection from `source` (any 127.0.0.0/8 address: Linux routes them all to lo) to
// 127.0.0.1:port that never sends a byte; the kernel completes the handshake, so the node has
// a connection to accept. -1 on failure.
int silent_connection(const std::string& source, std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in from{};
  from.sin_family = AF_INET;
  ::inet_pton(AF_INET, source.c_str(), &from.sin_addr);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

TEST_CASE("silent connections from many addresses cannot keep an honest peer out") {
  crypto::init_sodium();
  runtime::Loop loop;
  Endpoint a(loop);
  a.listen(options("net"),
           {.capacity = 32, .per_ip = 2, .per_subnet = 16, .timeout = Millis(20000)});
  // 300 silent connections from 127.1.0.0/16, 127.2.0.0/16, 127.3.0.0/16 (100 addresses in
  // each), and 20 more from one address; the node has not run yet, the kernel holds them.
  std::vector<int> flood;
  for (int i = 0; i < 300; ++i)
    flood.push_back(
        silent_connection(fmt::format("127.{}.0.{}", 1 + i / 100, 1 + i % 100), a.port));
  for (int i = 0; i < 20; ++i) flood.push_back(silent_connection("127.9.9.9", a.port));
  for (int fd : flood) REQUIRE(fd >= 0);
  run_until(loop, [&] { return a.transport.evicted_upgrades() >= 320 - 32; });
  CHECK(a.transport.pending_inbound() == 32);
  // An honest peer gets through while the flood holds the pool: it is not refused, and its
  // handshake is not delayed by the 20 s the flood would otherwise hold each place.
  Endpoint b(loop);
  UpgradeResult out = dial_and_wait(loop, b, a.address(), dial_options(options("net")), &a);
  REQUIRE(out.ok());
  REQUIRE(a.inbound.size() == 1);
  CHECK(a.inbound[0].ok());
  CHECK(out.connection->timings().handshake_ms < 1000);
  CHECK(a.transport.pending_inbound() <= 32);
  CHECK(a.transport.evicted_upgrades() >= 320 - 32);
  for (int fd : flood) ::close(fd);
  a.transport.close();
  b.transport.close();
}

TEST_CASE("closing the transport aborts pending upgrades without running their handlers") {
  crypto::init_sodium();
  runtime::Loop loop;
  test::RawPeer silent(loop);
  Endpoint b(loop);
  bool called = false;
  b.transport.dial(loopback_address(b.id(), silent.port()), dial_options(options("net")),
                   [&](UpgradeResult) { called = true; });
  run_until(loop, [&] { return silent.accepted() == 1; });
  CHECK(b.transport.pending_upgrades() == 1);
  b.transport.close();
  CHECK(b.transport.pending_upgrades() == 0);
  run_until(loop, [&] { return silent.all_closed_by_peer(); });
  CHECK_FALSE(called);
}

TEST_CASE("handlers may destroy the objects that run them") {
  crypto::init_sodium();
  runtime::Loop loop;
  Endpoint a(loop);
  a.listen(options("net"));
  auto client_key = std::make_shared<const crypto::NodeKey>(crypto::NodeKey::generate());
  auto client = std::make_unique<runtime::Transport>(loop, client_key);
  std::unique_ptr<Connection> outbound;
  // The dial handler destroys the transport that is running it.
  client->dial(a.address(), dial_options(options("net")), [&](UpgradeResult r) {
    REQUIRE(r.ok());
    outbound = std::move(r.connection);
    client.reset();
  });
  run_until(loop, [&] { return outbound != nullptr && !a.inbound.empty(); });
  CHECK(client == nullptr);
  REQUIRE(a.inbound[0].ok());

  // The inbound side's close handler destroys its own Connection; the data handler of the
  // outbound side destroys its Connection after the first bytes.
  std::unique_ptr<Connection> inbound = std::move(a.inbound[0].connection);
  bool inbound_closed = false;
  inbound->set_handlers([](ByteSpan) {},
                        [&](const Failure& f, const std::string&) {
                          CHECK(f.reason == Reason::kClosed);
                          inbound.reset();
                          inbound_closed = true;
                        });
  outbound->set_handlers([&](ByteSpan) { outbound.reset(); }, {});
  REQUIRE(inbound->send(test::pattern_bytes(3000, 7)));
  run_until(loop, [&] { return inbound_closed && outbound == nullptr; });
}

} // namespace
} // namespace seedscope
