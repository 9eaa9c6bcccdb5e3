#include "crawler/runtime/timer.hpp"

#include <utility>

namespace seedscope::runtime {

struct Timer::Impl {
  uv_timer_t timer{};
  bool closing = false;
  std::function<void()> handler;

  static void on_timeout(uv_timer_t* t) {
    auto* impl = static_cast<Impl*>(t->data);
    if (impl->closing) return;
    std::function<void()> handler = impl->handler; // may restart or destroy the timer
    if (handler) handler();
  }
  static void on_closed(uv_handle_t* h) { delete static_cast<Impl*>(h->data); }
};

Timer::Timer(Loop& loop) : impl_(new Impl) {
  uv_timer_init(loop.get(), &impl_->timer);
  impl_->timer.data = impl_;
}

Timer::~Timer() {
  Impl* impl = std::exchange(impl_, nullptr);
  impl->closing = true;
  uv_close(reinterpret_cast<uv_handle_t*>(&impl->timer), &Impl::on_closed);
}

void Timer::start(Millis timeout, std::function<void()> handler) {
  impl_->handler = std::move(handler);
  auto ms = timeout.count() < 0 ? 0 : static_cast<std::uint64_t>(timeout.count());
  // libuv measures from its cached loop time, which lags after a long callback; deadlines
  // are meant from now.
  uv_update_time(impl_->timer.loop);
  uv_timer_start(&impl_->timer, &Impl::on_timeout, ms, 0);
}

void Timer::stop() { uv_timer_stop(&impl_->timer); }

bool Timer::active() const { return uv_is_active(reinterpret_cast<uv_handle_t*>(&impl_->timer)); }

void Timer::unref() { uv_unref(reinterpret_cast<uv_handle_t*>(&impl_->timer)); }

} // namespace seedscope::runtime
