#include "crawler/netsim/netsim.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

#include <fmt/format.h>
#include <sodium.h>

#include "core/pex/pex_messages.hpp"
#include "core/pex/pex_rules.hpp"
#include "core/secret/secret_connection.hpp"
#include "core/wire/varint.hpp"

namespace seedscope::netsim {

namespace {

constexpr mconn::ChannelId kPex = 0x00;

std::vector<mconn::ChannelDescriptor> sim_channels() {
  std::vector<mconn::ChannelDescriptor> out;
  out.push_back({kPex, 1, 10, 64000});
  for (mconn::ChannelId c : {0x20, 0x21, 0x22, 0x23, 0x30, 0x38, 0x40, 0x60, 0x61})
    out.push_back({c, 1, 1, 1 << 20});
  return out;
}

void raise_fd_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

std::size_t fd_limit() {
  rlimit rl{};
  return getrlimit(RLIMIT_NOFILE, &rl) == 0 ? static_cast<std::size_t>(rl.rlim_cur) : 1024;
}

// A listener with backlog 1 whose accept queue is filled by connections nobody accepts:
// further SYNs are dropped, so a dial never completes.
std::vector<int> open_blackhole(const SimNode& n) {
  std::vector<int> fds;
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(n.port);
  inet_pton(AF_INET, n.ip.to_string().c_str(), &sa.sin_addr);
  const int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (lfd < 0)
    throw std::runtime_error(
        fmt::format("blackhole {}: socket: {}", n.listen_addr(), strerror(errno)));
  fds.push_back(lfd);
  const int one = 1;
  ::setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(lfd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || ::listen(lfd, 1) != 0) {
    const int err = errno;
    for (int fd : fds) ::close(fd);
    const int status = runtime::uv_status_from_errno(err);
    throw runtime::ListenError(n.listen_addr(), runtime::listen_failure_reason(status), status);
  }
  for (int i = 0; i < 3; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) break;
    (void)::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa); // EINPROGRESS
    fds.push_back(fd);
  }
  return fds;
}

// bad_signature: the node's key, whose signatures do not verify (one bit flipped), so a peer
// refuses our AuthSig with an authentication failure.
class CorruptSigner final : public crypto::Signer {
public:
  explicit CorruptSigner(std::shared_ptr<const crypto::NodeKey> key) : key_(std::move(key)) {}
  const crypto::PublicKey& public_key() const override { return key_->public_key(); }
  crypto::Signature sign(ByteSpan message) const override {
    crypto::Signature sig = key_->sign(message);
    sig[0] ^= 0x01;
    return sig;
  }

private:
  std::shared_ptr<const crypto::NodeKey> key_;
};

// The key a handshaking node authenticates with, and the NodeInfo it sends: id_mismatch
// claims an ID that is not its key's.
std::shared_ptr<const crypto::Signer> signer_for(const SimNode& n) {
  if (n.behaviour == Behaviour::kBadSignature) return std::make_shared<CorruptSigner>(n.key);
  return n.key;
}

NodeInfo sent_info(const SimNetwork& net, const SimNode& n) {
  NodeInfo info = net.node_info(n);
  if (n.behaviour == Behaviour::kIdMismatch)
    info.node_id = fmt::format("{:040x}", 0xbad0000000ULL + n.index);
  return info;
}

} // namespace

struct Netsim::Host {
  const SimNode* node = nullptr;
  std::unique_ptr<runtime::Transport> transport;
  std::unique_ptr<runtime::TcpListener> raw;
  std::vector<int> blackhole_fds;
  bool up = false;
};

// One accepted connection and whatever it needs.
struct Netsim::Conn {
  explicit Conn(runtime::Loop& loop) : timer(loop) {}
  const SimNode* node = nullptr;
  std::uint64_t id = 0;
  std::unique_ptr<runtime::Peer> peer;             // PEX-speaking classes
  std::unique_ptr<runtime::Connection> connection; // garbage / oversized
  std::unique_ptr<runtime::TcpSocket> socket;      // silent / slowloris
  runtime::Timer timer;
  Bytes drip;                             // slowloris: what is left to send, a byte a second
  std::optional<pex::PexPeerRules> rules; // PEX-speaking classes: Go's request rules
};

Netsim::Netsim(runtime::Loop& loop, const SimNetwork& network, NetsimOptions options)
    : loop_(loop),
      net_(network),
      options_(options),
      churn_timer_(loop) {}

Netsim::~Netsim() { stop(); }

std::uint64_t Netsim::accepted_by(const std::string& node_id) const {
  auto it = accepted_by_.find(node_id);
  return it == accepted_by_.end() ? 0 : it->second;
}

bool Netsim::online(std::uint32_t node) const { return node < hosts_.size() && hosts_[node]->up; }

void Netsim::start() {
  raise_fd_limit();
  std::size_t needed = 64;
  for (const SimNode& n : net_.nodes())
    needed += n.behaviour == Behaviour::kBlackhole ? 4 : n.listens() ? 1 : 0;
  if (needed + needed / 4 > fd_limit())
    throw std::runtime_error(fmt::format(
        "netsim needs about {} file descriptors for {} nodes, the limit is {}; raise it "
        "(ulimit -n) or use fewer nodes",
        needed + needed / 4, net_.nodes().size(), fd_limit()));
  hosts_.reserve(net_.nodes().size());
  for (const SimNode& n : net_.nodes()) {
    auto host = std::make_unique<Host>();
    host->node = &n;
    hosts_.push_back(std::move(host));
    bring_up(*hosts_.back());
  }
  const ChurnSpec& churn = net_.scenario().churn;
  if (churn.period > Millis(0) && churn.offline_fraction > 0) churn_tick();
}

void Netsim::stop() {
  if (stopped_) return;
  stopped_ = true;
  churn_timer_.stop();
  for (auto& h : hosts_) take_down(*h);
  for (auto& [id, c] : conns_) {
    if (c->peer) c->peer->stop(false);
    if (c->connection) c->connection->abort();
    if (c->socket) c->socket->close();
    c->timer.stop();
  }
  conns_.clear();
  stats_.open_connections = 0;
}

void Netsim::bring_up(Host& host) {
  if (host.up) return;
  const SimNode& n = *host.node;
  switch (n.behaviour) {
  case Behaviour::kRefused: return;
  case Behaviour::kBlackhole: host.blackhole_fds = open_blackhole(n); break;
  case Behaviour::kSilent:
  case Behaviour::kSlowloris: {
    host.raw = std::make_unique<runtime::TcpListener>(loop_);
    auto sa = runtime::make_sockaddr(n.ip.to_string(), n.port);
    const int rc =
        host.raw->listen(reinterpret_cast<const sockaddr*>(&*sa), 128, [this, &host](int status) {
          if (status == 0) on_raw_accept(host);
        });
    if (rc != 0)
      throw runtime::ListenError(n.listen_addr(), runtime::listen_failure_reason(rc), rc);
    break;
  }
  default: {
    runtime::UpgradeOptions o;
    o.our_info = sent_info(net_, n);
    o.handshake_timeout = options_.handshake_timeout;
    host.transport = std::make_unique<runtime::Transport>(loop_, signer_for(n));
    host.transport->listen(
        n.listen_addr(), std::move(o),
        [this, &host](runtime::UpgradeResult r) { on_upgraded(host, std::move(r)); },
        PendingPoolConfig{.capacity = 64,
                          .per_ip = 0, // every simulated peer dials from 127.0.0.1
                          .per_subnet = 0,
                          .timeout = options_.handshake_timeout,
                          .min_timeout = options_.handshake_timeout}); // no shrinking
  }
  }
  host.up = true;
  ++stats_.online;
}

void Netsim::take_down(Host& host) {
  if (!host.up) return;
  host.up = false;
  --stats_.online;
  if (host.transport) host.transport->close();
  host.transport.reset();
  if (host.raw) host.raw->close();
  host.raw.reset();
  for (int fd : host.blackhole_fds) ::close(fd);
  host.blackhole_fds.clear();
}

std::uint64_t Netsim::add_conn(std::unique_ptr<Conn> conn) {
  const std::uint64_t id = next_conn_++;
  conn->id = id;
  conns_.emplace(id, std::move(conn));
  stats_.open_connections = conns_.size();
  return id;
}

void Netsim::drop_conn(std::uint64_t id) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  std::shared_ptr<Conn> conn(std::move(it->second));
  conns_.erase(it);
  stats_.open_connections = conns_.size();
  conn->timer.stop();
  if (conn->peer) conn->peer->stop(false);
  if (conn->connection) conn->connection->abort();
  if (conn->socket) conn->socket->close();
  // We may be inside one of its callbacks: free it on a later turn.
  loop_.defer([conn] {});
}

void Netsim::on_raw_accept(Host& host) {
  auto conn = std::make_unique<Conn>(loop_);
  conn->node = host.node;
  conn->socket = std::make_unique<runtime::TcpSocket>(loop_);
  if (host.raw->accept(*conn->socket) != 0) return;
  ++stats_.accepted;
  ++accepted_by_[host.node->id];
  const std::uint64_t id = add_conn(std::move(conn));
  Conn& c = *conns_[id];
  c.socket->start_reading([](ByteSpan) {}, [this, id](int) { drop_conn(id); });
  if (host.node->behaviour == Behaviour::kSlowloris) {
    // A real ephemeral-key message, a byte a second.
    secret::SecretConnection sc(*host.node->key, {});
    sc.start();
    c.drip = sc.take_output();
    std::reverse(c.drip.begin(), c.drip.end());
    drip(id);
  } else {
    c.timer.start(options_.silent_hold, [this, id] { drop_conn(id); });
  }
}

void Netsim::drip(std::uint64_t id) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  Conn& c = *it->second;
  if (c.drip.empty()) {
    c.timer.start(options_.silent_hold, [this, id] { drop_conn(id); });
    return;
  }
  c.socket->write(Bytes{c.drip.back()});
  c.drip.pop_back();
  c.timer.start(Millis(1000), [this, id] { drip(id); });
}

void Netsim::on_upgraded(Host& host, runtime::UpgradeResult result) {
  ++stats_.accepted;
  ++accepted_by_[host.node->id];
  if (!result.ok()) {
    ++stats_.handshake_failures;
    return;
  }
  ++stats_.handshakes;
  const SimNode& n = *host.node;
  auto conn = std::make_unique<Conn>(loop_);
  conn->node = &n;
  const std::uint64_t id = add_conn(std::move(conn));
  Conn& c = *conns_[id];
  auto connection = std::move(result.connection);

  if (n.behaviour == Behaviour::kGarbageAfterHandshake ||
      n.behaviour == Behaviour::kOversizedMessage) {
    c.connection = std::move(connection);
    Bytes junk;
    if (n.behaviour == Behaviour::kOversizedMessage) {
      wire::put_uvarint(junk, 10u << 20); // a 10 MiB packet
      junk.resize(junk.size() + 512, 0x42);
    } else {
      // A short length prefix, then bytes no Packet decodes from (wire type 7), then noise.
      junk.resize(300);
      randombytes_buf(junk.data(), junk.size());
      junk[0] = 0x20;
      junk[1] = 0x0f;
    }
    c.connection->take_leftover_plaintext();
    c.connection->set_handlers([](ByteSpan) {},
                               [this, id](const Failure&, const std::string&) { drop_conn(id); });
    c.connection->send(junk);
    c.timer.start(Millis(5000), [this, id] { drop_conn(id); });
    return;
  }

  PeerInfo info;
  info.id = connection->peer_info().node_id;
  info.node_info = connection->peer_info();
  info.socket = connection->remote();
  mconn::MConnConfig mc;
  mc.flush_throttle = options_.flush_throttle;
  c.peer = std::make_unique<runtime::Peer>(loop_, std::move(connection), std::move(info),
                                           sim_channels(), mc);
  c.peer->start(
      [this, id](runtime::Peer&, mconn::ChannelId ch, Bytes msg) {
        auto it = conns_.find(id);
        if (it != conns_.end()) on_message(*it->second, ch, msg);
      },
      [this, id](runtime::Peer&, const Failure&, const std::string&) { drop_conn(id); });
  if (n.behaviour == Behaviour::kUnsolicitedAddrs)
    c.peer->send(kPex, pex::encode_pex_addrs(net_.pex_answer(n)));
}

void Netsim::on_message(Conn& c, mconn::ChannelId channel, const Bytes& msg) {
  if (channel != kPex) return; // consensus, mempool, ...: nobody asks a simulated node
  auto decoded = pex::decode_pex_message(msg);
  if (!decoded.ok()) return drop_conn(c.id);
  const SimNode& n = *c.node;
  if (!c.rules)
    c.rules.emplace(n.behaviour == Behaviour::kSeed ? pex::PexPeerRules::Serving::kOnce
                                                    : pex::PexPeerRules::Serving::kEveryInterval,
                    options_.min_request_interval);
  if (!decoded->is_request()) {
    // A simulated node never asks, so every PexAddrs is unsolicited: Go stops the peer.
    if (!c.rules->take_answer()) {
      ++stats_.punished;
      return drop_conn(c.id);
    }
    return;
  }
  ++stats_.pex_requests;
  const auto verdict = c.rules->on_request(loop_.now());
  if (verdict == pex::PexPeerRules::Verdict::kIgnore) return;
  if (verdict == pex::PexPeerRules::Verdict::kTooSoon) {
    ++stats_.punished;
    return drop_conn(c.id);
  }
  if (n.behaviour == Behaviour::kSeed) {
    c.peer->send(kPex, pex::encode_pex_addrs(net_.pex_answer(n)));
    ++stats_.pex_answers;
    c.peer->stop(true); // flush the answer, then hang up
    const std::uint64_t id = c.id;
    c.timer.start(Millis(3000), [this, id] { drop_conn(id); });
    return;
  }
  c.peer->send(kPex, pex::encode_pex_addrs(net_.pex_answer(n)));
  ++stats_.pex_answers;
}

void Netsim::churn_tick() {
  const ChurnSpec& churn = net_.scenario().churn;
  ++churn_epoch_;
  for (auto& h : hosts_) {
    const SimNode& n = *h->node;
    if (!n.churns) continue;
    // The same scenario seed and epoch give the same offline set.
    std::uint64_t x = net_.scenario().seed ^ (std::uint64_t(n.index) << 20) ^
                      (churn_epoch_ * 0x9e3779b97f4a7c15ULL);
    x = (x ^ (x >> 31)) * 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 29;
    const bool offline = double(x % 1'000'000) / 1e6 < churn.offline_fraction;
    if (offline) take_down(*h);
    else bring_up(*h);
  }
  churn_timer_.start(churn.period, [this] { churn_tick(); });
}

} // namespace seedscope::netsim
