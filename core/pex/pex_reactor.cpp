#include "core/pex/pex_reactor.hpp"

#include <algorithm>
#include <span>
#include <utility>

#include "core/p2p/peer_address.hpp"

namespace seedscope::pex {
namespace {

// Nothing to hold against the address: already dialing or connected (Go's
// ErrCurrentlyDialingOrExistingAddress), shutting down, or refused by one of our own filters
// after a good handshake (our peer limit, a second node on an IP we are connected to). Go
// counts filter refusals as failed attempts; a crawler that fills its slots would then ban
// healthy nodes.
bool not_attempted(const Failure& f) {
  return f.stage == Stage::kLocalPolicy && f.reason != Reason::kSelf;
}

PeerAddress to_peer_address(const NetAddress& addr) {
  PeerAddress pa;
  pa.id = addr.id;
  pa.host = addr.ip.to_string();
  pa.port = addr.port;
  pa.ip = addr.ip;
  return pa;
}

} // namespace

PexReactor::PexReactor(AddrBook& book, Rng& rng, const Clock& clock, PexReactorConfig config)
    : book_(book),
      rng_(rng),
      clock_(clock),
      config_(std::move(config)) {}

PexReactor::~PexReactor() { *alive_ = false; }

SwitchApi::DialDone PexReactor::guarded(SwitchApi::DialDone f) const {
  return [alive = std::weak_ptr<bool>(alive_),
          f = std::move(f)](const std::optional<Failure>& failure) {
    auto a = alive.lock();
    if (a && *a) f(failure);
  };
}

std::vector<mconn::ChannelDescriptor> PexReactor::channels() const {
  mconn::ChannelDescriptor d;
  d.id = kPexChannel;
  d.priority = 1;
  d.send_queue_capacity = 10;
  d.recv_message_capacity = kMaxMsgSize;
  return {d};
}

// --- peers -----------------------------------------------------------------------------------

void PexReactor::add_peer(const PeerInfo& peer) {
  rules_.erase(peer.id);
  awaiting_request_.erase(peer.id);
  rules_of(peer.id, config_.seed_mode && !peer.outbound); // a fresh connection, fresh rules
  if (peer.outbound) {
    if (config_.mark_good_on_connect)
      book_.mark_good(peer.id, clock_.wall(), peer.node_info.network);
    // The address is already in the book (we dialed it); ask for more if we need them.
    if (book_.need_more_addrs()) request_addrs(peer.id);
    return;
  }
  // A seed holds an inbound peer only for its request.
  if (config_.seed_mode)
    awaiting_request_[peer.id] = {clock_.mono() + config_.seed_request_wait, ++awaiting_order_};
  // An inbound peer is its own source. No request yet: ensurePeers asks later.
  if (auto addr = advertised_address(peer.node_info, peer.socket.ip))
    (void)book_.add_address(*addr, *addr, clock_.wall());
}

void PexReactor::remove_peer(const PeerInfo& peer, const Failure& why) {
  (void)why;
  rules_.erase(peer.id);
  awaiting_request_.erase(peer.id);
}

PexPeerRules& PexReactor::rules_of(const std::string& peer_id, bool seed_serves_once) {
  auto it = rules_.find(peer_id);
  if (it == rules_.end())
    it =
        rules_
            .emplace(peer_id, PexPeerRules(seed_serves_once ? PexPeerRules::Serving::kOnce
                                                            : PexPeerRules::Serving::kEveryInterval,
                                           config_.min_receive_request_interval()))
            .first;
  return it->second;
}

// --- messages --------------------------------------------------------------------------------

void PexReactor::receive(const PeerInfo& peer, mconn::ChannelId channel, ByteSpan msg) {
  if (channel != kPexChannel || switch_ == nullptr) return;
  auto decoded = decode_pex_message(msg);
  if (!decoded.ok()) {
    if (decoded.error().code == PexMessageError::kBadAddress)
      return punish(peer, Reason::kBadAddrs, decoded.error().message());
    // Go panics in Receive and the connection's recover stops the peer, without a ban.
    switch_->stop_peer(peer.id, {Stage::kPex, Reason::kMalformed}, decoded.error().message(),
                       false);
    return;
  }
  if (decoded->is_request()) return on_request(peer);
  on_addrs(peer, decoded->addrs);
}

void PexReactor::on_request(const PeerInfo& peer) {
  ++stats_.requests_received;
  awaiting_request_.erase(peer.id);
  const bool seed_serves_once = config_.seed_mode && !peer.outbound;
  const auto verdict = rules_of(peer.id, seed_serves_once).on_request(clock_.mono());
  if (verdict == PexPeerRules::Verdict::kIgnore) return;
  if (verdict == PexPeerRules::Verdict::kTooSoon)
    return punish(peer, Reason::kTooManyRequests, "PexRequest again within the minimum interval");
  if (seed_serves_once) {
    if (!take_answer_allowance(peer.socket.ip, clock_.mono())) {
      ++stats_.answers_refused;
      switch_->stop_peer(peer.id, {Stage::kPex, Reason::kTooManyRequests},
                         "seed: too many requests from this IP in the last minute", true);
      return;
    }
    // A seed answers an inbound peer once, then hangs up after the answer is flushed.
    ++stats_.seed_answers;
    send_addrs(peer.id, book_.get_selection_in_network(peer.node_info.network));
    switch_->stop_peer(peer.id, {Stage::kPex, Reason::kDone}, "seed answered its request", true);
    return;
  }
  send_addrs(peer.id, config_.chains_apart ? book_.get_selection_in_network(peer.node_info.network)
                                           : book_.get_selection());
}

void PexReactor::on_addrs(const PeerInfo& peer, const std::vector<NetAddress>& addrs) {
  if (!rules_of(peer.id, false).take_answer())
    return punish(peer, Reason::kUnsolicitedAddrs, "PexAddrs without a request");
  ++stats_.addrs_received;
  stats_.addresses_received += addrs.size();
  NetAddress src = advertised_address(peer.node_info, peer.socket.ip).value_or(peer.socket);
  const bool from_seed = is_seed(peer.id);
  const WallTime now = clock_.wall();
  // Go never sends more than GetSelection's 250: the rest of a longer list is not taken.
  const std::size_t take = std::min(addrs.size(), kMaxGetSelection);
  stats_.addresses_ignored += addrs.size() - take;
  for (const auto& addr : std::span(addrs).first(take)) {
    if (addr.port == 0) continue; // Go accepts it; nothing listens there
    if (config_.exclude != nullptr && config_.exclude->excluded(addr)) continue;
    // Refused addresses (bad ID, unroutable, ours, banned) are skipped without punishment.
    if (!book_.add_address(addr, src, now).ok()) continue;
    // Dialed at once as Go does, but only into free outbound slots (the rest stay in the
    // book for ensurePeers).
    if (from_seed && free_outbound_slots() > 0) dial_peer(addr);
  }
  // Deviation: a Go seed keeps a crawled peer until seed_disconnect_wait (28 h) and so runs
  // out of outbound slots; ours hangs up once the peer answered, freeing its slot and ours.
  if (config_.seed_mode && peer.outbound && !switch_->is_persistent(peer.id))
    switch_->stop_peer(peer.id, {Stage::kPex, Reason::kDone}, "crawled: addresses received", true);
}

void PexReactor::send_addrs(const std::string& peer_id, std::vector<NetAddress> addrs) {
  if (config_.exclude != nullptr)
    std::erase_if(addrs, [&](const NetAddress& a) { return config_.exclude->excluded(a); });
  if (!switch_->send(peer_id, kPexChannel, encode_pex_addrs(addrs))) return;
  ++stats_.answers_sent;
  stats_.addresses_sent += addrs.size();
}

void PexReactor::punish(const PeerInfo& peer, Reason reason, std::string detail) {
  // Copy first: stopping the peer may end the life of what `peer` refers to.
  const std::string id = peer.id;
  ++stats_.peers_punished;
  const NetAddress addr = peer.socket;
  switch_->ban_peer(peer, std::chrono::duration_cast<Millis>(config_.ban_time));
  switch_->stop_peer(id, {Stage::kPex, reason}, std::move(detail), false);
  book_.mark_bad(addr, config_.ban_time, clock_.wall());
}

void PexReactor::request_addrs(const std::string& peer_id) {
  if (switch_ == nullptr) return;
  PexPeerRules& rules = rules_of(peer_id, false);
  if (!rules.begin_request()) return; // one outstanding at a time
  // Only a request that was queued is outstanding (Go records it even when the send fails,
  // which would leave the peer unasked until it reconnects).
  if (switch_->send(peer_id, kPexChannel, encode_pex_request())) ++stats_.requests_sent;
  else rules.cancel_request();
}

bool PexReactor::is_seed(const std::string& peer_id) const {
  return std::any_of(config_.seeds.begin(), config_.seeds.end(),
                     [&](const PeerAddress& s) { return s.id == peer_id; });
}

// --- schedule --------------------------------------------------------------------------------

void PexReactor::start() {
  if (switch_ == nullptr) return;
  const TimePoint now = clock_.mono();
  if (config_.seed_mode) {
    if (!config_.seeds.empty()) dial_seeds();
    else crawl_peers(book_.get_selection());
    next_run_ = now + config_.crawl_period;
    return;
  }
  if (switch_->peers().empty() && switch_->num_dialing() == 0) {
    ensure_peers();
    next_run_ = now + config_.ensure_peers_period;
    return;
  }
  // Avoid a thundering herd: the first round comes after a random delay.
  const auto period = static_cast<std::uint64_t>(config_.ensure_peers_period.count());
  next_run_ = now + Millis(static_cast<Millis::rep>(rng_.below(period)));
}

std::optional<std::string> PexReactor::longest_waiting() const {
  const std::string* best = nullptr;
  const Awaiting* oldest = nullptr;
  for (const auto& [id, a] : awaiting_request_) {
    if (switch_ != nullptr && switch_->is_persistent(id)) continue;
    if (oldest != nullptr &&
        std::pair(a.deadline, a.order) >= std::pair(oldest->deadline, oldest->order))
      continue;
    oldest = &a;
    best = &id;
  }
  if (best == nullptr) return std::nullopt;
  return *best;
}

TimePoint PexReactor::next_deadline() const {
  TimePoint t = next_run_;
  for (const auto& [id, a] : awaiting_request_) t = std::min(t, a.deadline);
  return t;
}

void PexReactor::on_tick() {
  const TimePoint now = clock_.mono();
  if (switch_ == nullptr) return;
  hang_up_idle(now);
  if (now < next_run_) return;
  if (config_.seed_mode) {
    crawl_tick();
    next_run_ = now + config_.crawl_period;
  } else {
    ensure_peers();
    next_run_ = now + config_.ensure_peers_period;
  }
}

void PexReactor::ensure_peers() {
  const std::size_t num_to_dial = free_outbound_slots();
  if (num_to_dial == 0) return;

  // Prefer vetted (old) addresses while we have few connections: bias in [10, 90].
  const int new_bias =
      static_cast<int>(std::min<std::size_t>(switch_->num_outbound(), 8)) * 10 + 10;
  std::map<std::string, NetAddress> to_dial;
  for (std::size_t i = 0; i < num_to_dial * 3 && to_dial.size() < num_to_dial; ++i) {
    auto pick = book_.pick_address(new_bias);
    if (!pick || to_dial.count(pick->id) != 0 || switch_->is_dialing_or_connected(pick->id))
      continue;
    to_dial.emplace(pick->id, *pick);
  }
  for (const auto& [id, addr] : to_dial) dial_peer(addr);

  if (book_.need_more_addrs()) book_.reinstate_bans(clock_.wall());
  if (book_.need_more_addrs()) {
    auto peers = switch_->peers();
    if (!peers.empty()) request_addrs(peers[rng_.below(peers.size())].id);
    // Seeds too, in case our peers do not take part in PEX; only when there was nothing to dial.
    if (to_dial.empty()) dial_seeds();
  }
}

// --- dialing ---------------------------------------------------------------------------------

int PexReactor::attempts_to_dial(const NetAddress& addr) const {
  auto it = attempts_.find(addr.dial_string());
  return it == attempts_.end() ? 0 : it->second.number;
}

Millis PexReactor::backoff(const NetAddress& addr, int attempts) {
  const auto jitter = Millis(static_cast<Millis::rep>(rng_.uniform01() * 1000.0));
  const Millis planned = jitter + Millis(1000LL << std::min(attempts, 40));
  const Millis cap = config_.persistent_peers_max_dial_period;
  if (cap > Millis(0) && planned > cap && switch_->is_persistent(addr.id)) return cap;
  return planned;
}

bool PexReactor::dial_peer(const NetAddress& addr, bool request_on_connect) {
  if (switch_ == nullptr) return false;
  if (config_.exclude != nullptr && config_.exclude->excluded(addr)) return false;
  const std::string key = addr.dial_string();
  auto it = attempts_.find(key);
  if (it != attempts_.end()) {
    if (!switch_->is_persistent(addr.id) && it->second.number > config_.max_attempts_to_dial) {
      book_.mark_bad(addr, config_.ban_time, clock_.wall());
      // Go keeps the count, so an address reinstated after its ban is banned again at its first
      // dial without being tried; we give it a fresh start instead.
      attempts_.erase(it);
      return false;
    }
    if (clock_.mono() - it->second.last_dialed < backoff(addr, it->second.number)) return false;
  }
  switch_->dial_peer(to_peer_address(addr),
                     guarded([this, addr, request_on_connect](const std::optional<Failure>& f) {
                       on_dial_done(addr, request_on_connect, f);
                     }));
  return true;
}

void PexReactor::on_dial_done(const NetAddress& addr, bool request_on_connect,
                              const std::optional<Failure>& failure) {
  const std::string key = addr.dial_string();
  if (!failure) {
    attempts_.erase(key);
    if (request_on_connect) request_addrs(addr.id); // crawl: ask every peer we reach
    return;
  }
  const Failure& f = *failure;
  if (not_attempted(f)) return;
  if (f.reason == Reason::kSelf) { // as Go's switch does on ErrRejected.IsSelf()
    book_.remove_address(addr);
    book_.add_our_address(addr);
    attempts_.erase(key);
    return;
  }
  if (f.stage == Stage::kSecretHandshake &&
      (f.reason == Reason::kAuthFailure || f.reason == Reason::kIdMismatch)) {
    book_.mark_bad(addr, config_.ban_time, clock_.wall());
    attempts_.erase(key);
    return;
  }
  book_.mark_attempt(addr, clock_.wall());
  DialAttempts& a = attempts_[key];
  a.number += 1;
  a.last_dialed = clock_.mono();
}

void PexReactor::dial_seeds() {
  if (config_.seeds.empty()) return;
  if (config_.chains_apart) {
    // Seeds of several chains: one seed that connects says nothing of the other chains.
    for (std::size_t i = 0; i < config_.seeds.size(); ++i) {
      switch_->dial_peer(config_.seeds[i], guarded([this, i](const std::optional<Failure>& f) {
                           if (f) seed_dial_failed(i, *f);
                         }));
    }
    return;
  }
  auto order = std::make_shared<std::vector<std::size_t>>(config_.seeds.size());
  for (std::size_t i = 0; i < order->size(); ++i) (*order)[i] = i;
  for (std::size_t i = order->size() - 1; i > 0; --i)
    std::swap((*order)[i], (*order)[rng_.below(i + 1)]);
  dial_next_seed(std::move(order), 0);
}

// Go dials the seeds one after the other until one connects (or is already connected or being
// dialed); our dials are asynchronous, so the next seed is dialed when the previous one failed.
void PexReactor::dial_next_seed(std::shared_ptr<std::vector<std::size_t>> order, std::size_t at) {
  if (at >= order->size()) return;
  const PeerAddress& seed = config_.seeds[(*order)[at]];
  switch_->dial_peer(seed, guarded([this, order, at](const std::optional<Failure>& f) {
                       if (!f || not_attempted(*f)) return;
                       seed_dial_failed((*order)[at], *f);
                       dial_next_seed(order, at + 1);
                     }));
}

void PexReactor::seed_dial_failed(std::size_t seed, const Failure& failure) {
  if (failure.reason != Reason::kSelf) return;
  if (auto addr = config_.seeds[seed].net_address()) book_.add_our_address(*addr);
}

// --- seed mode -------------------------------------------------------------------------------

void PexReactor::crawl_tick() {
  attempt_disconnects();
  crawl_peers(book_.get_selection());
  cleanup_crawl_records();
}

std::size_t PexReactor::free_outbound_slots() const {
  const std::size_t used = switch_->num_outbound() + switch_->num_dialing();
  return used >= switch_->max_outbound() ? 0 : switch_->max_outbound() - used;
}

void PexReactor::crawl_peers(const std::vector<NetAddress>& addrs) {
  if (switch_ == nullptr) return;
  const TimePoint now = clock_.mono();
  // As many as there are free outbound slots (the switch refuses the rest before dialing);
  // the others wait for the next round, not for min_time_between_crawls.
  std::size_t slots = free_outbound_slots();
  for (const auto& addr : addrs) {
    if (slots == 0) break;
    auto it = crawled_.find(addr.id);
    if (it != crawled_.end() && now - it->second < config_.min_time_between_crawls) continue;
    if (switch_->is_dialing_or_connected(addr.id)) continue;
    crawled_[addr.id] = now;
    --slots;
    // Already connected or being dialed: the switch refuses, and the peer is not asked again.
    dial_peer(addr, /*request_on_connect=*/true);
  }
}

void PexReactor::cleanup_crawl_records() {
  const TimePoint now = clock_.mono();
  std::erase_if(crawled_,
                [&](const auto& kv) { return now - kv.second > config_.crawl_record_ttl; });
}

bool PexReactor::take_answer_allowance(const IpAddress& ip, TimePoint now) {
  constexpr std::size_t kMaxTracked = 10000;
  constexpr Millis kWindow{60000};
  if (answers_by_ip_.size() >= kMaxTracked)
    std::erase_if(answers_by_ip_, [&](const auto& kv) { return now - kv.second.start >= kWindow; });
  if (answers_by_ip_.size() >= kMaxTracked) answers_by_ip_.clear(); // a flood of addresses
  AnswerWindow& w = answers_by_ip_[ip];
  if (w.count == 0 || now - w.start >= kWindow) w = {now, 0};
  if (w.count >= config_.seed_answers_per_ip_per_minute) return false;
  ++w.count;
  return true;
}

void PexReactor::hang_up_idle(TimePoint now) {
  std::vector<std::string> idle;
  for (const auto& [id, a] : awaiting_request_)
    if (now >= a.deadline) idle.push_back(id);
  for (const auto& id : idle) {
    awaiting_request_.erase(id);
    if (switch_->is_persistent(id)) continue;
    ++stats_.idle_hung_up;
    switch_->stop_peer(id, {Stage::kPex, Reason::kTimeout},
                       "seed: no PexRequest within " +
                           std::to_string(config_.seed_request_wait.count()) + " ms",
                       true);
  }
}

// We want seeds to advertise good peers, so they stay connected as long as a peer takes to
// become good before hanging up (Go's attemptDisconnects).
void PexReactor::attempt_disconnects() {
  for (const auto& peer : switch_->peers()) {
    if (switch_->connected_for(peer.id) < config_.seed_disconnect_wait) continue;
    if (peer.persistent || switch_->is_persistent(peer.id)) continue;
    switch_->stop_peer(peer.id, {Stage::kLocalPolicy, Reason::kDone},
                       "seed: connected longer than the disconnect wait", true);
  }
}

} // namespace seedscope::pex
