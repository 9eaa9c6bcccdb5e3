// Time as the core sees it: monotonic milliseconds passed in by the caller.
#pragma once

#include <chrono>
#include <cstdint>

namespace seedscope {

using Millis = std::chrono::milliseconds;
// A point on the caller's monotonic clock. The core never reads a clock itself.
using TimePoint = std::chrono::time_point<std::chrono::steady_clock, Millis>;

} // namespace seedscope

namespace seedscope {

// Wall-clock time, for what is persisted or shown to operators (address-book timestamps).
// Injected like TimePoint; the epoch value means "never" (Go's zero time).
using WallTime = std::chrono::sys_time<std::chrono::nanoseconds>;
inline bool is_set(WallTime t) { return t != WallTime{}; }

// Both clocks, for components that run on their own schedule (the PEX reactor). The runtime
// implements it over the loop; tests use a fake they advance by hand.
class Clock {
public:
  virtual ~Clock() = default;
  virtual TimePoint mono() const = 0;
  virtual WallTime wall() const = 0;
};

} // namespace seedscope
