// Fuzz target: the connection upgrade (core/p2p/handshake: SecretConnection, then NodeInfo)
// fed a peer's plaintext chosen by the fuzzer, past the layers it cannot forge.
// Byte 0 picks the mode, our configuration and the peer's key; the rest is chunks
// [n][n bytes] of the peer's plaintext, each sealed into frames with the peer's key and fed in
// two pieces.
//   AuthSig mode: a fake peer sends a valid ephemeral key, then fuzz bytes where its AuthSig
//     goes. The upgrade may fail only in the secret stage.
//   NodeInfo mode: an honest SecretConnection completes the secret stage, then sends fuzz
//     bytes where its NodeInfo goes. The upgrade may fail only in the NodeInfo stage; when it
//     completes, the peer's NodeInfo is valid, compatible, authenticated and not ours, the peer
//     received our NodeInfo (in its network when we adopt it), and the leftover plaintext is
//     exactly what followed the peer's NodeInfo.
#include <array>
#include <cstdint>
#include <optional>

#include "core/crypto/keys.hpp"
#include "core/p2p/handshake.hpp"
#include "core/secret/secret_connection.hpp"
#include "core/wire/varint.hpp"
#include "fuzz/fuzz_invariant.hpp"

using namespace seedscope;

namespace {

struct Keys {
  crypto::NodeKey ours, peer;
  crypto::X25519KeyPair our_ephemeral, peer_ephemeral;
};

const Keys& keys() {
  static const Keys k = [] {
    crypto::init_sodium();
    std::array<std::uint8_t, 32> seed{};
    seed[0] = 1;
    auto ours = crypto::NodeKey::from_seed(seed);
    seed[0] = 2;
    auto peer = crypto::NodeKey::from_seed(seed);
    seed[0] = 0;
    seed[1] = 3; // X25519 clamps the low bits of byte 0: the ephemeral keys differ in byte 1
    auto oe = crypto::x25519_from_secret(seed);
    seed[1] = 4;
    auto pe = crypto::x25519_from_secret(seed);
    return Keys{ours, peer, oe, pe};
  }();
  return k;
}

HandshakeConfig config(std::uint8_t setup) {
  HandshakeConfig c;
  c.our_info.node_id = keys().ours.node_id();
  c.our_info.listen_addr = "tcp://0.0.0.0:26656";
  c.our_info.network = (setup & 0x20) ? "" : "fuzz-net";
  c.our_info.version = "0.34.24";
  c.our_info.moniker = "fuzz";
  c.our_info.channels = {0x00, 0x20, 0x30};
  c.adopt_peer_network = setup & 0x02;
  switch ((setup >> 2) & 0x03) {
  case 1: c.expected_peer_id = keys().peer.node_id(); break;
  case 2: c.expected_peer_id = std::string(40, 'a'); break;
  default: break;
  }
  c.ephemeral = keys().our_ephemeral;
  return c;
}

// The chunks of the peer's plaintext: [n][n bytes] ...
struct Chunks {
  ByteSpan in;
  bool next(ByteSpan& chunk, std::size_t& split) {
    if (in.empty()) return false;
    const std::size_t n = std::min<std::size_t>(in[0], in.size() - 1);
    chunk = in.subspan(1, n);
    split = in[0] % 7;
    in = in.subspan(1 + n);
    return true;
  }
};

void feed_in_two(Handshake& hs, const Bytes& sealed, std::size_t split) {
  const std::size_t at = sealed.size() * split / 7;
  hs.on_receive(ByteSpan(sealed).first(at));
  hs.on_receive(ByteSpan(sealed).subspan(at));
}

void check_failure(const Handshake& hs, Stage allowed) {
  if (hs.state() != Handshake::State::kFailed) return;
  FUZZ_INVARIANT(hs.failure().stage == allowed);
  FUZZ_INVARIANT(hs.failure().reason != Reason::kNone);
  FUZZ_INVARIANT(hs.stage() == allowed);
}

void fuzz_auth_sig(std::uint8_t setup, Chunks chunks) {
  Handshake hs(keys().ours, config(setup));
  hs.start();
  FUZZ_INVARIANT(hs.has_output());
  (void)hs.take_output();
  // The fake peer's ephemeral key message: delimited BytesValue{value = key}.
  const auto& pe = keys().peer_ephemeral;
  Bytes hello = {0x22, 0x0a, 0x20};
  append(hello, pe.public_key);
  hs.on_receive(hello);
  FUZZ_INVARIANT(hs.state() == Handshake::State::kSecret);
  const auto& oe = keys().our_ephemeral.public_key;
  const bool peer_is_least = std::lexicographical_compare(
      pe.public_key.begin(), pe.public_key.end(), oe.begin(), oe.end());
  const auto dh = crypto::x25519(pe.secret, oe);
  FUZZ_INVARIANT(dh.has_value());
  secret::FrameSealer sealer(secret::derive_secrets(*dh, peer_is_least).send);
  ByteSpan chunk;
  std::size_t split = 0;
  while (hs.state() == Handshake::State::kSecret && chunks.next(chunk, split)) {
    Bytes sealed;
    FUZZ_INVARIANT(sealer.seal(chunk, sealed).ok());
    feed_in_two(hs, sealed, split);
    (void)hs.take_output();
  }
  // Nothing the fuzzer writes can carry the peer key's signature of this session's challenge
  // unless it is that signature: failures stay in the secret stage.
  check_failure(hs, Stage::kSecretHandshake);
}

void fuzz_node_info(std::uint8_t setup, Chunks chunks) {
  const HandshakeConfig cfg = config(setup);
  Handshake hs(keys().ours, cfg);
  // Bit 6: the peer has our key (we dialed ourselves).
  const crypto::NodeKey& peer_key = (setup & 0x40) ? keys().ours : keys().peer;
  secret::SecretConnection peer(peer_key, {std::nullopt, keys().peer_ephemeral});
  hs.start();
  peer.start();
  for (int i = 0; i < 4 && !peer.established(); ++i) {
    FUZZ_INVARIANT(peer.on_receive(hs.take_output()).ok());
    hs.on_receive(peer.take_output());
  }
  if (cfg.expected_peer_id && *cfg.expected_peer_id != peer_key.node_id()) {
    FUZZ_INVARIANT(hs.state() == Handshake::State::kFailed);
    FUZZ_INVARIANT(hs.failure().reason == Reason::kIdMismatch);
    return;
  }
  FUZZ_INVARIANT(peer.established());
  FUZZ_INVARIANT(hs.state() == Handshake::State::kNodeInfo);
  FUZZ_INVARIANT(hs.peer_id() == peer_key.node_id());

  Bytes fed; // the peer's plaintext stream as far as it was fed
  bool sent_now = false;
  ByteSpan chunk;
  std::size_t split = 0;
  while (hs.state() == Handshake::State::kNodeInfo && chunks.next(chunk, split)) {
    if ((setup & 0x10) && !fed.empty() && !sent_now) {
      hs.send_info_now();
      sent_now = true;
    }
    FUZZ_INVARIANT(peer.send(chunk).ok());
    append(fed, chunk);
    feed_in_two(hs, peer.take_output(), split);
  }
  check_failure(hs, Stage::kNodeInfo);

  // What we sent the peer: at most our NodeInfo, whole, as the peer reads it.
  FUZZ_INVARIANT(peer.on_receive(hs.take_output()).ok());
  const Bytes ours = peer.take_plaintext();
  std::optional<NodeInfo> ours_decoded;
  if (!ours.empty()) {
    const auto len = wire::get_uvarint(ours);
    FUZZ_INVARIANT(len.status == wire::VarintStatus::kOk);
    FUZZ_INVARIANT(len.consumed + len.value == ours.size());
    auto decoded = decode_node_info(ByteSpan(ours).subspan(len.consumed));
    FUZZ_INVARIANT(decoded.ok());
    FUZZ_INVARIANT(*decoded == hs.our_info());
    ours_decoded = *decoded;
  }
  if (hs.peer_info()) FUZZ_INVARIANT(ours_decoded.has_value()); // answered before judging
  if (hs.state() != Handshake::State::kDone) return;

  const NodeInfo& theirs = *hs.peer_info();
  FUZZ_INVARIANT(validate_node_info(theirs).ok());
  FUZZ_INVARIANT(theirs.node_id == peer_key.node_id());
  FUZZ_INVARIANT(theirs.node_id != hs.our_info().node_id);
  FUZZ_INVARIANT(check_compatible(hs.our_info(), theirs).ok());
  if (cfg.adopt_peer_network && !sent_now) FUZZ_INVARIANT(hs.our_info().network == theirs.network);
  if (!cfg.adopt_peer_network) FUZZ_INVARIANT(hs.our_info().network == cfg.our_info.network);
  // The leftover is what followed the peer's NodeInfo.
  const auto len = wire::get_uvarint(fed);
  FUZZ_INVARIANT(len.status == wire::VarintStatus::kOk);
  const ByteSpan rest = ByteSpan(fed).subspan(len.consumed + len.value);
  auto conn = hs.release_connection();
  FUZZ_INVARIANT(conn != nullptr && conn->established());
  const Bytes leftover = hs.take_leftover_plaintext();
  FUZZ_INVARIANT(leftover == Bytes(rest.begin(), rest.end()));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0 || size > 16384) return 0;
  const std::uint8_t setup = data[0];
  Chunks chunks{ByteSpan(data + 1, size - 1)};
  if (setup & 0x01) fuzz_node_info(setup, chunks);
  else fuzz_auth_sig(setup, chunks);
  return 0;
}
