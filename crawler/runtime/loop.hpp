// The event loop that owns every handle of the process. This directory is the only code
// that includes uv.h.
#pragma once

#include <uv.h>

#include "core/base/clock.hpp"

namespace seedscope::runtime {

// RAII owner of a uv_loop_t. Closing walks every remaining handle, closes it and runs the
// loop until the close callbacks have fired, so no handle outlives the loop.
class Loop {
public:
  Loop();
  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  uv_loop_t* get() { return &loop_; }
  // Runs until no active handles remain or stop() is called.
  void run();
  void stop();
  // Monotonic time as the core sees it (libuv's cached loop time, in ms).
  TimePoint now() const;

private:
  uv_loop_t loop_{};
};

} // namespace seedscope::runtime
