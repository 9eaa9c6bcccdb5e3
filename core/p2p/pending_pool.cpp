#include "core/p2p/pending_pool.hpp"

#include <algorithm>

namespace seedscope {

std::uint32_t PendingPool::subnet_of(const IpAddress& ip) {
  const auto& b = ip.bytes();
  // IPv4 is stored IPv4-mapped: its /16 is bytes 12 and 13. The top bit tells the families
  // apart (no IPv6 /32 that matters here starts with 0x0000).
  if (ip.is_v4()) return 0x8000'0000u | (std::uint32_t(b[12]) << 8) | b[13];
  return (std::uint32_t(b[0]) << 24 | std::uint32_t(b[1]) << 16 | std::uint32_t(b[2]) << 8 | b[3]) &
         0x7fff'ffffu;
}

Millis PendingPool::timeout_at(std::size_t occupancy) const {
  if (config_.capacity == 0 || occupancy * 2 <= config_.capacity) return config_.timeout;
  const double over =
      std::min(1.0, double(occupancy * 2 - config_.capacity) / double(config_.capacity));
  const Millis floor = std::min(config_.min_timeout, config_.timeout);
  const double span = double((config_.timeout - floor).count());
  return std::max(floor, config_.timeout - Millis(std::int64_t(span * over)));
}

template <typename Pred> PendingId PendingPool::oldest(Pred pred) const {
  for (const auto& [id, e] : entries_)
    if (pred(e)) return id;
  return 0;
}

void PendingPool::evict(PendingId id, PendingAdmission& out) {
  if (id == 0) return;
  remove(id);
  out.evicted.push_back(id);
  ++evictions_;
}

PendingAdmission PendingPool::admit(const IpAddress& ip, TimePoint now) {
  PendingAdmission out;
  const std::uint32_t subnet = subnet_of(ip);
  if (config_.per_ip != 0 && per_ip_[ip] >= config_.per_ip)
    evict(oldest([&](const Entry& e) { return e.ip == ip; }), out);
  else if (config_.per_subnet != 0 && per_subnet_[subnet] >= config_.per_subnet)
    evict(oldest([&](const Entry& e) { return e.subnet == subnet; }), out);
  if (config_.capacity != 0 && entries_.size() >= config_.capacity)
    evict(entries_.begin()->first, out);
  out.id = next_id_++;
  entries_.emplace(out.id, Entry{ip, subnet});
  ++per_ip_[ip];
  ++per_subnet_[subnet];
  out.deadline = now + timeout_at(entries_.size());
  return out;
}

void PendingPool::remove(PendingId id) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  if (--per_ip_[it->second.ip] == 0) per_ip_.erase(it->second.ip);
  if (--per_subnet_[it->second.subnet] == 0) per_subnet_.erase(it->second.subnet);
  entries_.erase(it);
}

} // namespace seedscope
