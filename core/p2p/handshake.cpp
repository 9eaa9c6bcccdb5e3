// The connection upgrade: p2p/transport.go @ v0.34 (upgrade, handshake) without the clock.
#include "core/p2p/handshake.hpp"

#include "core/wire/delimited.hpp"

namespace seedscope {

Reason classify_secret_error(const std::error_code& code) {
  using secret::SecretError;
  if (code.category() != secret::secret_category()) return Reason::kMalformed;
  switch (static_cast<SecretError>(code.value())) {
  case SecretError::kBadEphemeralKey:
  case SecretError::kMalformed: return Reason::kMalformed;
  case SecretError::kLowOrderKey: return Reason::kLowOrderKey;
  case SecretError::kMessageTooLarge: return Reason::kMessageTooLarge;
  case SecretError::kUnsupportedKey:
  case SecretError::kBadSignature: return Reason::kAuthFailure;
  case SecretError::kIdMismatch: return Reason::kIdMismatch;
  case SecretError::kDecryptFailed: return Reason::kDecryptFailed;
  case SecretError::kFrameTooLong: return Reason::kFrameTooLong;
  case SecretError::kNonceOverflow:
  case SecretError::kNotEstablished: return Reason::kIoError;
  }
  return Reason::kMalformed;
}

namespace {

Reason classify_node_info_error(const std::error_code& code) {
  if (code == NodeInfoError::kIncompatibleVersion) return Reason::kIncompatibleVersion;
  if (code == NodeInfoError::kIncompatibleNetwork) return Reason::kIncompatibleNetwork;
  if (code == NodeInfoError::kNoCommonChannel) return Reason::kNoCommonChannel;
  if (code == wire::WireError::kMessageTooLarge) return Reason::kMessageTooLarge;
  if (code == NodeInfoError::kInvalid) return Reason::kInvalidNodeInfo;
  return Reason::kMalformed;
}

} // namespace

Handshake::Handshake(const crypto::Signer& key, HandshakeConfig config)
    : config_(std::move(config)) {
  if (config_.our_info.node_id.empty())
    config_.our_info.node_id = crypto::node_id_from_public_key(key.public_key());
  conn_ = std::make_unique<secret::SecretConnection>(
      key, secret::SecretConnection::Options{config_.expected_peer_id, config_.ephemeral});
  config_.ephemeral.reset();
}

void Handshake::start() { conn_->start(); }

Stage Handshake::stage() const {
  switch (state_) {
  case State::kSecret: return Stage::kSecretHandshake;
  case State::kNodeInfo:
  case State::kDone: return Stage::kNodeInfo;
  case State::kFailed: return failure_.stage;
  }
  return Stage::kLocalPolicy;
}

void Handshake::fail(Stage stage, Reason reason, std::string detail) {
  state_ = State::kFailed;
  failure_ = Failure{stage, reason};
  failure_detail_ = std::move(detail);
}

void Handshake::on_receive(ByteSpan data) {
  if (state_ == State::kFailed || state_ == State::kDone || !conn_) return;
  const Stage at = stage();
  if (Status st = conn_->on_receive(data); !st) {
    fail(at, classify_secret_error(st.error().code), st.error().message());
    return;
  }
  drive();
}

void Handshake::drive() {
  if (state_ == State::kSecret) {
    if (!conn_->established()) return;
    state_ = State::kNodeInfo;
    peer_id_ = conn_->peer_id();
    // Go sends its NodeInfo as soon as the connection is secret; a network-adopting endpoint
    // waits for the peer's first.
    if (!config_.adopt_peer_network) send_our_info();
    if (state_ == State::kFailed) return;
  }
  if (state_ != State::kNodeInfo) return;
  info_reader_.feed(conn_->take_plaintext());
  auto next = info_reader_.next();
  if (!next) {
    fail(Stage::kNodeInfo, classify_node_info_error(next.error().code), next.error().message());
    return;
  }
  if (next->has_value()) on_peer_info(**next);
}

void Handshake::send_our_info() {
  if (sent_info_) return;
  sent_info_ = true;
  Bytes msg;
  wire::write_delimited(msg, encode_node_info(config_.our_info));
  if (Status st = conn_->send(msg); !st)
    fail(Stage::kNodeInfo, classify_secret_error(st.error().code), st.error().message());
}

void Handshake::on_peer_info(ByteSpan body) {
  auto decoded = decode_node_info(body);
  if (!decoded) {
    fail(Stage::kNodeInfo, Reason::kMalformed, decoded.error().message());
    return;
  }
  peer_info_ = std::move(decoded.value());
  const NodeInfo& peer = *peer_info_;

  // Adopt only a chain ID a chain can have: otherwise any peer could make up networks. An
  // empty one is another adopting endpoint that has no chain either: nothing to agree on.
  Status chain = ok_status();
  if (config_.adopt_peer_network) {
    chain = peer.network.empty()
                ? make_error(NodeInfoError::kInvalid,
                             "the peer names no chain ID (it answers in the chain of whoever "
                             "dials it, as we do); give one of the two a network")
                : validate_chain_id(peer.network);
    if (!sent_info_ && chain) config_.our_info.network = peer.network;
  }
  // Answer before judging, as Go does: the peer then records our NodeInfo too.
  send_our_info();
  if (state_ == State::kFailed) return;
  if (!chain) {
    fail(Stage::kNodeInfo, Reason::kInvalidNodeInfo, chain.error().message());
    return;
  }

  if (Status st = validate_node_info(peer); !st) {
    fail(Stage::kNodeInfo, Reason::kInvalidNodeInfo, st.error().message());
    return;
  }
  if (peer.node_id != peer_id_) {
    fail(Stage::kNodeInfo, Reason::kIdMismatch,
         "NodeInfo ID " + peer.node_id + " differs from authenticated ID " + peer_id_);
    return;
  }
  if (peer.node_id == config_.our_info.node_id) {
    fail(Stage::kNodeInfo, Reason::kSelf, "connected to ourselves");
    return;
  }
  if (Status st = check_compatible(config_.our_info, peer); !st) {
    fail(Stage::kNodeInfo, classify_node_info_error(st.error().code), st.error().message());
    return;
  }
  state_ = State::kDone;
}

Bytes Handshake::take_output() {
  Bytes out = std::exchange(pending_output_, {});
  if (conn_) append(out, conn_->take_output());
  return out;
}

bool Handshake::has_output() const {
  return !pending_output_.empty() || (conn_ && conn_->has_output());
}

const std::string& Handshake::peer_id() const { return peer_id_; }

void Handshake::send_info_now() {
  // Still in the secret handshake: send at establishment, as a non-adopting endpoint does.
  if (state_ == State::kSecret) config_.adopt_peer_network = false;
  if (state_ == State::kNodeInfo) send_our_info();
}

std::unique_ptr<secret::SecretConnection> Handshake::release_connection() {
  if (state_ != State::kDone || !conn_) return nullptr;
  append(pending_output_, conn_->take_output());
  return std::move(conn_);
}

Bytes Handshake::take_leftover_plaintext() {
  Bytes out = info_reader_.take_remaining();
  if (conn_) append(out, conn_->take_plaintext());
  return out;
}

} // namespace seedscope
