#include "crawler/app/output.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace seedscope::app {

namespace {

// Pieces for the log stream (stderr or the --log-file) carry this instead of a descriptor,
// and a piece with kReopen reopens the file (the writer thread does it, between writes).
constexpr int kLogStream = -1;
constexpr int kReopen = -2;

int open_append(const std::string& path) {
  return ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
}

class Output {
public:
  // Never destroyed (see output()): the writer thread lives as long as the process.
  Output() : thread_([this] { run(); }) { thread_.detach(); }

  // Start-up, before the log stream is used from other threads than the caller's.
  void set_log_file(const std::string& path) {
    const int fd = open_append(path);
    if (fd < 0)
      throw std::runtime_error(
          fmt::format("--log-file {}: cannot open: {}", path, std::strerror(errno)));
    std::lock_guard lock(mu_);
    if (log_fd_ != STDERR_FILENO) ::close(log_fd_);
    log_fd_ = fd;
    log_path_ = path;
  }
  bool has_log_file() {
    std::lock_guard lock(mu_);
    return !log_path_.empty();
  }

  void post(int fd, std::string text) {
    if (text.empty() && fd != kReopen) return;
    std::lock_guard lock(mu_);
    if (queued_bytes_ + text.size() > kMaxQueuedBytes) return; // dropped
    queued_bytes_ += text.size();
    queue_.push_back({fd, std::move(text), nullptr});
    ++posted_;
    wake_.notify_one();
  }

  // Queues `text` whatever the queue holds (a result is never dropped for space) and waits.
  bool post_and_wait(int fd, std::string text) {
    if (text.empty()) return true;
    auto done = std::make_shared<std::promise<bool>>();
    auto result = done->get_future();
    {
      std::lock_guard lock(mu_);
      queued_bytes_ += text.size();
      queue_.push_back({fd, std::move(text), done});
      ++posted_;
      wake_.notify_one();
    }
    return result.get();
  }

  bool flush(Millis limit) {
    std::unique_lock lock(mu_);
    const auto target = posted_;
    return done_.wait_for(lock, limit, [&] { return handled_ >= target; });
  }

private:
  struct Piece {
    int fd;
    std::string text;
    std::shared_ptr<std::promise<bool>> done; // someone waits for this piece
  };

  // Writes all of `text`; false when the stream failed (the rest is dropped).
  bool write_all(int fd, const std::string& text) {
    std::size_t off = 0;
    while (off < text.size()) {
      const ssize_t n = ::write(fd, text.data() + off, text.size() - off);
      if (n > 0) {
        off += static_cast<std::size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) { // a non-blocking descriptor handed to us: wait a little
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        continue;
      }
      if (n < 0 && errno == EPIPE && fd <= STDERR_FILENO)
        closed_[fd == STDOUT_FILENO ? 0 : 1] = true;
      return false;
    }
    return true;
  }

  void run() {
    std::unique_lock lock(mu_);
    for (;;) {
      wake_.wait(lock, [&] { return !queue_.empty(); });
      Piece p = std::move(queue_.front());
      queue_.pop_front();
      queued_bytes_ -= p.text.size();
      if (p.fd == kReopen) {
        reopen(lock);
        ++handled_;
        done_.notify_all();
        continue;
      }
      const int fd = p.fd == kLogStream ? log_fd_ : p.fd;
      const bool closed = fd == STDOUT_FILENO ? closed_[0] : fd == STDERR_FILENO && closed_[1];
      lock.unlock();
      const bool ok = !closed && write_all(fd, p.text);
      if (p.done) p.done->set_value(ok);
      lock.lock();
      ++handled_;
      done_.notify_all();
    }
  }

  // On the writer thread, `lock` held: the file at log_path_ opened anew (logrotate renamed
  // the old one), the old descriptor closed once the new one is open. When it cannot be
  // opened the old descriptor stays, and one line on it says why.
  void reopen(std::unique_lock<std::mutex>& lock) {
    if (log_path_.empty()) return;
    const std::string path = log_path_;
    lock.unlock();
    const int fd = open_append(path);
    const int err = errno;
    lock.lock();
    if (fd < 0) {
      const std::string line =
          fmt::format("--log-file {}: cannot reopen: {} (still writing to the old file)\n", path,
                      std::strerror(err));
      const int old = log_fd_;
      lock.unlock();
      write_all(old, line);
      lock.lock();
      return;
    }
    ::close(log_fd_);
    log_fd_ = fd;
  }

  std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable done_;
  std::deque<Piece> queue_;
  std::size_t queued_bytes_ = 0;
  std::uint64_t posted_ = 0;
  std::uint64_t handled_ = 0;
  bool closed_[2] = {false, false}; // stdout, stderr saw EPIPE
  int log_fd_ = STDERR_FILENO;      // the log stream: stderr or the --log-file
  std::string log_path_;            // "" without --log-file
  std::thread thread_;
};

// Created on first use and never destroyed: text posted by other threads during static
// destruction still has somewhere to go, and a writer blocked on a reader that never reads
// cannot hold up the exit (main flushes with a bound before returning).
Output& output() {
  static Output* out = new Output;
  return *out;
}

} // namespace

std::string utc_time(WallTime t, bool with_millis) {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, with_millis ? "%Y-%m-%dT%H:%M:%S" : "%Y-%m-%d %H:%M:%S", &tm);
  std::string out = buf;
  if (with_millis) out += fmt::format(".{:03}Z", ((ms % 1000) + 1000) % 1000);
  return out;
}

void write_log(std::string line) { output().post(kLogStream, std::move(line)); }
void set_log_file(const std::string& path) { output().set_log_file(path); }
bool has_log_file() { return output().has_log_file(); }
void reopen_log_file() { output().post(kReopen, std::string()); }

void write_stdout(std::string text) { output().post(STDOUT_FILENO, std::move(text)); }
bool write_result(std::string text) {
  return output().post_and_wait(STDOUT_FILENO, std::move(text));
}
void write_stderr(std::string text) { output().post(STDERR_FILENO, std::move(text)); }
bool flush_output(Millis limit) { return output().flush(limit); }

} // namespace seedscope::app
