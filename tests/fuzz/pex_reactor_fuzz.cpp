// Fuzz target: the PEX reactor (core/pex/pex_reactor) driven by a fuzz-chosen sequence of
// switch events: peers connecting and leaving, PEX messages (well-formed ones built from the
// input, or raw bytes), dials completing or failing, time passing (a fake clock; on_tick
// whenever its deadline passed). A minimal switch records what the reactor does, and checks:
// every message it sends is a PEX message on channel 0x00, an answer
// holds at most 250 addresses and goes only to a peer that asked (a seed answers an inbound
// peer once), a PexRequest is never sent while one is outstanding to that peer, and its stats
// count exactly what it sent.
#include <algorithm>
#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/pex/pex_reactor.hpp"
#include "fuzz/fuzz_input.hpp"
#include "fuzz/fuzz_invariant.hpp"
#include "support/fake_clock.hpp"

using namespace seedscope;
using namespace seedscope::pex;

namespace {

const std::array<std::string, 6> kIds = {
    "1111111111111111111111111111111111111111", "2222222222222222222222222222222222222222",
    "3333333333333333333333333333333333333333", "4444444444444444444444444444444444444444",
    "5555555555555555555555555555555555555555", "not-an-id"};
const std::array<std::string, 3> kNetworks = {"chain-a", "chain-b", ""};

using seedscope::fuzz::Input;

// Per connection of a peer: what it asked and what it was sent.
struct PeerModel {
  int requests_from = 0;
  int answers_to = 0;
  bool request_outstanding = false;
};

class Switch final : public SwitchApi {
public:
  Switch(const test::FakeClock& clock, PexReactor& reactor, bool seed_mode)
      : clock_(clock),
        reactor_(reactor),
        seed_mode_(seed_mode) {
    reactor_.attach(*this);
  }

  std::map<std::string, PeerInfo> peers_;
  std::map<std::string, PeerModel> model_;
  std::vector<std::pair<PeerAddress, DialDone>> dials_;
  std::deque<std::function<void()>> deferred_;
  std::uint64_t requests_sent = 0, answers_sent = 0, addresses_sent = 0;

  void connect(const PeerInfo& p) {
    peers_[p.id] = p;
    model_[p.id] = {};
    connected_at_[p.id] = clock_.mono();
    reactor_.add_peer(p);
  }
  void disconnect(const std::string& id, Failure why) {
    auto it = peers_.find(id);
    if (it == peers_.end()) return;
    const PeerInfo p = it->second;
    peers_.erase(it);
    model_.erase(id);
    connected_at_.erase(id);
    reactor_.remove_peer(p, why);
  }
  // The peer sends `msg`; the model learns what it was.
  void deliver(const std::string& id, mconn::ChannelId channel, ByteSpan msg) {
    auto it = peers_.find(id);
    if (it == peers_.end()) return;
    const PeerInfo p = it->second;
    if (channel == kPexChannel) {
      auto decoded = decode_pex_message(msg);
      if (decoded && decoded->is_request()) ++model_[id].requests_from;
      if (decoded && !decoded->is_request()) model_[id].request_outstanding = false;
    }
    reactor_.receive(p, channel, msg);
  }

  bool send(const std::string& peer_id, mconn::ChannelId channel, Bytes msg) override {
    FUZZ_INVARIANT(channel == kPexChannel);
    if (peers_.count(peer_id) == 0) return false; // gone (request_addrs may name anyone)
    auto decoded = decode_pex_message(msg);
    FUZZ_INVARIANT(decoded.ok());
    PeerModel& m = model_[peer_id];
    if (decoded->is_request()) {
      FUZZ_INVARIANT(!m.request_outstanding);
      m.request_outstanding = true;
      ++requests_sent;
    } else {
      FUZZ_INVARIANT(decoded->addrs.size() <= kMaxGetSelection);
      ++m.answers_to;
      FUZZ_INVARIANT(m.answers_to <= m.requests_from);
      if (seed_mode_ && !peers_[peer_id].outbound) FUZZ_INVARIANT(m.answers_to == 1);
      ++answers_sent;
      addresses_sent += decoded->addrs.size();
    }
    return true;
  }
  std::size_t broadcast(mconn::ChannelId channel, const Bytes& msg) override {
    std::size_t n = 0;
    std::vector<std::string> ids;
    for (const auto& [id, p] : peers_) ids.push_back(id);
    for (const auto& id : ids) n += send(id, channel, msg) ? 1 : 0;
    return n;
  }
  void stop_peer(const std::string& peer_id, Failure why, std::string detail, bool) override {
    FUZZ_INVARIANT(!detail.empty());
    disconnect(peer_id, why);
  }
  bool has_peer(const std::string& peer_id) const override { return peers_.count(peer_id) != 0; }
  // As the runtime switch: a dial of an ID connected or being dialed is refused, later.
  void dial_peer(const PeerAddress& addr, DialDone done) override {
    FUZZ_INVARIANT(addr.ip.has_value()); // every address here is an IP
    if (is_dialing_or_connected(addr.id)) {
      deferred_.push_back([done] { done(Failure{Stage::kLocalPolicy, Reason::kDuplicatePeer}); });
      return;
    }
    dials_.emplace_back(addr, std::move(done));
  }
  void run_deferred() {
    while (!deferred_.empty()) {
      auto f = std::move(deferred_.front());
      deferred_.pop_front();
      f();
    }
  }
  bool is_dialing_or_connected(const std::string& peer_id) const override {
    return has_peer(peer_id) || std::any_of(dials_.begin(), dials_.end(),
                                            [&](const auto& d) { return d.first.id == peer_id; });
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
  std::size_t num_dialing() const override { return dials_.size(); }
  std::size_t max_outbound() const override { return 3; }
  bool is_persistent(const std::string& peer_id) const override { return peer_id == kIds[0]; }
  Millis connected_for(const std::string& peer_id) const override {
    auto it = connected_at_.find(peer_id);
    return it == connected_at_.end() ? Millis(0) : clock_.mono() - it->second;
  }
  // A ban names a connected peer, for a while (the reactor stops it right after).
  void ban_peer(const PeerInfo& peer, Millis duration) override {
    FUZZ_INVARIANT(duration > Millis(0));
    FUZZ_INVARIANT(peers_.count(peer.id) == 1);
    ++bans;
  }
  std::uint64_t bans = 0;

private:
  const test::FakeClock& clock_;
  PexReactor& reactor_;
  bool seed_mode_;
  std::map<std::string, TimePoint> connected_at_;
};

PeerInfo peer_info(const std::string& id, bool outbound, std::uint8_t where) {
  PeerInfo p;
  p.id = id;
  p.outbound = outbound;
  p.node_info.node_id = id;
  p.node_info.network = kNetworks[where % kNetworks.size()];
  const auto ip = IpAddress::v4(127, 0, where >> 4, (where & 0x0f) + 1);
  p.node_info.listen_addr =
      (where & 0x08) ? "tcp://0.0.0.0:26656" : "tcp://" + ip.to_string() + ":26656";
  p.socket = NetAddress{id, ip, static_cast<std::uint16_t>(30000 + where)};
  return p;
}

// A well-formed PexAddrs of up to 15 addresses drawn from the input.
Bytes addrs_message(Input& in) {
  std::vector<NetAddress> addrs(in.byte() % 16);
  for (auto& a : addrs) {
    a.id = kIds[in.byte() % kIds.size()];
    const std::uint8_t b = in.byte(), c = in.byte();
    a.ip = (b & 0x80) ? IpAddress::v4(1 + (b & 0x7f), c, 3, 4) : IpAddress::v4(127, 0, b, c);
    a.port = static_cast<std::uint16_t>(in.byte() << 8 | in.byte());
  }
  return encode_pex_addrs(addrs);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0 || size > 8192) return 0;
  const std::uint8_t setup = data[0];
  test::FakeClock clock;
  SeededRng rng(setup);
  AddrBookConfig book_config;
  book_config.strict = setup & 0x04;
  book_config.loopback_routable = true;
  AddrBook book(book_config, rng);
  PexReactorConfig config;
  config.seed_mode = setup & 0x01;
  config.chains_apart = setup & 0x02;
  if (setup & 0x08) {
    for (int i = 3; i < 5; ++i)
      config.seeds.push_back(
          PeerAddress{kIds[i], "127.0.9." + std::to_string(i), 26656, IpAddress::v4(127, 0, 9, i)});
  }
  PexReactor reactor(book, rng, clock, config);
  Switch sw(clock, reactor, config.seed_mode);
  reactor.start();

  Input in{data, size, 1};
  while (!in.empty()) {
    const std::uint8_t op = in.byte();
    const std::uint8_t arg = in.byte();
    const std::string& id = kIds[arg % 5];
    switch (op % 9) {
    case 0:
      if (!sw.is_dialing_or_connected(id)) sw.connect(peer_info(id, false, in.byte()));
      break;
    case 1: sw.disconnect(id, {Stage::kMConnection, Reason::kClosed}); break;
    case 2: sw.deliver(id, kPexChannel, encode_pex_request()); break;
    case 3: {
      const Bytes msg = addrs_message(in);
      sw.deliver(id, kPexChannel, msg);
      break;
    }
    case 4: sw.deliver(id, (arg & 0x80) ? 0x20 : kPexChannel, in.take(in.byte())); break;
    case 5: clock.advance(Millis(std::int64_t{in.byte()} << (arg % 20))); break;
    case 6:
      if (!sw.dials_.empty()) {
        auto dial = sw.dials_[arg % sw.dials_.size()];
        sw.dials_.erase(sw.dials_.begin() + arg % sw.dials_.size());
        std::optional<Failure> failure;
        if (arg & 0x80) failure = Failure{Stage::kDial, Reason::kRefused};
        else if (!sw.has_peer(dial.first.id)) sw.connect(peer_info(dial.first.id, true, in.byte()));
        dial.second(failure);
      }
      break;
    case 7: reactor.request_addrs(id); break;
    case 8: reactor.ensure_peers(); break;
    }
    if (clock.mono() >= reactor.next_deadline()) reactor.on_tick();
    sw.run_deferred(); // the next loop turn
    const PexStats& st = reactor.stats();
    FUZZ_INVARIANT(st.requests_sent == sw.requests_sent);
    FUZZ_INVARIANT(st.answers_sent == sw.answers_sent);
    FUZZ_INVARIANT(st.addresses_sent == sw.addresses_sent);
    FUZZ_INVARIANT(st.seed_answers <= st.answers_sent);
    for (const auto& [pid, m] : sw.model_)
      FUZZ_INVARIANT(reactor.request_outstanding(pid) == m.request_outstanding);
  }
  return 0;
}
