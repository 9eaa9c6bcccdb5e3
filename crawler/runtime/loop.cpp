#include "crawler/runtime/loop.hpp"

#include <stdexcept>

namespace seedscope::runtime {

Loop::Loop() {
  if (int rc = uv_loop_init(&loop_); rc != 0)
    throw std::runtime_error(std::string("uv_loop_init: ") + uv_strerror(rc));
}

Loop::~Loop() {
  uv_walk(
      &loop_,
      [](uv_handle_t* h, void*) {
        if (!uv_is_closing(h)) uv_close(h, nullptr);
      },
      nullptr);
  uv_run(&loop_, UV_RUN_DEFAULT);
  uv_loop_close(&loop_);
}

void Loop::run() { uv_run(&loop_, UV_RUN_DEFAULT); }

void Loop::stop() { uv_stop(&loop_); }

TimePoint Loop::now() const {
  return TimePoint(Millis(uv_now(const_cast<uv_loop_t*>(&loop_))));
}

} // namespace seedscope::runtime
