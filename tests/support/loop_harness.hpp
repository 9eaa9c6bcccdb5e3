// Running a real libuv loop in a test, always bounded in time, plus small loopback helpers
// (free ports, raw sockets) for integration tests.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/base/bytes.hpp"
#include "core/base/clock.hpp"
#include "crawler/runtime/loop.hpp"
#include "crawler/runtime/tcp.hpp"

namespace seedscope::test {

// Runs `loop` until `done()` holds. Fails the test (REQUIRE) if `limit` passes first or the
// loop runs out of work before that.
void run_until(runtime::Loop& loop, const std::function<bool()>& done,
               Millis limit = Millis(10000));
// Runs `loop` and checks `done()` every `every` until it holds; fails the test (REQUIRE) when
// `limit` passes first. For conditions outside this loop (another process's output, its
// database, its HTTP answers) that are too costly to check after every loop iteration;
// `done` must not run the loop itself.
void run_until_polled(runtime::Loop& loop, const std::function<bool()>& done, Millis every,
                      Millis limit);
// The same without failing: whether `done()` held within `limit`.
bool poll_until(runtime::Loop& loop, const std::function<bool()>& done, Millis every, Millis limit);
// Runs `loop` until it has nothing left to do: every handle closed, nothing pending. What a
// test calls after stopping everything it started; fails the test (REQUIRE) if a handle is
// still open after `limit` (something was not stopped, or a timer is still armed).
void drain(runtime::Loop& loop, Millis limit = Millis(5000));

// A loopback port that was free a moment ago (bound, read, closed).
std::uint16_t free_tcp_port();

// Deterministic test payload.
Bytes pattern_bytes(std::size_t size, std::uint8_t seed);

// A raw TCP peer on 127.0.0.1 that accepts connections, optionally writes fixed bytes to
// each, and records what it read and whether the other side closed.
class RawPeer {
public:
  explicit RawPeer(runtime::Loop& loop, Bytes greeting = {});
  std::uint16_t port() const { return port_; }
  std::size_t accepted() const { return sockets_.size(); }
  // True once every accepted connection saw EOF or an error from the other side.
  bool all_closed_by_peer() const;
  const Bytes& received() const { return received_; }
  // Closes every accepted connection (the other side sees EOF or a reset).
  void close_all();

private:
  runtime::Loop& loop_;
  Bytes greeting_;
  runtime::TcpListener listener_;
  std::vector<std::unique_ptr<runtime::TcpSocket>> sockets_;
  std::vector<bool> ended_;
  Bytes received_;
  std::uint16_t port_ = 0;
};

// A 127.0.0.1 address that never answers a SYN: a listening socket with backlog 1 that
// never accepts, its accept queue filled by raw connects (Linux then drops further SYNs).
class BlackholeAddress {
public:
  BlackholeAddress();
  ~BlackholeAddress();
  BlackholeAddress(const BlackholeAddress&) = delete;
  BlackholeAddress& operator=(const BlackholeAddress&) = delete;
  std::uint16_t port() const { return port_; }

private:
  int listen_fd_ = -1;
  std::vector<int> fill_fds_;
  std::uint16_t port_ = 0;
};

} // namespace seedscope::test
