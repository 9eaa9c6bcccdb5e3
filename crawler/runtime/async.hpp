// Crossing threads, uvw style: Async lets another thread wake a loop (uv_async_t), and
// queue_work hands blocking work (a database query) to libuv's thread pool and brings its end
// back to the loop's thread (uv_queue_work). The pool's threads have large stacks (libuv gives
// them 8 MiB, or RLIMIT_STACK), unlike the ~100 KiB worker threads of some embedded servers.
#pragma once

#include <exception>
#include <functional>

#include "crawler/runtime/loop.hpp"

namespace seedscope::runtime {

// Created, closed and destroyed on the loop's thread; send() may be called from any thread
// until then (the caller makes sure of that order). Several sends before the loop wakes run
// the handler once. An open Async keeps its loop running.
class Async {
public:
  Async(Loop& loop, std::function<void()> handler);
  ~Async(); // close()
  Async(const Async&) = delete;
  Async& operator=(const Async&) = delete;

  void send(); // thread-safe
  void close();

private:
  struct Impl;
  Impl* impl_ = nullptr;
};

// Runs `work` on the thread pool, then `done` on the loop's thread with what `work` threw
// (null if nothing). `done` runs exactly once, also when the loop is being destroyed (~Loop
// waits for queued work). Returns 0, or a libuv code when the work could not be queued (then
// neither function runs). Call on the loop's thread.
int queue_work(Loop& loop, std::function<void()> work,
               std::function<void(std::exception_ptr error)> done);

} // namespace seedscope::runtime
