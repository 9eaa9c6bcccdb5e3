#include "crawler/crawl/crawler.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

#include "core/crawl/seed_selection.hpp"
#include "core/pex/pex_messages.hpp"
#include "core/pex/pex_reactor.hpp"

namespace seedscope::crawler {

using crawl::Outcome;

struct Crawler::Session {
  explicit Session(runtime::Loop& loop) : timer(loop) {}
  std::uint64_t id = 0;
  bool inbound = false;
  crawl::ScheduledAddress addr; // outbound: what we dialed
  NetAddress remote;            // the peer's address (inbound: the socket's)
  std::unique_ptr<runtime::Peer> peer;
  runtime::Timer timer;
  std::optional<NodeInfo> info;
  runtime::Timings timings;
  TimePoint connected_at{};
  bool requested = false;
  bool answered = false;
  bool got_message = false;
  std::size_t addrs_received = 0;
  bool finished = false;
};

namespace {

// What the PEX reactor knows of a peer, for its address helpers.
PeerInfo peer_info_of(const std::string& id, const NodeInfo* info, const std::string& remote) {
  PeerInfo p;
  p.id = id;
  if (info) p.node_info = *info;
  p.remote_address = remote;
  if (auto sa = pex::PexReactor::socket_address(p)) p.remote_ip = sa->ip.to_string();
  return p;
}

} // namespace

Crawler::Crawler(runtime::Loop& loop, CrawlerOptions options, CrawlerObserver* observer)
    : loop_(loop),
      options_(std::move(options)),
      observer_(observer),
      transport_(loop, options_.key),
      schedule_(options_.schedule),
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

WallTime Crawler::wall_now() const {
  return std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now());
}

void Crawler::record(storage::ObservatoryRecord record) {
  if (options_.writer) options_.writer->post(std::move(record));
}

void Crawler::saw_node(const NodeInfo& info, bool outbound, WallTime at) {
  if (info.network.empty()) return; // another adopting endpoint: no chain to file it under
  seen_[info.network].insert(info.node_id);
  auto [it, inserted] = networks_.emplace(info.network, outbound);
  if (inserted && !outbound) ++unconfirmed_;
  if (!inserted && outbound && !it->second) {
    it->second = true;
    --unconfirmed_;
  }
  record(storage::NodeSeen{info, at, outbound});
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
    if (acceptable(*na)) {
      if (schedule_.add(*na, options_.network.value_or(""), wall_now()))
        record(storage::AddressUpdate{*schedule_.find(*na), wall_now()});
    } else {
      log(fmt::format("seed {} is not an address we may dial; ignored", addr.to_string()));
    }
    if (started_) pump();
    return;
  }
  auto resolver = std::make_unique<runtime::Resolver>(loop_);
  auto* r = resolver.get();
  resolvers_.push_back(std::move(resolver));
  r->resolve(addr.host, addr.port, [this, addr](int status, std::vector<sockaddr_storage> addrs) {
    if (status != 0) {
      log(fmt::format("seed {}: DNS lookup failed ({})", addr.to_string(), status));
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
  const std::size_t reserve = 64 + 2 * options_.max_inbound;
  max_dials_ = budget > reserve ? std::min(options_.max_concurrent_dials, budget - reserve) : 0;
  if (max_dials_ == 0) {
    throw std::runtime_error(fmt::format(
        "only {} file descriptors available; raise the limit (ulimit -n) or lower max_inbound",
        budget));
  }
  if (max_dials_ < options_.max_concurrent_dials) {
    log(fmt::format("max_concurrent_dials lowered from {} to {} (file descriptor limit {})",
                    options_.max_concurrent_dials, max_dials_, budget));
  }
  if (!options_.laddr.empty()) {
    runtime::UpgradeOptions up;
    up.our_info = options_.our_info;
    up.adopt_peer_network = !options_.network.has_value();
    up.handshake_timeout = options_.handshake_timeout;
    port_ = transport_.listen(
        options_.laddr, up, [this](runtime::UpgradeResult r) { on_accepted(std::move(r)); },
        options_.max_inbound);
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
    start_contact(*a);
  }
  arm_pump(dialing_ < max_dials_ ? schedule_.next_due() : WallTime::max());
}

void Crawler::start_contact(const crawl::ScheduledAddress& a) {
  auto s = std::make_unique<Session>(loop_);
  const auto sid = next_sid_++;
  s->id = sid;
  s->addr = a;
  s->remote = a.addr;
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
    s.timings = f.timings;
    // An authenticated node of another chain or version is still a node we now know.
    if (f.peer_info && !f.peer_id.empty() &&
        (f.failure.reason == Reason::kIncompatibleNetwork ||
         f.failure.reason == Reason::kIncompatibleVersion ||
         f.failure.reason == Reason::kNoCommonChannel)) {
      s.info = f.peer_info;
      saw_node(*s.info, true, wall_now());
    }
    finish(sid, crawl::classify(f.failure, false), f.failure, f.detail);
    return;
  }
  s.timings = result.connection->timings();
  s.info = result.connection->peer_info();
  start_peer(s, std::move(result.connection));
  s.timer.start(options_.request_delay, [this, sid] { send_request(sid); });
}

void Crawler::on_accepted(runtime::UpgradeResult result) {
  if (stopped_) return;
  const auto now = wall_now();
  if (!result.ok()) {
    const auto& f = result.failure;
    storage::Contact c;
    c.at = now;
    c.inbound = true;
    if (auto a = pex::PexReactor::socket_address(peer_info_of(f.peer_id, nullptr, f.remote_address)))
      c.addr = *a;
    // A chain ID an inbound peer claims is recorded only when it is a valid one.
    if (f.peer_info && validate_chain_id(f.peer_info->network)) c.network = f.peer_info->network;
    const auto outcome = crawl::classify(f.failure, false);
    c.outcome = std::string(crawl::to_string(outcome));
    c.stage = std::string(to_string(f.failure.stage));
    c.reason = std::string(to_string(f.failure.reason));
    c.detail = f.detail;
    c.handshake_ms = f.timings.handshake_ms;
    ++counters_.inbound;
    ++counters_.outcomes[c.outcome];
    if (observer_) observer_->on_contact(c, outcome);
    record(std::move(c));
    return;
  }
  auto s = std::make_unique<Session>(loop_);
  const auto sid = next_sid_++;
  s->id = sid;
  s->inbound = true;
  s->info = result.connection->peer_info();
  s->timings = result.connection->timings();
  const PeerInfo peer =
      peer_info_of(s->info->node_id, &*s->info, result.connection->remote_address());
  if (auto a = pex::PexReactor::socket_address(peer)) s->remote = *a;
  Session& ref = *s;
  sessions_.emplace(sid, std::move(s));
  ++inbound_;
  if (inbound_ > options_.max_inbound) {
    result.connection->abort();
    finish(sid, Outcome::kRejected, {Stage::kLocalPolicy, Reason::kPeerLimit},
           "inbound peers at max_inbound");
    return;
  }
  if (!admit_inbound_network(ref.info->network)) {
    result.connection->abort();
    const std::string detail =
        fmt::format("chain {} is unknown and {} networks known only from inbound peers are "
                    "waiting for an outbound contact to confirm them",
                    ref.info->network, unconfirmed_);
    ref.info.reset(); // nothing of an unconfirmed chain past the cap is recorded
    finish(sid, Outcome::kRejected, {Stage::kLocalPolicy, Reason::kNotAllowed}, detail);
    return;
  }
  // What it says its listen address is (with the observed IP when it advertises 0.0.0.0): a
  // candidate to contact ourselves.
  if (auto la = pex::PexReactor::advertised_address(peer); la && acceptable(*la)) {
    if (schedule_.add(*la, ref.info->network, now)) {
      record(storage::AddressUpdate{*schedule_.find(*la), now});
      pump();
    }
  }
  start_peer(ref, std::move(result.connection));
  ref.timer.start(options_.inbound_hold, [this, sid] {
    finish(sid, Outcome::kIdle, {Stage::kLocalPolicy, Reason::kDone},
           "asked nothing; let go after inbound_hold");
  });
}

void Crawler::start_peer(Session& s, std::unique_ptr<runtime::Connection> connection) {
  saw_node(*s.info, !s.inbound, wall_now());
  PeerInfo info;
  info.id = s.info->node_id;
  info.node_info = *s.info;
  info.outbound = !s.inbound;
  info.remote_address = connection->remote_address();
  s.connected_at = loop_.now();
  s.peer = std::make_unique<runtime::Peer>(loop_, std::move(connection), info, channels_,
                                           options_.mconn);
  const auto sid = s.id;
  s.peer->start(
      [this, sid](runtime::Peer&, mconn::ChannelId ch, Bytes msg) { on_message(sid, ch, msg); },
      [this, sid](runtime::Peer&, const Failure& why, const std::string& detail) {
        on_peer_error(sid, why, detail);
      });
}

void Crawler::send_request(std::uint64_t sid) {
  auto it = sessions_.find(sid);
  if (it == sessions_.end() || !it->second->peer) return;
  Session& s = *it->second;
  s.requested = true;
  s.peer->send(pex::kPexChannel, pex::encode_pex_request());
  s.timer.start(options_.pex_timeout, [this, sid] {
    finish(sid, Outcome::kNoAnswer, {Stage::kPex, Reason::kTimeout},
           "no PexAddrs within pex_timeout");
  });
}

void Crawler::on_message(std::uint64_t sid, mconn::ChannelId channel, const Bytes& msg) {
  auto it = sessions_.find(sid);
  if (it == sessions_.end() || it->second->finished) return;
  Session& s = *it->second;
  s.got_message = true;
  if (channel != pex::kPexChannel) return; // the MConnection refuses unknown channels already
  auto decoded = pex::decode_pex_message(msg);
  if (!decoded) {
    const bool bad_addr = decoded.error().code == pex::PexMessageError::kBadAddress;
    finish(sid, Outcome::kMisbehaving,
           {Stage::kPex, bad_addr ? Reason::kBadAddrs : Reason::kMalformed},
           decoded.error().message());
    return;
  }
  if (decoded->is_request()) {
    if (s.answered) return; // one answer per connection
    s.answered = true;
    const std::string network = s.info ? s.info->network : "";
    auto answer = seed_answer(network);
    ++counters_.seed_requests;
    counters_.seed_addresses += answer.size();
    NetworkStats& by_network = counters_.networks[network];
    ++by_network.seed_requests;
    by_network.seed_addresses += answer.size();
    s.peer->send(pex::kPexChannel, pex::encode_pex_addrs(answer));
    if (s.inbound) {
      finish(sid, Outcome::kServed, {Stage::kLocalPolicy, Reason::kDone},
             fmt::format("answered with {} addresses", answer.size()));
    }
    return;
  }
  if (s.inbound || !s.requested) {
    finish(sid, Outcome::kMisbehaving, {Stage::kPex, Reason::kUnsolicitedAddrs},
           fmt::format("PexAddrs of {} addresses nobody asked for", decoded->addrs.size()));
    return;
  }
  learn(s, decoded->addrs);
  finish(sid, Outcome::kOk, {}, "");
}

void Crawler::learn(Session& s, const std::vector<NetAddress>& addrs) {
  const auto now = wall_now();
  const std::string network = s.info ? s.info->network : s.addr.network;
  const std::string source = s.info ? s.info->node_id : s.addr.addr.id;
  s.addrs_received = addrs.size();
  counters_.addresses_received += addrs.size();
  for (const auto& a : addrs) {
    if (!acceptable(a)) {
      ++counters_.addresses_ignored;
      continue;
    }
    if (schedule_.add(a, network, now)) record(storage::AddressUpdate{*schedule_.find(a), now});
    record(storage::Advertised{network, source, a, now});
  }
}

void Crawler::on_peer_error(std::uint64_t sid, const Failure& why, const std::string& detail) {
  auto it = sessions_.find(sid);
  if (it == sessions_.end() || it->second->finished) return;
  Session& s = *it->second;
  const bool closed = why.reason == Reason::kClosed || why.reason == Reason::kIoError;
  if (s.inbound) {
    finish(sid, closed ? Outcome::kIdle : Outcome::kMisbehaving, why, detail);
    return;
  }
  if (closed && !s.got_message && loop_.now() - s.connected_at <= options_.full_window) {
    finish(sid, Outcome::kFull, {Stage::kLocalPolicy, Reason::kFullAfterHandshake},
           "hung up right after the handshake: " + detail);
    return;
  }
  if (closed || why.reason == Reason::kPongTimeout) {
    finish(sid, Outcome::kNoAnswer, why, detail);
    return;
  }
  finish(sid, Outcome::kMisbehaving, why, detail);
}

void Crawler::finish(std::uint64_t sid, Outcome outcome, const Failure& failure,
                     const std::string& detail) {
  auto it = sessions_.find(sid);
  if (it == sessions_.end() || it->second->finished) return;
  std::unique_ptr<Session> owned = std::move(it->second);
  sessions_.erase(it);
  Session& s = *owned;
  s.finished = true;
  s.timer.stop();
  const auto now = wall_now();

  storage::Contact c;
  c.at = now;
  c.inbound = s.inbound;
  c.addr = s.inbound ? s.remote : s.addr.addr;
  c.network = s.info ? s.info->network : s.addr.network;
  c.outcome = std::string(crawl::to_string(outcome));
  if (outcome != Outcome::kOk) {
    c.stage = std::string(to_string(failure.stage));
    c.reason = std::string(to_string(failure.reason));
  }
  c.detail = detail;
  c.connect_ms = s.timings.tcp_connect_ms;
  c.handshake_ms = s.timings.handshake_ms;
  c.addrs_received = static_cast<std::int64_t>(s.addrs_received);

  if (s.inbound) {
    --inbound_;
    ++counters_.inbound;
  } else {
    --dialing_;
    ++counters_.contacts;
    const crawl::Verdict verdict = crawl::verdict(outcome);
    const bool ok = verdict == crawl::Verdict::kVerified;
    const std::string network = s.info ? s.info->network : "";
    auto entry = schedule_.finish(s.addr.addr, verdict, network, now);
    record(storage::AddressUpdate{entry, now});
    if (!entry.network.empty()) ++contacts_by_network_[entry.network];
    // Availability is the node's: a failure counts only on the address it is known by.
    const std::string& net = entry.network;
    KnownNode* node = nullptr;
    if (s.info && ok) {
      node = &nodes_[net][s.info->node_id];
      node->addr = s.addr.addr;
      node->info = *s.info;
    } else if (auto n = nodes_.find(net); n != nodes_.end()) {
      auto k = n->second.find(s.addr.addr.id);
      if (k != n->second.end() && k->second.addr == s.addr.addr) node = &k->second;
    }
    if (node) {
      const bool g = crawl::good(outcome);
      node->availability.update(g, now);
      node->reachable = g;
      if (g) node->last_success = now;
      record(storage::AvailabilityUpdate{net, s.addr.addr.id, node->availability});
    }
  }
  ++counters_.outcomes[c.outcome];
  if (observer_) observer_->on_contact(c, outcome);
  record(std::move(c));

  if (s.peer) {
    const bool graceful = outcome == Outcome::kOk || outcome == Outcome::kServed ||
                          outcome == Outcome::kNoAnswer || outcome == Outcome::kIdle;
    s.peer->stop(graceful, Millis(1000));
  }
  // Handlers of this session may be on the call stack.
  auto shared = std::shared_ptr<Session>(std::move(owned));
  loop_.defer([shared] {});
  if (!s.inbound) pump();
}

std::vector<NetAddress> Crawler::seed_answer(const std::string& network) const {
  auto it = nodes_.find(network);
  if (it == nodes_.end()) return {};
  std::vector<crawl::SeedCandidate> candidates;
  for (const auto& [id, n] : it->second) {
    if (!n.reachable) continue;
    candidates.push_back({n.addr, n.availability.score(), n.last_success});
  }
  const auto fresh = wall_now() - options_.seed_fresh;
  const auto max = crawl::seed_answer_size(candidates.size());
  return crawl::select_seed_addresses(std::move(candidates), max, fresh, false);
}

CrawlerStats Crawler::stats() const {
  CrawlerStats s = counters_;
  s.in_flight = dialing_;
  s.known = schedule_.size();
  for (auto st : {crawl::AddrState::kNew, crawl::AddrState::kReachable,
                  crawl::AddrState::kMisbehaving, crawl::AddrState::kUnreachable,
                  crawl::AddrState::kRetired})
    s.by_state[std::string(crawl::to_string(st))] = schedule_.count(st);
  const auto now = wall_now();
  std::map<std::string, std::unordered_set<std::string>> reachable, misbehaving;
  schedule_.for_each([&](const crawl::ScheduledAddress& e) {
    if (e.state != crawl::AddrState::kRetired && e.next_attempt <= now) ++s.due;
    ++s.networks[e.network].addresses;
    if (e.state == crawl::AddrState::kReachable) reachable[e.network].insert(e.addr.id);
    if (e.state == crawl::AddrState::kMisbehaving) misbehaving[e.network].insert(e.addr.id);
  });
  for (const auto& [net, ids] : reachable) s.networks[net].reachable = ids.size();
  for (const auto& [net, ids] : misbehaving) s.networks[net].misbehaving = ids.size();
  for (const auto& [net, ids] : seen_) s.networks[net].nodes_seen = ids.size();
  for (const auto& [net, confirmed] : networks_) s.networks[net].confirmed = confirmed;
  for (const auto& [net, n] : contacts_by_network_) s.networks[net].contacts = n;
  s.networks.erase("");
  return s;
}

} // namespace seedscope::crawler
