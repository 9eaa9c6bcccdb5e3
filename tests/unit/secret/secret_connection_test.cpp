// SecretConnection and Handshake against an adversarial peer that runs the handshake by hand
// (in the spirit of Go's evil_secret_connection_test.go), plus frame codec edge cases.
#include <doctest/doctest.h>

#include <ostream> // doctest prints std::error_code through it

#include "core/crypto/hkdf.hpp"
#include "core/crypto/keys.hpp"
#include "core/crypto/merlin.hpp"
#include "core/p2p/handshake.hpp"
#include "core/proto/p2p.pb.h"
#include "core/wire/delimited.hpp"

using namespace seedscope;
using secret::SecretConnection;
using secret::SecretError;

namespace {

enum class KeyKind { kEd25519, kSecp256k1, kNone, kShort };

// A peer that performs the station-to-station handshake with primitives only, so that each
// message can be corrupted on purpose.
struct EvilPeer {
  crypto::NodeKey key = crypto::NodeKey::generate();
  crypto::X25519KeyPair eph = crypto::x25519_generate();
  std::array<std::uint8_t, 32> challenge{};
  secret::FrameSealer sealer;
  secret::FrameOpener opener;
  std::array<std::uint8_t, 32> send_key{};
  std::uint64_t sent_frames = 0;

  Bytes ephemeral_message(ByteSpan pub) const {
    wire::BytesValue v;
    v.set_value(pub.data(), pub.size());
    Bytes out;
    wire::write_delimited(out, v);
    return out;
  }
  Bytes ephemeral_message() const { return ephemeral_message(eph.public_key); }

  // Reads the victim's ephemeral key from its first output and derives the session.
  void on_victim_output(const Bytes& first) {
    REQUIRE(first.size() >= 35);
    crypto::PublicKey remote;
    std::copy_n(first.begin() + 3, 32, remote.begin());
    const bool least = std::lexicographical_compare(eph.public_key.begin(), eph.public_key.end(),
                                                    remote.begin(), remote.end());
    crypto::MerlinTranscript t("TENDERMINT_SECRET_CONNECTION_TRANSCRIPT_HASH");
    t.append("EPHEMERAL_LOWER_PUBLIC_KEY", least ? eph.public_key : remote);
    t.append("EPHEMERAL_UPPER_PUBLIC_KEY", least ? remote : eph.public_key);
    auto dh = crypto::x25519(eph.secret, remote);
    REQUIRE(dh.has_value());
    t.append("DH_SECRET", *dh);
    auto keys = secret::derive_secrets(*dh, least);
    sealer = secret::FrameSealer(keys.send);
    opener = secret::FrameOpener(keys.recv);
    send_key = keys.send;
    t.extract("SECRET_CONNECTION_MAC", challenge);
  }

  Bytes seal(ByteSpan plain) {
    Bytes out;
    REQUIRE(sealer.seal(plain, out).ok());
    sent_frames += (plain.size() + 1023) / 1024;
    return out;
  }

  Bytes auth_sig(KeyKind kind, bool good_signature) {
    wire::AuthSigMessage m;
    const auto& pub = key.public_key();
    switch (kind) {
    case KeyKind::kEd25519: m.mutable_pub_key()->set_ed25519(pub.data(), pub.size()); break;
    case KeyKind::kSecp256k1: m.mutable_pub_key()->set_secp256k1(std::string(33, '\x02')); break;
    case KeyKind::kNone: m.mutable_pub_key(); break;
    case KeyKind::kShort: m.mutable_pub_key()->set_ed25519(pub.data(), 31); break;
    }
    auto sig = key.sign(challenge);
    if (!good_signature) sig[0] ^= 1;
    m.set_sig(sig.data(), sig.size());
    Bytes plain;
    wire::write_delimited(plain, m);
    return seal(plain);
  }
};

Reason run_against(EvilPeer& evil, KeyKind kind, bool good_sig,
                   std::optional<std::string> dialed = {}) {
  crypto::NodeKey me = crypto::NodeKey::generate();
  HandshakeConfig cfg;
  cfg.our_info.network = "test-chain";
  cfg.our_info.moniker = "victim";
  cfg.our_info.listen_addr = "127.0.0.1:26656";
  cfg.our_info.channels = {0x00};
  cfg.expected_peer_id = std::move(dialed);
  Handshake victim(me, cfg);
  victim.start();
  evil.on_victim_output(victim.take_output());
  Bytes in = evil.ephemeral_message();
  append(in, evil.auth_sig(kind, good_sig));
  victim.on_receive(in);
  REQUIRE(victim.state() == Handshake::State::kFailed);
  CHECK(victim.failure().stage == Stage::kSecretHandshake);
  return victim.failure().reason;
}

} // namespace

TEST_CASE("secret handshake rejects bad authentication") {
  crypto::init_sodium();
  SUBCASE("bad signature") {
    EvilPeer e;
    CHECK(run_against(e, KeyKind::kEd25519, false) == Reason::kAuthFailure);
  }
  SUBCASE("secp256k1 key") {
    EvilPeer e;
    CHECK(run_against(e, KeyKind::kSecp256k1, true) == Reason::kAuthFailure);
  }
  SUBCASE("empty key") {
    EvilPeer e;
    CHECK(run_against(e, KeyKind::kNone, true) == Reason::kAuthFailure);
  }
  SUBCASE("31-byte key") {
    EvilPeer e;
    CHECK(run_against(e, KeyKind::kShort, true) == Reason::kAuthFailure);
  }
  SUBCASE("dialed ID mismatch") {
    EvilPeer e;
    CHECK(run_against(e, KeyKind::kEd25519, true, std::string(40, 'a')) == Reason::kIdMismatch);
  }
}

TEST_CASE("secret handshake: an honest evil peer is accepted (the harness itself works)") {
  crypto::init_sodium();
  EvilPeer e;
  crypto::NodeKey me = crypto::NodeKey::generate();
  SecretConnection victim(me, {e.key.node_id(), std::nullopt});
  victim.start();
  e.on_victim_output(victim.take_output());
  Bytes in = e.ephemeral_message();
  append(in, e.auth_sig(KeyKind::kEd25519, true));
  REQUIRE(victim.on_receive(in).ok());
  CHECK(victim.established());
  CHECK(victim.peer_id() == e.key.node_id());
  // The victim's AuthSig opens with the evil peer's receive key and carries the victim's key.
  Bytes plain;
  REQUIRE(e.opener.open(victim.take_output(), plain).ok());
  wire::DelimitedReader r(1 << 20);
  r.feed(plain);
  auto body = r.next();
  REQUIRE(body.ok());
  REQUIRE(body->has_value());
  wire::AuthSigMessage auth;
  REQUIRE(auth.ParseFromArray((*body)->data(), static_cast<int>((*body)->size())));
  crypto::PublicKey pk;
  std::copy_n(auth.pub_key().ed25519().begin(), 32, pk.begin());
  CHECK(pk == me.public_key());
  CHECK(crypto::ed25519_verify(pk, e.challenge, as_bytes(auth.sig())));
}

TEST_CASE("secret handshake rejects malformed ephemeral keys") {
  crypto::init_sodium();
  crypto::NodeKey me = crypto::NodeKey::generate();
  SUBCASE("low-order point") {
    SecretConnection v(me, {});
    v.start();
    Bytes zero(32, 0);
    EvilPeer e;
    auto st = v.on_receive(e.ephemeral_message(zero));
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().code == SecretError::kLowOrderKey);
  }
  SUBCASE("31-byte key") {
    SecretConnection v(me, {});
    v.start();
    Bytes k(31, 9);
    EvilPeer e;
    auto st = v.on_receive(e.ephemeral_message(k));
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().code == SecretError::kBadEphemeralKey);
  }
  SUBCASE("length prefix over 1024 bytes is refused before the body (Go allows 1 MiB)") {
    SecretConnection v(me, {});
    v.start();
    Bytes prefix;
    // uvarint(1025) and nothing else: padding a key message is only a way to hold our memory.
    std::uint64_t n = 1025;
    while (n >= 0x80) {
      prefix.push_back(static_cast<std::uint8_t>(n | 0x80));
      n >>= 7;
    }
    prefix.push_back(static_cast<std::uint8_t>(n));
    auto st = v.on_receive(prefix);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().code == SecretError::kMessageTooLarge);
    CHECK(seedscope::classify_secret_error(st.error().code) == Reason::kMessageTooLarge);
  }
  SUBCASE("garbage") {
    SecretConnection v(me, {});
    v.start();
    Bytes g = {0x05, 0xff, 0xff, 0xff, 0xff, 0xff};
    auto st = v.on_receive(g);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().code == SecretError::kBadEphemeralKey);
  }
}

namespace {

// An established pair: the victim and the evil peer that completed the handshake with it.
struct Established {
  crypto::NodeKey me = crypto::NodeKey::generate();
  EvilPeer evil;
  SecretConnection victim{me, {}};
  Established() {
    crypto::init_sodium();
    victim.start();
    evil.on_victim_output(victim.take_output());
    Bytes in = evil.ephemeral_message();
    append(in, evil.auth_sig(KeyKind::kEd25519, true));
    REQUIRE(victim.on_receive(in).ok());
    REQUIRE(victim.established());
  }
};

Bytes raw_frame(const std::array<std::uint8_t, 32>& key, std::uint64_t counter,
                std::uint32_t length_field) {
  std::array<std::uint8_t, secret::kTotalFrameSize> frame{};
  put_le32(frame.data(), length_field);
  std::array<std::uint8_t, 12> nonce{};
  put_le64(nonce.data() + 4, counter);
  Bytes out(secret::kSealedFrameSize);
  crypto::aead_seal(key, nonce, frame, out.data());
  return out;
}

} // namespace

TEST_CASE("sealed frames after the handshake") {
  Established s;
  SUBCASE("data of many sizes arrives intact in any split") {
    for (std::size_t size : {1u, 1023u, 1024u, 1025u, 5000u, 70000u}) {
      Bytes data(size);
      for (std::size_t i = 0; i < size; ++i) data[i] = static_cast<std::uint8_t>(i * 31 + 7);
      Bytes wire_bytes = s.evil.seal(data);
      CHECK(wire_bytes.size() == ((size + 1023) / 1024) * secret::kSealedFrameSize);
      for (std::size_t i = 0; i < wire_bytes.size(); i += 333)
        REQUIRE(s.victim
                    .on_receive(ByteSpan(wire_bytes)
                                    .subspan(i, std::min<std::size_t>(333, wire_bytes.size() - i)))
                    .ok());
      CHECK(s.victim.take_plaintext() == data);
    }
  }
  SUBCASE("a zero-length write sends no frame") {
    (void)s.victim.take_output(); // its AuthSig
    REQUIRE(s.victim.send({}).ok());
    CHECK_FALSE(s.victim.has_output());
  }
  SUBCASE("a tampered frame is fatal") {
    Bytes f = s.evil.seal(as_bytes("hello"));
    f[100] ^= 0x40;
    auto st = s.victim.on_receive(f);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().code == SecretError::kDecryptFailed);
    CHECK(classify_secret_error(st.error().code) == Reason::kDecryptFailed);
    // The connection stays failed.
    CHECK_FALSE(s.victim.on_receive(s.evil.seal(as_bytes("x"))).ok());
  }
  SUBCASE("a frame replayed with an old nonce is fatal") {
    Bytes f = s.evil.seal(as_bytes("once"));
    REQUIRE(s.victim.on_receive(f).ok());
    CHECK_FALSE(s.victim.on_receive(f).ok());
  }
  SUBCASE("a frame length over 1024 is fatal") {
    Bytes f = raw_frame(s.evil.send_key, s.evil.sent_frames, 1025);
    auto st = s.victim.on_receive(f);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().code == SecretError::kFrameTooLong);
  }
  SUBCASE("padding is never checked") {
    std::array<std::uint8_t, secret::kTotalFrameSize> frame{};
    frame.fill(0xAB); // leftover bytes, as Go's reused buffers carry
    put_le32(frame.data(), 3);
    std::array<std::uint8_t, 12> nonce{};
    put_le64(nonce.data() + 4, s.evil.sent_frames);
    Bytes out(secret::kSealedFrameSize);
    crypto::aead_seal(s.evil.send_key, nonce, frame, out.data());
    REQUIRE(s.victim.on_receive(out).ok());
    CHECK(s.victim.take_plaintext() == Bytes{0xAB, 0xAB, 0xAB});
  }
}

TEST_CASE("frame sealer: nonce counter and split") {
  crypto::init_sodium();
  std::array<std::uint8_t, 32> key{};
  key[0] = 1;
  secret::FrameSealer sealer(key);
  secret::FrameOpener opener(key);
  Bytes out;
  Bytes data(2049, 0x5a);
  REQUIRE(sealer.seal(data, out).ok());
  REQUIRE(out.size() == 3 * secret::kSealedFrameSize);
  // Frame 2 was sealed with counter 2 (bytes 4..11 of the nonce).
  Bytes third(out.begin() + 2 * secret::kSealedFrameSize, out.end());
  std::array<std::uint8_t, 12> nonce{};
  put_le64(nonce.data() + 4, 2);
  std::array<std::uint8_t, secret::kTotalFrameSize> plain{};
  REQUIRE(crypto::aead_open(key, nonce, third, plain.data()));
  CHECK(get_le32(plain.data()) == 1);
  Bytes back;
  REQUIRE(opener.open(out, back).ok());
  CHECK(back == data);
}
