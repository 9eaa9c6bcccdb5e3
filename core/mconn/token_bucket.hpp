// A token bucket for byte rates (send_rate / recv_rate). Stands in for Go's flowrate
// limiter: the long-run rate is the same, bursts are bounded by the bucket size.
#pragma once

#include <algorithm>
#include <cstdint>

#include "core/base/clock.hpp"

namespace seedscope::mconn {

class TokenBucket {
public:
  // rate 0 = unlimited. `burst` = bucket size in bytes.
  TokenBucket(std::uint64_t rate, std::uint64_t burst, TimePoint now)
      : rate_(rate),
        burst_(std::max<std::uint64_t>(burst, 1)),
        tokens_(double(burst_)),
        last_(now) {}

  bool unlimited() const { return rate_ == 0; }

  // Tokens available at `now` (without spending).
  double available(TimePoint now) const {
    if (unlimited()) return 1e18;
    if (now <= last_) return tokens_;
    const double add = double((now - last_).count()) * double(rate_) / 1000.0;
    return std::min(double(burst_), tokens_ + add);
  }
  // Spends `n` bytes; may go negative (a packet larger than what was left), which delays the
  // next refill to positive.
  void spend(std::uint64_t n, TimePoint now) {
    refill(now);
    if (!unlimited()) tokens_ -= double(n);
  }
  // When at least `n` tokens will be available.
  TimePoint when_available(std::uint64_t n, TimePoint now) const {
    const double have = available(now);
    if (unlimited() || have >= double(n)) return now;
    const double missing = double(n) - have;
    const auto ms = static_cast<std::int64_t>(missing * 1000.0 / double(rate_)) + 1;
    return now + Millis(ms);
  }

private:
  void refill(TimePoint now) {
    if (unlimited() || now <= last_) return;
    tokens_ = available(now);
    last_ = now;
  }

  std::uint64_t rate_;
  std::uint64_t burst_;
  double tokens_;
  TimePoint last_;
};

} // namespace seedscope::mconn
