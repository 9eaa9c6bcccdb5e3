// Per-node availability over five windows (2 h, 8 h, 1 d, 7 d, 30 d) and a reliability score,
// kept the way public DNS seeders keep theirs (bitcoin-seeder's CAddrStat): every contact
// decays the window's running sums by f = exp(-age / window), where age is the time since the
// previous contact, then adds the new sample:
//   reliability = reliability * f + (good ? 1 - f : 0)
//   weight      = weight * f + (1 - f)
//   count       = count * f + 1
// The first contact counts as if the previous one were kFirstSampleAge before it.
// availability(window) = reliability / weight, the exponentially weighted share of good
// contacts; count says how much evidence is behind it. The score is the mean of the five
// availabilities, each pulled towards 0 while its window holds fewer than 2 contacts, so a
// node seen once is never ranked with one seen up a hundred times.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>

#include "core/base/clock.hpp"

namespace seedscope::crawl {

struct WindowStat {
  double reliability = 0;
  double weight = 0;
  double count = 0;
  double availability() const { return weight > 0 ? reliability / weight : 0; }
  bool operator==(const WindowStat&) const = default;
};

inline constexpr std::size_t kWindowCount = 5;
inline constexpr std::array<std::chrono::seconds, kWindowCount> kWindows = {
    std::chrono::hours(2), std::chrono::hours(8), std::chrono::hours(24),
    std::chrono::hours(24 * 7), std::chrono::hours(24 * 30)};
// The age the first contact is given (the default recrawl interval).
inline constexpr double kFirstSampleAge = 600.0;
inline constexpr std::array<const char*, kWindowCount> kWindowNames = {"2h", "8h", "1d", "7d",
                                                                       "30d"};

struct Availability {
  std::array<WindowStat, kWindowCount> windows{};
  WallTime last_update{};

  // One contact at `now`: good when the node completed the handshake and behaved.
  void update(bool good, WallTime now);
  double score() const;
  bool operator==(const Availability&) const = default;
};

} // namespace seedscope::crawl
