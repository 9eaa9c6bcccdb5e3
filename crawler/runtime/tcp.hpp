// TCP handles in the uvw style: each wrapper owns a heap-allocated libuv handle that stays
// alive until libuv's close callback, whatever happens to the wrapper. Destroying or closing
// the wrapper guarantees that none of its handlers runs again, so an owner may destroy its
// socket from inside one of the socket's own handlers. Write buffers move into the write
// request. Single-threaded (the loop's thread).
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "core/base/bytes.hpp"
#include "core/base/clock.hpp"
#include "core/types/net_address.hpp"
#include "crawler/runtime/loop.hpp"

namespace seedscope::runtime {

// "ip:port", IPv6 in brackets.
std::string format_sockaddr(const sockaddr* addr);
// The IP and port of an IPv4 or IPv6 socket address (no node ID); nullopt for other families.
std::optional<NetAddress> net_address_of(const sockaddr* addr);
// An IP literal (IPv4, or IPv6 with or without brackets) and a port.
std::optional<sockaddr_storage> make_sockaddr(std::string_view ip, std::uint16_t port);
// libuv's name for an error code ("ECONNREFUSED") and its message.
std::string uv_error_text(int status);
// The libuv code for an errno value (code that called the socket API itself).
int uv_status_from_errno(int err);

class TcpSocket {
public:
  using DataHandler = std::function<void(ByteSpan data)>;
  // UV_EOF when the peer closed its side, another negative libuv code on a read or write
  // error. Runs at most once; no data handler runs after it.
  using EndHandler = std::function<void(int status)>;
  using ConnectHandler = std::function<void(int status)>;

  explicit TcpSocket(Loop& loop);
  ~TcpSocket(); // close()
  TcpSocket(TcpSocket&& other) noexcept;
  TcpSocket& operator=(TcpSocket&& other) noexcept;
  TcpSocket(const TcpSocket&) = delete;
  TcpSocket& operator=(const TcpSocket&) = delete;

  // Starts a connect; the handler gets 0 or a negative libuv code. Returns an error code if
  // the connect could not even start (then the handler never runs).
  int connect(const sockaddr* addr, ConnectHandler handler);
  // Replaces the handlers (also from inside a running handler) and starts reading.
  int start_reading(DataHandler on_data, EndHandler on_end);
  // Queues `data` (moved into the write request). Errors arrive through the end handler.
  int write(Bytes data);
  // Bytes handed to write() whose write has not completed yet.
  std::size_t write_queue_size() const;
  // Runs each time a write completes and leaves the queue empty (backpressure for senders).
  void set_drain_handler(std::function<void()> handler);
  // Stops and restarts delivery of data (receive rate limits); the kernel buffers meanwhile
  // and TCP flow control slows the peer.
  void pause_reading();
  int resume_reading();

  // Closes at once: pending writes are cancelled, no handler runs again.
  void close();
  // Stops reading and handlers, flushes queued writes, sends FIN, then closes; gives up and
  // closes after `linger`. The socket finishes on its own; the wrapper is empty afterwards.
  // With `drain_input`, it closes only once the peer has closed its side too, reading and
  // discarding whatever arrives meanwhile: closing with unread input makes the kernel send a
  // reset, which can destroy the data in flight before the peer has read it (an HTTP server
  // answering a request it did not read to the end).
  void close_gracefully(Millis linger = Millis(5000), bool drain_input = false);

  bool is_open() const { return impl_ != nullptr; }
  // The peer's socket address; false when there is none (closed, or the peer is gone).
  bool peer_sockaddr(sockaddr_storage& out) const;
  std::string local_address() const;
  std::uint16_t local_port() const;

private:
  friend class TcpListener;
  struct Impl;
  Impl* impl_ = nullptr;
};

class TcpListener {
public:
  // Runs for each incoming connection (status 0) or accept error; call accept() from it, or
  // later (libuv stops polling the listening socket until the pending one is accepted).
  using ConnectionHandler = std::function<void(int status)>;

  explicit TcpListener(Loop& loop);
  ~TcpListener();
  TcpListener(const TcpListener&) = delete;
  TcpListener& operator=(const TcpListener&) = delete;

  // Binds and listens; returns 0 or a negative libuv code.
  int listen(const sockaddr* addr, int backlog, ConnectionHandler handler);
  // Accepts one pending connection into `socket` (a fresh, unconnected socket).
  int accept(TcpSocket& socket);
  void close();

  bool is_open() const { return impl_ != nullptr; }
  std::string local_address() const;
  std::uint16_t local_port() const;

private:
  struct Impl;
  Impl* impl_ = nullptr;
};

} // namespace seedscope::runtime
