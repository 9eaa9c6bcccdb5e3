// An upgraded peer connection: a TCP socket carrying an established SecretConnection, with
// the peer's NodeInfo. It sends plaintext (encrypted into sealed frames) and delivers the
// peer's decrypted stream to a handler. What runs on top (MConnection) is the caller's.
// Owned by one owner (unique_ptr); single-threaded.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "core/base/bytes.hpp"
#include "core/crypto/keys.hpp"
#include "core/p2p/disconnect.hpp"
#include "core/secret/secret_connection.hpp"
#include "core/types/node_info.hpp"
#include "crawler/runtime/tcp.hpp"

namespace seedscope::runtime {

enum class Direction { kOutbound, kInbound };
std::string_view to_string(Direction d);

struct Timings {
  double tcp_connect_ms = 0; // outbound only: connect() until connected
  double handshake_ms = 0;   // TCP established until the upgrade finished (or failed)
};

class Connection {
public:
  using DataHandler = std::function<void(ByteSpan plaintext)>;
  // Runs once when the connection ends for a reason other than close(): the peer closed it
  // ((kMConnection, kClosed)), a socket error (kIoError) or an undecryptable frame. The
  // Connection may be destroyed from inside the handler.
  using CloseHandler = std::function<void(const Failure& failure, const std::string& detail)>;

  struct Parts {
    TcpSocket socket;
    std::unique_ptr<secret::SecretConnection> secret;
    std::shared_ptr<const crypto::Signer> key; // the SecretConnection refers to it
    NodeInfo peer_info;
    NodeInfo our_info;
    Bytes leftover;       // the peer's plaintext that followed its NodeInfo
    Bytes pending_output; // handshake output not yet written
    Timings timings;
    Direction direction = Direction::kOutbound;
    std::string remote_address; // "ip:port", for messages
    NetAddress remote;          // the same, typed, with the peer's ID
  };
  explicit Connection(Parts parts);
  ~Connection(); // closes at once (use close() first for a graceful end)
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Plaintext that arrived before set_handlers() (starting with what followed the peer's
  // NodeInfo in the handshake). Take it before or right after setting handlers.
  Bytes take_leftover_plaintext();
  void set_handlers(DataHandler on_data, CloseHandler on_close);

  // Encrypts and queues `plaintext`. False when closed or on an encryption error (then the
  // connection is closed; the close handler does not run).
  bool send(ByteSpan plaintext);
  // Graceful close: queued writes are flushed (bounded by `linger`), then FIN and close. No
  // handler runs afterwards.
  void close(Millis linger = Millis(5000));
  // Closes at once, dropping queued writes. No handler runs afterwards.
  void abort();
  // Backpressure and receive pacing, passed through to the socket.
  std::size_t write_queue_size() const { return socket_.write_queue_size(); }
  void set_drain_handler(std::function<void()> handler) {
    socket_.set_drain_handler(std::move(handler));
  }
  void pause_reading() { socket_.pause_reading(); }
  void resume_reading() { socket_.resume_reading(); }
  bool is_open() const { return socket_.is_open(); }

  const NodeInfo& peer_info() const { return peer_info_; }
  const NodeInfo& our_info() const { return our_info_; }
  const std::string& peer_id() const { return peer_info_.node_id; }
  const std::string& remote_address() const { return remote_address_; }
  // The peer's socket address with its authenticated ID.
  const NetAddress& remote() const { return remote_; }
  const Timings& timings() const { return timings_; }
  Direction direction() const { return direction_; }

private:
  void on_data(ByteSpan data);
  void on_end(int status);
  void end(Failure failure, std::string detail);

  TcpSocket socket_;
  std::shared_ptr<const crypto::Signer> key_;
  std::unique_ptr<secret::SecretConnection> secret_;
  NodeInfo peer_info_;
  NodeInfo our_info_;
  Bytes leftover_;
  Timings timings_;
  Direction direction_;
  std::string remote_address_;
  NetAddress remote_;
  DataHandler on_data_;
  CloseHandler on_close_;
};

} // namespace seedscope::runtime
