#include "crawler/runtime/switch.hpp"

#include <stdexcept>

namespace seedscope::runtime {

Switch::Switch(Loop& loop, std::shared_ptr<const crypto::NodeKey> node_key, SwitchConfig config,
               SwitchObserver* observer)
    : loop_(loop),
      transport_(loop, node_key),
      config_(std::move(config)),
      observer_(observer),
      peer_set_(node_key->node_id(), config_.limits) {}

Switch::~Switch() {
  stopping_ = true;
  transport_.close();
  persistent_.clear();
  for (auto& [id, peer] : peers_) peer->stop(false);
}

void Switch::add_reactor(Reactor& reactor) {
  for (const auto& d : reactor.channels())
    if (reactors_.count(d.id) != 0)
      throw std::invalid_argument("channel " + std::to_string(d.id) + " of reactor " +
                                  std::string(reactor.name()) + " is already taken by " +
                                  std::string(reactors_[d.id]->name()));
  for (const auto& d : reactor.channels()) {
    reactors_[d.id] = &reactor;
    channels_.push_back(d);
  }
  reactor_list_.push_back(&reactor);
  reactor.attach(*this);
}

UpgradeOptions Switch::upgrade_options(bool inbound) const {
  UpgradeOptions o = config_.dial.upgrade;
  o.our_info.channels.clear();
  for (const auto& d : channels_) o.our_info.channels.push_back(d.id);
  if (inbound) o.adopt_peer_network = config_.inbound_adopt_network;
  return o;
}

std::uint16_t Switch::listen(std::string_view laddr) {
  transport_.set_accept_filter([this](const IpAddress& ip) {
    if (config_.exclude != nullptr && config_.exclude->excluded_ip(ip)) {
      ++refused_excluded_;
      ++refused_excluded_at_accept_;
      return true;
    }
    return bans_.ip_banned(ip, loop_.now());
  });
  PendingPoolConfig pool = config_.handshake_pool;
  pool.timeout = config_.dial.upgrade.handshake_timeout;
  const std::uint16_t port = transport_.listen(
      laddr, upgrade_options(true),
      [this](UpgradeResult r) { on_upgraded(std::move(r), false, {}); }, pool);
  // Listening on port 0 (tests, demo): dials advertise the port we got, like accepts do.
  std::string& advertised = config_.dial.upgrade.our_info.listen_addr;
  if (advertised.size() >= 2 && advertised.ends_with(":0"))
    advertised = advertised.substr(0, advertised.size() - 1) + std::to_string(port);
  return port;
}

bool Switch::dial_allowed(const PeerAddress& addr) const {
  auto net = addr.net_address();
  if (config_.exclude != nullptr &&
      (config_.exclude->excluded_id(addr.id) || (net && config_.exclude->excluded_ip(net->ip))))
    return false;
  if (!config_.loopback_only) return true;
  return net && net->loopback(); // host names are not resolved to find out: refused
}

void Switch::dial(const PeerAddress& addr) {
  if (!dial_allowed(addr)) return;
  if (stopping_ || peer_set_.has(addr.id) || addr.id == peer_set_.our_id()) return;
  if (!peer_set_.begin_dial(addr.id)) return;
  ++plain_dials_;
  start_dial(addr);
}

void Switch::dial_peer(const PeerAddress& addr, DialDone done) {
  auto refuse = [&](Reason reason) {
    loop_.defer([done, reason] { done(Failure{Stage::kLocalPolicy, reason}); });
  };
  if (stopping_) return;
  if (!dial_allowed(addr)) return refuse(Reason::kNotAllowed);
  if (addr.id == peer_set_.our_id()) return refuse(Reason::kSelf);
  if (is_dialing_or_connected(addr.id)) return refuse(Reason::kDuplicatePeer);
  // Outbound slots (with the dials that will fill them) full: refused before the dial, not
  // after a handshake. Persistent and unconditional peers are not counted against it.
  if (!outbound_exempt(addr.id) && num_outbound() + num_dialing() >= max_outbound())
    return refuse(Reason::kPeerLimit);
  peer_set_.begin_dial(addr.id); // not dialing yet: checked above
  dial_done_[addr.id] = std::move(done);
  start_dial(addr);
}

void Switch::finish_dial(const std::string& id, const std::optional<Failure>& failure) {
  auto it = dial_done_.find(id);
  if (it == dial_done_.end()) {
    if (plain_dials_ > 0) --plain_dials_;
    return;
  }
  DialDone done = std::move(it->second);
  dial_done_.erase(it);
  if (done) done(failure);
}

void Switch::start_dial(const PeerAddress& addr) {
  DialOptions opts = config_.dial;
  opts.upgrade = upgrade_options(false);
  const std::string id = addr.id;
  transport_.dial(addr, std::move(opts),
                  [this, id](UpgradeResult r) { on_upgraded(std::move(r), true, id); });
}

void Switch::add_persistent_peer(const PeerAddress& addr) {
  auto& p = persistent_[addr.id];
  p.addr = addr;
  p.failures = 0;
  if (!p.timer) p.timer = std::make_unique<Timer>(loop_);
  dial(addr);
}

void Switch::on_upgraded(UpgradeResult result, bool outbound, const std::string& dialed_id) {
  if (outbound) peer_set_.end_dial(dialed_id);
  if (stopping_) return; // the connection, if any, closes as `result` goes away
  if (!result.ok()) {
    if (outbound) result.failure.dialed_id = dialed_id;
    if (observer_) observer_->on_connect_failed(result.failure);
    if (outbound) {
      if (result.failure.failure.reason != Reason::kSelf) schedule_reconnect(dialed_id);
      finish_dial(dialed_id, result.failure.failure);
    }
    return;
  }
  std::optional<Failure> refused = add_peer(std::move(result.connection), outbound);
  if (outbound) finish_dial(dialed_id, refused);
}

std::optional<Failure> Switch::add_peer(std::unique_ptr<Connection> connection, bool outbound) {
  const std::string id = connection->peer_id();
  const NetAddress remote = connection->remote();
  const std::string ip = remote.ip.to_string();

  Admission admission = peer_set_.check(id, ip, outbound, outbound && outbound_exempt(id));
  if (admission == Admission::kOk && !outbound &&
      (bans_.id_banned(id, loop_.now()) || bans_.ip_banned(remote.ip, loop_.now()))) {
    admission = Admission::kBanned;
    ++refused_banned_;
  }
  // The exclude list may have grown while this connection was dialed or upgraded.
  const bool refused_excluded = excluded(id, remote.ip);
  if (refused_excluded) ++refused_excluded_;
  if (admission == Admission::kInboundFull && inbound_eviction_ && !refused_excluded) {
    if (auto victim = inbound_eviction_(); victim && *victim != id && peers_.count(*victim) != 0) {
      ++inbound_evictions_;
      remove_peer(*victim, {Stage::kLocalPolicy, Reason::kPeerLimit},
                  "dropped for a newcomer: inbound slots full and it asked nothing", false);
      admission = peer_set_.check(id, ip, outbound);
    }
  }
  if (admission != Admission::kOk || refused_excluded) {
    UpgradeFailure f;
    f.failure = refused_excluded ? Failure{Stage::kLocalPolicy, Reason::kNotAllowed}
                                 : admission_failure(admission);
    f.detail = refused_excluded
                   ? std::string("refused by the switch: on the exclude list")
                   : std::string("refused by the switch: ") + std::string(to_string(admission));
    f.peer_info = connection->peer_info();
    f.peer_id = id;
    f.remote_address = connection->remote_address();
    f.remote = remote;
    f.direction = outbound ? Direction::kOutbound : Direction::kInbound;
    f.timings = connection->timings();
    connection->abort();
    if (observer_) observer_->on_connect_failed(f);
    return f.failure;
  }

  PeerInfo info;
  info.id = id;
  info.node_info = connection->peer_info();
  info.outbound = outbound;
  info.persistent = persistent_.count(id) != 0;
  info.socket = remote;
  if (auto it = persistent_.find(id); it != persistent_.end()) {
    it->second.failures = 0;
    it->second.timer->stop();
  }

  auto peer = std::make_unique<Peer>(loop_, std::move(connection), info, channels_, config_.mconn);
  Peer& ref = *peer;
  peers_.emplace(id, std::move(peer));
  peer_set_.add(id, ip, outbound);
  connected_at_[id] = loop_.now();
  for (Reactor* r : reactor_list_) r->add_peer(info);
  if (observer_) observer_->on_peer_added(info);
  if (ref.stopped()) return std::nullopt; // a reactor stopped it in add_peer
  ref.start(
      [this](Peer& p, mconn::ChannelId ch, Bytes msg) {
        auto it = reactors_.find(ch);
        if (it != reactors_.end()) it->second->receive(p.info(), ch, msg);
      },
      [this](Peer& p, const Failure& why, const std::string& detail) {
        on_peer_error(p, why, detail);
      });
  return std::nullopt;
}

void Switch::on_peer_error(Peer& peer, const Failure& why, const std::string& detail) {
  remove_peer(peer.info().id, why, detail, false);
}

void Switch::remove_peer(const std::string& id, const Failure& why, const std::string& detail,
                         bool graceful) {
  auto it = peers_.find(id);
  if (it == peers_.end()) return;
  std::shared_ptr<Peer> peer(std::move(it->second));
  peers_.erase(it);
  peer_set_.remove(id);
  connected_at_.erase(id);
  peer->stop(graceful, config_.stop_linger);
  // The peer may be on the call stack (its own handler got us here): destroy it later.
  loop_.defer([peer] {});
  for (Reactor* r : reactor_list_) r->remove_peer(peer->info(), why);
  if (observer_) observer_->on_peer_removed(peer->info(), why, detail);
  if (why.reason != Reason::kShutdown) schedule_reconnect(id);
}

void Switch::schedule_reconnect(const std::string& id) {
  auto it = persistent_.find(id);
  if (stopping_ || it == persistent_.end()) return;
  Persistent& p = it->second;
  std::uniform_real_distribution<double> jitter(0.0, 1.0);
  const auto delay = config_.reconnect_schedule(p.failures, jitter(rng_));
  if (!delay) return; // Go gives up after about eight hours
  ++p.failures;
  p.timer->start(*delay, [this, id] {
    auto it2 = persistent_.find(id);
    if (it2 != persistent_.end() && !peer_set_.has(id)) dial(it2->second.addr);
  });
}

bool Switch::send(const std::string& peer_id, mconn::ChannelId channel, Bytes msg) {
  auto it = peers_.find(peer_id);
  return it != peers_.end() && it->second->send(channel, std::move(msg));
}

std::size_t Switch::broadcast(mconn::ChannelId channel, const Bytes& msg) {
  std::size_t n = 0;
  for (auto& [id, peer] : peers_) n += peer->send(channel, msg) ? 1 : 0;
  return n;
}

void Switch::stop_peer(const std::string& peer_id, Failure why, std::string detail, bool graceful) {
  remove_peer(peer_id, why, detail, graceful);
}

void Switch::stop() {
  if (stopping_) return;
  stopping_ = true;
  transport_.close();
  for (auto& [id, p] : persistent_) p.timer->stop();
  std::vector<std::string> ids = peer_ids();
  for (const auto& id : ids)
    remove_peer(id, {Stage::kLocalPolicy, Reason::kShutdown}, "shutdown", true);
}

const Peer* Switch::find_peer(const std::string& id) const {
  auto it = peers_.find(id);
  return it == peers_.end() ? nullptr : it->second.get();
}

std::vector<PeerInfo> Switch::peers() const {
  std::vector<PeerInfo> out;
  out.reserve(peers_.size());
  for (const auto& [id, p] : peers_) out.push_back(p->info());
  return out;
}

Millis Switch::connected_for(const std::string& peer_id) const {
  auto it = connected_at_.find(peer_id);
  return it == connected_at_.end() ? Millis(0) : loop_.now() - it->second;
}

void Switch::ban_peer(const PeerInfo& peer, Millis duration) {
  bans_.ban(peer.id, peer.socket.ip, loop_.now(), duration);
}

std::vector<std::string> Switch::peer_ids() const {
  std::vector<std::string> ids;
  for (const auto& [id, p] : peers_) ids.push_back(id);
  return ids;
}

} // namespace seedscope::runtime
