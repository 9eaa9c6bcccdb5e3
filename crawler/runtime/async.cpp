#include "crawler/runtime/async.hpp"

#include <memory>
#include <stdexcept>
#include <utility>

namespace seedscope::runtime {

struct Async::Impl {
  uv_async_t async{};
  bool closing = false;
  std::function<void()> handler;

  static void on_async(uv_async_t* a) {
    auto* impl = static_cast<Impl*>(a->data);
    if (impl->closing) return;
    std::function<void()> handler = impl->handler; // may close or destroy the Async
    if (handler) handler();
  }
  static void on_closed(uv_handle_t* h) { delete static_cast<Impl*>(h->data); }
};

Async::Async(Loop& loop, std::function<void()> handler) : impl_(new Impl) {
  impl_->handler = std::move(handler);
  uv_async_init(loop.get(), &impl_->async, &Impl::on_async);
  impl_->async.data = impl_;
}

Async::~Async() { close(); }

void Async::send() {
  if (impl_) uv_async_send(&impl_->async);
}

void Async::close() {
  Impl* impl = std::exchange(impl_, nullptr);
  if (!impl) return;
  impl->closing = true;
  uv_close(reinterpret_cast<uv_handle_t*>(&impl->async), &Impl::on_closed);
}

namespace {

struct WorkReq {
  uv_work_t req{};
  std::function<void()> work;
  std::function<void(std::exception_ptr)> done;
  std::exception_ptr error;
};

void run_work(uv_work_t* req) {
  auto* w = static_cast<WorkReq*>(req->data);
  try {
    w->work();
  } catch (...) {
    w->error = std::current_exception(); // never across the pool's thread
  }
}

void after_work(uv_work_t* req, int status) {
  std::unique_ptr<WorkReq> w(static_cast<WorkReq*>(req->data));
  if (status == UV_ECANCELED && !w->error)
    w->error = std::make_exception_ptr(std::runtime_error("work cancelled"));
  try {
    w->done(w->error);
  } catch (...) {
    // `done` must not throw into the loop; there is nobody to hand this to.
  }
}

} // namespace

int queue_work(Loop& loop, std::function<void()> work,
               std::function<void(std::exception_ptr)> done) {
  auto w = std::make_unique<WorkReq>();
  w->work = std::move(work);
  w->done = std::move(done);
  w->req.data = w.get();
  const int rc = uv_queue_work(loop.get(), &w->req, &run_work, &after_work);
  if (rc == 0) w.release(); // owned by libuv until after_work
  return rc;
}

} // namespace seedscope::runtime
