// Peers banned from connecting: node IDs and IPs, each until a time. A peer that broke the
// PEX rules is stopped and banned; a new connection of its ID (after the handshake) or from
// its IP (at accept, before any work) is refused until the ban ends. The IP is banned too
// because a new ID costs the attacker nothing. Bounded: past `capacity` entries of a kind,
// expired ones go, then those whose ban ends soonest. Single-threaded; time is passed in.
#pragma once

#include <cstddef>
#include <map>
#include <string>

#include "core/base/clock.hpp"
#include "core/types/net_address.hpp"

namespace seedscope {

class BanList {
public:
  explicit BanList(std::size_t capacity = 10000) : capacity_(capacity) {}

  // Bans `id` (when not empty) and `ip` from `now` for `duration`; a longer ban in place stays.
  void ban(const std::string& id, const IpAddress& ip, TimePoint now, Millis duration);
  bool id_banned(const std::string& id, TimePoint now) const;
  bool ip_banned(const IpAddress& ip, TimePoint now) const;

  std::size_t ids() const { return ids_.size(); }
  std::size_t ips() const { return ips_.size(); }

private:
  template <typename Key>
  void put(std::map<Key, TimePoint>& bans, const Key& key, TimePoint now, TimePoint until);

  std::size_t capacity_;
  std::map<std::string, TimePoint> ids_;
  std::map<IpAddress, TimePoint> ips_;
};

} // namespace seedscope
