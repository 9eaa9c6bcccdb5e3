// A connected peer: the upgraded Connection with an MConnection on top and the one timer the
// MConnection asks for. Moves bytes between the socket and the sans-I/O MConnection, applies
// write backpressure (stops producing packets while the socket's queue is long) and the
// receive rate (pauses reading). Ports the I/O half of p2p/peer.go and p2p/conn/connection.go
// @ v0.34. Owned by the Switch; single-threaded.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/mconn/mconnection.hpp"
#include "core/p2p/reactor.hpp"
#include "crawler/runtime/connection.hpp"
#include "crawler/runtime/timer.hpp"

namespace seedscope::runtime {

class Peer {
public:
  using MessageHandler = std::function<void(Peer& peer, mconn::ChannelId channel, Bytes msg)>;
  // The peer failed (protocol violation, pong timeout, socket closed or broken). The owner
  // removes it; the Peer must not be destroyed inside this handler's call stack.
  using ErrorHandler = std::function<void(Peer& peer, const Failure& why, const std::string&)>;

  Peer(Loop& loop, std::unique_ptr<Connection> connection, PeerInfo info,
       const std::vector<mconn::ChannelDescriptor>& channels, const mconn::MConnConfig& config);
  ~Peer();
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;

  // Starts reading (including what arrived with the handshake) and the ping schedule.
  void start(MessageHandler on_message, ErrorHandler on_error);
  // Queues a message; false if stopped, the channel is unknown or its queue is full.
  bool send(mconn::ChannelId channel, Bytes msg);
  bool can_send(mconn::ChannelId channel) const;
  // Ends the peer; no handler runs afterwards. Graceful: everything queued is written first
  // (bounded by `linger`), then FIN.
  void stop(bool graceful, Millis linger = Millis(5000));

  bool stopped() const { return stopped_; }
  const PeerInfo& info() const { return info_; }
  const mconn::MConnection& mconnection() const { return mconn_; }
  const Connection& connection() const { return *conn_; }

private:
  void on_data(ByteSpan data);
  void pump();
  void on_timer();
  void fail(Failure why, std::string detail);

  Loop& loop_;
  std::unique_ptr<Connection> conn_;
  PeerInfo info_;
  mconn::MConnection mconn_;
  Timer timer_;
  MessageHandler on_message_;
  ErrorHandler on_error_;
  bool stopped_ = false;
  bool paused_ = false;
};

} // namespace seedscope::runtime
