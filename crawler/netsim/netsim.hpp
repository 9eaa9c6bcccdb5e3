// The simulator's runtime: hosts every node of a SimNetwork on one libuv loop, each on its
// own 127.x.y.z address. Handshaking nodes are a Transport each (a listener, its key and
// NodeInfo); per-connection state exists only while a connection does. Nodes answer
// PexRequests as Go nodes do (normal: every request, punishing a third one within 10 s;
// seeds: once, then hang up) and misbehave as their class says. Churn takes nodes off the
// air and back on a schedule. Single-threaded.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "crawler/netsim/sim_network.hpp"
#include "crawler/runtime/loop.hpp"
#include "crawler/runtime/peer.hpp"
#include "crawler/runtime/tcp.hpp"
#include "crawler/runtime/timer.hpp"
#include "crawler/runtime/transport.hpp"

namespace seedscope::netsim {

struct NetsimOptions {
  Millis handshake_timeout{20000};
  Millis flush_throttle{20};
  Millis silent_hold{60000};          // how long silent and slow nodes keep a connection
  Millis min_request_interval{10000}; // Go's ensurePeersPeriod / 3
};

struct NetsimStats {
  std::uint64_t accepted = 0;   // connections accepted (all classes)
  std::uint64_t handshakes = 0; // completed as responder
  std::uint64_t handshake_failures = 0;
  std::uint64_t pex_requests = 0;
  std::uint64_t pex_answers = 0;
  std::uint64_t punished = 0; // peers stopped for asking too often
  std::size_t online = 0;     // nodes listening now
  std::size_t open_connections = 0;
};

class Netsim {
public:
  Netsim(runtime::Loop& loop, const SimNetwork& network, NetsimOptions options = {});
  ~Netsim();
  Netsim(const Netsim&) = delete;
  Netsim& operator=(const Netsim&) = delete;

  // Raises RLIMIT_NOFILE to the hard limit, checks the nodes fit, binds every listener and
  // starts churn. Throws std::runtime_error (e.g. not enough file descriptors), and
  // runtime::ListenError when a node's address cannot be bound (address_in_use(): another
  // simulation on the same addresses).
  void start();
  void stop();

  const NetsimStats& stats() const { return stats_; }
  bool online(std::uint32_t node) const;
  // Connections node `node_id` accepted (handshaken or not; its listener saw them).
  std::uint64_t accepted_by(const std::string& node_id) const;

private:
  struct Host;
  struct Conn;
  void bring_up(Host& host);
  void take_down(Host& host);
  void on_upgraded(Host& host, runtime::UpgradeResult result);
  void on_raw_accept(Host& host);
  void drip(std::uint64_t conn_id); // slowloris: one more byte
  void on_message(Conn& conn, mconn::ChannelId channel, const Bytes& msg);
  std::uint64_t add_conn(std::unique_ptr<Conn> conn);
  void drop_conn(std::uint64_t id);
  void churn_tick();

  runtime::Loop& loop_;
  const SimNetwork& net_;
  NetsimOptions options_;
  std::vector<std::unique_ptr<Host>> hosts_;
  std::map<std::uint64_t, std::unique_ptr<Conn>> conns_;
  std::uint64_t next_conn_ = 1;
  std::uint64_t churn_epoch_ = 0;
  runtime::Timer churn_timer_;
  NetsimStats stats_;
  std::map<std::string, std::uint64_t> accepted_by_;
  bool stopped_ = false;
};

} // namespace seedscope::netsim
