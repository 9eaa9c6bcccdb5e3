// The SecretConnection handshake: p2p/conn/secret_connection.go @ v0.34 (MakeSecretConnection,
// shareEphPubKey, deriveSecrets, shareAuthSignature), as a state machine fed with bytes.
#include "core/secret/secret_connection.hpp"
#include "core/base/error_category.hpp"

#include <algorithm>
#include <string>

#include "core/crypto/hkdf.hpp"
#include "core/crypto/merlin.hpp"
#include "core/proto/p2p.pb.h"

namespace seedscope::secret {

namespace {

constexpr std::string_view kTranscriptLabel = "TENDERMINT_SECRET_CONNECTION_TRANSCRIPT_HASH";
constexpr std::string_view kKdfInfo = "TENDERMINT_SECRET_CONNECTION_KEY_AND_CHALLENGE_GEN";

std::string_view describe(SecretError e) {
  switch (e) {
  case SecretError::kBadEphemeralKey: return "bad ephemeral public key message";
  case SecretError::kLowOrderKey: return "low-order ephemeral public key";
  case SecretError::kMessageTooLarge: return "handshake message too large";
  case SecretError::kMalformed: return "malformed AuthSigMessage";
  case SecretError::kUnsupportedKey: return "peer key is not a 32-byte Ed25519 key";
  case SecretError::kBadSignature: return "challenge signature does not verify";
  case SecretError::kIdMismatch: return "peer ID does not match the dialed ID";
  case SecretError::kDecryptFailed: return "sealed frame failed authentication";
  case SecretError::kFrameTooLong: return "frame data length over 1024";
  case SecretError::kNonceOverflow: return "nonce counter exhausted";
  case SecretError::kNotEstablished: return "secret connection not established";
  }
  return "unknown secret connection error";
}

// A wire-layer error while unframing a handshake message, in our own terms.
Error from_wire(const Error& e) {
  if (e.code == wire::WireError::kMessageTooLarge)
    return make_error(SecretError::kMessageTooLarge, e.detail);
  return make_error(SecretError::kMalformed, e.message());
}

} // namespace

const std::error_category& secret_category() {
  return enum_category<SecretError>("secret_connection", describe);
}

std::error_code make_error_code(SecretError e) { return {static_cast<int>(e), secret_category()}; }

DerivedKeys derive_secrets(const std::array<std::uint8_t, 32>& dh_secret, bool loc_is_least) {
  const Bytes out = crypto::hkdf_sha256(dh_secret, {}, as_bytes(kKdfInfo), 96);
  DerivedKeys keys;
  // The lower key's owner receives with the first half; bytes 64..95 are unused since v0.34.
  const auto first = out.begin();
  const auto second = out.begin() + 32;
  std::copy_n(loc_is_least ? first : second, 32, keys.recv.begin());
  std::copy_n(loc_is_least ? second : first, 32, keys.send.begin());
  return keys;
}

SecretConnection::SecretConnection(const crypto::Signer& key, Options options)
    : key_(key),
      options_(std::move(options)) {}

void SecretConnection::start() {
  ephemeral_ = options_.ephemeral ? *options_.ephemeral : crypto::x25519_generate();
  wire::BytesValue msg;
  msg.set_value(ephemeral_.public_key.data(), ephemeral_.public_key.size());
  wire::write_delimited(output_, msg);
  state_ = State::kAwaitEphemeral;
}

Status SecretConnection::fail(Error e) {
  state_ = State::kFailed;
  return e;
}

Status SecretConnection::on_receive(ByteSpan data) {
  switch (state_) {
  case State::kIdle:
  case State::kFailed:
    return make_error(SecretError::kNotEstablished, "receive in a closed or unstarted state");
  case State::kAwaitEphemeral: handshake_reader_.feed(data); return drive_handshake();
  case State::kAwaitAuthSig: {
    Bytes plain;
    if (Status st = opener_.open(data, plain); !st) return fail(st.error());
    handshake_reader_.feed(plain);
    return drive_handshake();
  }
  case State::kEstablished:
    if (Status st = opener_.open(data, plaintext_); !st) return fail(st.error());
    return ok_status();
  }
  return ok_status();
}

// Consumes whole handshake messages while there are any.
Status SecretConnection::drive_handshake() {
  while (state_ == State::kAwaitEphemeral || state_ == State::kAwaitAuthSig) {
    auto next = handshake_reader_.next();
    if (!next) return fail(from_wire(next.error()));
    if (!next->has_value()) return ok_status();
    const Bytes body = std::move(**next);
    Status st = state_ == State::kAwaitEphemeral ? on_ephemeral(body) : on_auth_sig(body);
    if (!st) return fail(st.error());
  }
  return ok_status();
}

Status SecretConnection::on_ephemeral(ByteSpan body) {
  wire::BytesValue msg;
  if (!msg.ParseFromArray(body.data(), static_cast<int>(body.size())))
    return make_error(SecretError::kBadEphemeralKey, "undecodable");
  if (msg.value().size() != 32)
    return make_error(SecretError::kBadEphemeralKey,
                      std::to_string(msg.value().size()) + " bytes instead of 32");
  crypto::PublicKey remote;
  std::copy_n(msg.value().begin(), 32, remote.begin());

  const crypto::PublicKey& local = ephemeral_.public_key;
  const bool loc_is_least =
      std::lexicographical_compare(local.begin(), local.end(), remote.begin(), remote.end());
  const crypto::PublicKey& lo = loc_is_least ? local : remote;
  const crypto::PublicKey& hi = loc_is_least ? remote : local;

  crypto::MerlinTranscript transcript(kTranscriptLabel);
  transcript.append("EPHEMERAL_LOWER_PUBLIC_KEY", lo);
  transcript.append("EPHEMERAL_UPPER_PUBLIC_KEY", hi);

  const auto dh = crypto::x25519(ephemeral_.secret, remote);
  if (!dh) return make_error(SecretError::kLowOrderKey);
  transcript.append("DH_SECRET", *dh);

  const DerivedKeys keys = derive_secrets(*dh, loc_is_least);
  sealer_ = FrameSealer(keys.send);
  opener_ = FrameOpener(keys.recv);
  transcript.extract("SECRET_CONNECTION_MAC", challenge_);
  ephemeral_.secret.fill(0); // the ephemeral secret is not needed past this point

  // Our signature goes out at once; writes never wait for the peer's.
  wire::AuthSigMessage auth;
  const crypto::PublicKey& pub = key_.public_key();
  auth.mutable_pub_key()->set_ed25519(pub.data(), pub.size());
  const crypto::Signature sig = key_.sign(challenge_);
  auth.set_sig(sig.data(), sig.size());
  Bytes plain;
  wire::write_delimited(plain, auth);
  if (Status st = sealer_.seal(plain, output_); !st) return st;

  // Whatever followed the ephemeral key is already ciphertext.
  const Bytes rest = handshake_reader_.take_remaining();
  handshake_reader_ = wire::DelimitedReader(kMaxHandshakeMessageSize);
  state_ = State::kAwaitAuthSig;
  Bytes rest_plain;
  if (Status st = opener_.open(rest, rest_plain); !st) return st;
  handshake_reader_.feed(rest_plain);
  return ok_status();
}

Status SecretConnection::on_auth_sig(ByteSpan body) {
  wire::AuthSigMessage auth;
  if (!auth.ParseFromArray(body.data(), static_cast<int>(body.size())))
    return make_error(SecretError::kMalformed, "undecodable");
  if (auth.pub_key().sum_case() != wire::PublicKey::kEd25519)
    return make_error(SecretError::kUnsupportedKey,
                      auth.pub_key().sum_case() == wire::PublicKey::kSecp256K1 ? "secp256k1 key"
                                                                               : "no key");
  const std::string& key = auth.pub_key().ed25519();
  if (key.size() != peer_key_.size())
    return make_error(SecretError::kUnsupportedKey, std::to_string(key.size()) + "-byte key");
  std::copy_n(key.begin(), peer_key_.size(), peer_key_.begin());
  if (!crypto::ed25519_verify(peer_key_, challenge_, as_bytes(auth.sig())))
    return make_error(SecretError::kBadSignature);
  peer_id_ = crypto::node_id_from_public_key(peer_key_);
  if (options_.expected_peer_id && *options_.expected_peer_id != peer_id_)
    return make_error(SecretError::kIdMismatch,
                      "dialed " + *options_.expected_peer_id + ", got " + peer_id_);

  state_ = State::kEstablished;
  // Bytes after the AuthSig belong to the layer above.
  append(plaintext_, handshake_reader_.take_remaining());
  return ok_status();
}

Status SecretConnection::send(ByteSpan plain) {
  if (state_ != State::kEstablished) return make_error(SecretError::kNotEstablished);
  return sealer_.seal(plain, output_);
}

Bytes SecretConnection::take_output() { return std::exchange(output_, {}); }

Bytes SecretConnection::take_plaintext() { return std::exchange(plaintext_, {}); }

} // namespace seedscope::secret
