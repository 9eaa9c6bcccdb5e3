#include "support/hostile_peer.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>

#include <fmt/format.h>

#include "core/crypto/keys.hpp"
#include "core/mconn/mconnection.hpp"
#include "core/p2p/handshake.hpp"
#include "core/pex/pex_messages.hpp"
#include "core/pex/pex_reactor.hpp"
#include "core/wire/varint.hpp"

namespace seedscope::test::hostile {

namespace {

using Clock = std::chrono::steady_clock;

TimePoint now_ms() { return std::chrono::time_point_cast<Millis>(Clock::now()); }
Millis since(Clock::time_point t) { return std::chrono::duration_cast<Millis>(Clock::now() - t); }
int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<Millis>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, 60'000));
}

// One socket descriptor, closed on destruction.
class Fd {
public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

private:
  int fd_ = -1;
};

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

// Starts a TCP connect (non-blocking) from `source`; the connect may still be under way.
Fd start_tcp(const PeerAddress& target, const std::optional<IpAddress>& source, std::string& error,
             int rcvbuf = 0) {
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
            std::string& error, int rcvbuf = 0) {
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

std::array<std::uint8_t, 32> random_seed() {
  std::array<std::uint8_t, 32> s{};
  std::random_device rd;
  for (auto& b : s) b = static_cast<std::uint8_t>(rd());
  return s;
}

NodeInfo our_info(const std::string& network, const std::string& listen) {
  NodeInfo info;
  info.network = network;
  info.version = "0.34.24";
  info.moniker = "seedscope-hostile";
  info.listen_addr = "tcp://" + listen;
  info.channels = Bytes{0x00};
  return info;
}

// An authenticated connection: the socket, our key (the SecretConnection signs with it, so it
// lives as long) and the established SecretConnection.
struct Session {
  Fd fd;
  std::unique_ptr<crypto::NodeKey> key;
  std::unique_ptr<secret::SecretConnection> conn;
  Bytes leftover; // the peer's plaintext after its NodeInfo
  std::string network;
};

// Connects and completes the real handshake (SecretConnection + NodeInfo) as a node of
// target.network; nullopt and `error` set when it did not complete within io_timeout.
std::optional<Session> handshake(const Target& target, const std::optional<IpAddress>& source,
                                 const std::optional<std::array<std::uint8_t, 32>>& key_seed,
                                 std::string& error, int rcvbuf = 0,
                                 const std::string& listen = {}) {
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

} // namespace

std::string loopback_problem(const PeerAddress& target) {
  if (!target.ip) return fmt::format("{}: the host must be an IP address", target.to_string());
  const NetAddress a{target.id, *target.ip, target.port};
  if (!a.loopback())
    return fmt::format("{}: refusing a target outside 127.0.0.0/8 and ::1", target.to_string());
  return {};
}

IpAddress SourcePool::next(bool v6) {
  if (v6) {
    std::array<std::uint8_t, 16> b{};
    b[15] = 1;
    return IpAddress::v6(b);
  }
  // 127.first.x.y with y in 1..250: 250 * 256 distinct addresses, then round again.
  const std::uint32_t n = counter_.fetch_add(1) % (250u * 256u);
  return IpAddress::v4(127, first_, static_cast<std::uint8_t>(n / 250),
                       static_cast<std::uint8_t>(1 + n % 250));
}

// --- wire pieces ------------------------------------------------------------------------------

Bytes ping_packet() { return Bytes{0x02, 0x0a, 0x00}; }

Bytes msg_packet(std::uint8_t channel, bool eof, ByteSpan data) {
  Bytes msg;
  if (channel != 0) {
    msg.push_back(0x08);
    wire::put_uvarint(msg, channel);
  }
  if (eof) msg.insert(msg.end(), {0x10, 0x01});
  if (!data.empty()) put_bytes_field(msg, 0x1a, data);
  Bytes packet;
  put_bytes_field(packet, 0x1a, msg);
  return delimited(packet);
}

Bytes message_packets(std::uint8_t channel, ByteSpan message) {
  Bytes out;
  constexpr std::size_t kPayload = 1024;
  std::size_t at = 0;
  do {
    const std::size_t n = std::min(kPayload, message.size() - at);
    const Bytes p = msg_packet(channel, at + n == message.size(), message.subspan(at, n));
    out.insert(out.end(), p.begin(), p.end());
    at += n;
  } while (at < message.size());
  return out;
}

Bytes pex_request_packets(std::size_t count) {
  const Bytes one = message_packets(pex::kPexChannel, pex::encode_pex_request());
  Bytes out;
  out.reserve(one.size() * count);
  for (std::size_t i = 0; i < count; ++i) out.insert(out.end(), one.begin(), one.end());
  return out;
}

std::vector<NetAddress> made_up_addresses(std::size_t count, std::uint8_t b,
                                          const std::vector<std::string>& ids) {
  std::vector<NetAddress> out;
  out.reserve(count);
  std::mt19937_64 rng(0x5eed0000u + b);
  for (std::size_t i = 0; i < count; ++i) {
    NetAddress a;
    a.id = fmt::format("{:016x}{:016x}{:08x}", rng(), rng(), static_cast<std::uint32_t>(rng()));
    if (i < ids.size()) a.id = ids[i];
    a.ip = IpAddress::v4(127, b, static_cast<std::uint8_t>(i / 250 % 256),
                         static_cast<std::uint8_t>(1 + i % 250));
    a.port = 26656;
    out.push_back(a);
  }
  return out;
}

Bytes ephemeral_message(std::size_t padding) {
  crypto::NodeKey key = crypto::NodeKey::generate();
  secret::SecretConnection c(key, {});
  c.start();
  const Bytes plain = c.take_output(); // 22 0a 20 <key>
  if (padding == 0) return plain;
  padding = std::min<std::size_t>(padding, secret::kMaxHandshakeMessageSize - 64);
  Bytes body(plain.begin() + 1, plain.end());
  // Field 15, length-delimited: unknown to BytesValue, skipped by its parser.
  Bytes filler(padding, 0);
  put_bytes_field(body, 0x7a, filler);
  return delimited(body);
}

// --- attack names ---------------------------------------------------------------------------

namespace {
const std::vector<std::pair<Attack, const char*>>& names() {
  static const std::vector<std::pair<Attack, const char*>> n = {
      {Attack::kPingFlood, "ping-flood"},
      {Attack::kOversized, "oversized"},
      {Attack::kTruncated, "truncated"},
      {Attack::kUnknownChannel, "unknown-channel"},
      {Attack::kInvalidProtobuf, "invalid-protobuf"},
      {Attack::kPexFlood, "pex-flood"},
      {Attack::kBigAddrs, "big-addrs"},
      {Attack::kNeverRead, "never-read"},
      {Attack::kIdle, "idle"},
      {Attack::kPoison, "poison"},
      {Attack::kSilent, "silent"},
      {Attack::kSlowloris, "slowloris"},
      {Attack::kGarbage, "garbage"},
      {Attack::kHalfHandshake, "half-handshake"},
      {Attack::kChurn, "churn"},
  };
  return n;
}

bool authenticated(Attack a) {
  switch (a) {
  case Attack::kSilent:
  case Attack::kSlowloris:
  case Attack::kGarbage:
  case Attack::kHalfHandshake:
  case Attack::kChurn: return false;
  default: return true;
  }
}

// Attacks whose connections never read after their misbehaviour.
bool never_reads(Attack a) {
  return a == Attack::kPingFlood || a == Attack::kNeverRead || a == Attack::kHalfHandshake ||
         a == Attack::kSilent || a == Attack::kSlowloris;
}
} // namespace

std::optional<Attack> parse_attack(const std::string& name) {
  for (const auto& [a, n] : names())
    if (name == n) return a;
  return std::nullopt;
}

std::string attack_name(Attack a) {
  for (const auto& [x, n] : names())
    if (x == a) return n;
  return "?";
}

std::vector<std::string> attack_names() {
  std::vector<std::string> out;
  for (const auto& [a, n] : names()) out.emplace_back(n);
  return out;
}

std::string AttackReport::summary() const {
  if (!refused.empty()) return "refused: " + refused;
  return fmt::format("attempted={} connected={} handshaken={} closed_by_target={} bytes_sent={} "
                     "elapsed_ms={}{}",
                     attempted, connected, handshaken, closed_by_target, bytes_sent,
                     elapsed.count(),
                     first_failure.empty() ? "" : " first_failure=\"" + first_failure + "\"");
}

// --- running an attack ----------------------------------------------------------------------

namespace {

// Shared state of one run: counters, the connections being held, pacing.
class Run {
public:
  Run(const Target& target, const AttackOptions& options, const std::atomic<bool>* stop)
      : target_(target),
        options_(options),
        stop_(stop),
        sources_(options.source_octet),
        start_(Clock::now()),
        end_(start_ + options.duration) {}

  bool stopped() const { return (stop_ && stop_->load()) || Clock::now() >= end_; }
  Clock::time_point end() const { return end_; }

  // Waits for the pacing slot of connection `i`; false when the run is over first.
  bool pace(std::size_t i) {
    if (options_.rate > 0) {
      const auto at = start_ + std::chrono::duration_cast<Clock::duration>(
                                   std::chrono::duration<double>(double(i) / options_.rate));
      while (Clock::now() < at) {
        if (stopped()) return false;
        std::this_thread::sleep_until(std::min(at, Clock::now() + Millis(50)));
      }
    }
    return !stopped();
  }

  std::optional<IpAddress> source(std::size_t i) {
    const bool v6 = !target_.address.ip->is_v4();
    if (options_.source_ips == 0) return sources_.next(v6);
    // A fixed set of source IPs, used in turn.
    if (v6) return sources_.next(true);
    const std::size_t n = i % options_.source_ips;
    return IpAddress::v4(127, options_.source_octet, static_cast<std::uint8_t>(n / 250),
                         static_cast<std::uint8_t>(1 + n % 250));
  }

  void failed(const std::string& why) {
    std::lock_guard lock(mutex_);
    if (report_.first_failure.empty()) report_.first_failure = why;
  }
  void count(std::size_t AttackReport::*field, std::uint64_t bytes = 0) {
    std::lock_guard lock(mutex_);
    ++(report_.*field);
    report_.bytes_sent += bytes;
  }
  void sent(std::uint64_t bytes) {
    std::lock_guard lock(mutex_);
    report_.bytes_sent += bytes;
  }
  // Keeps a connection open until the run ends (the holder watches it).
  // `to_send`: bytes the holder writes as the target takes them (shared by connections).
  // `connecting`: the TCP connect is still under way (the holder finishes it).
  void hold(Fd fd, std::unique_ptr<Session> session = {}, std::shared_ptr<const Bytes> to_send = {},
            bool connecting = false) {
    std::lock_guard lock(mutex_);
    held_.push_back(
        Held{std::move(fd), std::move(session), false, 0, std::move(to_send), 0, connecting});
  }

  // Watches every held connection until the run ends: reads and discards (unless the attack
  // never reads: then it only notices a FIN), drips slowloris bytes once a second.
  void hold_all();

  AttackReport finish() {
    std::lock_guard lock(mutex_);
    report_.elapsed = since(start_);
    held_.clear();
    return report_;
  }

  const Target& target() const { return target_; }
  const AttackOptions& options() const { return options_; }

private:
  struct Held {
    Fd fd;
    std::unique_ptr<Session> session;
    bool closed = false;
    std::size_t dripped = 0; // slowloris: bytes sent so far
    std::shared_ptr<const Bytes> to_send;
    std::size_t sent = 0;    // of to_send
    bool connecting = false; // TCP connect under way
  };

  const Target& target_;
  const AttackOptions& options_;
  const std::atomic<bool>* stop_;
  SourcePool sources_;
  Clock::time_point start_;
  Clock::time_point end_;
  std::mutex mutex_;
  AttackReport report_;
  std::vector<Held> held_;
};

void Run::hold_all() {
  const bool reads = !never_reads(options_.attack);
  const bool drip = options_.attack == Attack::kSlowloris;
  static const Bytes slow = [] {
    // A valid ephemeral key message (35 bytes), then zeros.
    crypto::NodeKey key = crypto::NodeKey::generate();
    secret::SecretConnection c(key, {});
    c.start();
    Bytes b = c.take_output();
    b.resize(4096, 0);
    return b;
  }();
  auto next_drip = Clock::now();
  Bytes buf(65536);
  std::vector<pollfd> fds;
  std::vector<std::size_t> index;
  while (!stopped()) {
    fds.clear();
    index.clear();
    {
      std::lock_guard lock(mutex_);
      const bool drip_now = drip && Clock::now() >= next_drip;
      for (std::size_t i = 0; i < held_.size(); ++i) {
        Held& h = held_[i];
        if (h.closed) continue;
        if (h.connecting) {
          fds.push_back({h.fd.get(), POLLOUT, 0});
          index.push_back(i);
          continue;
        }
        if (drip_now && h.dripped < slow.size()) {
          if (::send(h.fd.get(), slow.data() + h.dripped, 1, MSG_NOSIGNAL | MSG_DONTWAIT) == 1) {
            ++h.dripped;
            ++report_.bytes_sent;
          }
        }
        if (h.to_send && h.sent < h.to_send->size()) {
          const std::size_t n = std::min<std::size_t>(65536, h.to_send->size() - h.sent);
          const ssize_t w =
              ::send(h.fd.get(), h.to_send->data() + h.sent, n, MSG_NOSIGNAL | MSG_DONTWAIT);
          if (w > 0) {
            h.sent += static_cast<std::size_t>(w);
            report_.bytes_sent += static_cast<std::size_t>(w);
          }
        }
        short events = reads ? POLLIN | POLLRDHUP : POLLRDHUP;
        if (h.to_send && h.sent < h.to_send->size()) events |= POLLOUT;
        fds.push_back({h.fd.get(), events, 0});
        index.push_back(i);
      }
      if (drip_now) next_drip += Millis(1000);
    }
    const int wait = std::min(200, remaining_ms(end_));
    if (fds.empty()) {
      std::this_thread::sleep_for(Millis(wait));
      continue;
    }
    if (::poll(fds.data(), fds.size(), wait) <= 0) continue;
    std::lock_guard lock(mutex_);
    for (std::size_t k = 0; k < fds.size(); ++k) {
      if (fds[k].revents == 0) continue;
      Held& h = held_[index[k]];
      if (h.connecting) {
        h.connecting = false;
        if (int err = connect_error(h.fd.get()); err != 0) {
          h.closed = true;
          h.fd.reset();
          if (report_.first_failure.empty())
            report_.first_failure = fmt::format("connect: {}", std::strerror(err));
        } else {
          ++report_.connected;
        }
        continue;
      }
      if (fds[k].revents == POLLOUT) continue; // written on the next round
      bool ended = (fds[k].revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
      if (reads && (fds[k].revents & POLLIN)) {
        const ssize_t n = ::recv(h.fd.get(), buf.data(), buf.size(), MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) ended = true;
        else ended = false; // data first; the FIN shows up on a later read
      }
      if (ended) {
        h.closed = true;
        ++report_.closed_by_target;
        h.fd.reset();
        h.session.reset();
      }
    }
  }
}

// The misbehaviour after a completed handshake; false when the connection broke.
bool misbehave(Run& run, Session& s) {
  const AttackOptions& o = run.options();
  const auto deadline = Clock::now() + run.target().io_timeout;
  Bytes plain;
  switch (o.attack) {
  case Attack::kPingFlood: {
    // 340 pings (1020 bytes) per sealed frame: each send() seals exactly one frame.
    const Bytes ping = ping_packet();
    Bytes chunk;
    for (int i = 0; i < 340; ++i) chunk.insert(chunk.end(), ping.begin(), ping.end());
    Bytes wire;
    for (std::size_t sent = 0; sent < o.pings; sent += 340) {
      const std::size_t n = std::min<std::size_t>(340, o.pings - sent);
      if (!s.conn->send(ByteSpan(chunk).first(n * 3)).ok()) return false;
      const Bytes frame = s.conn->take_output();
      wire.insert(wire.end(), frame.begin(), frame.end());
    }
    run.sent(wire.size());
    return send_all(s.fd.get(), wire, deadline); // one burst
  }
  case Attack::kOversized: {
    wire::put_uvarint(plain, 10u * 1024 * 1024);
    plain.resize(plain.size() + 64 * 1024, 0x5a);
    break;
  }
  case Attack::kTruncated: {
    // A PacketMsg of 600 bytes announced, 300 of them sent, then silence.
    const Bytes whole = msg_packet(0x00, true, random_bytes(600, 7));
    plain.assign(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(whole.size() / 2));
    break;
  }
  case Attack::kUnknownChannel: plain = message_packets(0x7f, random_bytes(200, 8)); break;
  case Attack::kInvalidProtobuf: {
    // A PEX message that is not protobuf, on the PEX channel; then a Packet whose PacketMsg
    // field claims more bytes than the packet holds.
    plain = message_packets(pex::kPexChannel, Bytes{0xff, 0xff, 0xff, 0xff, 0x0f, 0x12});
    const Bytes broken{0x1a, 0x64, 0x08, 0x00};
    const Bytes d = delimited(broken);
    plain.insert(plain.end(), d.begin(), d.end());
    break;
  }
  case Attack::kPexFlood: plain = pex_request_packets(o.pex_requests); break;
  case Attack::kBigAddrs:
    plain = message_packets(pex::kPexChannel,
                            pex::encode_pex_addrs(made_up_addresses(o.addresses, o.poison_octet)));
    break;
  case Attack::kNeverRead: plain = pex_request_packets(1); break;
  case Attack::kIdle: break;
  case Attack::kPoison: {
    plain = message_packets(pex::kPexChannel, pex::encode_pex_addrs(made_up_addresses(
                                                  100, o.poison_octet, o.poison_ids)));
    const Bytes req = pex_request_packets(1);
    plain.insert(plain.end(), req.begin(), req.end());
    break;
  }
  default: return false;
  }
  if (!s.leftover.empty()) s.leftover.clear();
  if (plain.empty()) return true;
  if (!s.conn->send(plain).ok()) return false;
  const Bytes wire = s.conn->take_output();
  run.sent(wire.size());
  return send_all(s.fd.get(), wire, deadline);
}

void authenticated_worker(Run& run, std::atomic<std::size_t>& next) {
  const AttackOptions& o = run.options();
  const bool tiny_buffer = never_reads(o.attack);
  for (std::size_t i = next++; i < o.connections; i = next++) {
    if (!run.pace(i)) return;
    run.count(&AttackReport::attempted);
    std::string error;
    std::string listen;
    if (o.attack == Attack::kPoison) {
      const auto poison = made_up_addresses(1, o.poison_octet).front();
      listen = fmt::format("{}:{}", poison.ip.to_string(), poison.port);
    }
    auto s =
        handshake(run.target(), run.source(i), o.key_seed, error, tiny_buffer ? 1024 : 0, listen);
    if (!s) {
      if (error.find("connect") == std::string::npos) run.count(&AttackReport::connected);
      run.failed(error);
      continue;
    }
    run.count(&AttackReport::connected);
    run.count(&AttackReport::handshaken);
    if (!misbehave(run, *s)) {
      run.failed("the connection broke while misbehaving");
      run.count(&AttackReport::closed_by_target);
      continue;
    }
    Fd fd(std::move(s->fd));
    run.hold(std::move(fd), std::make_unique<Session>(std::move(*s)));
  }
}

void tcp_worker(Run& run, std::atomic<std::size_t>& next) {
  const AttackOptions& o = run.options();
  // Garbage and key messages are written by the holder once connected, as the target takes
  // them; the floods' connects do not wait (a full accept queue drops SYNs: the kernel
  // retries them while the next connections start).
  std::shared_ptr<const Bytes> payload;
  if (o.attack == Attack::kGarbage) payload = std::make_shared<const Bytes>(random_bytes(4096, 99));
  if (o.attack == Attack::kHalfHandshake) {
    Bytes m = ephemeral_message(o.ephemeral_padding);
    if (o.ephemeral_padding > 0) m.resize(m.size() - 16); // never complete
    payload = std::make_shared<const Bytes>(std::move(m));
  }
  for (std::size_t i = next++; i < o.connections; i = next++) {
    if (!run.pace(i)) return;
    run.count(&AttackReport::attempted);
    std::string error;
    if (o.attack == Attack::kChurn) {
      Fd fd = open_tcp(run.target().address, run.source(i), run.target().io_timeout, error);
      if (fd.get() < 0) run.failed(error);
      else run.count(&AttackReport::connected);
      continue; // connect and close at once
    }
    Fd fd = start_tcp(run.target().address, run.source(i), error, never_reads(o.attack) ? 1024 : 0);
    if (fd.get() < 0) {
      run.failed(error);
      continue;
    }
    run.hold(std::move(fd), {}, payload, /*connecting=*/true);
  }
}

} // namespace

AttackReport run_attack(const Target& target, const AttackOptions& options,
                        const std::atomic<bool>* stop) {
  if (std::string why = loopback_problem(target.address); !why.empty()) {
    AttackReport r;
    r.refused = why;
    return r;
  }
  crypto::init_sodium();
  Run run(target, options, stop);
  std::atomic<std::size_t> next{0};
  const bool auth = authenticated(options.attack);
  const std::size_t workers = std::clamp<std::size_t>(
      auth ? options.threads : 2, 1, std::max<std::size_t>(options.connections, 1));
  std::vector<std::thread> threads;
  for (std::size_t w = 0; w < workers; ++w)
    threads.emplace_back([&] { auth ? authenticated_worker(run, next) : tcp_worker(run, next); });
  std::thread holder([&] { run.hold_all(); });
  for (auto& t : threads) t.join();
  holder.join();
  return run.finish();
}

// --- the honest client ----------------------------------------------------------------------

HonestResult honest_pex(const Target& target, const std::optional<IpAddress>& source,
                        const std::optional<std::array<std::uint8_t, 32>>& key_seed) {
  HonestResult r;
  if (std::string why = loopback_problem(target.address); !why.empty()) {
    r.failure = why;
    return r;
  }
  const auto start = Clock::now();
  const auto deadline = start + target.io_timeout;
  auto s = handshake(target, source, key_seed, r.failure);
  if (!s) return r;
  mconn::ChannelDescriptor pexd;
  pexd.id = pex::kPexChannel;
  pexd.send_queue_capacity = 10;
  pexd.recv_message_capacity = pex::kMaxMsgSize;
  mconn::MConnConfig mc_config;
  mc_config.flush_throttle = Millis(0);
  mconn::MConnection mc({pexd}, mc_config, now_ms());
  mc.send(pex::kPexChannel, pex::encode_pex_request());
  Bytes plain = std::move(s->leftover);
  Bytes buf;
  while (Clock::now() < deadline) {
    if (!plain.empty()) {
      if (auto st = mc.on_plaintext(plain, now_ms()); !st.ok()) {
        r.failure = "mconnection: " + st.error().message();
        return r;
      }
      plain.clear();
      for (auto& m : mc.take_received()) {
        auto decoded = pex::decode_pex_message(m.data);
        if (!decoded.ok() || decoded->is_request()) continue;
        r.ok = true;
        r.addrs = std::move(decoded->addrs);
        r.latency = since(start);
        return r;
      }
    }
    const Bytes out = mc.poll_transmit(now_ms());
    if (!out.empty() && !send_plain(*s, out, deadline)) {
      r.failure = "write failed";
      return r;
    }
    const ssize_t n = recv_some(s->fd.get(), buf, deadline);
    if (n == 0) {
      r.failure = "closed by the target before PexAddrs";
      return r;
    }
    if (n < 0) break;
    if (auto st = s->conn->on_receive(buf); !st.ok()) {
      r.failure = "secret connection: " + st.error().message();
      return r;
    }
    plain = s->conn->take_plaintext();
    const Bytes pong = s->conn->take_output();
    if (!pong.empty()) send_all(s->fd.get(), pong, deadline);
  }
  r.failure = fmt::format("no PexAddrs within {} ms", target.io_timeout.count());
  return r;
}

HonestLoad::HonestLoad(Target target, std::size_t threads, Millis pause, Millis max_duration,
                       std::uint8_t source_octet)
    : target_(std::move(target)),
      sources_(source_octet) {
  for (std::size_t i = 0; i < threads; ++i)
    threads_.emplace_back([this, i, pause, max_duration] { run(i, pause, max_duration); });
}

HonestLoad::~HonestLoad() { stop(); }

void HonestLoad::stop() {
  stop_ = true;
  for (auto& t : threads_)
    if (t.joinable()) t.join();
}

void HonestLoad::run(std::size_t, Millis pause, Millis max_duration) {
  const auto end = Clock::now() + max_duration;
  for (std::size_t n = 0; n < 100'000 && !stop_ && Clock::now() < end; ++n) {
    // A request under way when stop() is called still counts (it ends within io_timeout).
    HonestResult r = honest_pex(target_, sources_.next(!target_.address.ip->is_v4()));
    {
      std::lock_guard lock(mutex_);
      results_.push_back(std::move(r));
    }
    for (auto t = Clock::now() + pause; Clock::now() < t && !stop_;)
      std::this_thread::sleep_for(Millis(10));
  }
}

std::vector<HonestResult> HonestLoad::results() const {
  std::lock_guard lock(mutex_);
  return results_;
}

HonestSummary summarize(const std::vector<HonestResult>& results, Millis limit) {
  HonestSummary s;
  s.total = results.size();
  std::vector<Millis> lat;
  for (const auto& r : results) {
    if (!r.ok) {
      if (s.first_failure.empty()) s.first_failure = r.failure;
      continue;
    }
    ++s.ok;
    if (r.latency <= limit) ++s.in_time;
    lat.push_back(r.latency);
  }
  std::sort(lat.begin(), lat.end());
  if (!lat.empty()) {
    s.median = lat[lat.size() / 2];
    s.worst = lat.back();
  }
  return s;
}

std::string HonestSummary::summary() const {
  return fmt::format("honest: {} of {} in time ({:.1f} %), {} succeeded, median {} ms, worst {} "
                     "ms{}",
                     in_time, total, 100.0 * in_time_fraction(), ok, median.count(), worst.count(),
                     first_failure.empty() ? "" : ", first failure: " + first_failure);
}

// --- the target process ---------------------------------------------------------------------

std::optional<std::size_t> rss_kib(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stoul(line.substr(6));
  return std::nullopt;
}

std::optional<std::size_t> open_fds(pid_t pid) {
  std::error_code ec;
  std::filesystem::directory_iterator it(fmt::format("/proc/{}/fd", pid), ec);
  if (ec) return std::nullopt;
  std::size_t n = 0;
  for (; it != std::filesystem::directory_iterator() && n < 1'000'000; it.increment(ec)) {
    if (ec) break;
    ++n;
  }
  return n;
}

std::optional<double> cpu_seconds(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  std::string text;
  if (!std::getline(in, text)) return std::nullopt;
  // Fields after the command (which may hold spaces): state is field 3, utime 14, stime 15.
  const auto close = text.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(text.substr(close + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i)
    if (i >= 14) ticks += std::stod(field);
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

ProcSampler::ProcSampler(pid_t pid, Millis every) : pid_(pid) {
  thread_ = std::thread([this, every] {
    while (!stop_) {
      if (auto r = rss_kib(pid_)) peak_rss_ = std::max(peak_rss_.load(), *r);
      if (auto f = open_fds(pid_)) peak_fds_ = std::max(peak_fds_.load(), *f);
      for (auto t = Clock::now() + every; Clock::now() < t && !stop_;)
        std::this_thread::sleep_for(Millis(10));
    }
  });
}

ProcSampler::~ProcSampler() {
  stop_ = true;
  thread_.join();
}

} // namespace seedscope::test::hostile
