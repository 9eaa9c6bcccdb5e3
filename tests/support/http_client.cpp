#include "support/http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace seedscope::test {

namespace {

std::string lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

} // namespace

BlockingClient::BlockingClient(std::uint16_t port, const std::string& host, Millis timeout) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (host.find(':') != std::string::npos) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    if (::inet_pton(AF_INET6, host.c_str(), &in6->sin6_addr) != 1) return;
    len = sizeof *in6;
  } else {
    auto* in = reinterpret_cast<sockaddr_in*>(&ss);
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    if (::inet_pton(AF_INET, host.c_str(), &in->sin_addr) != 1) return;
    len = sizeof *in;
  }
  fd_ = ::socket(ss.ss_family, SOCK_STREAM, 0);
  if (fd_ < 0) return;
  timeval tv{static_cast<time_t>(timeout.count() / 1000),
             static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&ss), len) == 0;
}

BlockingClient::~BlockingClient() { close(); }

bool BlockingClient::send(std::string_view data) {
  while (connected_ && !data.empty()) {
    const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return connected_;
}

TcpExchange BlockingClient::read_all() {
  TcpExchange out;
  out.connected = connected_;
  if (!connected_) return out;
  char buf[16384];
  for (int i = 0; i < 1000000; ++i) { // bounded; each read is bounded by the timeout
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) out.timed_out = true;
      else out.read_error = errno;
      break;
    }
    out.response.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

void BlockingClient::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  connected_ = false;
}

TcpExchange tcp_exchange(std::uint16_t port, std::string_view request, std::size_t chunk,
                         const std::string& host) {
  BlockingClient client(port, host);
  if (!client.connected()) return {};
  const std::size_t step = chunk == 0 ? request.size() : chunk;
  for (std::size_t at = 0; at < request.size(); at += step)
    if (!client.send(request.substr(at, step))) break; // the server may answer and close early
  return client.read_all();
}

std::string http_request(std::uint16_t port, const std::string& method, const std::string& target,
                         const std::string& host) {
  const std::string host_field = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return tcp_exchange(port,
                      method + " " + target + " HTTP/1.1\r\nHost: " + host_field +
                          "\r\nConnection: close\r\n\r\n",
                      0, host)
      .response;
}

std::string http_body(const std::string& response) {
  const auto pos = response.find("\r\n\r\n");
  if (pos == std::string::npos) return {};
  std::string body = response.substr(pos + 4);
  if (lower(http_header(response, "Transfer-Encoding")) != "chunked") return body;
  // Chunked (Prometheus answers large queries so): size line, data, CRLF, until size 0.
  std::string out;
  std::size_t at = 0;
  while (at < body.size()) {
    const auto eol = body.find("\r\n", at);
    if (eol == std::string::npos) break;
    std::size_t size = 0;
    try {
      size = std::stoul(body.substr(at, eol - at), nullptr, 16);
    } catch (const std::exception&) {
      break;
    }
    if (size == 0 || eol + 2 + size > body.size()) break;
    out.append(body, eol + 2, size);
    at = eol + 2 + size + 2;
  }
  return out;
}

int http_status(const std::string& response) {
  if (response.size() < 12 || response.compare(0, 7, "HTTP/1.") != 0) return 0;
  const std::string code = response.substr(9, 3);
  if (code.find_first_not_of("0123456789") != std::string::npos) return 0;
  return std::stoi(code);
}

std::string http_header(const std::string& response, const std::string& name) {
  const std::string head = response.substr(0, response.find("\r\n\r\n")) + "\r\n";
  const std::string key = "\r\n" + lower(name) + ":";
  const auto pos = lower(head).find(key);
  if (pos == std::string::npos) return {};
  const auto start = pos + key.size();
  std::string value = head.substr(start, head.find("\r\n", start) - start);
  while (!value.empty() && value.front() == ' ') value.erase(0, 1);
  while (!value.empty() && value.back() == ' ') value.pop_back();
  return value;
}

bool wait_until(const std::function<bool()>& done, Millis limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

} // namespace seedscope::test
