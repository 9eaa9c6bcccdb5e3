// Reactors and the switch as reactors see it. Ports the Reactor interface of p2p/base_reactor.go
// @ v0.34 (AddPeer, RemovePeer, Receive) with one API instead of Go's two, and peers named by
// ID instead of pointers: a reactor never holds a peer object, so it cannot outlive one.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/bytes.hpp"
#include "core/mconn/mconnection.hpp"
#include "core/p2p/disconnect.hpp"
#include "core/types/net_address.hpp"
#include "core/types/node_info.hpp"

namespace seedscope {

struct PeerInfo {
  std::string id;
  NodeInfo node_info;
  bool outbound = false;
  bool persistent = false;
  NetAddress socket; // the connection's address: its IP and port, with the peer's ID
};

// What the switch offers reactors. Implemented by the runtime switch and by test fakes.
class SwitchApi {
public:
  virtual ~SwitchApi() = default;
  // Queues `msg` for `peer_id` on `channel`. False if the peer is gone, the channel is not one
  // the peer registered, or the channel's send queue is full (Go's TrySend).
  virtual bool send(const std::string& peer_id, mconn::ChannelId channel, Bytes msg) = 0;
  // Queues `msg` for every connected peer; returns how many accepted it.
  virtual std::size_t broadcast(mconn::ChannelId channel, const Bytes& msg) = 0;
  // Disconnects a peer. Graceful: queued output is flushed first (a seed's last PexAddrs).
  virtual void stop_peer(const std::string& peer_id, Failure why, std::string detail,
                         bool graceful) = 0;
  virtual bool has_peer(const std::string& peer_id) const = 0;

  // Dials `addr` unless that ID is connected or being dialed. `done` runs once, on a later
  // loop turn: with nullopt when the peer was added, else with why it was not (an upgrade
  // failure, or a switch filter at stage kLocalPolicy). Not run if the switch stops first.
  using DialDone = std::function<void(const std::optional<Failure>& failure)>;
  virtual void dial_peer(const PeerAddress& addr, DialDone done) = 0;
  virtual bool is_dialing_or_connected(const std::string& peer_id) const = 0;
  // Connected peers (a snapshot) and the counts ensurePeers works from.
  virtual std::vector<PeerInfo> peers() const = 0;
  virtual std::size_t num_outbound() const = 0;
  virtual std::size_t num_dialing() const = 0;
  virtual std::size_t max_outbound() const = 0;
  virtual bool is_persistent(const std::string& peer_id) const = 0;
  // How long a peer has been connected (Go's peer.Status().Duration), by the switch's clock.
  virtual Millis connected_for(const std::string& peer_id) const = 0;
  // Refuses new connections of this peer's ID and from its IP for `duration` (at accept for
  // the IP, before any work; after the handshake for the ID). Does not stop the peer.
  virtual void ban_peer(const PeerInfo& peer, Millis duration) = 0;
};

class Reactor {
public:
  virtual ~Reactor() = default;
  virtual std::string_view name() const = 0;
  virtual std::vector<mconn::ChannelDescriptor> channels() const = 0;
  // Called once when the reactor is added to a switch; `sw` outlives the reactor's use of it.
  virtual void attach(SwitchApi& sw) { switch_ = &sw; }
  // A peer finished its upgrade and passed the switch's filters.
  virtual void add_peer(const PeerInfo& peer) { (void)peer; }
  // A peer is gone (after add_peer); `why` says who ended it and how.
  virtual void remove_peer(const PeerInfo& peer, const Failure& why) {
    (void)peer;
    (void)why;
  }
  // A whole message on one of this reactor's channels.
  virtual void receive(const PeerInfo& peer, mconn::ChannelId channel, ByteSpan msg) = 0;

protected:
  SwitchApi* switch_ = nullptr; // not owned
};

} // namespace seedscope
