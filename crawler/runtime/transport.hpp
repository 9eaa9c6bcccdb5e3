// The transport: dials peers and accepts inbound connections, and upgrades each TCP
// connection to an authenticated, NodeInfo-checked Connection. Ports MultiplexTransport
// (p2p/transport.go @ v0.34: Dial, Accept, upgrade) on libuv; the protocol itself is the
// sans-I/O seedscope::Handshake, this class only moves its bytes and owns the deadlines.
// Every outcome is reported once, as a Connection or as an UpgradeFailure with its
// (stage, reason). Single-threaded; the Transport must outlive nothing it hands out except
// the Connections (which keep the node key alive themselves).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/crypto/keys.hpp"
#include "core/p2p/disconnect.hpp"
#include "core/p2p/pending_pool.hpp"
#include "core/types/net_address.hpp"
#include "core/types/node_info.hpp"
#include "crawler/runtime/connection.hpp"
#include "crawler/runtime/listen_address.hpp"
#include "crawler/runtime/loop.hpp"
#include "crawler/runtime/tcp.hpp"

namespace seedscope::runtime {

struct UpgradeOptions {
  NodeInfo our_info; // sent as given; an empty node_id is filled with the key's ID
  // Read the peer's NodeInfo first and answer in its network (PROTOCOL.md 3).
  bool adopt_peer_network = false;
  // SecretConnection + NodeInfo exchange, from TCP established (config handshake_timeout).
  Millis handshake_timeout{20000};
  // With adopt_peer_network: how long to wait for the peer's NodeInfo before sending ours
  // anyway (two adopting endpoints would otherwise wait for each other).
  Millis adopt_grace{1000};
};

struct DialOptions {
  UpgradeOptions upgrade;
  // DNS lookup, then TCP connect, each bounded by this (config dial_timeout).
  Millis dial_timeout{3000};
};

struct UpgradeFailure {
  Failure failure;
  std::string detail;
  Timings timings;
  std::optional<NodeInfo> peer_info; // when it was received (e.g. incompatible network)
  std::string peer_id;               // authenticated ID, when the SecretConnection got that far
  std::string dialed_id;             // outbound through the switch: the ID dialed (ID@host:port)
  std::string remote_address;        // "ip:port" (or the dialed host:port before resolution)
  std::optional<NetAddress> remote;  // the socket address once known, with peer_id if any
  Direction direction = Direction::kOutbound;
};

// Exactly one of the two is meaningful: `connection` when the upgrade succeeded.
struct UpgradeResult {
  std::unique_ptr<Connection> connection;
  UpgradeFailure failure;
  bool ok() const { return connection != nullptr; }
};
using UpgradeHandler = std::function<void(UpgradeResult result)>;

class Upgrade;

class Transport {
public:
  // `key` authenticates every connection (a node's NodeKey).
  Transport(Loop& loop, std::shared_ptr<const crypto::Signer> key);
  ~Transport(); // aborts pending upgrades without running their handlers
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // Dials `addr` (resolving its host when it has no IP) and upgrades the connection.
  // `handler` runs exactly once, on a later loop turn at the earliest.
  void dial(const PeerAddress& addr, DialOptions options, UpgradeHandler handler);

  // Listens on `laddr` (parse_listen_address: "tcp://host:port", ":port", ...) and upgrades
  // each inbound connection; `handler` runs once per connection. Inbound upgrades are
  // admitted by a PendingPool (`pool`; its timeout replaces options.handshake_timeout): every
  // connection is accepted, and one the pool evicts to make room is closed at once without
  // its handler running (counted in evicted_upgrades()). Returns the bound port; an
  // advertised listen_addr ending in ":0" gets that port.
  // Throws ListenError when the address is bad or cannot be bound (start-up only).
  std::uint16_t listen(std::string_view laddr, UpgradeOptions options, UpgradeHandler handler,
                       PendingPoolConfig pool = {});
  // Stops listening and aborts every pending upgrade (their handlers do not run).
  void close();

  // `refuse(ip)` true: an accepted connection from ip is closed at once (a ban), before the
  // pool or any handshake work; counted in refused_at_accept().
  void set_accept_filter(std::function<bool(const IpAddress&)> refuse) {
    accept_filter_ = std::move(refuse);
  }

  std::size_t pending_upgrades() const { return upgrades_.size(); }
  std::uint64_t refused_at_accept() const { return refused_at_accept_; }
  std::size_t pending_inbound() const { return pool_.size(); }
  std::uint64_t evicted_upgrades() const { return pool_.evictions(); }

private:
  void on_incoming(int status);
  void accept_one();
  void start_upgrade(std::unique_ptr<Upgrade> upgrade, UpgradeHandler handler);
  void finish(Upgrade& upgrade, UpgradeResult result);

  Loop& loop_;
  std::shared_ptr<const crypto::Signer> key_;
  void drop(Upgrade* upgrade);

  struct Pending {
    std::unique_ptr<Upgrade> upgrade;
    UpgradeHandler handler;
    PendingId pool_id = 0; // inbound: its entry in pool_
  };
  std::unordered_map<Upgrade*, Pending> upgrades_;
  std::unordered_map<PendingId, Upgrade*> inbound_;
  PendingPool pool_{{}};
  std::optional<TcpListener> listener_;
  UpgradeOptions inbound_options_;
  UpgradeHandler inbound_handler_;
  std::function<bool(const IpAddress&)> accept_filter_;
  std::uint64_t refused_at_accept_ = 0;
};

} // namespace seedscope::runtime
