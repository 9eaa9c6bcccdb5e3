// How fast the crawler may start contacts to one network operator's hosts: at most `rate`
// contacts a second to one IPv4 /24 (IPv6 /48), as a token bucket per subnet holding up to
// `rate` tokens (a burst of one second's worth). A contact over the cap is not dropped: take()
// says when a token will be there and the caller reschedules it.
//
// Bounded memory: a bucket that has refilled is the same as none, so past `max_subnets`
// buckets the full ones are dropped first, then those idle longest. Free of I/O; time passed in.
// Single-threaded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <unordered_map>

#include "core/base/clock.hpp"
#include "core/types/net_address.hpp"

namespace seedscope::crawl {

class SubnetLimiter {
public:
  // rate 0: no cap.
  explicit SubnetLimiter(std::uint32_t rate, std::size_t max_subnets = 65536)
      : rate_(rate),
        max_subnets_(max_subnets) {}

  // Takes a token for a contact to `ip` at `now`: nullopt when taken (go ahead), else the
  // time the next token of its subnet will be there (try again then; nothing was taken).
  std::optional<TimePoint> take(const IpAddress& ip, TimePoint now);

  // The IPv4 /24 or IPv6 /48 of `ip` (the two kinds never collide).
  static std::uint64_t subnet_of(const IpAddress& ip);
  std::size_t subnets() const { return buckets_.size(); }
  std::uint64_t deferred() const { return deferred_; } // take() calls that said "later"

private:
  struct Bucket {
    double tokens = 0;
    TimePoint last{};
  };
  double refilled(const Bucket& b, TimePoint now) const;
  void make_room(TimePoint now);

  std::uint32_t rate_;
  std::size_t max_subnets_;
  std::unordered_map<std::uint64_t, Bucket> buckets_;
  std::uint64_t deferred_ = 0;
};

} // namespace seedscope::crawl
