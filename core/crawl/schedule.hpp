// The crawl schedule: every address the crawler knows, its state and when to contact it next.
// New addresses are due at once; an address that answered is contacted again every
// recrawl_interval; one that failed backs off exponentially up to retry_cap, and is retired
// once it has had no success for retire_after (it comes back if someone advertises it again
// later). One attempt at a time per address, and per node ID (a Go node refuses a second
// connection from the same ID). Free of I/O: the caller passes wall-clock time in.
// Single-threaded.
#pragma once

#include <cstdint>
#include <optional>
#include <queue>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/base/clock.hpp"
#include "core/crawl/outcome.hpp"
#include "core/types/net_address.hpp"

namespace seedscope::crawl {

// new: never contacted; reachable: the last contact verified it (handshake, behaved);
// misbehaving: the last contact completed the handshake, then the node broke the protocol;
// unreachable: the last contact failed; retired: no success for retire_after.
enum class AddrState : std::uint8_t { kNew, kReachable, kMisbehaving, kUnreachable, kRetired };
inline constexpr std::size_t kAddrStateCount = 5;
std::string_view to_string(AddrState s);
std::optional<AddrState> addr_state_from_string(std::string_view s);

struct ScheduleConfig {
  Millis recrawl_interval{std::chrono::minutes(10)};
  Millis retry_base{std::chrono::minutes(1)};    // first back-off after a failure
  Millis retry_cap{std::chrono::hours(4)};       // longest back-off
  Millis retire_after{std::chrono::hours(24)};   // no success for this long: retired
  Millis id_busy_delay{std::chrono::seconds(5)}; // same ID in flight: try again after this
};

// One address and its schedule, as it is persisted.
struct ScheduledAddress {
  NetAddress addr;
  std::string network; // network of the node, or of whoever advertised it, until contacted
  AddrState state = AddrState::kNew;
  int failures = 0; // consecutive
  WallTime first_seen{};
  WallTime last_attempt{};
  WallTime last_success{};
  WallTime next_attempt{};
};

class Schedule {
public:
  explicit Schedule(ScheduleConfig config = {}) : config_(config) {}

  // Learns an address (from a seed, a PEX answer or an inbound peer). Returns true when it was
  // not known. A known address keeps its schedule; a retired one is revived (due after
  // retry_cap) when advertised again.
  bool add(const NetAddress& addr, std::string_view network, WallTime now);
  // Restores a persisted entry (start-up). Replaces any entry with the same key.
  void restore(const ScheduledAddress& entry);

  // The next due address that is not in flight and whose ID is not in flight; marks it in
  // flight. Empty when nothing is due at `now`.
  std::optional<ScheduledAddress> pop_due(WallTime now);
  // Ends the attempt started by pop_due. `network` (when not empty) is what the node said.
  // Verified: reachable, recrawled after recrawl_interval. Misbehaved and failed count as
  // failures (back-off, retirement); only verified sets last_success. Returns the entry as
  // it is now, or nullopt for an address that is not in flight: a bug of the caller's, which
  // changes nothing and is counted (invariant_violations()) instead of failing the crawl.
  std::optional<ScheduledAddress> finish(const NetAddress& addr, Verdict verdict,
                                         std::string_view network, WallTime now);
  std::uint64_t invariant_violations() const { return violations_; }
  // Ends the attempt started by pop_due without a contact (the per-subnet cap, an excluded
  // address): nothing about the address changes but its next attempt, at `at`. False for an
  // address that is not in flight (counted like finish()).
  bool postpone(const NetAddress& addr, WallTime at);
  // When the next not-in-flight address becomes due (max() when none).
  WallTime next_due() const;

  const ScheduledAddress* find(const NetAddress& addr) const;
  std::size_t size() const { return entries_.size(); }
  std::size_t in_flight() const { return in_flight_; }
  std::size_t count(AddrState s) const { return counts_[static_cast<int>(s)]; }
  // Calls f(const ScheduledAddress&) for every entry, in no particular order.
  template <typename F> void for_each(F&& f) const {
    for (const auto& [k, e] : entries_) f(e.a);
  }
  const ScheduleConfig& config() const { return config_; }

  static std::string key(const NetAddress& addr) { return addr.to_string(); }

private:
  struct Entry {
    ScheduledAddress a;
    bool in_flight = false;
  };
  struct Due {
    WallTime at;
    std::uint64_t seq; // FIFO among equal times
    std::string key;
    bool operator>(const Due& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };
  void push(const std::string& key, WallTime at);
  void set_state(Entry& e, AddrState s);
  void drop_stale_heads() const;
  Millis backoff(int failures) const;

  ScheduleConfig config_;
  std::unordered_map<std::string, Entry> entries_;
  mutable std::priority_queue<Due, std::vector<Due>, std::greater<>> heap_;
  std::unordered_set<std::string> in_flight_ids_;
  std::size_t counts_[kAddrStateCount] = {};
  std::uint64_t seq_ = 0;
  std::size_t in_flight_ = 0;
  std::uint64_t violations_ = 0;
};

} // namespace seedscope::crawl
