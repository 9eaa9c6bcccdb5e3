#include "crawler/runtime/shutdown.hpp"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <ctime>
#include <mutex>
#include <thread>

namespace seedscope::runtime {

struct StopRequest::Impl {
  uv_async_t async{};
  std::function<void(int)> stop;
  std::atomic<int> signum{0};

  static void on_async(uv_async_t* a) {
    auto* impl = static_cast<Impl*>(a->data);
    if (const int s = impl->signum.exchange(0); s != 0 && impl->stop) {
      std::function<void(int)> stop = impl->stop; // may destroy the StopRequest
      stop(s);
    }
  }
  static void on_closed(uv_handle_t* h) { delete static_cast<Impl*>(h->data); }
};

namespace {

struct State {
  std::mutex mu;
  ShutdownOptions options;
  StopRequest::Impl* current = nullptr; // the registered command, if any
  bool installed = false;
};

State& state() {
  static State* s = new State; // used by the signal thread until the process exits
  return *s;
}

sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP); // not a stop: on_hangup (reopen the log file)
  return set;
}

void hang_up() {
  State& s = state();
  if (s.options.on_hangup) s.options.on_hangup();
}

[[noreturn]] void exit_now(int code, const std::string& why) {
  State& s = state();
  if (s.options.last_words) s.options.last_words(why);
  ::_exit(code);
}

void wait_for_signals() {
  const sigset_t set = stop_signals();
  int first = 0;
  for (;;) {
    int signum = 0;
    if (sigwait(&set, &signum) != 0) continue;
    if (signum == SIGHUP) {
      hang_up();
      continue;
    }
    State& s = state();
    {
      std::lock_guard lock(s.mu);
      if (s.current != nullptr) {
        first = signum;
        s.current->signum = signum;
        uv_async_send(&s.current->async);
      }
    }
    if (first == 0)
      exit_now(128 + signum, "received signal " + std::to_string(signum) +
                                 " before start-up "
                                 "finished; exiting");
    break;
  }
  // A graceful stop is under way: a second signal, or the end of the grace period, ends it.
  const Millis grace = state().options.grace;
  timespec ts{static_cast<time_t>(grace.count() / 1000),
              static_cast<long>((grace.count() % 1000) * 1'000'000)};
  const auto deadline = std::chrono::steady_clock::now() + grace;
  for (;;) {
    const int signum = sigtimedwait(&set, nullptr, &ts);
    if (signum == SIGHUP) hang_up();
    else if (signum > 0)
      exit_now(128 + signum, "received signal " + std::to_string(signum) +
                                 " again during shutdown; exiting at once");
    if ((signum < 0 && errno == EAGAIN) || std::chrono::steady_clock::now() >= deadline)
      exit_now(1, "did not stop within " + std::to_string(grace.count()) +
                      " ms of the signal; exiting");
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    ts = {static_cast<time_t>(left.count() / 1000),
          static_cast<long>((left.count() % 1000) * 1'000'000)};
  }
}

} // namespace

void install_shutdown_signals(ShutdownOptions options) {
  State& s = state();
  {
    std::lock_guard lock(s.mu);
    if (s.installed) return;
    s.installed = true;
    s.options = std::move(options);
  }
  ::signal(SIGPIPE, SIG_IGN);
  const sigset_t set = stop_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr); // inherited by every thread started later
  std::thread(wait_for_signals).detach();
}

StopRequest::StopRequest(Loop& loop, std::function<void(int)> stop) : impl_(new Impl) {
  impl_->stop = std::move(stop);
  uv_async_init(loop.get(), &impl_->async, &Impl::on_async);
  impl_->async.data = impl_;
  uv_unref(reinterpret_cast<uv_handle_t*>(&impl_->async)); // never keeps the loop alive
  State& s = state();
  std::lock_guard lock(s.mu);
  s.current = impl_;
}

StopRequest::~StopRequest() {
  {
    State& s = state();
    std::lock_guard lock(s.mu);
    if (s.current == impl_) s.current = nullptr;
  }
  impl_->stop = {};
  uv_close(reinterpret_cast<uv_handle_t*>(&impl_->async), &Impl::on_closed);
}

} // namespace seedscope::runtime
