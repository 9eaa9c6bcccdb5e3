// The life of one crawl contact, free of I/O: an outbound one (we dialed an address) or an
// inbound one (a node dialed our seed service), from the end of the transport upgrade to its
// verdict. The runtime moves the bytes (upgrade, MConnection) and arms one timer; this
// machine decides what to send, when to give up and what the contact showed:
//
//   outbound: upgraded -> after request_delay send PexRequest -> PexAddrs (ok), pex_timeout
//             (no_answer), hung up at once (full), or a protocol violation (misbehaving);
//             an upgrade failure is classified into its outcome class.
//   inbound:  upgraded -> its PexRequest is answered once from the seed directory (served),
//             nothing asked within inbound_hold (idle), or a violation (misbehaving).
//
// A Go node sees polite PEX: one request per connection (pex::PexPeerRules), none before the
// handshake, no PexAddrs it did not ask for. A PexAddrs before our request is unsolicited;
// one after it is taken as the answer (a Go node cannot tell either).
//
// Events take their time from the injected clock (not owned); after each event the runtime
// takes the actions, the observations, and arms its timer for next_deadline(), calling
// on_tick() when it passes. Single-threaded.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/base/bytes.hpp"
#include "core/base/clock.hpp"
#include "core/crawl/outcome.hpp"
#include "core/crawl/schedule.hpp"
#include "core/observe/observations.hpp"
#include "core/p2p/disconnect.hpp"
#include "core/pex/pex_rules.hpp"
#include "core/types/node_info.hpp"

namespace seedscope::crawl {

struct ContactConfig {
  // We ask this long after the handshake: a PexAddrs before then is unsolicited.
  Millis request_delay{250};
  Millis pex_timeout{10000}; // for the PexAddrs after our request
  Millis full_window{2000};  // hung up this soon after the handshake, nothing said: full
  Millis inbound_hold{5000}; // an inbound peer that asks nothing is let go (it holds a slot)
};

// Upgrade timings, as the transport measured them.
struct ContactTimings {
  double connect_ms = 0;   // outbound: TCP connect
  double handshake_ms = 0; // SecretConnection + NodeInfo
};

// What the runtime is asked to do, in order.
struct ContactAction {
  enum class Kind { kSend, kClose };
  Kind kind = Kind::kSend;
  Bytes pex_message;     // kSend: a whole message for the PEX channel
  bool graceful = false; // kClose: flush what is queued first (an answer), else abort
};

// The seed service's answer for a requester (verified addresses of its chain, not its own).
using SeedDirectory = std::function<std::vector<NetAddress>(const NodeInfo& requester)>;

class Contact {
public:
  // We dialed `dialed`. `directory` answers a PexRequest the node may send us (once).
  static Contact outbound(const ScheduledAddress& dialed, ContactConfig config, const Clock& clock,
                          SeedDirectory directory = {});
  // A node connected to us from `remote` (its socket address; the ID once known).
  static Contact inbound(const NetAddress& remote, ContactConfig config, const Clock& clock,
                         SeedDirectory directory);

  // --- events
  // The upgrade completed: the peer's NodeInfo.
  void on_upgraded(const NodeInfo& peer, ContactTimings timings);
  // The upgrade failed. `peer` is its NodeInfo when that arrived (another network or version).
  void on_upgrade_failed(const Failure& failure, std::string detail,
                         const std::optional<NodeInfo>& peer, ContactTimings timings);
  // Our own policy turns the contact down after the upgrade (limits, an unconfirmed chain),
  // instead of on_upgraded. `peer`: its NodeInfo, to file the contact under its network (the
  // node itself is not recorded); nullopt to record nothing of it.
  void on_rejected(const Failure& failure, std::string detail, const std::optional<NodeInfo>& peer);
  // A whole message on the PEX channel.
  void on_message(ByteSpan pex_message);
  // The connection ended or broke (socket closed, MConnection error, pong timeout).
  void on_peer_failed(const Failure& failure, std::string detail);
  // The runtime's timer: call when clock.mono() >= next_deadline().
  void on_tick();
  // Ends the contact now (shutdown): no verdict is recorded, the connection is aborted.
  void abandon();

  // --- outputs
  // Sends, then a close once the contact is finished (graceful after ok, served, no_answer and
  // idle: an answer may be queued; an abort otherwise).
  std::vector<ContactAction> take_actions() { return std::exchange(actions_, {}); }
  // NodeSeen when a NodeInfo arrives, the ContactRecord when it finishes. Schedule,
  // availability and what it learnt are the caller's (it owns the schedule).
  std::vector<observe::Observation> take_observations() { return std::exchange(observations_, {}); }
  TimePoint next_deadline() const { return deadline_; }
  bool finished() const { return state_ == State::kDone; }
  bool abandoned() const { return abandoned_; }

  bool is_inbound() const { return inbound_; }
  const ScheduledAddress& dialed() const { return dialed_; }
  const NetAddress& remote() const { return remote_; }
  const std::optional<NodeInfo>& peer_info() const { return info_; }
  // Set once finished.
  Outcome outcome() const { return outcome_; }
  Verdict verdict() const { return crawl::verdict(outcome_); }
  // Why it ended (stage kLocalPolicy, reason kNone when it went well); set once finished.
  const Failure& failure() const { return failure_; }
  // The addresses of the PexAddrs that answered our request (ok only).
  const std::vector<NetAddress>& learnt() const { return learnt_; }
  // The network the contact is filed under: the node's own, else the dialed address's.
  std::string network() const;
  // Addresses handed out (inbound, served).
  std::size_t served() const { return served_; }

private:
  enum class State {
    kUpgrading, // the transport is at work
    kWaiting,   // outbound: handshaken, asking after request_delay
    kAsked,     // outbound: PexRequest sent, waiting for PexAddrs
    kHolding,   // inbound: waiting for its PexRequest
    kDone,
  };
  Contact(bool inbound, ContactConfig config, const Clock& clock);
  void send_request();
  void on_request();
  void on_addrs(std::vector<NetAddress> addrs);
  void finish(Outcome outcome, Failure failure, std::string detail);
  void saw_node(const NodeInfo& info);

  bool inbound_;
  ContactConfig config_;
  const Clock* clock_; // not owned
  SeedDirectory directory_;
  State state_ = State::kUpgrading;
  ScheduledAddress dialed_; // outbound
  NetAddress remote_;       // the peer's address (outbound: the dialed one)
  std::optional<NodeInfo> info_;
  ContactTimings timings_;
  pex::PexPeerRules rules_;
  TimePoint handshaken_at_{};
  TimePoint deadline_ = TimePoint::max();
  bool got_message_ = false;
  bool abandoned_ = false;
  Outcome outcome_ = Outcome::kRejected;
  Failure failure_;
  std::vector<NetAddress> learnt_;
  std::size_t received_ = 0;
  std::size_t served_ = 0;
  std::vector<ContactAction> actions_;
  std::vector<observe::Observation> observations_;
};

} // namespace seedscope::crawl
