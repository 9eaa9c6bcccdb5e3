// The crawler: a seed node tuned to crawl. It contacts every address it learns (connect,
// handshake, PexRequest, wait for PexAddrs, disconnect) with bounded concurrency on the
// schedule of crawl::Schedule, in every network at once (it answers each peer in the peer's
// own network unless restricted to one), records everything in the observatory, and serves
// PexRequests from inbound peers with verified addresses of their network (seed rules: one
// answer per connection, then hang up).
//
// As seen from a Go node every contact is polite PEX: one request per connection, none
// twice within 10 s (a connection carries one), no PexAddrs unless asked. Single-threaded
// on the loop; the observatory writer is the only other thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/crawl/availability.hpp"
#include "core/crawl/outcome.hpp"
#include "core/crawl/schedule.hpp"
#include "core/mconn/mconnection.hpp"
#include "crawler/runtime/loop.hpp"
#include "crawler/runtime/peer.hpp"
#include "crawler/runtime/resolver.hpp"
#include "crawler/runtime/timer.hpp"
#include "crawler/runtime/transport.hpp"
#include "storage/observatory.hpp"

namespace seedscope::crawler {

struct CrawlerOptions {
  std::shared_ptr<const crypto::NodeKey> key;
  // Our NodeInfo (moniker, version, listen_addr, tx_index); its network is the peer's unless
  // `network` restricts the crawl. Channels are set by the crawler.
  NodeInfo our_info;
  std::optional<std::string> network;
  std::string laddr;                    // seed service; empty: do not listen
  std::size_t max_concurrent_dials = 512;
  std::size_t max_inbound = 256;        // concurrent inbound peers and upgrades
  Millis dial_timeout{3000};
  Millis handshake_timeout{10000};
  // We ask this long after the handshake: a PexAddrs before then is unsolicited. One that
  // arrives after our request is taken as its answer (a Go node cannot tell either).
  Millis request_delay{250};
  Millis pex_timeout{10000};            // for the PexAddrs after our request
  Millis full_window{2000};             // hung up this soon after the handshake: full
  Millis inbound_hold{30000};           // an inbound peer that asks nothing is let go
  Millis seed_fresh{std::chrono::hours(1)}; // served addresses: verified within this
  // Networks known only from inbound peers (no outbound contact confirmed them yet): at most
  // this many; inbound peers of further unknown chains are refused, nothing of them recorded.
  std::size_t max_unconfirmed_networks = 16;
  crawl::ScheduleConfig schedule;
  mconn::MConnConfig mconn;
  // Simulations and tests: dial and record loopback addresses only. Otherwise only routable
  // addresses (no private ranges) are learnt.
  bool loopback_only = false;
  storage::ObservatoryWriter* writer = nullptr; // not owned; null: nothing is recorded
  std::function<void(const std::string&)> log;
};

// The same definitions as storage's network_counts view (storage/SCHEMA.md), kept in memory.
struct NetworkStats {
  std::size_t addresses = 0;      // addresses filed under this network (as node or advertiser)
  std::size_t nodes_seen = 0;     // distinct nodes whose NodeInfo reached us in this network
  std::size_t reachable = 0;      // distinct nodes with an address verified at its last contact
  std::size_t misbehaving = 0;    // distinct nodes with an address that misbehaved at its last
  bool confirmed = false;         // an outbound contact reached one of its nodes
  std::uint64_t contacts = 0;
  std::uint64_t seed_requests = 0;  // PexRequests of this network's nodes answered
  std::uint64_t seed_addresses = 0; // addresses handed to them
};

struct CrawlerStats {
  std::uint64_t contacts = 0; // outbound, finished
  std::uint64_t inbound = 0;  // inbound connections, finished
  std::map<std::string, std::uint64_t> outcomes; // outbound and inbound, by outcome name
  std::uint64_t addresses_received = 0;
  std::uint64_t addresses_ignored = 0; // invalid, private, ours, or not allowed
  std::uint64_t seed_requests = 0;
  std::uint64_t seed_addresses = 0;
  std::size_t in_flight = 0;
  std::size_t known = 0;
  std::size_t due = 0; // scheduled addresses whose time has come (the queue)
  std::map<std::string, std::size_t> by_state; // addresses by schedule state
  std::map<std::string, NetworkStats> networks;
};

// Hooks for metrics and tests. Called on the loop thread.
class CrawlerObserver {
public:
  virtual ~CrawlerObserver() = default;
  virtual void on_contact(const storage::Contact& contact, crawl::Outcome outcome) {
    (void)contact, (void)outcome;
  }
};

class Crawler {
public:
  Crawler(runtime::Loop& loop, CrawlerOptions options, CrawlerObserver* observer = nullptr);
  ~Crawler();
  Crawler(const Crawler&) = delete;
  Crawler& operator=(const Crawler&) = delete;

  // Restores addresses and availability read from the observatory (before start()).
  void restore(const storage::ObservatoryState& state);
  // A seed or any starting address. Host names are resolved asynchronously.
  void add_seed(const PeerAddress& addr);
  // Raises RLIMIT_NOFILE, listens (if laddr is set) and starts contacting. Throws
  // std::runtime_error when the address cannot be bound.
  void start();
  // Stops dialing and listening and ends every connection.
  void stop();

  std::uint16_t port() const { return port_; }
  std::size_t max_concurrent_dials() const { return max_dials_; }
  CrawlerStats stats() const;
  const crawl::Schedule& schedule() const { return schedule_; }
  // The addresses a seed would answer a node of `network` with now.
  std::vector<NetAddress> seed_answer(const std::string& network) const;
  // Nodes that answered their last outbound contact, per network.
  struct KnownNode {
    NetAddress addr;
    NodeInfo info;
    crawl::Availability availability;
    WallTime last_success{};
    bool reachable = false;
  };
  const std::map<std::string, std::unordered_map<std::string, KnownNode>>& nodes() const {
    return nodes_;
  }

private:
  struct Session;
  WallTime wall_now() const;
  void pump();
  void arm_pump(WallTime due);
  void start_contact(const crawl::ScheduledAddress& a);
  void on_dialed(std::uint64_t sid, runtime::UpgradeResult result);
  void on_accepted(runtime::UpgradeResult result);
  void start_peer(Session& s, std::unique_ptr<runtime::Connection> connection);
  void on_message(std::uint64_t sid, mconn::ChannelId channel, const Bytes& msg);
  void on_peer_error(std::uint64_t sid, const Failure& why, const std::string& detail);
  void send_request(std::uint64_t sid);
  void learn(Session& s, const std::vector<NetAddress>& addrs);
  bool acceptable(const NetAddress& a) const;
  void finish(std::uint64_t sid, crawl::Outcome outcome, const Failure& failure,
              const std::string& detail);
  void record(storage::ObservatoryRecord record);
  // Records a NodeInfo that reached us; an outbound one confirms its network.
  void saw_node(const NodeInfo& info, bool outbound, WallTime at);
  // Whether an inbound peer of `network` may be taken (the unconfirmed-networks cap).
  bool admit_inbound_network(const std::string& network) const;
  void log(const std::string& line) const {
    if (options_.log) options_.log(line);
  }

  runtime::Loop& loop_;
  CrawlerOptions options_;
  CrawlerObserver* observer_;
  runtime::Transport transport_;
  std::vector<mconn::ChannelDescriptor> channels_;
  crawl::Schedule schedule_;
  std::unordered_map<std::uint64_t, std::unique_ptr<Session>> sessions_;
  std::uint64_t next_sid_ = 1;
  std::size_t dialing_ = 0;
  std::size_t inbound_ = 0;
  std::size_t max_dials_ = 0;
  runtime::Timer pump_timer_;
  std::vector<std::unique_ptr<runtime::Resolver>> resolvers_;
  std::map<std::string, std::unordered_map<std::string, KnownNode>> nodes_; // network -> id
  std::map<std::string, std::uint64_t> contacts_by_network_;
  std::map<std::string, std::unordered_set<std::string>> seen_; // network -> node IDs
  std::map<std::string, bool> networks_;                         // network -> confirmed
  std::size_t unconfirmed_ = 0;
  CrawlerStats counters_;
  std::uint16_t port_ = 0;
  bool started_ = false;
  bool stopped_ = false;
};

} // namespace seedscope::crawler
