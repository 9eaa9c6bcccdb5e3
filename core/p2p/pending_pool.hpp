// Connections not yet authenticated (TCP accepted, SecretConnection and NodeInfo exchange
// under way), as a sans-I/O admission pool. A stranger costs nothing to open a connection and
// say nothing, so the pool is larger than the authenticated inbound slots, caps what one IP
// and one /16 (IPv4) or /32 (IPv6) may hold, shortens the handshake deadline as it fills, and
// when a cap is reached makes room by evicting the oldest connection of that IP, else of that
// subnet, else of the pool, instead of refusing the newcomer. A flood then delays an honest
// peer by at most one handshake time: it is evicted only after the flood has replaced the whole
// pool, and a flood from few addresses only ever replaces itself.
// Single-threaded; time is passed in.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

#include "core/base/clock.hpp"
#include "core/types/net_address.hpp"

namespace seedscope {

struct PendingPoolConfig {
  std::size_t capacity = 256;  // connections in the handshake at once (0: no limit)
  std::size_t per_ip = 8;      // of them from one IP (0: no limit)
  std::size_t per_subnet = 64; // from one IPv4 /16 or IPv6 /32 (0: no limit)
  Millis timeout{20000};       // handshake deadline while the pool is at most half full,
  Millis min_timeout{2000};    // shrinking linearly to this when it is full (never above timeout)
};

using PendingId = std::uint64_t;

struct PendingAdmission {
  PendingId id = 0;
  TimePoint deadline;             // the handshake must be done by then
  std::vector<PendingId> evicted; // close these now, to make room
};

class PendingPool {
public:
  explicit PendingPool(PendingPoolConfig config) : config_(config) {}

  // Admits a connection from `ip` accepted at `now`, evicting as described above.
  PendingAdmission admit(const IpAddress& ip, TimePoint now);
  // The connection finished its handshake, failed, or was evicted; unknown IDs are ignored.
  void remove(PendingId id);

  // The handshake deadline given to a connection admitted when `occupancy` connections
  // (itself included) are pending.
  Millis timeout_at(std::size_t occupancy) const;

  std::size_t size() const { return entries_.size(); }
  std::uint64_t evictions() const { return evictions_; }
  const PendingPoolConfig& config() const { return config_; }

  // The /16 of an IPv4 address, the /32 of an IPv6 one: what one network operator holds.
  static std::uint32_t subnet_of(const IpAddress& ip);

private:
  struct Entry {
    IpAddress ip;
    std::uint32_t subnet;
  };
  // The oldest entry matching `pred` (IDs grow with admission time).
  template <typename Pred> PendingId oldest(Pred pred) const;
  void evict(PendingId id, PendingAdmission& out);

  PendingPoolConfig config_;
  std::map<PendingId, Entry> entries_; // by admission order
  std::map<IpAddress, std::size_t> per_ip_;
  std::map<std::uint32_t, std::size_t> per_subnet_;
  PendingId next_id_ = 1;
  std::uint64_t evictions_ = 0;
};

} // namespace seedscope
