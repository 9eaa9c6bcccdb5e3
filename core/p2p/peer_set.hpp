// The switch's bookkeeping of peers and dials, and the filters Go applies to a new connection
// (p2p/switch.go, p2p/transport.go filterConn/filterPeer @ v0.34), free of I/O.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_set>

#include "core/base/clock.hpp"
#include "core/p2p/disconnect.hpp"

namespace seedscope {

struct SwitchLimits {
  std::size_t max_inbound = 40;
  std::size_t max_outbound = 10;
  bool allow_duplicate_ip = false;
  std::unordered_set<std::string> unconditional_ids; // exempt from both limits
};

enum class Admission {
  kOk,
  kSelf,         // our own ID
  kDuplicateId,  // already connected to this ID
  kDuplicateIp,  // already connected to this IP (allow_duplicate_ip = false)
  kInboundFull,  // max_num_inbound_peers reached
  kOutboundFull, // max_num_outbound_peers reached
  kBanned,       // the ID or IP is banned (the switch's ban list, not PeerSet)
};
std::string_view to_string(Admission a);
// The failure reported for a refused connection.
Failure admission_failure(Admission a);

class PeerSet {
public:
  PeerSet(std::string our_id, SwitchLimits limits)
      : our_id_(std::move(our_id)),
        limits_(std::move(limits)) {}

  // Would a connected peer with this ID and IP be accepted now?
  // `exempt_from_limits`: not counted against the slot limits (a persistent peer we dialed).
  Admission check(const std::string& id, const std::string& ip, bool outbound,
                  bool exempt_from_limits = false) const;
  // Records an accepted peer (after check() said kOk).
  void add(const std::string& id, const std::string& ip, bool outbound);
  void remove(const std::string& id);

  bool has(const std::string& id) const { return peers_.count(id) != 0; }
  bool has_ip(const std::string& ip) const;
  std::size_t size() const { return peers_.size(); }
  std::size_t inbound() const { return inbound_; }
  std::size_t outbound() const { return outbound_; }

  // One dial in flight per peer ID.
  bool begin_dial(const std::string& id) { return dialing_.insert(id).second; }
  void end_dial(const std::string& id) { dialing_.erase(id); }
  bool dialing(const std::string& id) const { return dialing_.count(id) != 0; }

  const SwitchLimits& limits() const { return limits_; }
  const std::string& our_id() const { return our_id_; }

private:
  struct Entry {
    std::string ip;
    bool outbound;
  };
  std::string our_id_;
  SwitchLimits limits_;
  std::map<std::string, Entry> peers_;
  std::multiset<std::string> ips_;
  std::set<std::string> dialing_;
  std::size_t inbound_ = 0;
  std::size_t outbound_ = 0;
};

// Go's reconnectToPeer schedule for persistent peers: 20 attempts every 5 s plus up to 3 s of
// jitter, then 10 attempts after 3^n s (n = 0..9) plus jitter, then give up (about 8 h in
// all). `attempt` counts failures so far (0-based). `jitter01` is a uniform draw in [0, 1).
// Returns nullopt when the switch gives up.
constexpr int kReconnectAttempts = 20;
constexpr int kReconnectBackOffAttempts = 10;
std::optional<Millis> reconnect_delay(int attempt, double jitter01);

} // namespace seedscope
