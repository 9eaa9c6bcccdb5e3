// A Prometheus counter that follows a cumulative count kept elsewhere (a reactor's, the
// crawler's or the writer's own totals): each to(total) adds what is new since the last one.
#pragma once

#include <cstdint>

#include <prometheus/counter.h>

namespace seedscope::metrics {

struct FollowedCounter {
  prometheus::Counter* counter = nullptr;
  std::uint64_t seen = 0;
  void to(std::uint64_t total) {
    if (total > seen) counter->Increment(double(total - seen));
    seen = total;
  }
};

} // namespace seedscope::metrics
