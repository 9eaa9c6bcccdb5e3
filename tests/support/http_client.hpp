// Blocking HTTP clients for integration tests on loopback: raw bytes in, the whole response
// out, every wait bounded. Thread-safe (no doctest assertions inside), so many threads can use
// them at once against a server.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/base/clock.hpp"

namespace seedscope::test {

struct TcpExchange {
  bool connected = false;
  std::string response; // everything read until the server closed
  int read_error = 0;   // errno of a failed read (ECONNRESET: the server reset), 0 after EOF
  bool timed_out = false;
};

// One TCP connection to host ("127.0.0.1", "::1") and port, with send and receive timeouts.
class BlockingClient {
public:
  BlockingClient(std::uint16_t port, const std::string& host = "127.0.0.1",
                 Millis timeout = Millis(10000));
  ~BlockingClient();
  BlockingClient(const BlockingClient&) = delete;
  BlockingClient& operator=(const BlockingClient&) = delete;

  bool connected() const { return connected_; }
  // Writes all of `data`; false on an error.
  bool send(std::string_view data);
  // Reads until the server closes, an error or the timeout.
  TcpExchange read_all();
  void close();

private:
  int fd_ = -1;
  bool connected_ = false;
};

// Connects, writes `request` (in pieces of `chunk` bytes with TCP_NODELAY, 0: at once) and
// reads the whole response.
TcpExchange tcp_exchange(std::uint16_t port, std::string_view request, std::size_t chunk = 0,
                         const std::string& host = "127.0.0.1");
// A GET (or another method) of `target` with Host and Connection: close.
std::string http_request(std::uint16_t port, const std::string& method, const std::string& target,
                         const std::string& host = "127.0.0.1");

// A GET of `target` on 127.0.0.1:port: the whole response (status line, headers, body), or ""
// when the connection failed.
inline std::string http_get(std::uint16_t port, const std::string& target) {
  return http_request(port, "GET", target);
}
// The body of an HTTP response ("" without one), decoded when it is chunked.
std::string http_body(const std::string& response);

// The status code of a response ("HTTP/1.1 404 ..."), or 0.
int http_status(const std::string& response);
// The value of the first header field `name` (any case), or "".
std::string http_header(const std::string& response, const std::string& name);

// Polls `done` (another thread's progress) every millisecond until it holds or `limit` passes;
// returns whether it held.
bool wait_until(const std::function<bool()>& done, Millis limit = Millis(10000));

} // namespace seedscope::test
