// A small HTTP/1.1 server on the loop, for read-only endpoints (Prometheus metrics, the peer
// list API). GET and HEAD only (405 otherwise), one request per connection (Connection:
// close), a request head of at most `max_head_bytes` (431) that must arrive within
// `head_timeout` (408: slowloris), no request bodies (400), at most `max_connections` at once
// (503 beyond). Parsing is the sans-I/O http::RequestReader; this class moves bytes and owns
// the deadlines. Nothing a client sends throws: every bad request gets a status and a close.
//
// A handler receives the request and an HttpResponder; it answers at once or later (after
// work on the thread pool), on the loop's thread. A connection whose deadline passes first is
// answered 503 and closed, and the late answer is dropped. Single-threaded (the loop's thread);
// HttpServerThread runs one on a thread and loop of its own.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "core/base/clock.hpp"
#include "core/http/request.hpp"
#include "core/http/response.hpp"
#include "crawler/runtime/listen_address.hpp"
#include "crawler/runtime/loop.hpp"

namespace seedscope::runtime {

struct HttpServerOptions {
  std::size_t max_connections = 256;
  std::size_t max_head_bytes = http::RequestReader::kDefaultMaxHead;
  Millis head_timeout{10000};     // from accept to the end of the request head
  Millis response_timeout{30000}; // from the head to the handler's answer
  Millis linger{10000};           // for the answer to be read and the client to hang up
};

namespace detail {
struct HttpServerState;
}

// How a handler answers. Copyable; the first send() of any copy wins, later ones and sends
// after the connection ended do nothing. Use on the server loop's thread only.
class HttpResponder {
public:
  void send(http::Response response) const;
  Loop& loop() const { return *loop_; }

private:
  friend struct detail::HttpServerState;
  HttpResponder(std::weak_ptr<detail::HttpServerState> server, std::uint64_t connection, Loop& loop)
      : server_(std::move(server)),
        connection_(connection),
        loop_(&loop) {}
  std::weak_ptr<detail::HttpServerState> server_;
  std::uint64_t connection_ = 0;
  Loop* loop_ = nullptr;
};

using HttpHandler = std::function<void(const http::Request& request, HttpResponder respond)>;

class HttpServer {
public:
  HttpServer(Loop& loop, HttpHandler handler, HttpServerOptions options = {});
  ~HttpServer(); // close()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens; returns 0 or a negative libuv code.
  int listen(const sockaddr* addr, int backlog = 128);
  // Stops listening and drops every connection (pending answers are dropped).
  void close();

  std::uint16_t port() const;
  std::string local_address() const;

private:
  std::shared_ptr<detail::HttpServerState> state_;
};

// An HttpServer on a thread and loop of its own, so that its clients never wait for the
// caller's loop and the other way round. The handler runs on the server's thread. Throws
// ListenError when it cannot listen (before any thread is left running).
class HttpServerThread {
public:
  HttpServerThread(const ListenAddress& address, HttpHandler handler,
                   HttpServerOptions options = {});
  ~HttpServerThread(); // stops the server, joins the thread
  HttpServerThread(const HttpServerThread&) = delete;
  HttpServerThread& operator=(const HttpServerThread&) = delete;

  std::uint16_t port() const { return port_; }
  // The bound address, "127.0.0.1:26660" or "[::1]:26660".
  const std::string& local_address() const { return local_address_; }

private:
  struct Control;
  std::shared_ptr<Control> control_;
  std::thread thread_;
  std::uint16_t port_ = 0;
  std::string local_address_;
};

} // namespace seedscope::runtime
