// The event loop that owns every handle of the process. This directory is the only code
// that includes uv.h.
#pragma once

#include <uv.h>

#include <functional>
#include <map>
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

  // Objects that finish on their own after their owner let go of them (a socket lingering in
  // a graceful close) register how to end at once; ~Loop calls these before closing the
  // remaining handles, so each such object closes its handles with its own callbacks.
  using CloserId = std::uint64_t;
  CloserId add_closer(std::function<void()> close_now);
  void remove_closer(CloserId id);

private:
  static void on_idle(uv_idle_t* idle);
  void run_deferred();

  uv_loop_t loop_{};
  uv_idle_t idle_{};
  std::vector<std::function<void()>> deferred_;
  std::map<CloserId, std::function<void()>> closers_;
  CloserId next_closer_ = 1;
};

} // namespace seedscope::runtime
