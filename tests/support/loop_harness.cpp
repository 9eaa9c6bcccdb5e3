#include "support/loop_harness.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include "crawler/runtime/timer.hpp"

namespace seedscope::test {

void run_until(runtime::Loop& loop, const std::function<bool()>& done, Millis limit) {
  bool expired = false;
  runtime::Timer watchdog(loop);
  watchdog.start(limit, [&] { expired = true; });
  bool ran_dry = false;
  while (!done() && !expired) {
    if (uv_run(loop.get(), UV_RUN_ONCE) == 0 && !done()) {
      ran_dry = true; // only the watchdog was left
      break;
    }
  }
  bool finished = done();
  REQUIRE_MESSAGE(!expired,
                  "watchdog: the loop did not reach its goal within " << limit.count() << " ms");
  REQUIRE_MESSAGE(finished, "the loop ran out of work before reaching its goal");
  (void)ran_dry;
}

void run_until_polled(runtime::Loop& loop, const std::function<bool()>& done, Millis every,
                      Millis limit) {
  REQUIRE_MESSAGE(poll_until(loop, done, every, limit),
                  "watchdog: the condition did not hold within " << limit.count() << " ms");
}

bool poll_until(runtime::Loop& loop, const std::function<bool()>& done, Millis every,
                Millis limit) {
  bool expired = false, check = true;
  runtime::Timer watchdog(loop);
  watchdog.start(limit, [&] { expired = true; });
  runtime::Timer poll(loop);
  std::function<void()> tick = [&] {
    check = true;
    poll.start(every, tick);
  };
  poll.start(every, tick);
  bool finished = false;
  while (!expired) {
    if (check) {
      check = false;
      if ((finished = done())) break;
    }
    uv_run(loop.get(), UV_RUN_ONCE); // the poll timer keeps the loop alive
  }
  return finished;
}

void drain(runtime::Loop& loop, Millis limit) {
  bool expired = false;
  runtime::Timer watchdog(loop);
  watchdog.start(limit, [&] { expired = true; });
  watchdog.unref(); // it does not count as work left
  while (!expired && uv_run(loop.get(), UV_RUN_ONCE) != 0) {}
  REQUIRE_MESSAGE(!expired, "the loop still had open handles "
                                << limit.count() << " ms after the test stopped everything");
}

std::uint16_t free_tcp_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sa.sin_port = 0;
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
  socklen_t len = sizeof sa;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) == 0);
  ::close(fd);
  return ntohs(sa.sin_port);
}

Bytes pattern_bytes(std::size_t size, std::uint8_t seed) {
  Bytes out(size);
  std::uint32_t x = 0x9e3779b9u * (seed + 1u);
  for (auto& b : out) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    b = static_cast<std::uint8_t>(x);
  }
  return out;
}

RawPeer::RawPeer(runtime::Loop& loop, Bytes greeting)
    : loop_(loop),
      greeting_(std::move(greeting)),
      listener_(loop) {
  auto sa = runtime::make_sockaddr("127.0.0.1", 0);
  REQUIRE(listener_.listen(reinterpret_cast<const sockaddr*>(&*sa), 16, [this](int status) {
    if (status != 0) return;
    auto socket = std::make_unique<runtime::TcpSocket>(loop_);
    if (listener_.accept(*socket) != 0) return;
    std::size_t index = sockets_.size();
    ended_.push_back(false);
    socket->start_reading([this](ByteSpan data) { append(received_, data); },
                          [this, index](int) { ended_[index] = true; });
    if (!greeting_.empty()) socket->write(greeting_);
    sockets_.push_back(std::move(socket));
  }) == 0);
  port_ = listener_.local_port();
}

bool RawPeer::all_closed_by_peer() const {
  for (bool e : ended_)
    if (!e) return false;
  return !ended_.empty();
}

void RawPeer::close_all() {
  for (auto& socket : sockets_) socket->close();
}

BlackholeAddress::BlackholeAddress() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(listen_fd_ >= 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
  REQUIRE(::listen(listen_fd_, 1) == 0);
  socklen_t len = sizeof sa;
  REQUIRE(::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&sa), &len) == 0);
  port_ = ntohs(sa.sin_port);
  // Backlog 1 holds two established connections; the rest wait in SYN_SENT, and so will
  // any further connect.
  for (int i = 0; i < 4; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    REQUIRE(fd >= 0);
    ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa); // EINPROGRESS
    fill_fds_.push_back(fd);
  }
  // Wait (bounded) until the first two are established: from then on the accept queue is
  // full and SYNs are dropped.
  for (int i = 0; i < 2; ++i) {
    pollfd p{fill_fds_[static_cast<std::size_t>(i)], POLLOUT, 0};
    REQUIRE(::poll(&p, 1, 2000) == 1);
  }
}

BlackholeAddress::~BlackholeAddress() {
  for (int fd : fill_fds_) ::close(fd);
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

} // namespace seedscope::test
