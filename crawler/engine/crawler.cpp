#include "crawler/engine/crawler.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

#include "core/crawl/seed_selection.hpp"
#include "core/p2p/peer_address.hpp"
#include "core/pex/pex_messages.hpp"
#include "core/pex/pex_reactor.hpp"

namespace seedscope::engine {

using crawl::Outcome;

// One contact: its protocol state machine and the runtime objects that carry its bytes.
struct Crawler::Session {
  Session(runtime::Loop& loop, crawl::Contact c) : contact(std::move(c)), timer(loop) {}
  std::uint64_t id = 0;
  crawl::Contact contact;
  std::unique_ptr<runtime::Peer> peer;
  runtime::Timer timer;
};

Crawler::Crawler(runtime::Loop& loop, CrawlerOptions options)
    : loop_(loop),
      options_(std::move(options)),
      loop_clock_(loop),
      clock_(options_.clock != nullptr ? options_.clock : &loop_clock_),
      transport_(loop, options_.key),
      schedule_(options_.schedule),
      subnet_limiter_(options_.max_contacts_per_subnet_per_second),
      pump_timer_(loop) {
  mconn::ChannelDescriptor pex;
  pex.id = pex::kPexChannel;
  pex.priority = 1;
  pex.send_queue_capacity = 10;
  pex.recv_message_capacity = pex::kMaxMsgSize;
  channels_ = {pex};
  options_.our_info.channels = Bytes{pex::kPexChannel};
  options_.our_info.node_id = options_.key->node_id();
  if (options_.network) options_.our_info.network = *options_.network;
}

Crawler::~Crawler() { stop(); }

void Crawler::emit(const observe::Observation& o) {
  if (options_.observer) options_.observer->observe(o);
}

void Crawler::saw_node(const observe::NodeSeen& seen) {
  const NodeInfo& info = seen.info;
  if (info.network.empty()) return; // another adopting endpoint: no chain to file it under
  seen_[info.network].insert(info.node_id);
  auto [it, inserted] = networks_.emplace(info.network, seen.outbound);
  if (inserted && !seen.outbound) ++unconfirmed_;
  if (!inserted && seen.outbound && !it->second) {
    it->second = true;
    --unconfirmed_;
  }
  emit(seen);
}

bool Crawler::inbound_may_add(const IpAddress& ip) {
  std::size_t& n = inbound_learnt_[PendingPool::subnet_of(ip)];
  if (n >= options_.inbound_learn_per_subnet) {
    ++counters_.inbound_learn_refused;
    return false;
  }
  ++n;
  return true;
}

bool Crawler::admit_inbound_network(const std::string& network) const {
  return network.empty() || networks_.count(network) != 0 ||
         unconfirmed_ < options_.max_unconfirmed_networks;
}

void Crawler::restore(const storage::ObservatoryState& state) {
  for (const auto& n : state.networks) {
    networks_[n.network] = n.confirmed;
    if (!n.confirmed) ++unconfirmed_;
  }
  for (const auto& n : state.nodes) seen_[n.network].insert(n.id);
  for (const auto& a : state.addresses) {
    if (a.addr.id == options_.our_info.node_id) continue;
    schedule_.restore(a);
    if (a.network.empty() || !is_set(a.last_success)) continue;
    KnownNode& k = nodes_[a.network][a.addr.id];
    if (!is_set(k.last_success) || a.last_success > k.last_success) {
      k.addr = a.addr;
      k.last_success = a.last_success;
      k.reachable = a.state == crawl::AddrState::kReachable;
    }
  }
  for (const auto& n : state.availability) {
    auto net = nodes_.find(n.network);
    if (net == nodes_.end()) continue;
    auto it = net->second.find(n.id);
    if (it != net->second.end()) it->second.availability = n.availability;
  }
}

void Crawler::add_seed(const PeerAddress& addr) {
  if (auto na = addr.net_address()) {
    if (excluded(*na)) {
      ++counters_.seeds_ignored;
      log().info("seed ignored: on the exclude list",
                 {{"peer", addr.id}, {"addr", na->dial_string()}});
    } else if (acceptable(*na)) {
      if (schedule_.add(*na, options_.network.value_or(""), wall_now()))
        emit(observe::AddressUpdate{*schedule_.find(*na), wall_now()});
    } else {
      ++counters_.seeds_ignored;
      log().error("seed ignored",
                  {{"peer", addr.id},
                   {"addr", na->dial_string()},
                   {"why", options_.loopback_only
                               ? "not a loopback address (loopback_only: simulations dial "
                                 "nothing else)"
                               : "not a routable address (loopback and private ranges are not "
                                 "dialed; --loopback-only or [p2p] loopback_only = true for a "
                                 "simulation)"}});
    }
    if (started_) pump();
    return;
  }
  auto resolver = std::make_unique<runtime::Resolver>(loop_);
  auto* r = resolver.get();
  resolvers_.push_back(std::move(resolver));
  r->resolve(addr.host, addr.port, [this, addr](int status, std::vector<sockaddr_storage> addrs) {
    if (status != 0) {
      log().error("seed: DNS lookup failed", {{"peer", addr.id},
                                              {"addr", fmt::format("{}:{}", addr.host, addr.port)},
                                              {"err", runtime::uv_error_text(status)}});
      return;
    }
    for (const auto& ss : addrs) {
      auto resolved = parse_peer_address(
          addr.id + "@" + runtime::format_sockaddr(reinterpret_cast<const sockaddr*>(&ss)));
      if (resolved.ok() && resolved->ip) add_seed(*resolved);
    }
  });
}

void Crawler::start() {
  if (started_) return;
  rlimit rl{};
  std::size_t budget = 1024;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    if (rl.rlim_cur < rl.rlim_max) {
      rlimit raised = rl;
      raised.rlim_cur = rl.rlim_max;
      if (setrlimit(RLIMIT_NOFILE, &raised) == 0) rl = raised;
    }
    budget = static_cast<std::size_t>(std::min<rlim_t>(rl.rlim_cur, 1u << 20));
  }
  // Reserve: inbound upgrades and peers, the database, the metrics server, stdio.
  const std::size_t reserve = 64 + options_.max_inbound + options_.handshake_pool.capacity;
  max_dials_ = budget > reserve ? std::min(options_.max_concurrent_dials, budget - reserve) : 0;
  if (max_dials_ == 0) {
    throw std::runtime_error(fmt::format(
        "only {} file descriptors available; raise the limit (ulimit -n) or lower max_inbound",
        budget));
  }
  if (max_dials_ < options_.max_concurrent_dials) {
    log().info("max_concurrent_dials lowered to fit the file descriptor limit",
               {{"configured", options_.max_concurrent_dials},
                {"max_concurrent_dials", max_dials_},
                {"fd_limit", budget}});
  }
  if (!options_.laddr.empty()) {
    runtime::UpgradeOptions up;
    up.our_info = options_.our_info;
    up.adopt_peer_network = !options_.network.has_value();
    up.handshake_timeout = options_.handshake_timeout;
    transport_.set_accept_filter([this](const IpAddress& ip) {
      if (options_.exclude != nullptr && options_.exclude->excluded_ip(ip)) {
        ++counters_.excluded_refused;
        return true;
      }
      return bans_.ip_banned(ip, loop_.now());
    });
    PendingPoolConfig pool = options_.handshake_pool;
    pool.timeout = options_.handshake_timeout;
    port_ = transport_.listen(
        options_.laddr, up, [this](runtime::UpgradeResult r) { on_accepted(std::move(r)); }, pool);
    // Dials advertise the bound port.
    if (options_.our_info.listen_addr.ends_with(":0")) {
      options_.our_info.listen_addr =
          options_.our_info.listen_addr.substr(0, options_.our_info.listen_addr.size() - 1) +
          std::to_string(port_);
    }
  }
  started_ = true;
  pump();
}

void Crawler::stop() {
  if (stopped_) return;
  stopped_ = true;
  pump_timer_.stop();
  transport_.close(); // pending upgrades end without their handlers
  resolvers_.clear();
  for (auto& [sid, s] : sessions_) {
    s->timer.stop();
    s->contact.abandon();
    if (s->peer) s->peer->stop(false);
  }
  // Peers may be on the call stack (stop() from a handler): destroy them later.
  auto sessions = std::make_shared<decltype(sessions_)>(std::move(sessions_));
  sessions_.clear();
  loop_.defer([sessions] {});
}

bool Crawler::acceptable(const NetAddress& a) const {
  if (!a.valid() || a.port == 0 || a.id == options_.our_info.node_id) return false;
  return options_.loopback_only ? a.loopback() : a.routable();
}

void Crawler::arm_pump(WallTime due) {
  if (stopped_) return;
  if (due == WallTime::max()) {
    pump_timer_.stop();
    return;
  }
  const auto now = wall_now();
  auto delay = due > now ? std::chrono::duration_cast<Millis>(due - now) + Millis(1) : Millis(0);
  delay = std::min(delay, Millis(60'000));
  pump_timer_.start(delay, [this] { pump(); });
}

void Crawler::pump() {
  if (stopped_ || !started_) return;
  const auto now = wall_now();
  while (dialing_ < max_dials_) {
    auto a = schedule_.pop_due(now);
    if (!a) break;
    if (may_contact(*a, now)) start_contact(*a);
  }
  arm_pump(dialing_ < max_dials_ ? schedule_.next_due() : WallTime::max());
}

bool Crawler::may_contact(const crawl::ScheduledAddress& a, WallTime now) {
  // Checked at dial time, not when learnt: a reload of the list applies to known addresses.
  if (excluded(a.addr)) {
    ++counters_.excluded_not_dialed;
    schedule_.postpone(a.addr, now + options_.excluded_recheck);
    return false;
  }
  if (auto later = subnet_limiter_.take(a.addr.ip, clock_->mono())) {
    ++counters_.subnet_deferred;
    // Always in the future, so the pump loop ends.
    schedule_.postpone(a.addr, now + std::max(Millis(1), *later - clock_->mono()));
    return false;
  }
  return true;
}

std::vector<NetAddress> Crawler::answer_for(const NodeInfo& requester) {
  const std::string& network = requester.network;
  auto answer = seed_answer(network);
  // Not its own address back.
  std::erase_if(answer, [&](const NetAddress& a) { return a.id == requester.node_id; });
  ++counters_.seed_requests;
  counters_.seed_addresses += answer.size();
  NetworkStats& by_network = counters_.networks[network];
  ++by_network.seed_requests;
  by_network.seed_addresses += answer.size();
  return answer;
}

void Crawler::start_contact(const crawl::ScheduledAddress& a) {
  const auto sid = next_sid_++;
  auto s = std::make_unique<Session>(
      loop_, crawl::Contact::outbound(a, options_.contact, *clock_,
                                      [this](const NodeInfo& r) { return answer_for(r); }));
  s->id = sid;
  ++dialing_;
  sessions_.emplace(sid, std::move(s));
  runtime::DialOptions opts;
  opts.dial_timeout = options_.dial_timeout;
  opts.upgrade.our_info = options_.our_info;
  opts.upgrade.adopt_peer_network = !options_.network.has_value();
  opts.upgrade.handshake_timeout = options_.handshake_timeout;
  PeerAddress pa;
  pa.id = a.addr.id;
  pa.host = a.addr.ip.to_string();
  pa.port = a.addr.port;
  pa.ip = a.addr.ip;
  transport_.dial(pa, opts,
                  [this, sid](runtime::UpgradeResult r) { on_dialed(sid, std::move(r)); });
}

void Crawler::on_dialed(std::uint64_t sid, runtime::UpgradeResult result) {
  auto it = sessions_.find(sid);
  if (it == sessions_.end()) return;
  Session& s = *it->second;
  if (!result.ok()) {
    const auto& f = result.failure;
    s.contact.on_upgrade_failed(f.failure, f.detail, f.peer_info,
                                {f.timings.tcp_connect_ms, f.timings.handshake_ms});
    return drive(sid);
  }
  const auto& t = result.connection->timings();
  s.contact.on_upgraded(result.connection->peer_info(), {t.tcp_connect_ms, t.handshake_ms});
  start_peer(s, std::move(result.connection));
  drive(sid);
}

std::optional<std::pair<Failure, std::string>>
Crawler::refuse_inbound(const NodeInfo& peer, const NetAddress& remote) const {
  if (bans_.id_banned(peer.node_id, loop_.now()) || bans_.ip_banned(remote.ip, loop_.now()))
    return std::pair{Failure{Stage::kLocalPolicy, Reason::kBanned},
                     std::string("banned for breaking the PEX rules")};
  if (inbound_ > options_.max_inbound)
    return std::pair{Failure{Stage::kLocalPolicy, Reason::kPeerLimit},
                     std::string("inbound peers at max_inbound")};
  if (!admit_inbound_network(peer.network))
    return std::pair{Failure{Stage::kLocalPolicy, Reason::kNotAllowed},
                     fmt::format("chain {} is unknown and {} networks known only from inbound "
                                 "peers are waiting for an outbound contact to confirm them",
                                 peer.network, unconfirmed_)};
  return std::nullopt;
}

void Crawler::on_accepted(runtime::UpgradeResult result) {
  if (stopped_) return;
  const auto sid = next_sid_++;
  const NetAddress remote =
      result.ok() ? result.connection->remote() : result.failure.remote.value_or(NetAddress{});
  auto s = std::make_unique<Session>(
      loop_, crawl::Contact::inbound(remote, options_.contact, *clock_,
                                     [this](const NodeInfo& r) { return answer_for(r); }));
  s->id = sid;
  Session& ref = *s;
  sessions_.emplace(sid, std::move(s));
  ++inbound_;
  if (!result.ok()) {
    const auto& f = result.failure;
    ref.contact.on_upgrade_failed(f.failure, f.detail, f.peer_info, {0, f.timings.handshake_ms});
    return drive(sid);
  }
  const NodeInfo& info = result.connection->peer_info();
  if (auto refused = refuse_inbound(info, remote)) {
    result.connection->abort();
    // Past the unconfirmed-networks cap nothing of the peer is recorded, its chain included;
    // nor of an excluded one.
    const bool keep = refused->first.reason == Reason::kPeerLimit;
    if (excluded_peer(info, remote)) ++counters_.excluded_refused;
    ref.contact.on_rejected(refused->first, refused->second,
                            keep ? std::optional<NodeInfo>(info) : std::nullopt);
    return drive(sid);
  }
  // What it says its listen address is (with the observed IP when it advertises 0.0.0.0): a
  // candidate to contact ourselves.
  if (auto la = advertised_address(info, remote.ip); la && acceptable(*la) && !excluded(*la)) {
    const bool known = static_cast<bool>(schedule_.find(*la)); // may be revived, costs nothing
    if ((known || inbound_may_add(remote.ip)) && schedule_.add(*la, info.network, wall_now())) {
      emit(observe::AddressUpdate{*schedule_.find(*la), wall_now()});
      pump();
    }
  }
  const auto& t = result.connection->timings();
  ref.contact.on_upgraded(info, {0, t.handshake_ms});
  start_peer(ref, std::move(result.connection));
  drive(sid);
}

void Crawler::start_peer(Session& s, std::unique_ptr<runtime::Connection> connection) {
  PeerInfo info;
  info.id = connection->peer_id();
  info.node_info = connection->peer_info();
  info.outbound = !s.contact.is_inbound();
  info.socket = connection->remote();
  s.peer = std::make_unique<runtime::Peer>(loop_, std::move(connection), info, channels_,
                                           options_.mconn);
  const auto sid = s.id;
  s.peer->start(
      [this, sid](runtime::Peer&, mconn::ChannelId ch, Bytes msg) {
        auto it = sessions_.find(sid);
        if (it == sessions_.end() || ch != pex::kPexChannel) return;
        it->second->contact.on_message(msg);
        drive(sid);
      },
      [this, sid](runtime::Peer&, const Failure& why, const std::string& detail) {
        auto it = sessions_.find(sid);
        if (it == sessions_.end()) return;
        it->second->contact.on_peer_failed(why, detail);
        drive(sid);
      });
}

void Crawler::drive(std::uint64_t sid) {
  auto it = sessions_.find(sid);
  if (it == sessions_.end()) return;
  Session& s = *it->second;
  for (auto& a : s.contact.take_actions()) {
    if (!s.peer) continue;
    if (a.kind == crawl::ContactAction::Kind::kSend)
      s.peer->send(pex::kPexChannel, std::move(a.pex_message));
    else s.peer->stop(a.graceful, Millis(1000));
  }
  for (auto& o : s.contact.take_observations()) {
    if (auto* seen = std::get_if<observe::NodeSeen>(&o)) {
      // A node an inbound stranger claims to be: kept within its subnet's allowance.
      if (!seen->outbound && !seen->info.network.empty() &&
          seen_[seen->info.network].count(seen->info.node_id) == 0 &&
          !inbound_may_add(s.contact.remote().ip))
        continue;
      saw_node(*seen);
      continue;
    }
    if (auto* c = std::get_if<observe::ContactRecord>(&o)) {
      ++counters_.outcomes[std::string(crawl::to_string(c->outcome))];
      if (c->inbound) ++counters_.inbound;
    }
    emit(o);
  }
  if (s.contact.finished()) return end_session(sid);
  const TimePoint deadline = s.contact.next_deadline();
  if (deadline == TimePoint::max()) {
    s.timer.stop();
    return;
  }
  s.timer.start(std::max(Millis(0), deadline - clock_->mono()), [this, sid] {
    auto found = sessions_.find(sid);
    if (found == sessions_.end()) return;
    found->second->contact.on_tick();
    drive(sid);
  });
}

void Crawler::learn(const crawl::Contact& c) {
  const auto now = wall_now();
  const std::string network = c.network();
  const std::string source = c.peer_info() ? c.peer_info()->node_id : c.dialed().addr.id;
  counters_.addresses_received += c.learnt().size();
  for (const auto& a : c.learnt()) {
    if (!acceptable(a)) {
      ++counters_.addresses_ignored;
      continue;
    }
    if (excluded(a)) { // not a target, nor recorded as advertised
      ++counters_.excluded_not_learnt;
      continue;
    }
    if (schedule_.add(a, network, now)) emit(observe::AddressUpdate{*schedule_.find(a), now});
    emit(observe::Advertised{network, source, a, now});
  }
}

void Crawler::end_session(std::uint64_t sid) {
  auto it = sessions_.find(sid);
  if (it == sessions_.end()) return;
  std::unique_ptr<Session> owned = std::move(it->second);
  sessions_.erase(it);
  owned->timer.stop();
  const crawl::Contact& c = owned->contact;
  if (c.is_inbound()) {
    --inbound_;
    // A peer that broke the PEX rules on our seed service is banned, by ID and by IP, as a
    // Tendermint node bans it: its next connections are closed at accept.
    if (c.outcome() == crawl::Outcome::kMisbehaving && c.failure().stage == Stage::kPex &&
        c.peer_info())
      bans_.ban(c.peer_info()->node_id, c.remote().ip, loop_.now(), options_.ban_time);
  } else if (!c.abandoned()) {
    --dialing_;
    ++counters_.contacts;
    learn(c);
    record_verdict(c);
  }
  // Handlers of this session may be on the call stack.
  auto shared = std::shared_ptr<Session>(std::move(owned));
  loop_.defer([shared] {});
  if (!shared->contact.is_inbound()) pump();
}

void Crawler::record_verdict(const crawl::Contact& c) {
  const auto now = wall_now();
  const crawl::Verdict verdict = c.verdict();
  const std::string network = c.peer_info() ? c.peer_info()->network : "";
  auto finished = schedule_.finish(c.dialed().addr, verdict, network, now);
  if (!finished) {
    log().error("bug: contact ended without being scheduled",
                {{"peer", c.dialed().addr.id},
                 {"addr", c.dialed().addr.dial_string()},
                 {"so_far", schedule_.invariant_violations()}});
    return;
  }
  const crawl::ScheduledAddress& entry = *finished;
  emit(observe::AddressUpdate{entry, now});
  // Availability is the node's: a failure counts only on the address it is known by.
  const std::string& net = entry.network;
  KnownNode* node = nullptr;
  if (c.peer_info() && verdict == crawl::Verdict::kVerified) {
    node = &nodes_[net][c.peer_info()->node_id];
    node->addr = c.dialed().addr;
    node->info = *c.peer_info();
  } else if (auto n = nodes_.find(net); n != nodes_.end()) {
    auto k = n->second.find(c.dialed().addr.id);
    if (k != n->second.end() && k->second.addr == c.dialed().addr) node = &k->second;
  }
  if (node) {
    const bool g = crawl::good(c.outcome());
    node->availability.update(g, now);
    node->reachable = g;
    if (g) node->last_success = now;
    emit(observe::AvailabilityUpdate{net, c.dialed().addr.id, node->availability});
  }
}

void Crawler::set_geo(const IpAddress& ip, const geo::GeoInfo& info) {
  if (info.asn != 0) asn_by_ip_[ip] = info.asn;
  else asn_by_ip_.erase(ip);
}

std::vector<NetAddress> Crawler::seed_answer(const std::string& network) const {
  auto it = nodes_.find(network);
  if (it == nodes_.end()) return {};
  std::vector<crawl::SeedCandidate> candidates;
  for (const auto& [id, n] : it->second) {
    if (!n.reachable || excluded(n.addr)) continue;
    const auto asn = asn_by_ip_.find(n.addr.ip);
    candidates.push_back({n.addr, n.availability.score(), n.last_success,
                          asn == asn_by_ip_.end() ? 0 : asn->second});
  }
  const auto fresh = wall_now() - options_.seed_fresh;
  const auto max = crawl::seed_answer_size(candidates.size());
  return crawl::select_seed_addresses(std::move(candidates), max, fresh, false);
}

CrawlerStats Crawler::stats() const {
  CrawlerStats s = counters_;
  s.in_flight = dialing_;
  s.known = schedule_.size();
  for (auto st :
       {crawl::AddrState::kNew, crawl::AddrState::kReachable, crawl::AddrState::kMisbehaving,
        crawl::AddrState::kUnreachable, crawl::AddrState::kRetired})
    s.by_state[std::string(crawl::to_string(st))] = schedule_.count(st);
  const auto now = wall_now();
  std::map<std::string, std::unordered_set<std::string>> reachable;
  schedule_.for_each([&](const crawl::ScheduledAddress& e) {
    if (e.state != crawl::AddrState::kRetired && e.next_attempt <= now) ++s.due;
    ++s.networks[e.network].addresses;
    if (e.state == crawl::AddrState::kReachable) reachable[e.network].insert(e.addr.id);
  });
  for (const auto& [net, ids] : reachable) s.networks[net].reachable = ids.size();
  for (const auto& [net, ids] : seen_) s.networks[net].nodes_seen = ids.size();
  s.networks.erase("");
  return s;
}

} // namespace seedscope::engine
