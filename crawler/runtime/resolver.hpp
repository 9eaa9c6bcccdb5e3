// Asynchronous DNS (uv_getaddrinfo on libuv's thread pool). Destroying the Resolver or
// calling cancel() guarantees the handler never runs; the request itself finishes (or is
// cancelled) in the background and frees itself.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "crawler/runtime/loop.hpp"

namespace seedscope::runtime {

class Resolver {
public:
  // status 0 with at least one address, or a negative libuv code (UV_EAI_*).
  using Handler = std::function<void(int status, std::vector<sockaddr_storage> addrs)>;

  explicit Resolver(Loop& loop) : loop_(loop) {}
  ~Resolver() { cancel(); }
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  // One lookup at a time (a new one cancels the previous). TCP addresses, IPv4 and IPv6.
  int resolve(const std::string& host, std::uint16_t port, Handler handler);
  void cancel();

private:
  struct Request;
  Loop& loop_;
  Request* request_ = nullptr;
};

} // namespace seedscope::runtime
