// The PEX reactor: peer exchange on channel 0x00 and the dialing policy of a Tendermint node,
// ported from p2p/pex/pex_reactor.go @ v0.34.24 (PROTOCOL.md section 6). Normal mode runs
// ensurePeers; seed mode runs crawlPeers, answers an inbound PexRequest once and hangs up.
//
// A seed serves each requester only addresses verified in the requester's own chain (an
// outbound handshake with a node of that chain at that address): an address a stranger sent
// is served once the seed has reached a node of that chain there, never on the stranger's
// word. Go's seed serves GetSelectionWithBias(30), unverified addresses included.
//
// Free of I/O: the clock, the RNG and the address book are injected (none owned; all must
// outlive the reactor), and timers are a deadline the runtime arms: after start(), call
// on_tick() whenever clock.mono() >= next_deadline(). Dials go through SwitchApi::dial_peer
// and their outcome arrives later through its callback; callbacks that arrive after the
// reactor is destroyed are ignored. Single-threaded.
//
// The address book is marked good when an outbound connection succeeds (add_peer of an
// outbound peer). Go leaves MarkGood to the consensus reactor (via Switch.MarkPeerAsGood),
// which a seed or a crawler does not run, so without this nothing would ever reach the old
// buckets and GetSelectionWithBias(30) could only ever return new, unverified addresses. A
// completed outbound handshake proves the address reaches the node with that ID.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/base/clock.hpp"
#include "core/base/rng.hpp"
#include "core/p2p/exclude_list.hpp"
#include "core/p2p/reactor.hpp"
#include "core/pex/addr_book.hpp"
#include "core/pex/pex_messages.hpp"
#include "core/pex/pex_rules.hpp"

namespace seedscope::pex {

constexpr mconn::ChannelId kPexChannel = 0x00;
constexpr std::size_t kMaxAddressSize = 256;
constexpr std::size_t kMaxMsgSize = kMaxAddressSize * kMaxGetSelection; // 64000

struct PexReactorConfig {
  bool seed_mode = false;
  std::vector<PeerAddress> seeds;
  Millis ensure_peers_period{30'000};
  Millis crawl_period{30'000};
  Millis min_time_between_crawls{std::chrono::minutes(2)};
  Millis crawl_record_ttl{std::chrono::hours(24)}; // Go's cleanupCrawlPeerInfos
  Millis seed_disconnect_wait{std::chrono::hours(28)};
  // Seed mode: an inbound peer that has not sent its PexRequest this long after connecting is
  // hung up (an idle peer would hold an inbound slot for the 28 h above). Not in Go.
  Millis seed_request_wait{5000};
  // Seed mode: answers to inbound peers of one IP per minute; past it, the peer is hung up
  // unanswered (a node asks a seed once per connection, and connects rarely). Not in Go.
  std::size_t seed_answers_per_ip_per_minute = 10;
  int max_attempts_to_dial = 16;
  std::chrono::nanoseconds ban_time{std::chrono::hours(24)};
  Millis persistent_peers_max_dial_period{0}; // 0: no cap on the back-off
  int bias_to_select_new_peers = 30;
  bool mark_good_on_connect = true; // see the header comment
  // The node adopts each peer's network, so its book holds several chains: every answer
  // holds only addresses verified in the requester's own chain (an outbound handshake with a
  // node of that chain at that address), and none when it knows none; and every seed is
  // dialed, not only the first that connects (each may be another chain's). Off: Go's ways.
  bool chains_apart = false;
  // Addresses on the exclude list (by ID or IP) are never served, taken into the book or
  // dialed. Not owned; read at every answer, so a reload applies to the book as it is.
  const ExcludeList* exclude = nullptr;

  // Must be below ensure_peers_period, or our own requests would look abusive to others.
  Millis min_receive_request_interval() const { return ensure_peers_period / 3; }
};

// What the reactor did, for metrics (cumulative counts since it was made).
struct PexStats {
  std::uint64_t requests_received = 0; // PexRequests from peers
  std::uint64_t answers_sent = 0;      // PexAddrs we sent (seed answers included)
  std::uint64_t seed_answers = 0;      // of those, seed mode's one answer to an inbound peer
  std::uint64_t addresses_sent = 0;    // addresses in the answers
  std::uint64_t requests_sent = 0;     // PexRequests we sent
  std::uint64_t addrs_received = 0;    // PexAddrs received in answer to ours
  std::uint64_t addresses_received = 0;
  std::uint64_t peers_punished = 0;    // stopped and banned for breaking the PEX rules
  std::uint64_t idle_hung_up = 0;      // seed mode: inbound peers that asked nothing in time
  std::uint64_t answers_refused = 0;   // seed mode: over seed_answers_per_ip_per_minute
  std::uint64_t addresses_ignored = 0; // beyond the first 250 of one PexAddrs
};

class PexReactor final : public Reactor {
public:
  PexReactor(AddrBook& book, Rng& rng, const Clock& clock, PexReactorConfig config);
  ~PexReactor() override;
  PexReactor(const PexReactor&) = delete;
  PexReactor& operator=(const PexReactor&) = delete;

  // Reactor
  std::string_view name() const override { return "PEX"; }
  std::vector<mconn::ChannelDescriptor> channels() const override;
  void add_peer(const PeerInfo& peer) override;
  void remove_peer(const PeerInfo& peer, const Failure& why) override;
  void receive(const PeerInfo& peer, mconn::ChannelId channel, ByteSpan msg) override;

  // Go's OnStart (after attach): seed mode dials the seeds, or crawls when there are none;
  // normal mode runs ensurePeers now when it has no peer and dials nobody, else after a
  // random delay up to ensure_peers_period.
  void start();
  // When on_tick() wants to run next; TimePoint::max() before start(). It changes with
  // add_peer() too (seed mode: the deadline of an inbound peer's request).
  TimePoint next_deadline() const;
  void on_tick();

  // Sends a PexRequest unless one is outstanding to that peer (Go's RequestAddrs).
  void request_addrs(const std::string& peer_id);
  // Go's dialPeer, asynchronous: false when refused at once (too many attempts, too early).
  bool dial_peer(const NetAddress& addr, bool request_on_connect = false);
  void ensure_peers();
  void crawl_peers(const std::vector<NetAddress>& addrs);

  // Introspection for tests and metrics.
  const PexStats& stats() const { return stats_; }
  int attempts_to_dial(const NetAddress& addr) const;
  // Seed mode: the inbound peer that has waited longest without sending its PexRequest (the
  // one to drop when a newcomer finds the inbound slots full); nullopt when none waits.
  std::optional<std::string> longest_waiting() const;
  bool request_outstanding(const std::string& peer_id) const {
    auto it = rules_.find(peer_id);
    return it != rules_.end() && it->second.request_outstanding();
  }

private:
  struct DialAttempts {
    int number = 0;
    TimePoint last_dialed{};
  };

  void on_request(const PeerInfo& peer);
  void on_addrs(const PeerInfo& peer, const std::vector<NetAddress>& addrs);
  void send_addrs(const std::string& peer_id, std::vector<NetAddress> addrs);
  void punish(const PeerInfo& peer, Reason reason, std::string detail);
  void on_dial_done(const NetAddress& addr, bool request_on_connect,
                    const std::optional<Failure>& failure);
  Millis backoff(const NetAddress& addr, int attempts);
  void dial_seeds();
  void dial_next_seed(std::shared_ptr<std::vector<std::size_t>> order, std::size_t at);
  // A dial of config_.seeds[seed] failed: a seed that is ourselves gives our own address.
  void seed_dial_failed(std::size_t seed, const Failure& failure);
  void crawl_tick();
  void attempt_disconnects();
  void hang_up_idle(TimePoint now);
  // Seed mode: counts an answer to `ip`; false when its minute's allowance is used up.
  bool take_answer_allowance(const IpAddress& ip, TimePoint now);
  void cleanup_crawl_records();
  bool is_seed(const std::string& peer_id) const;
  std::size_t free_outbound_slots() const;
  // Wraps a dial callback so that it does nothing once this reactor is gone.
  SwitchApi::DialDone guarded(SwitchApi::DialDone f) const;

  AddrBook& book_;     // not owned
  Rng& rng_;           // not owned
  const Clock& clock_; // not owned
  PexReactorConfig config_;
  // The PEX request rules of each connected peer (created on first use, gone with the peer).
  PexPeerRules& rules_of(const std::string& peer_id, bool seed_serves_once);
  std::map<std::string, PexPeerRules> rules_;
  std::map<std::string, DialAttempts> attempts_; // by dial string, like Go
  std::map<std::string, TimePoint> crawled_;     // peer ID -> last crawl attempt
  struct Awaiting {
    TimePoint deadline;
    std::uint64_t order; // connections in one millisecond keep their order
  };
  std::map<std::string, Awaiting> awaiting_request_; // seed mode: inbound peer -> its wait
  std::uint64_t awaiting_order_ = 0;
  struct AnswerWindow {
    TimePoint start;
    std::size_t count = 0;
  };
  std::map<IpAddress, AnswerWindow> answers_by_ip_; // seed mode; bounded, see the .cpp
  TimePoint next_run_ = TimePoint::max();
  PexStats stats_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

} // namespace seedscope::pex
