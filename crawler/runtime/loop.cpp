#include "crawler/runtime/loop.hpp"

#include <csignal>
#include <stdexcept>
#include <string>

namespace seedscope::runtime {

Loop::Loop() {
  // A write to a socket the peer reset must fail with EPIPE, not kill the process (libuv
  // writes with write(2), which raises SIGPIPE).
  std::signal(SIGPIPE, SIG_IGN);
  if (int rc = uv_loop_init(&loop_); rc != 0)
    throw std::runtime_error(std::string("uv_loop_init: ") + uv_strerror(rc));
  uv_idle_init(&loop_, &idle_);
  idle_.data = this;
}

Loop::~Loop() {
  // Deferred tasks usually delete objects that close handles: run them before the walk.
  while (!deferred_.empty()) run_deferred();
  // Lingering objects end now, through their own close callbacks.
  std::map<CloserId, std::function<void()>> closers;
  closers.swap(closers_);
  for (auto& [id, close_now] : closers) close_now();
  uv_run(&loop_, UV_RUN_NOWAIT);
  uv_walk(
      &loop_,
      [](uv_handle_t* h, void*) {
        if (!uv_is_closing(h)) uv_close(h, nullptr);
      },
      nullptr);
  uv_run(&loop_, UV_RUN_DEFAULT);
  while (!deferred_.empty()) {
    run_deferred();
    uv_run(&loop_, UV_RUN_DEFAULT);
  }
  uv_loop_close(&loop_);
}

void Loop::run() { uv_run(&loop_, UV_RUN_DEFAULT); }

void Loop::stop() { uv_stop(&loop_); }

TimePoint Loop::now() const { return TimePoint(Millis(uv_now(const_cast<uv_loop_t*>(&loop_)))); }

void Loop::defer(std::function<void()> task) {
  deferred_.push_back(std::move(task));
  if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&idle_)) &&
      !uv_is_active(reinterpret_cast<uv_handle_t*>(&idle_)))
    uv_idle_start(&idle_, &Loop::on_idle);
}

Loop::CloserId Loop::add_closer(std::function<void()> close_now) {
  const CloserId id = next_closer_++;
  closers_.emplace(id, std::move(close_now));
  return id;
}

void Loop::remove_closer(CloserId id) { closers_.erase(id); }

void Loop::on_idle(uv_idle_t* idle) {
  auto* self = static_cast<Loop*>(idle->data);
  uv_idle_stop(idle);
  self->run_deferred();
}

void Loop::run_deferred() {
  // Tasks deferred by these tasks run on the next turn.
  std::vector<std::function<void()>> batch;
  batch.swap(deferred_);
  for (auto& task : batch) task();
  if (!deferred_.empty() && !uv_is_closing(reinterpret_cast<uv_handle_t*>(&idle_)))
    uv_idle_start(&idle_, &Loop::on_idle);
}

} // namespace seedscope::runtime
