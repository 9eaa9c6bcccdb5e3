// A clock tests move by hand: both clocks advance together.
#pragma once

#include "core/base/clock.hpp"

namespace seedscope::test {

class FakeClock final : public Clock {
public:
  // Starts at an arbitrary, non-zero point so that "never" (zero) is distinguishable.
  FakeClock()
      : mono_(TimePoint(Millis(1'000'000))),
        wall_(WallTime(std::chrono::seconds(1'700'000'000))) {}
  TimePoint mono() const override { return mono_; }
  WallTime wall() const override { return wall_; }
  void advance(Millis d) {
    mono_ += d;
    wall_ += d;
  }

private:
  TimePoint mono_;
  WallTime wall_;
};

} // namespace seedscope::test
