// One connection on its way to becoming a Connection: DNS, TCP connect (outbound), then the
// Handshake driven with the socket's bytes under a deadline. Internal to the Transport,
// which owns it and deletes it on a later loop turn after it finished. The `done` callback
// runs exactly once; the socket is closed exactly once (or handed to the Connection).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/p2p/handshake.hpp"
#include "crawler/runtime/resolver.hpp"
#include "crawler/runtime/tcp.hpp"
#include "crawler/runtime/timer.hpp"
#include "crawler/runtime/transport.hpp"

namespace seedscope::runtime {

class Upgrade {
public:
  using Done = std::function<void(Upgrade& self, UpgradeResult result)>;

  Upgrade(Loop& loop, std::shared_ptr<const crypto::Signer> key, Direction direction,
          UpgradeOptions options, Done done);
  Upgrade(const Upgrade&) = delete;
  Upgrade& operator=(const Upgrade&) = delete;

  // Outbound. Failures, even immediate ones, are reported on a later loop turn.
  void dial(const PeerAddress& addr, Millis dial_timeout);
  // Inbound: the socket was just accepted from `peer`.
  void accepted(TcpSocket socket, const sockaddr_storage& peer);
  // Ends without reporting (shutdown).
  void abort();

  Direction direction() const { return direction_; }
  bool finished() const { return finished_; }

private:
  void connect(const sockaddr* addr, Millis dial_timeout);
  void on_connected(int status);
  void begin_handshake();
  void on_data(ByteSpan data);
  void on_end(int status);
  void flush_output();
  void check_state();
  void succeed();
  enum class Close { kNow, kGracefully };
  void fail(Stage stage, Reason reason, std::string detail, Close close);
  void fail_soon(Stage stage, Reason reason, std::string detail);
  double elapsed_ms(std::uint64_t since_ns) const;

  std::shared_ptr<const crypto::Signer> key_;
  Direction direction_;
  UpgradeOptions options_;
  Done done_;
  TcpSocket socket_;
  Resolver resolver_;
  Timer deadline_;
  Timer grace_;
  std::optional<Handshake> handshake_;
  std::optional<std::string> expected_id_;
  std::string remote_address_;
  std::optional<NetAddress> remote_; // once connected or accepted
  Timings timings_;
  std::uint64_t connect_start_ns_ = 0;
  std::uint64_t handshake_start_ns_ = 0;
  bool finished_ = false;
};

} // namespace seedscope::runtime
