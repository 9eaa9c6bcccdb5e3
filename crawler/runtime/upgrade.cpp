#include "crawler/runtime/upgrade.hpp"

#include <fmt/format.h>

namespace seedscope::runtime {

namespace {

Reason classify_connect_error(int status) {
  switch (status) {
  case UV_ECONNREFUSED:
  case UV_ECONNRESET: return Reason::kRefused;
  case UV_ETIMEDOUT: return Reason::kTimeout;
  case UV_EHOSTUNREACH:
  case UV_ENETUNREACH:
  case UV_ENETDOWN:
  case UV_EHOSTDOWN:
  case UV_EADDRNOTAVAIL: return Reason::kUnreachable;
  default: return Reason::kIoError;
  }
}

} // namespace

Upgrade::Upgrade(Loop& loop, std::shared_ptr<const crypto::Signer> key, Direction direction,
                 UpgradeOptions options, Done done)
    : key_(std::move(key)),
      direction_(direction),
      options_(std::move(options)),
      done_(std::move(done)),
      socket_(loop),
      resolver_(loop),
      deadline_(loop),
      grace_(loop) {}

double Upgrade::elapsed_ms(std::uint64_t since_ns) const {
  return static_cast<double>(uv_hrtime() - since_ns) / 1e6;
}

void Upgrade::dial(const PeerAddress& addr, Millis dial_timeout) {
  expected_id_ = addr.id;
  remote_address_ = addr.host.find(':') != std::string::npos
                        ? fmt::format("[{}]:{}", addr.host, addr.port)
                        : fmt::format("{}:{}", addr.host, addr.port);
  if (addr.ip) {
    auto sa = make_sockaddr(addr.ip->to_string(), addr.port);
    if (!sa) return fail_soon(Stage::kDial, Reason::kIoError, "bad IP " + addr.ip->to_string());
    return connect(reinterpret_cast<const sockaddr*>(&*sa), dial_timeout);
  }
  deadline_.start(dial_timeout, [this, dial_timeout] {
    fail(Stage::kDial, Reason::kDnsFailure,
         fmt::format("resolving {} timed out after {} ms", remote_address_, dial_timeout.count()),
         Close::kNow);
  });
  int rc = resolver_.resolve(
      addr.host, addr.port,
      [this, dial_timeout, host = addr.host](int status, std::vector<sockaddr_storage> addrs) {
        if (status != 0)
          return fail(Stage::kDial, Reason::kDnsFailure,
                      "resolving " + host + ": " + uv_error_text(status), Close::kNow);
        connect(reinterpret_cast<const sockaddr*>(&addrs.front()), dial_timeout);
      });
  if (rc != 0)
    fail_soon(Stage::kDial, Reason::kDnsFailure,
              "resolving " + addr.host + ": " + uv_error_text(rc));
}

void Upgrade::connect(const sockaddr* addr, Millis dial_timeout) {
  remote_address_ = format_sockaddr(addr);
  remote_ = net_address_of(addr);
  connect_start_ns_ = uv_hrtime();
  deadline_.start(dial_timeout, [this, dial_timeout] {
    timings_.tcp_connect_ms = elapsed_ms(connect_start_ns_);
    fail(Stage::kDial, Reason::kTimeout,
         fmt::format("TCP connect to {} timed out after {} ms", remote_address_,
                     dial_timeout.count()),
         Close::kNow);
  });
  int rc = socket_.connect(addr, [this](int status) { on_connected(status); });
  if (rc != 0)
    fail_soon(Stage::kDial, classify_connect_error(rc),
              "connect to " + remote_address_ + ": " + uv_error_text(rc));
}

void Upgrade::on_connected(int status) {
  timings_.tcp_connect_ms = elapsed_ms(connect_start_ns_);
  if (status != 0)
    return fail(Stage::kDial, classify_connect_error(status),
                "connect to " + remote_address_ + ": " + uv_error_text(status), Close::kNow);
  begin_handshake();
}

void Upgrade::accepted(TcpSocket socket, const sockaddr_storage& peer) {
  socket_ = std::move(socket);
  remote_address_ = format_sockaddr(reinterpret_cast<const sockaddr*>(&peer));
  remote_ = net_address_of(reinterpret_cast<const sockaddr*>(&peer));
  begin_handshake();
}

void Upgrade::begin_handshake() {
  handshake_start_ns_ = uv_hrtime();
  HandshakeConfig config;
  config.our_info = options_.our_info;
  config.adopt_peer_network = options_.adopt_peer_network;
  config.expected_peer_id = expected_id_;
  handshake_.emplace(*key_, std::move(config));

  deadline_.start(options_.handshake_timeout, [this] {
    fail(handshake_->stage(), Reason::kTimeout,
         fmt::format("handshake with {} timed out after {} ms in {}", remote_address_,
                     options_.handshake_timeout.count(), to_string(handshake_->stage())),
         Close::kNow);
  });
  if (options_.adopt_peer_network) {
    grace_.start(options_.adopt_grace, [this] {
      handshake_->send_info_now();
      flush_output();
      check_state();
    });
  }
  int rc = socket_.start_reading([this](ByteSpan data) { on_data(data); },
                                 [this](int status) { on_end(status); });
  if (rc != 0)
    return fail_soon(Stage::kSecretHandshake, Reason::kIoError, "read: " + uv_error_text(rc));
  handshake_->start();
  flush_output();
}

void Upgrade::on_data(ByteSpan data) {
  handshake_->on_receive(data);
  flush_output();
  check_state();
}

void Upgrade::on_end(int status) {
  bool closed = status == UV_EOF || status == UV_ECONNRESET || status == UV_EPIPE;
  fail(handshake_->stage(), closed ? Reason::kClosed : Reason::kIoError,
       "peer " + remote_address_ + ": " + uv_error_text(status), Close::kNow);
}

void Upgrade::flush_output() {
  if (finished_ || !handshake_->has_output()) return;
  if (int rc = socket_.write(handshake_->take_output()); rc != 0)
    fail_soon(handshake_->stage(), Reason::kIoError, "write: " + uv_error_text(rc));
}

void Upgrade::check_state() {
  if (finished_) return;
  switch (handshake_->state()) {
  case Handshake::State::kFailed:
    // Rejections after a sound exchange flush what we still owe the peer (our NodeInfo),
    // as Go does, then close.
    return fail(handshake_->failure().stage, handshake_->failure().reason,
                handshake_->failure_detail(), Close::kGracefully);
  case Handshake::State::kDone: return succeed();
  default: return;
  }
}

void Upgrade::succeed() {
  finished_ = true;
  deadline_.stop();
  grace_.stop();
  timings_.handshake_ms = elapsed_ms(handshake_start_ns_);
  Connection::Parts parts{std::move(socket_),
                          handshake_->release_connection(),
                          key_,
                          *handshake_->peer_info(),
                          handshake_->our_info(),
                          handshake_->take_leftover_plaintext(),
                          handshake_->take_output(),
                          timings_,
                          direction_,
                          remote_address_,
                          NetAddress{}};
  if (remote_) parts.remote = *remote_;
  parts.remote.id = parts.peer_info.node_id;
  UpgradeResult result;
  result.connection = std::make_unique<Connection>(std::move(parts));
  done_(*this, std::move(result));
}

void Upgrade::fail(Stage stage, Reason reason, std::string detail, Close close) {
  if (finished_) return;
  finished_ = true;
  deadline_.stop();
  grace_.stop();
  resolver_.cancel();
  if (handshake_start_ns_ != 0) timings_.handshake_ms = elapsed_ms(handshake_start_ns_);
  if (close == Close::kGracefully) socket_.close_gracefully(Millis(1000));
  else socket_.close();
  UpgradeResult result;
  UpgradeFailure& f = result.failure;
  f.failure = Failure{stage, reason};
  f.detail = std::move(detail);
  f.timings = timings_;
  f.remote_address = remote_address_;
  f.remote = remote_;
  f.direction = direction_;
  if (handshake_) {
    f.peer_info = handshake_->peer_info();
    f.peer_id = handshake_->peer_id();
  }
  if (f.remote) f.remote->id = f.peer_id;
  done_(*this, std::move(result));
}

void Upgrade::fail_soon(Stage stage, Reason reason, std::string detail) {
  // Reported from a timer so the caller of dial() never sees its handler run inside dial().
  deadline_.start(Millis(0), [this, stage, reason, detail = std::move(detail)] {
    fail(stage, reason, detail, Close::kNow);
  });
}

void Upgrade::abort() {
  finished_ = true;
  deadline_.stop();
  grace_.stop();
  resolver_.cancel();
  socket_.close();
}

} // namespace seedscope::runtime
