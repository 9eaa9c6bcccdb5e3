#include "support/hostile_peer.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>

#include <fmt/format.h>

#include "core/crypto/keys.hpp"
#include "core/pex/pex_messages.hpp"
#include "core/pex/pex_reactor.hpp"
#include "core/secret/secret_connection.hpp"
#include "core/wire/varint.hpp"
#include "support/hostile_socket.hpp"

namespace seedscope::test::hostile {

using namespace detail;

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

} // namespace seedscope::test::hostile
