// The sockets and the authenticated session under tests/support/hostile_peer: blocking TCP
// with deadlines, and the real handshake (core Handshake: SecretConnection + NodeInfo) over
// it. Internal to the hostile peers (hostile_peer.cpp, hostile_honest.cpp); every call is
// bounded by the deadline or timeout it is given. Thread-safe (no shared state).
#pragma once

#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "core/base/bytes.hpp"
#include "core/base/clock.hpp"
#include "core/crypto/keys.hpp"
#include "core/secret/secret_connection.hpp"
#include "core/types/net_address.hpp"
#include "support/hostile_peer.hpp"

namespace seedscope::test::hostile::detail {

using Clock = std::chrono::steady_clock;

TimePoint now_ms();
Millis since(Clock::time_point t);
// Milliseconds left until `deadline` (0..60000), for poll().
int remaining_ms(Clock::time_point deadline);

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

// Starts a TCP connect (non-blocking) from `source`; the connect may still be under way.
// `rcvbuf` > 0 shrinks the receive buffer first (a peer that never reads).
Fd start_tcp(const PeerAddress& target, const std::optional<IpAddress>& source, std::string& error,
             int rcvbuf = 0);
// SO_ERROR of a socket whose connect was started: 0 once connected.
int connect_error(int fd);
// A TCP connection within `timeout`; an invalid Fd and `error` set on failure.
Fd open_tcp(const PeerAddress& target, const std::optional<IpAddress>& source, Millis timeout,
            std::string& error, int rcvbuf = 0);
// Writes all of `data` before `deadline`; false on an error or the deadline.
bool send_all(int fd, ByteSpan data, Clock::time_point deadline);
// Reads what is there before `deadline`: > 0 bytes, 0 at EOF, -1 on an error or the deadline.
ssize_t recv_some(int fd, Bytes& buf, Clock::time_point deadline);

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
// target.network, advertising `listen` (default: the source address, port 26656); nullopt
// and `error` set when it did not complete within target.io_timeout.
std::optional<Session> handshake(const Target& target, const std::optional<IpAddress>& source,
                                 const std::optional<std::array<std::uint8_t, 32>>& key_seed,
                                 std::string& error, int rcvbuf = 0,
                                 const std::string& listen = {});
// Seals `plain` and writes it.
bool send_plain(Session& s, ByteSpan plain, Clock::time_point deadline);

// Protobuf pieces: a uvarint length and `body`; a length-delimited field.
Bytes delimited(ByteSpan body);
void put_bytes_field(Bytes& out, std::uint8_t tag, ByteSpan body);
Bytes random_bytes(std::size_t n, std::uint64_t seed);

} // namespace seedscope::test::hostile::detail
