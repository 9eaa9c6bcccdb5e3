// A one-shot timer, uvw style: the libuv handle lives until its close
// callback, and once the wrapper is stopped, closed or destroyed its handler never runs
// again (the wrapper may be destroyed from inside its own handler).
#pragma once

#include <functional>

#include "core/base/clock.hpp"
#include "crawler/runtime/loop.hpp"

namespace seedscope::runtime {

class Timer {
public:
  explicit Timer(Loop& loop);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  // (Re)starts the timer; `handler` runs once after `timeout`.
  void start(Millis timeout, std::function<void()> handler);
  void stop();
  bool active() const;
  // The timer no longer keeps the loop running by itself (a watchdog or a give-up bound).
  void unref();

private:
  struct Impl;
  Impl* impl_ = nullptr;
};

} // namespace seedscope::runtime
