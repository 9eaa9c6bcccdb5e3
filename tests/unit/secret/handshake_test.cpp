// The NodeInfo stage of the upgrade, with two in-memory endpoints.
#include <doctest/doctest.h>

#include "core/crypto/keys.hpp"
#include "core/p2p/handshake.hpp"
#include "core/wire/delimited.hpp"

using namespace seedscope;

namespace {

NodeInfo info_for(const crypto::NodeKey& key, std::string network) {
  NodeInfo n;
  n.node_id = key.node_id();
  n.listen_addr = "tcp://0.0.0.0:26656";
  n.network = std::move(network);
  n.version = "0.34.24";
  n.channels = {0x00, 0x20, 0x30};
  n.moniker = "node";
  n.tx_index = "on";
  return n;
}

struct Pair {
  Handshake a;
  Handshake b;
  Pair(const crypto::Signer& ka, HandshakeConfig ca, const crypto::Signer& kb, HandshakeConfig cb)
      : a(ka, std::move(ca)),
        b(kb, std::move(cb)) {}

  // Shuttles bytes until neither side writes; bounded.
  void run() {
    a.start();
    b.start();
    for (int i = 0; i < 20; ++i) {
      Bytes to_b = a.take_output();
      Bytes to_a = b.take_output();
      if (to_a.empty() && to_b.empty()) return;
      if (!to_b.empty()) b.on_receive(to_b);
      if (!to_a.empty()) a.on_receive(to_a);
    }
    FAIL("handshake did not settle");
  }
};

// A key whose signatures do not verify, as a misbehaving peer's (netsim's bad_signature).
struct WrongSigner final : crypto::Signer {
  explicit WrongSigner(const crypto::NodeKey& k) : key(k) {}
  const crypto::PublicKey& public_key() const override { return key.public_key(); }
  crypto::Signature sign(ByteSpan message) const override {
    ++signed_count;
    crypto::Signature sig = key.sign(message);
    sig[63] ^= 0x80;
    return sig;
  }
  const crypto::NodeKey& key;
  mutable int signed_count = 0;
};

HandshakeConfig config(NodeInfo info, bool adopt = false) {
  HandshakeConfig c;
  c.our_info = std::move(info);
  c.adopt_peer_network = adopt;
  return c;
}

} // namespace

TEST_CASE("handshake completes and exposes the peer's NodeInfo") {
  crypto::init_sodium();
  auto ka = crypto::NodeKey::generate();
  auto kb = crypto::NodeKey::generate();
  Pair p(ka, config(info_for(ka, "chain-a")), kb, config(info_for(kb, "chain-a")));
  p.run();
  REQUIRE(p.a.state() == Handshake::State::kDone);
  REQUIRE(p.b.state() == Handshake::State::kDone);
  CHECK(p.a.peer_info()->moniker == "node");
  CHECK(p.a.peer_id() == kb.node_id());
  // Traffic after the upgrade flows over the released connections.
  auto ca = p.a.release_connection();
  auto cb = p.b.release_connection();
  REQUIRE(ca);
  REQUIRE(cb);
  Bytes big(3000, 0x42);
  REQUIRE(ca->send(big).ok());
  Bytes out = p.a.take_output(); // nothing pending in the handshake
  append(out, ca->take_output());
  REQUIRE(cb->on_receive(out).ok());
  Bytes got = p.b.take_leftover_plaintext();
  append(got, cb->take_plaintext());
  CHECK(got == big);
}

TEST_CASE("a network-adopting endpoint answers in the peer's network") {
  crypto::init_sodium();
  auto ka = crypto::NodeKey::generate();
  auto kb = crypto::NodeKey::generate();
  Pair p(ka, config(info_for(ka, ""), true), kb, config(info_for(kb, "cosmoshub-4")));
  p.run();
  REQUIRE(p.a.state() == Handshake::State::kDone);
  REQUIRE(p.b.state() == Handshake::State::kDone);
  CHECK(p.a.our_info().network == "cosmoshub-4");
  CHECK(p.b.peer_info()->network == "cosmoshub-4");
}

TEST_CASE("two network-adopting endpoints settle once one stops waiting") {
  crypto::init_sodium();
  auto ka = crypto::NodeKey::generate();
  auto kb = crypto::NodeKey::generate();
  Pair p(ka, config(info_for(ka, ""), true), kb, config(info_for(kb, "fallback-net"), true));
  p.run();
  CHECK(p.a.state() == Handshake::State::kNodeInfo);
  CHECK(p.b.state() == Handshake::State::kNodeInfo);
  p.b.send_info_now();
  for (int i = 0; i < 5; ++i) {
    p.a.on_receive(p.b.take_output());
    p.b.on_receive(p.a.take_output());
  }
  REQUIRE(p.a.state() == Handshake::State::kDone);
  REQUIRE(p.b.state() == Handshake::State::kDone);
  CHECK(p.a.our_info().network == "fallback-net");
}

TEST_CASE("NodeInfo-stage rejections are classified and keep the peer's NodeInfo") {
  crypto::init_sodium();
  auto ka = crypto::NodeKey::generate();
  auto kb = crypto::NodeKey::generate();
  NodeInfo theirs = info_for(kb, "chain-a");
  Reason expected = Reason::kNone;
  SUBCASE("other network") {
    theirs.network = "chain-b";
    expected = Reason::kIncompatibleNetwork;
  }
  SUBCASE("other block version") {
    theirs.protocol_version.block = 10;
    expected = Reason::kIncompatibleVersion;
  }
  SUBCASE("no common channel") {
    theirs.channels = {0x40};
    expected = Reason::kNoCommonChannel;
  }
  SUBCASE("invalid: blank moniker") {
    theirs.moniker = "   ";
    expected = Reason::kInvalidNodeInfo;
  }
  SUBCASE("invalid: duplicate channel") {
    theirs.channels = {0x00, 0x00};
    expected = Reason::kInvalidNodeInfo;
  }
  SUBCASE("invalid: tx_index") {
    theirs.tx_index = "maybe";
    expected = Reason::kInvalidNodeInfo;
  }
  SUBCASE("invalid: listen address") {
    theirs.listen_addr = "nonsense";
    expected = Reason::kInvalidNodeInfo;
  }
  Pair p(ka, config(info_for(ka, "chain-a")), kb, config(theirs));
  p.run();
  REQUIRE(p.a.state() == Handshake::State::kFailed);
  CHECK(p.a.failure().stage == Stage::kNodeInfo);
  CHECK(p.a.failure().reason == expected);
  REQUIRE(p.a.peer_info().has_value());
  CHECK(p.a.peer_info()->network == theirs.network);
}

TEST_CASE("NodeInfo whose ID is not the authenticated one is an ID mismatch") {
  crypto::init_sodium();
  auto ka = crypto::NodeKey::generate();
  auto kb = crypto::NodeKey::generate();
  secret::SecretConnection forger(kb, {});
  Handshake victim(ka, config(info_for(ka, "chain-a")));
  victim.start();
  forger.start();
  REQUIRE(forger.on_receive(victim.take_output()).ok());
  victim.on_receive(forger.take_output());
  REQUIRE(forger.on_receive(victim.take_output()).ok());
  REQUIRE(forger.established());
  NodeInfo forged = info_for(crypto::NodeKey::generate(), "chain-a");
  Bytes msg;
  wire::write_delimited(msg, encode_node_info(forged));
  REQUIRE(forger.send(msg).ok());
  victim.on_receive(forger.take_output());
  REQUIRE(victim.state() == Handshake::State::kFailed);
  CHECK(victim.failure().reason == Reason::kIdMismatch);
  CHECK(victim.failure().stage == Stage::kNodeInfo);
}

TEST_CASE("our AuthSig is signed by the key we are given") {
  crypto::init_sodium();
  auto ka = crypto::NodeKey::generate();
  auto kb = crypto::NodeKey::generate();
  WrongSigner wrong(ka);
  Pair p(wrong, config(info_for(ka, "chain-a")), kb, config(info_for(kb, "chain-a")));
  p.run();
  CHECK(wrong.signed_count == 1);
  REQUIRE(p.b.state() == Handshake::State::kFailed);
  CHECK(p.b.failure().stage == Stage::kSecretHandshake);
  CHECK(p.b.failure().reason == Reason::kAuthFailure);
  CHECK_FALSE(p.b.peer_info().has_value());
}

TEST_CASE("our NodeInfo is sent as given; an empty ID is the key's") {
  crypto::init_sodium();
  auto ka = crypto::NodeKey::generate();
  auto kb = crypto::NodeKey::generate();
  SUBCASE("another ID than the key's: the peer sees an ID mismatch") {
    const std::string claimed = crypto::NodeKey::generate().node_id();
    NodeInfo ours = info_for(ka, "chain-a");
    ours.node_id = claimed;
    Pair p(ka, config(ours), kb, config(info_for(kb, "chain-a")));
    p.run();
    CHECK(p.a.our_info().node_id == claimed);
    REQUIRE(p.b.state() == Handshake::State::kFailed);
    CHECK(p.b.failure().stage == Stage::kNodeInfo);
    CHECK(p.b.failure().reason == Reason::kIdMismatch);
    REQUIRE(p.b.peer_info().has_value());
    CHECK(p.b.peer_info()->node_id == claimed);
    CHECK(p.b.peer_id() == ka.node_id());
  }
  SUBCASE("no ID: filled with the key's") {
    NodeInfo ours = info_for(ka, "chain-a");
    ours.node_id.clear();
    Pair p(ka, config(ours), kb, config(info_for(kb, "chain-a")));
    p.run();
    REQUIRE(p.b.state() == Handshake::State::kDone);
    CHECK(p.b.peer_info()->node_id == ka.node_id());
    CHECK(p.a.our_info().node_id == ka.node_id());
  }
}

TEST_CASE("connecting to ourselves is detected") {
  crypto::init_sodium();
  auto k = crypto::NodeKey::generate();
  Pair p(k, config(info_for(k, "chain-a")), k, config(info_for(k, "chain-a")));
  p.run();
  REQUIRE(p.a.state() == Handshake::State::kFailed);
  CHECK(p.a.failure().reason == Reason::kSelf);
  CHECK(p.b.failure().reason == Reason::kSelf);
}

TEST_CASE("an oversized NodeInfo is refused") {
  crypto::init_sodium();
  auto ka = crypto::NodeKey::generate();
  auto kb = crypto::NodeKey::generate();
  secret::SecretConnection peer(kb, {});
  Handshake victim(ka, config(info_for(ka, "chain-a")));
  victim.start();
  peer.start();
  REQUIRE(peer.on_receive(victim.take_output()).ok());
  victim.on_receive(peer.take_output());
  REQUIRE(peer.on_receive(victim.take_output()).ok());
  NodeInfo huge = info_for(kb, "chain-a");
  huge.moniker = std::string(kMaxNodeInfoSize, 'm');
  Bytes msg;
  wire::write_delimited(msg, encode_node_info(huge));
  REQUIRE(peer.send(msg).ok());
  victim.on_receive(peer.take_output());
  REQUIRE(victim.state() == Handshake::State::kFailed);
  CHECK(victim.failure().reason == Reason::kMessageTooLarge);
}
