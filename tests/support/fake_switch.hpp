// A switch for reactor unit tests: records sends, stops and dials; the test completes dials,
// connects inbound peers and runs deferred callbacks by hand. No sockets, no loop.
#pragma once

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "core/p2p/reactor.hpp"
#include "support/fake_clock.hpp"

namespace seedscope::test {

class FakeSwitch final : public SwitchApi {
public:
  struct Sent {
    std::string peer;
    mconn::ChannelId channel;
    Bytes msg;
  };
  struct Stopped {
    std::string peer;
    Failure why;
    std::string detail;
    bool graceful;
  };
  struct Dial {
    PeerAddress addr;
    DialDone done;
  };

  FakeSwitch(const FakeClock& clock, Reactor& reactor) : clock_(clock), reactor_(reactor) {
    reactor_.attach(*this);
  }

  // Test controls.
  bool send_ok = true;        // what send() answers for a connected peer
  bool remove_on_stop = true; // stop_peer removes the peer (and tells the reactor)
  std::size_t max_outbound_peers = 10;
  std::set<std::string> persistent;
  std::vector<Sent> sent;
  std::vector<Stopped> stopped;
  std::vector<Dial> dials;           // in flight, oldest first
  std::vector<PeerAddress> dial_log; // every dial_peer call the switch accepted

  // A pending dial to `id` ends: nullopt = connected (the reactor sees add_peer first, as
  // with the runtime switch), else the failure.
  void complete_dial(const std::string& id, const std::optional<Failure>& failure = std::nullopt,
                     const std::string& listen_addr = {}) {
    auto it =
        std::find_if(dials.begin(), dials.end(), [&](const Dial& d) { return d.addr.id == id; });
    REQUIRE_MESSAGE(it != dials.end(), "no dial in flight to " << id);
    Dial d = std::move(*it);
    dials.erase(it);
    if (!failure) {
      PeerInfo p;
      p.id = id;
      p.outbound = true;
      p.persistent = persistent.count(id) != 0;
      const std::string hostport = d.addr.ip && !d.addr.ip->is_v4()
                                       ? "[" + d.addr.host + "]:" + std::to_string(d.addr.port)
                                       : d.addr.host + ":" + std::to_string(d.addr.port);
      p.node_info.node_id = id;
      p.node_info.listen_addr = listen_addr.empty() ? "tcp://" + hostport : listen_addr;
      p.socket = NetAddress{id, d.addr.ip.value_or(IpAddress{}), d.addr.port};
      connect(p);
    }
    d.done(failure);
  }
  // Fails the dials in flight now (not those their callbacks start).
  void fail_all_dials(Failure why = {Stage::kDial, Reason::kRefused}) {
    std::vector<std::string> ids;
    for (const auto& d : dials) ids.push_back(d.addr.id);
    for (const auto& id : ids) complete_dial(id, why);
  }
  void connect(const PeerInfo& p) {
    peers_[p.id] = p;
    connected_at_[p.id] = clock_.mono();
    reactor_.add_peer(p);
  }
  void disconnect(const std::string& id, Failure why = {Stage::kMConnection, Reason::kClosed}) {
    auto it = peers_.find(id);
    if (it == peers_.end()) return;
    PeerInfo p = it->second;
    peers_.erase(it);
    connected_at_.erase(id);
    reactor_.remove_peer(p, why);
  }
  // Runs callbacks the runtime switch would run on a later loop turn.
  void run_deferred() {
    while (!deferred_.empty()) {
      auto f = std::move(deferred_.front());
      deferred_.pop_front();
      f();
    }
  }
  std::vector<Sent> sent_to(const std::string& id) const {
    std::vector<Sent> out;
    for (const auto& s : sent)
      if (s.peer == id) out.push_back(s);
    return out;
  }
  bool dialing(const std::string& id) const {
    return std::any_of(dials.begin(), dials.end(), [&](const Dial& d) { return d.addr.id == id; });
  }

  // SwitchApi
  bool send(const std::string& peer_id, mconn::ChannelId channel, Bytes msg) override {
    if (peers_.count(peer_id) == 0 || !send_ok) return false;
    sent.push_back({peer_id, channel, std::move(msg)});
    return true;
  }
  std::size_t broadcast(mconn::ChannelId channel, const Bytes& msg) override {
    std::size_t n = 0;
    for (const auto& [id, p] : peers_) n += send(id, channel, msg) ? 1 : 0;
    return n;
  }
  void stop_peer(const std::string& peer_id, Failure why, std::string detail,
                 bool graceful) override {
    stopped.push_back({peer_id, why, detail, graceful});
    if (remove_on_stop) disconnect(peer_id, why);
  }
  bool has_peer(const std::string& peer_id) const override { return peers_.count(peer_id) != 0; }
  void dial_peer(const PeerAddress& addr, DialDone done) override {
    if (is_dialing_or_connected(addr.id)) {
      deferred_.push_back([done] { done(Failure{Stage::kLocalPolicy, Reason::kDuplicatePeer}); });
      return;
    }
    dials.push_back({addr, std::move(done)});
    dial_log.push_back(addr);
  }
  bool is_dialing_or_connected(const std::string& peer_id) const override {
    return has_peer(peer_id) || dialing(peer_id);
  }
  std::vector<PeerInfo> peers() const override {
    std::vector<PeerInfo> out;
    for (const auto& [id, p] : peers_) out.push_back(p);
    return out;
  }
  std::size_t num_outbound() const override {
    return static_cast<std::size_t>(std::count_if(
        peers_.begin(), peers_.end(), [](const auto& kv) { return kv.second.outbound; }));
  }
  std::size_t num_dialing() const override { return dials.size(); }
  std::size_t max_outbound() const override { return max_outbound_peers; }
  bool is_persistent(const std::string& peer_id) const override {
    return persistent.count(peer_id) != 0;
  }
  Millis connected_for(const std::string& peer_id) const override {
    auto it = connected_at_.find(peer_id);
    return it == connected_at_.end() ? Millis(0) : clock_.mono() - it->second;
  }
  void ban_peer(const PeerInfo& peer, Millis duration) override {
    bans.push_back({peer.id, peer.socket.ip, duration});
  }
  struct Ban {
    std::string id;
    IpAddress ip;
    Millis duration;
  };
  std::vector<Ban> bans;

private:
  const FakeClock& clock_;
  Reactor& reactor_;
  std::map<std::string, PeerInfo> peers_;
  std::map<std::string, TimePoint> connected_at_;
  std::deque<std::function<void()>> deferred_;
};

} // namespace seedscope::test
