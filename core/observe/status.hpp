// A snapshot of a crawl's state, taken about once a second on the crawler's thread: what the
// status line and the crawler's gauges show. The per-network counts follow the same
// definitions as storage's network_counts view (storage/SCHEMA.md).
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace seedscope::observe {

struct NetworkStatus {
  std::size_t addresses = 0;        // addresses filed under this network (as node or advertiser)
  std::size_t nodes_seen = 0;       // distinct nodes whose NodeInfo reached us in this network
  std::size_t reachable = 0;        // distinct nodes with an address verified at its last contact
  std::uint64_t seed_requests = 0;  // PexRequests of its nodes the seed service answered
  std::uint64_t seed_addresses = 0; // addresses handed to them
};

struct CrawlStatus {
  std::uint64_t contacts = 0;                    // outbound, finished
  std::uint64_t inbound = 0;                     // inbound connections, finished
  std::map<std::string, std::uint64_t> outcomes; // outbound and inbound, by outcome name
  std::uint64_t addresses_received = 0;
  std::uint64_t addresses_ignored = 0; // invalid, private, ours, or not allowed
  // New node IDs and addresses of inbound peers not kept: their subnet's allowance was used up.
  std::uint64_t inbound_learn_refused = 0;
  std::uint64_t seed_requests = 0;
  std::uint64_t seed_addresses = 0;
  std::uint64_t seeds_ignored = 0; // given seeds that are no address we may dial
  // The exclude list: inbound connections refused (at accept by IP, after the handshake by
  // ID), contacts not started, learnt addresses not kept.
  std::uint64_t excluded_refused = 0;
  std::uint64_t excluded_not_dialed = 0;
  std::uint64_t excluded_not_learnt = 0;
  std::uint64_t subnet_deferred = 0; // contacts rescheduled by the per-subnet cap
  std::size_t in_flight = 0;
  std::size_t known = 0;
  std::size_t due = 0; // scheduled addresses whose time has come (the queue)
  std::map<std::string, std::size_t> by_state; // addresses by schedule state
  std::map<std::string, NetworkStatus> networks;
};

} // namespace seedscope::observe
