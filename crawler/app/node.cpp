#include "crawler/app/node.hpp"

#include <random>
#include <stdexcept>

#include <fmt/format.h>

#include "crawler/app/home.hpp"

namespace seedscope::app {

namespace {

// Our own address from a listen address ("tcp://host:port") and the bound port; nullopt for
// unspecified hosts (0.0.0.0, ::), which say nothing about how others reach us.
std::optional<NetAddress> own_address(const std::string& id, std::string laddr,
                                      std::uint16_t bound_port) {
  if (laddr.empty()) return std::nullopt;
  if (laddr.rfind("tcp://", 0) == 0) laddr.erase(0, 6);
  const auto colon = laddr.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  std::string host = laddr.substr(0, colon);
  std::string port = bound_port != 0 ? std::to_string(bound_port) : laddr.substr(colon + 1);
  auto parsed = parse_peer_address(id + "@" + host + ":" + port);
  if (!parsed.ok()) return std::nullopt;
  auto net = parsed->net_address();
  if (!net || !net->valid()) return std::nullopt;
  return net;
}

} // namespace

std::vector<PeerAddress> parse_peer_list(const std::string& list, const char* key) {
  std::vector<PeerAddress> out;
  // A config key is named with its section, a command-line flag as it is.
  const std::string label = key[0] == '-' ? std::string(key) : fmt::format("[p2p] {}", key);
  for (const std::string& item : split_list(list)) {
    auto parsed = parse_peer_address(item);
    if (!parsed.ok())
      throw ConfigError(fmt::format("{}: {}", label, peer_entry_problem(item, parsed.error())));
    out.push_back(*parsed);
  }
  return out;
}

runtime::SwitchConfig switch_config(const Config& config) {
  const P2PConfig& p = config.p2p;
  runtime::SwitchConfig c;
  c.limits.max_inbound = static_cast<std::size_t>(p.max_num_inbound_peers);
  c.limits.max_outbound = static_cast<std::size_t>(p.max_num_outbound_peers);
  c.limits.allow_duplicate_ip = p.allow_duplicate_ip;
  for (const std::string& id : split_list(p.unconditional_peer_ids))
    c.limits.unconditional_ids.insert(id);
  c.mconn.send_rate = static_cast<std::uint64_t>(p.send_rate);
  c.mconn.recv_rate = static_cast<std::uint64_t>(p.recv_rate);
  c.mconn.max_packet_msg_payload_size = static_cast<std::size_t>(p.max_packet_msg_payload_size);
  c.mconn.flush_throttle = p.flush_throttle_timeout;
  c.dial.upgrade = upgrade_options(config);
  c.dial.dial_timeout = p.dial_timeout;
  c.inbound_adopt_network = config.network.empty();
  c.handshake_pool = handshake_pool(p);
  return c;
}

Node::Node(runtime::Loop& loop, NodeOptions options, runtime::SwitchObserver* observer)
    : loop_(loop),
      options_(std::move(options)),
      clock_(loop),
      rng_(options_.rng_seed
               ? *options_.rng_seed
               : std::random_device{}() * 0x9e3779b97f4a7c15ULL ^ std::random_device{}()),
      book_(pex::AddrBookConfig{options_.config.p2p.addr_book_strict, std::nullopt,
                                options_.loopback_only},
            rng_),
      events_(*this, observer),
      switch_(
          loop, options_.key,
          [&] {
            runtime::SwitchConfig c = switch_config(options_.config);
            c.loopback_only = options_.loopback_only;
            c.exclude = options_.exclude;
            return c;
          }(),
          &events_),
      pex_timer_(loop),
      save_timer_(loop) {
  const P2PConfig& p = options_.config.p2p;
  persistent_ = parse_peer_list(p.persistent_peers, "persistent_peers");
  auto seeds = parse_peer_list(p.seeds, "seeds");
  book_.add_private_ids(split_list(p.private_peer_ids));
  if (p.pex) {
    pex::PexReactorConfig pc = options_.pex;
    pc.seed_mode = p.seed_mode;
    pc.chains_apart = options_.config.network.empty(); // one book, every chain's addresses
    pc.seeds = seeds;
    pc.persistent_peers_max_dial_period = p.persistent_peers_max_dial_period;
    pc.exclude = options_.exclude;
    pex_ = std::make_unique<pex::PexReactor>(book_, rng_, clock_, pc);
    switch_.add_reactor(*pex_);
    // A seed's inbound peers are there for one request: a full seed drops the one that has
    // waited longest without asking, rather than refusing a newcomer.
    if (pc.seed_mode) switch_.set_inbound_eviction([this] { return pex_->longest_waiting(); });
  }
}

Node::~Node() {
  pex_timer_.stop();
  save_timer_.stop();
}

void Node::start() {
  if (started_) return;
  started_ = true;
  if (options_.store != nullptr) {
    auto loaded = options_.store->load();
    if (!loaded.ok())
      throw std::runtime_error("cannot read the address book: " + loaded.error().message());
    if (*loaded) {
      if (auto st = book_.restore(**loaded); !st.ok())
        throw std::runtime_error("the stored address book is inconsistent: " +
                                 st.error().message());
      book_.clear_dirty();
      options_.log.info(
          "address book loaded",
          {{"addresses", book_.size()}, {"new", book_.size_new()}, {"old", book_.size_old()}});
    }
  }
  const P2PConfig& p = options_.config.p2p;
  port_ = switch_.listen(p.laddr);
  if (auto ours = own_address(id(), p.laddr, port_)) book_.add_our_address(*ours);
  if (!p.external_address.empty())
    if (auto ours = own_address(id(), p.external_address, 0)) book_.add_our_address(*ours);
  for (const PeerAddress& addr : persistent_) switch_.add_persistent_peer(addr);
  if (pex_) {
    pex_->start();
    arm_pex_timer();
  }
  if (options_.store != nullptr) arm_save_timer();
}

void Node::stop() {
  if (stopped_) return;
  stopped_ = true;
  pex_timer_.stop();
  save_timer_.stop();
  switch_.stop();
  save_book();
}

std::optional<PeerAddress> Node::dial_address() const {
  auto net = own_address(options_.key->node_id(), options_.config.p2p.laddr, port_);
  if (!net) return std::nullopt;
  auto parsed = parse_peer_address(net->to_string());
  if (!parsed.ok()) return std::nullopt;
  return *parsed;
}

bool Node::save_book() {
  if (options_.store == nullptr || !book_.dirty()) return true;
  auto st = options_.store->save(book_.snapshot());
  if (!st.ok()) {
    options_.log.error("cannot save the address book (will retry)",
                       {{"err", st.error().message()}});
    return false;
  }
  book_.clear_dirty();
  return true;
}

void Node::arm_pex_timer() {
  const TimePoint next = pex_->next_deadline();
  if (next == TimePoint::max()) return;
  const Millis wait = std::max(Millis(1), next - loop_.now()); // never a 0 ms re-arm loop
  pex_timer_.start(wait, [this] {
    pex_->on_tick();
    arm_pex_timer();
  });
}

void Node::PeerEvents::on_peer_added(const PeerInfo& peer) {
  if (next_) next_->on_peer_added(peer);
  if (node_.pex_ && node_.started_ && !node_.stopped_) node_.arm_pex_timer();
}

void Node::arm_save_timer() {
  save_timer_.start(options_.save_interval, [this] {
    save_book();
    arm_save_timer();
  });
}

} // namespace seedscope::app
