// The PEX request rules of one connection, from both ends, as a Tendermint v0.34 node applies
// them (p2p/pex/pex_reactor.go: RequestAddrs, ReceiveAddrs, receiveRequest; PROTOCOL.md 6):
// - our requests: one PexRequest outstanding at a time; a PexAddrs that arrives without one
//   outstanding is unsolicited (Go stops the peer and bans it);
// - their requests: the first two are always answered, after that one per minimum interval
//   (ensure_peers_period / 3 = 10 s; a request sooner is abuse: stop and ban);
// - a seed answers an inbound peer once per connection and ignores further requests.
// The PEX reactor, the crawler's contacts and seed service and netsim's simulated nodes all
// follow this one type. Free of I/O: time is passed in. One object per connection.
#pragma once

#include <optional>

#include "core/base/clock.hpp"

namespace seedscope::pex {

inline constexpr Millis kMinReceiveRequestInterval{10'000}; // Go: ensurePeersPeriod / 3

class PexPeerRules {
public:
  enum class Serving {
    kEveryInterval, // a normal node: Go's receiveRequest
    kOnce,          // a seed with an inbound peer: one answer per connection
  };
  explicit PexPeerRules(Serving serving, Millis min_interval = kMinReceiveRequestInterval)
      : serving_(serving),
        min_interval_(min_interval) {}

  // --- our requests
  bool request_outstanding() const { return outstanding_; }
  // True when a PexRequest may be sent now (none outstanding); marks it outstanding.
  bool begin_request();
  // A request that could not be queued after all: not outstanding.
  void cancel_request() { outstanding_ = false; }
  // A PexAddrs arrived: true when it answers our outstanding request (which it ends), false
  // when it is unsolicited.
  bool take_answer();

  // --- their requests
  enum class Verdict {
    kAnswer,  // answer it
    kIgnore,  // a seed answered this connection already: say nothing
    kTooSoon, // within the minimum interval after two free requests: stop and ban the peer
  };
  Verdict on_request(TimePoint now);
  bool answered() const { return requests_ > 0 && serving_ == Serving::kOnce; }

private:
  Serving serving_;
  Millis min_interval_;
  bool outstanding_ = false;
  int requests_ = 0;                      // requests received (answered or not)
  std::optional<TimePoint> last_counted_; // Go's lastReceivedRequests: set from the second on
};

} // namespace seedscope::pex
