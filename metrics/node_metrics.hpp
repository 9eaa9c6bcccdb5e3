// The node's Prometheus metrics on a registry of the caller's: address book, peers, PEX.
// Values are set from the event loop; prometheus-cpp's metrics are atomic, so whoever serves
// the registry never waits for the loop.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "metrics/followed_counter.hpp"

namespace prometheus {
class Registry;
class Gauge;
class Counter;
} // namespace prometheus

namespace seedscope::metrics {

struct NodeSample {
  std::size_t book_new = 0;
  std::size_t book_old = 0;
  std::size_t peers_inbound = 0;
  std::size_t peers_outbound = 0;
  std::size_t dialing = 0;
  // The PEX reactor's cumulative counts (pex::PexStats); counters follow them.
  std::uint64_t pex_requests_received = 0;
  std::uint64_t pex_answers_sent = 0;
  std::uint64_t pex_seed_answers = 0;
  std::uint64_t pex_addresses_sent = 0;
  std::uint64_t pex_requests_sent = 0;
  std::uint64_t pex_addrs_received = 0;
  std::uint64_t pex_addresses_received = 0;
  std::uint64_t pex_peers_punished = 0;
  std::uint64_t pex_idle_hung_up = 0;
  std::uint64_t pex_answers_refused = 0;
  std::uint64_t pex_addresses_ignored = 0;
  // What strangers were refused: handshakes evicted from the pool, connections of banned
  // peers, log lines suppressed.
  std::uint64_t handshakes_evicted = 0;
  std::uint64_t banned_refused = 0;
  std::uint64_t excluded_refused = 0; // IP or ID on the exclude list
  std::uint64_t inbound_evicted = 0;
  std::uint64_t log_lines_suppressed = 0;
};

class NodeMetrics {
public:
  // `ns` prefixes every name (Tendermint's `namespace`).
  explicit NodeMetrics(std::shared_ptr<prometheus::Registry> registry,
                       const std::string& ns = "seedscope");
  ~NodeMetrics();
  NodeMetrics(const NodeMetrics&) = delete;
  NodeMetrics& operator=(const NodeMetrics&) = delete;

  void update(const NodeSample& sample);
  void peer_added();
  void peer_removed();

private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Gauge* book_new_;
  prometheus::Gauge* book_old_;
  prometheus::Gauge* peers_in_;
  prometheus::Gauge* peers_out_;
  prometheus::Gauge* dialing_;
  prometheus::Counter* added_;
  prometheus::Counter* removed_;
  FollowedCounter requests_received_, answers_sent_, seed_answers_, addresses_sent_, requests_sent_,
      addrs_received_, addresses_received_, punished_, idle_hung_up_, answers_refused_,
      addresses_ignored_, handshakes_evicted_, banned_refused_, excluded_refused_, inbound_evicted_,
      log_suppressed_;
};

} // namespace seedscope::metrics
