// How the process ends on SIGINT and SIGTERM, whatever state it is in (a busy loop, a loop
// that is shutting down, start-up before any loop runs), and what SIGHUP does: it never stops
// the process, it calls on_hangup (the app reopens its log file, for logrotate).
//
// install(), first thing in main() before any other thread exists, blocks these signals in
// every thread and starts one thread that waits for them with sigwait(). On the first signal
// it asks the registered command to stop (its StopRequest runs on that command's loop,
// through uv_async_send) and starts a grace period: a process that has not exited when it
// ends exits with status 1; a second signal exits at once with 128 + signal. With no command
// registered (start-up, the end of main), the first signal exits at once. SIGPIPE is ignored:
// a write to a closed pipe or socket fails with EPIPE instead of killing the process.
#pragma once

#include <functional>
#include <string>

#include "core/base/clock.hpp"
#include "crawler/runtime/loop.hpp"

namespace seedscope::runtime {

struct ShutdownOptions {
  Millis grace{10'000};
  // Called on the signal thread just before the process exits on its own (forced exit): a
  // last log line and a bounded flush of the output. Must not throw.
  std::function<void(const std::string&)> last_words;
  // Called on the signal thread for each SIGHUP, whatever the process is doing (also during a
  // graceful stop). Must not block or throw. Null: SIGHUP is ignored.
  std::function<void()> on_hangup;
};

void install_shutdown_signals(ShutdownOptions options);

// The running command's graceful stop. One at a time; while it exists, the first SIGINT or
// SIGTERM runs `stop(signum)` on `loop`'s thread. Create and destroy it on that thread.
class StopRequest {
public:
  StopRequest(Loop& loop, std::function<void(int signum)> stop);
  ~StopRequest();
  StopRequest(const StopRequest&) = delete;
  StopRequest& operator=(const StopRequest&) = delete;

  struct Impl; // shutdown.cpp

private:
  Impl* impl_;
};

} // namespace seedscope::runtime
