// The crawler: a seed node tuned to crawl. It contacts every address it learns with bounded
// concurrency on the schedule of crawl::Schedule, in every network at once (it answers each
// peer in the peer's own network unless restricted to one), and serves PexRequests from
// inbound peers with verified addresses of their network (seed rules: one answer per
// connection, then hang up).
//
// Each contact's protocol is a crawl::Contact, a sans-I/O state machine; this class moves its
// bytes (transport, MConnection peers), arms its timers, owns the schedule, the known nodes
// and the seed directory, and emits every observation into one observe::Observer (storage's
// writer and the metrics, fanned out by the caller). Time comes from an injected Clock.
// Single-threaded on the loop.
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

#include "core/base/log.hpp"
#include "core/crawl/availability.hpp"
#include "core/crawl/contact.hpp"
#include "core/crawl/outcome.hpp"
#include "core/crawl/schedule.hpp"
#include "core/crawl/subnet_limiter.hpp"
#include "core/mconn/mconnection.hpp"
#include "core/observe/observations.hpp"
#include "core/observe/status.hpp"
#include "core/p2p/ban_list.hpp"
#include "core/p2p/exclude_list.hpp"
#include "crawler/runtime/loop.hpp"
#include "crawler/runtime/loop_clock.hpp"
#include "crawler/runtime/peer.hpp"
#include "crawler/runtime/resolver.hpp"
#include "crawler/runtime/timer.hpp"
#include "crawler/runtime/transport.hpp"
#include "storage/observatory.hpp"

namespace seedscope::engine {

struct CrawlerOptions {
  std::shared_ptr<const crypto::NodeKey> key;
  // Our NodeInfo (moniker, version, listen_addr, tx_index); its network is the peer's unless
  // `network` restricts the crawl. Channels are set by the crawler.
  NodeInfo our_info;
  std::optional<std::string> network;
  std::string laddr; // seed service; empty: do not listen
  std::size_t max_concurrent_dials = 512;
  std::size_t max_inbound = 256; // concurrent inbound peers
  // Inbound connections still in the handshake; its timeout is handshake_timeout.
  PendingPoolConfig handshake_pool;
  Millis dial_timeout{3000};
  Millis handshake_timeout{10000};
  // The life of one contact: when we ask, how long we wait for the answer, when a hang-up
  // means full, how long an inbound peer that asks nothing is held. A PexAddrs that arrives
  // after our request is taken as its answer (a Go node cannot tell either).
  crawl::ContactConfig contact;
  Millis seed_fresh{std::chrono::hours(1)}; // served addresses: verified within this
  // Networks known only from inbound peers (no outbound contact confirmed them yet): at most
  // this many; inbound peers of further unknown chains are refused, nothing of them recorded.
  std::size_t max_unconfirmed_networks = 16;
  // New node IDs and addresses that inbound peers of one IPv4 /16 (IPv6 /32) may add to the
  // crawl (a fresh key costs a stranger one handshake); past it, what they say is not kept.
  std::size_t inbound_learn_per_subnet = 256;
  // An inbound peer that broke the PEX rules is refused, by ID and IP, this long.
  Millis ban_time{std::chrono::hours(24)};
  crawl::ScheduleConfig schedule;
  mconn::MConnConfig mconn;
  // Simulations and tests: dial and record loopback addresses only. Otherwise only routable
  // addresses (no private ranges) are learnt.
  bool loopback_only = false;
  // Never contacted, served, recorded as targets or let in (by ID or IP). Not owned; read at
  // every decision, so a reload (the owner replaces its contents) applies to known addresses.
  const ExcludeList* exclude = nullptr;
  // Contacts started per second to one IPv4 /24 (IPv6 /48); the rest wait. 0: no cap.
  std::uint32_t max_contacts_per_subnet_per_second = 0;
  // An excluded address that is due waits this long before it is looked at again.
  Millis excluded_recheck{std::chrono::minutes(10)};
  observe::Observer* observer = nullptr; // not owned; null: nothing is recorded
  const Clock* clock = nullptr;          // not owned; null: the loop's clock and wall time
  Logger log;                            // module crawler; default: silent
};

using CrawlerStats = observe::CrawlStatus;
using NetworkStats = observe::NetworkStatus;

class Crawler {
public:
  Crawler(runtime::Loop& loop, CrawlerOptions options);
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
  // Where an address is (from the geo annotator): seed answers spread over ASNs.
  void set_geo(const IpAddress& ip, const geo::GeoInfo& info);
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
  WallTime wall_now() const { return clock_->wall(); }
  void pump();
  void arm_pump(WallTime due);
  void start_contact(const crawl::ScheduledAddress& a);
  void on_dialed(std::uint64_t sid, runtime::UpgradeResult result);
  void on_accepted(runtime::UpgradeResult result);
  // Refuses an upgraded inbound peer by our policy, or returns nothing.
  std::optional<std::pair<Failure, std::string>> refuse_inbound(const NodeInfo& peer,
                                                                const NetAddress& remote) const;
  void start_peer(Session& s, std::unique_ptr<runtime::Connection> connection);
  // After every event of a session: its actions, its observations, its timer or its end.
  void drive(std::uint64_t sid);
  void end_session(std::uint64_t sid);
  // An outbound contact's end: the schedule, the known node, its availability.
  void record_verdict(const crawl::Contact& c);
  void learn(const crawl::Contact& c);
  bool acceptable(const NetAddress& a) const;
  bool excluded(const NetAddress& a) const {
    return options_.exclude != nullptr && options_.exclude->excluded(a);
  }
  bool excluded_peer(const NodeInfo& peer, const NetAddress& remote) const {
    return options_.exclude != nullptr && (options_.exclude->excluded_id(peer.node_id) ||
                                           options_.exclude->excluded_ip(remote.ip));
  }
  // Whether a due address may be contacted now; if not it is rescheduled.
  bool may_contact(const crawl::ScheduledAddress& a, WallTime now);
  std::vector<NetAddress> answer_for(const NodeInfo& requester);
  void emit(const observe::Observation& o);
  // A NodeInfo that reached us; an outbound one confirms its network.
  void saw_node(const observe::NodeSeen& seen);
  // Whether an inbound peer of `network` may be taken (the unconfirmed-networks cap).
  bool admit_inbound_network(const std::string& network) const;
  const Logger& log() const { return options_.log; }

  runtime::Loop& loop_;
  CrawlerOptions options_;
  runtime::LoopClock loop_clock_;
  const Clock* clock_; // options_.clock or loop_clock_
  runtime::Transport transport_;
  std::vector<mconn::ChannelDescriptor> channels_;
  crawl::Schedule schedule_;
  std::unordered_map<std::uint64_t, std::unique_ptr<Session>> sessions_;
  std::uint64_t next_sid_ = 1;
  BanList bans_;
  crawl::SubnetLimiter subnet_limiter_;
  std::map<IpAddress, std::uint32_t> asn_by_ip_; // known ASNs only
  // What inbound peers of each subnet added so far (inbound_learn_per_subnet).
  std::unordered_map<std::uint32_t, std::size_t> inbound_learnt_;
  bool inbound_may_add(const IpAddress& ip);
  std::size_t dialing_ = 0;
  std::size_t inbound_ = 0;
  std::size_t max_dials_ = 0;
  runtime::Timer pump_timer_;
  std::vector<std::unique_ptr<runtime::Resolver>> resolvers_;
  std::map<std::string, std::unordered_map<std::string, KnownNode>> nodes_; // network -> id
  std::map<std::string, std::unordered_set<std::string>> seen_;             // network -> node IDs
  std::map<std::string, bool> networks_;                                    // network -> confirmed
  std::size_t unconfirmed_ = 0;
  CrawlerStats counters_;
  std::uint16_t port_ = 0;
  bool started_ = false;
  bool stopped_ = false;
};

} // namespace seedscope::engine
