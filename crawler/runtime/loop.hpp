// The event loop that owns every handle of the process. This directory is the only code
// that includes uv.h.
#pragma once

#include <uv.h>

#include <functional>
#include <vector>

#include "core/base/clock.hpp"

namespace seedscope::runtime {

// RAII owner of a uv_loop_t. Closing walks every remaining handle, closes it and runs the
// loop until the close callbacks have fired, so no handle outlives the loop. Every wrapper
// (TcpSocket, Timer, ...) must be destroyed before its Loop. Single-threaded.
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

  // Runs `task` on a later loop turn (never from within this call). This is how an object
  // that finishes inside one of its own callbacks gets deleted: the callback hands it here.
  void defer(std::function<void()> task);

private:
  static void on_idle(uv_idle_t* idle);
  void run_deferred();

  uv_loop_t loop_{};
  uv_idle_t idle_{};
  std::vector<std::function<void()>> deferred_;
};

} // namespace seedscope::runtime
