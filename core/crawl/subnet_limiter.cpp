#include "core/crawl/subnet_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace seedscope::crawl {

std::uint64_t SubnetLimiter::subnet_of(const IpAddress& ip) {
  const auto& b = ip.bytes();
  if (ip.is_v4())
    return (std::uint64_t{1} << 56) | (std::uint64_t{b[12]} << 16) | (std::uint64_t{b[13]} << 8) |
           b[14];
  std::uint64_t key = 0;
  for (int i = 0; i < 6; ++i) key = (key << 8) | b[i];
  return key; // 48 bits: below the IPv4 marker bit
}

double SubnetLimiter::refilled(const Bucket& b, TimePoint now) const {
  if (now <= b.last) return b.tokens;
  const double add = double((now - b.last).count()) * double(rate_) / 1000.0;
  return std::min(double(rate_), b.tokens + add);
}

void SubnetLimiter::make_room(TimePoint now) {
  std::erase_if(buckets_, [&](const auto& kv) { return refilled(kv.second, now) >= rate_; });
  while (buckets_.size() >= max_subnets_) {
    auto idlest =
        std::min_element(buckets_.begin(), buckets_.end(), [](const auto& a, const auto& b) {
          return a.second.last < b.second.last;
        });
    buckets_.erase(idlest);
  }
}

std::optional<TimePoint> SubnetLimiter::take(const IpAddress& ip, TimePoint now) {
  if (rate_ == 0) return std::nullopt;
  const std::uint64_t key = subnet_of(ip);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_subnets_) make_room(now);
    it = buckets_.emplace(key, Bucket{double(rate_), now}).first;
  }
  Bucket& b = it->second;
  b.tokens = refilled(b, now);
  b.last = std::max(b.last, now);
  if (b.tokens >= 1.0 - 1e-9) { // (rounding: a wait of when() refills a whole token)
    b.tokens -= 1.0;
    return std::nullopt;
  }
  ++deferred_;
  const auto wait_ms = static_cast<std::int64_t>(std::ceil((1.0 - b.tokens) * 1000.0 / rate_));
  return now + Millis(std::max<std::int64_t>(wait_ms, 1));
}

} // namespace seedscope::crawl
