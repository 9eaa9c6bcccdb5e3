// The whole connection upgrade as one sans-I/O state machine: SecretConnection, then the
// NodeInfo exchange with validation, compatibility and self detection. Ports the upgrade in
// p2p/transport.go @ v0.34 (MultiplexTransport.upgrade), minus its clock: the caller owns the
// deadlines and uses stage() to classify a timeout.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "core/base/bytes.hpp"
#include "core/crypto/keys.hpp"
#include "core/p2p/disconnect.hpp"
#include "core/secret/secret_connection.hpp"
#include "core/types/node_info.hpp"

namespace seedscope {

struct HandshakeConfig {
  // Our NodeInfo, sent as given (Go sends the NodeInfo its node built); an empty node_id is
  // filled with the key's ID. With adopt_peer_network the network field is replaced by the
  // peer's before we send it.
  NodeInfo our_info;
  // Read the peer's NodeInfo before sending ours and answer in its network (PROTOCOL.md 3),
  // so one endpoint completes handshakes with nodes of any chain.
  bool adopt_peer_network = false;
  // Set when we dialed ID@addr.
  std::optional<std::string> expected_peer_id;
  // Fixed ephemeral key (test vectors only).
  std::optional<crypto::X25519KeyPair> ephemeral;
};

class Handshake {
public:
  enum class State { kSecret, kNodeInfo, kDone, kFailed };

  // `key` signs our side of the SecretConnection (a node's NodeKey). Not owned; must outlive
  // this object and the connection it releases.
  Handshake(const crypto::Signer& key, HandshakeConfig config);

  // Queues our first bytes (the ephemeral key). Call once, first.
  void start();
  // Bytes from the socket, any split. Check state() afterwards.
  void on_receive(ByteSpan data);
  // With adopt_peer_network: stop waiting for the peer's NodeInfo and send ours with the
  // configured network. Two network-adopting endpoints would otherwise wait for each other;
  // the runtime calls this after a short grace period. No effect once ours was sent.
  void send_info_now();

  State state() const { return state_; }
  // The stage we are in (or failed in): a timeout in kSecret is a secret-handshake timeout.
  Stage stage() const;
  // Valid when state() == kFailed.
  const Failure& failure() const { return failure_; }
  const std::string& failure_detail() const { return failure_detail_; }

  Bytes take_output();
  bool has_output() const;

  // Authenticated peer ID (set once the SecretConnection is established).
  const std::string& peer_id() const;
  // The peer's NodeInfo, as soon as it has been received (even if it was then rejected as
  // incompatible: a crawler records it).
  const std::optional<NodeInfo>& peer_info() const { return peer_info_; }
  // The NodeInfo we sent (with the adopted network), once sent.
  const NodeInfo& our_info() const { return config_.our_info; }

  // When done: the established connection and the peer's stream bytes that followed its
  // NodeInfo (the start of MConnection traffic).
  std::unique_ptr<secret::SecretConnection> release_connection();
  Bytes take_leftover_plaintext();

private:
  void drive();
  void on_peer_info(ByteSpan body);
  void send_our_info();
  void fail(Stage stage, Reason reason, std::string detail);

  HandshakeConfig config_;
  State state_ = State::kSecret;
  std::unique_ptr<secret::SecretConnection> conn_;
  wire::DelimitedReader info_reader_{kMaxNodeInfoSize};
  bool sent_info_ = false;
  std::string peer_id_;
  std::optional<NodeInfo> peer_info_;
  Failure failure_;
  std::string failure_detail_;
  Bytes pending_output_; // output held after the connection is released
};

// Maps a SecretConnection error to its failure reason.
Reason classify_secret_error(const std::error_code& code);

} // namespace seedscope
