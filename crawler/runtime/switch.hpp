// The switch: owns every peer link, routes messages between peers and reactors by channel,
// applies Go's connection filters and limits, and keeps persistent peers connected. Ports
// p2p/switch.go @ v0.34 on libuv. The switch is the only owner of Peer objects (unique_ptr);
// reactors and everyone else name peers by ID. A removed peer is destroyed on a later loop
// turn, so no callback ever touches a freed peer. Single-threaded.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "core/p2p/ban_list.hpp"
#include "core/p2p/exclude_list.hpp"
#include "core/p2p/peer_set.hpp"
#include "core/p2p/reactor.hpp"
#include "crawler/runtime/peer.hpp"
#include "crawler/runtime/transport.hpp"

namespace seedscope::runtime {

struct SwitchConfig {
  SwitchLimits limits;
  mconn::MConnConfig mconn;
  // Outbound dials: dial timeout and the upgrade (our NodeInfo; its channels are set from the
  // reactors). Inbound connections use dial.upgrade too, with inbound_adopt_network.
  DialOptions dial;
  bool inbound_adopt_network = false;
  // Inbound connections still in the handshake (PendingPool); its timeout is
  // dial.upgrade.handshake_timeout.
  PendingPoolConfig handshake_pool;
  Millis stop_linger{2000};
  // How long to wait before redialing a persistent peer that has failed `failures` times so
  // far, given a uniform draw in [0, 1) for jitter; nullopt gives up. Go's reconnectToPeer
  // schedule (reconnect_delay) by default.
  using ReconnectSchedule = std::function<std::optional<Millis>(int failures, double jitter01)>;
  ReconnectSchedule reconnect_schedule = reconnect_delay;
  // Simulations and tests: refuse to dial anything but 127.0.0.0/8 and ::1 (an address learnt
  // from a simulated peer is never a real target). Refusals: (kLocalPolicy, kNotAllowed).
  bool loopback_only = false;
  // Never dialed (kLocalPolicy, kNotAllowed) nor let in: IPs closed at accept, IDs after the
  // handshake. Not owned; read at every decision, so a reload applies at once.
  const ExcludeList* exclude = nullptr;
};

// Typed events for storage, metrics and tests. Default: ignore.
class SwitchObserver {
public:
  virtual ~SwitchObserver() = default;
  virtual void on_peer_added(const PeerInfo& peer) { (void)peer; }
  virtual void on_peer_removed(const PeerInfo& peer, const Failure& why,
                               const std::string& detail) {
    (void)peer, (void)why, (void)detail;
  }
  // A dial or an inbound connection that did not become a peer: upgrade failures and
  // connections refused by the filters (stage kLocalPolicy).
  virtual void on_connect_failed(const UpgradeFailure& failure) { (void)failure; }
};

class Switch final : public SwitchApi {
public:
  Switch(Loop& loop, std::shared_ptr<const crypto::NodeKey> node_key, SwitchConfig config,
         SwitchObserver* observer = nullptr);
  ~Switch() override;
  Switch(const Switch&) = delete;
  Switch& operator=(const Switch&) = delete;

  // Before listen()/dial(). Throws std::invalid_argument when a channel is already taken.
  void add_reactor(Reactor& reactor);
  // Starts accepting on `laddr`; returns the bound port. Throws at start-up errors.
  std::uint16_t listen(std::string_view laddr);
  // Dials once (no-op if connected or a dial to that ID is in flight).
  void dial(const PeerAddress& addr);
  // Keeps `addr` connected: dials now, and after every failure or disconnect redials on the
  // reconnect schedule (Go's by default) until it gives up.
  void add_persistent_peer(const PeerAddress& addr);
  // Graceful stop: stop listening and dialing, flush and close every peer.
  void stop();
  // When a newcomer finds the inbound slots full: a connected inbound peer to drop for it (a
  // seed's longest-waiting peer that has asked nothing), or nullopt to refuse the newcomer
  // as Go does (the default). Dropped peers are counted in inbound_evictions().
  void set_inbound_eviction(std::function<std::optional<std::string>()> pick) {
    inbound_eviction_ = std::move(pick);
  }
  std::uint64_t inbound_evictions() const { return inbound_evictions_; }

  // SwitchApi
  bool send(const std::string& peer_id, mconn::ChannelId channel, Bytes msg) override;
  std::size_t broadcast(mconn::ChannelId channel, const Bytes& msg) override;
  void stop_peer(const std::string& peer_id, Failure why, std::string detail,
                 bool graceful) override;
  bool has_peer(const std::string& peer_id) const override { return peers_.count(peer_id) != 0; }
  void dial_peer(const PeerAddress& addr, DialDone done) override;
  bool is_dialing_or_connected(const std::string& peer_id) const override {
    return peer_set_.has(peer_id) || peer_set_.dialing(peer_id);
  }
  std::vector<PeerInfo> peers() const override;
  std::size_t num_outbound() const override { return peer_set_.outbound(); }
  std::size_t num_dialing() const override { return dial_done_.size() + plain_dials_; }
  std::size_t max_outbound() const override { return config_.limits.max_outbound; }
  bool is_persistent(const std::string& peer_id) const override {
    return persistent_.count(peer_id) != 0;
  }
  Millis connected_for(const std::string& peer_id) const override;
  void ban_peer(const PeerInfo& peer, Millis duration) override;

  std::size_t num_peers() const { return peers_.size(); }
  const PeerSet& peer_set() const { return peer_set_; }
  const BanList& bans() const { return bans_; }
  std::uint64_t handshakes_evicted() const { return transport_.evicted_upgrades(); }
  // Connections refused at accept because their IP is banned, and inbound peers refused after
  // the handshake because their ID is.
  std::uint64_t refused_banned() const {
    return refused_banned_ + transport_.refused_at_accept() - refused_excluded_at_accept_;
  }
  // Connections refused because the exclude list names their IP (at accept) or ID.
  std::uint64_t refused_excluded() const { return refused_excluded_; }
  const Peer* find_peer(const std::string& id) const;
  std::vector<std::string> peer_ids() const;
  const std::vector<mconn::ChannelDescriptor>& channels() const { return channels_; }
  bool stopping() const { return stopping_; }

private:
  struct Persistent {
    PeerAddress addr;
    int failures = 0;
    std::unique_ptr<Timer> timer;
  };

  UpgradeOptions upgrade_options(bool inbound) const;
  // Persistent and unconditional peers do not count against max_num_outbound_peers.
  bool outbound_exempt(const std::string& id) const {
    return persistent_.count(id) != 0 || config_.limits.unconditional_ids.count(id) != 0;
  }
  bool dial_allowed(const PeerAddress& addr) const;
  bool excluded(const std::string& id, const IpAddress& ip) const {
    return config_.exclude != nullptr &&
           (config_.exclude->excluded_id(id) || config_.exclude->excluded_ip(ip));
  }
  void start_dial(const PeerAddress& addr);
  void on_upgraded(UpgradeResult result, bool outbound, const std::string& dialed_id);
  // Returns the failure when the switch refused the connection.
  std::optional<Failure> add_peer(std::unique_ptr<Connection> connection, bool outbound);
  void finish_dial(const std::string& id, const std::optional<Failure>& failure);
  void on_peer_error(Peer& peer, const Failure& why, const std::string& detail);
  void remove_peer(const std::string& id, const Failure& why, const std::string& detail,
                   bool graceful);
  void schedule_reconnect(const std::string& id);

  Loop& loop_;
  Transport transport_;
  SwitchConfig config_;
  SwitchObserver* observer_; // not owned; may be null
  PeerSet peer_set_;
  std::map<std::string, std::unique_ptr<Peer>> peers_;
  std::vector<mconn::ChannelDescriptor> channels_;
  std::map<mconn::ChannelId, Reactor*> reactors_; // not owned
  std::vector<Reactor*> reactor_list_;
  std::map<std::string, Persistent> persistent_;
  std::map<std::string, DialDone> dial_done_; // dials whose outcome someone waits for
  std::size_t plain_dials_ = 0;               // dials nobody waits for
  std::map<std::string, TimePoint> connected_at_;
  BanList bans_;
  std::mt19937_64 rng_{std::random_device{}()};
  std::uint64_t refused_banned_ = 0;
  std::uint64_t refused_excluded_ = 0;
  std::uint64_t refused_excluded_at_accept_ = 0;
  std::function<std::optional<std::string>()> inbound_eviction_;
  std::uint64_t inbound_evictions_ = 0;
  bool stopping_ = false;
};

} // namespace seedscope::runtime
