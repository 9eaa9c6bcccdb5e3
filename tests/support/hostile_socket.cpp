#include "support/hostile_socket.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>

#include <fmt/format.h>

#include "core/p2p/handshake.hpp"
#include "core/wire/varint.hpp"

namespace seedscope::test::hostile::detail {

TimePoint now_ms() { return std::chrono::time_point_cast<Millis>(Clock::now()); }
Millis since(Clock::time_point t) { return std::chrono::duration_cast<Millis>(Clock::now() - t); }
int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<Millis>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, 60'000));
}

namespace {
bool to_sockaddr(const IpAddress& ip, std::uint16_t port, sockaddr_storage& ss, socklen_t& len) {
  std::memset(&ss, 0, sizeof ss);
  if (ip.is_v4()) {
    auto* sa = reinterpret_cast<sockaddr_in*>(&ss);
    sa->sin_family = AF_INET;
    sa->sin_port = htons(port);
    std::memcpy(&sa->sin_addr, ip.bytes().data() + 12, 4);
    len = sizeof *sa;
  } else {
    auto* sa = reinterpret_cast<sockaddr_in6*>(&ss);
    sa->sin6_family = AF_INET6;
    sa->sin6_port = htons(port);
    std::memcpy(&sa->sin6_addr, ip.bytes().data(), 16);
    len = sizeof *sa;
  }
  return true;
}
} // namespace

// Starts a TCP connect (non-blocking) from `source`; the connect may still be under way.
Fd start_tcp(const PeerAddress& target, const std::optional<IpAddress>& source, std::string& error,
             int rcvbuf) {
  const IpAddress& ip = *target.ip;
  Fd fd(::socket(ip.is_v4() ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) {
    error = fmt::format("socket: {}", std::strerror(errno));
    return {};
  }
  if (rcvbuf > 0) ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  const int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_storage ss;
  socklen_t len = 0;
  if (source && source->is_v4() == ip.is_v4()) {
    to_sockaddr(*source, 0, ss, len);
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) {
      error = fmt::format("bind {}: {}", source->to_string(), std::strerror(errno));
      return {};
    }
  }
  to_sockaddr(ip, target.port, ss, len);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0 && errno != EINPROGRESS) {
    error = fmt::format("connect: {}", std::strerror(errno));
    return {};
  }
  return fd;
}

// SO_ERROR of a socket whose connect was started: 0 once connected.
int connect_error(int fd) {
  int err = 0;
  socklen_t elen = sizeof err;
  ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
  return err;
}

// A TCP connection to the target from `source`, within `timeout`; `rcvbuf` > 0 shrinks the
// receive buffer first (a peer that never reads). Invalid Fd and `error` set on failure.
Fd open_tcp(const PeerAddress& target, const std::optional<IpAddress>& source, Millis timeout,
            std::string& error, int rcvbuf) {
  Fd fd = start_tcp(target, source, error, rcvbuf);
  if (fd.get() < 0) return fd;
  pollfd p{fd.get(), POLLOUT, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) {
    error = "connect: timed out";
    return {};
  }
  if (int err = connect_error(fd.get()); err != 0) {
    error = fmt::format("connect: {}", std::strerror(err));
    return {};
  }
  return fd;
}

// Writes all of `data` before `deadline`; false on an error or the deadline.
bool send_all(int fd, ByteSpan data, Clock::time_point deadline) {
  std::size_t at = 0;
  while (at < data.size()) {
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, remaining_ms(deadline)) != 1) return false;
    const ssize_t n = ::send(fd, data.data() + at, data.size() - at, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) return false;
    at += static_cast<std::size_t>(n);
  }
  return true;
}

// Reads what is there before `deadline`: > 0 bytes, 0 at EOF, -1 on an error or the deadline.
ssize_t recv_some(int fd, Bytes& buf, Clock::time_point deadline) {
  buf.resize(16384);
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, remaining_ms(deadline)) != 1) return -1;
  const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
  if (n > 0) buf.resize(static_cast<std::size_t>(n));
  return n < 0 ? -1 : n;
}

namespace {
std::array<std::uint8_t, 32> random_seed() {
  std::array<std::uint8_t, 32> s{};
  std::random_device rd;
  for (auto& b : s) b = static_cast<std::uint8_t>(rd());
  return s;
}
} // namespace

namespace {
NodeInfo our_info(const std::string& network, const std::string& listen) {
  NodeInfo info;
  info.network = network;
  info.version = "0.34.24";
  info.moniker = "seedscope-hostile";
  info.listen_addr = "tcp://" + listen;
  info.channels = Bytes{0x00};
  return info;
}
} // namespace

// Connects and completes the real handshake (SecretConnection + NodeInfo) as a node of
// target.network; nullopt and `error` set when it did not complete within io_timeout.
std::optional<Session> handshake(const Target& target, const std::optional<IpAddress>& source,
                                 const std::optional<std::array<std::uint8_t, 32>>& key_seed,
                                 std::string& error, int rcvbuf, const std::string& listen) {
  const auto deadline = Clock::now() + target.io_timeout;
  Session s;
  s.fd = open_tcp(target.address, source, target.io_timeout, error, rcvbuf);
  if (s.fd.get() < 0) return std::nullopt;
  s.key = std::make_unique<crypto::NodeKey>(
      crypto::NodeKey::from_seed(key_seed.value_or(random_seed())));
  HandshakeConfig config;
  const std::string src = source ? source->to_string() : "127.0.0.1";
  config.our_info = our_info(target.network, listen.empty() ? src + ":26656" : listen);
  config.expected_peer_id = target.address.id;
  Handshake hs(*s.key, config);
  hs.start();
  Bytes buf;
  while (true) {
    Bytes out = hs.take_output();
    if (!out.empty() && !send_all(s.fd.get(), out, deadline)) {
      error = "handshake: write failed or timed out";
      return std::nullopt;
    }
    if (hs.state() == Handshake::State::kFailed) {
      error = fmt::format("handshake: {}/{}: {}", to_string(hs.failure().stage),
                          to_string(hs.failure().reason), hs.failure_detail());
      return std::nullopt;
    }
    if (hs.state() == Handshake::State::kDone) break;
    const ssize_t n = recv_some(s.fd.get(), buf, deadline);
    if (n <= 0) {
      error = n == 0 ? fmt::format("handshake: closed by the target in {}", to_string(hs.stage()))
                     : fmt::format("handshake: timed out or failed in {}", to_string(hs.stage()));
      return std::nullopt;
    }
    hs.on_receive(buf);
  }
  s.network = hs.peer_info() ? hs.peer_info()->network : "";
  s.conn = hs.release_connection();
  s.leftover = hs.take_leftover_plaintext();
  Bytes rest = hs.take_output();
  if (!rest.empty() && !send_all(s.fd.get(), rest, deadline)) {
    error = "handshake: write failed";
    return std::nullopt;
  }
  return s;
}

// Seals `plain` and writes it; each call to seal makes its own frames.
bool send_plain(Session& s, ByteSpan plain, Clock::time_point deadline) {
  if (!s.conn->send(plain).ok()) return false;
  const Bytes out = s.conn->take_output();
  return send_all(s.fd.get(), out, deadline);
}

Bytes delimited(ByteSpan body) {
  Bytes out;
  wire::put_uvarint(out, body.size());
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

void put_bytes_field(Bytes& out, std::uint8_t tag, ByteSpan body) {
  out.push_back(tag);
  wire::put_uvarint(out, body.size());
  out.insert(out.end(), body.begin(), body.end());
}

Bytes random_bytes(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  Bytes b(n);
  for (auto& x : b) x = static_cast<std::uint8_t>(rng());
  return b;
}

} // namespace seedscope::test::hostile::detail
