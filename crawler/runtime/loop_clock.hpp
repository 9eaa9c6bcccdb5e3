// The Clock of code that runs on a Loop: monotonic time is the loop's (cached per turn, as its
// timers see it), wall time the system's. What the PEX reactor, the crawler and its contacts
// take in production; tests inject a fake.
#pragma once

#include <chrono>

#include "core/base/clock.hpp"
#include "crawler/runtime/loop.hpp"

namespace seedscope::runtime {

class LoopClock final : public Clock {
public:
  explicit LoopClock(Loop& loop) : loop_(loop) {}
  TimePoint mono() const override { return loop_.now(); }
  WallTime wall() const override {
    return std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now());
  }

private:
  Loop& loop_;
};

} // namespace seedscope::runtime
