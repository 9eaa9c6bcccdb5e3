#include "crawler/runtime/transport.hpp"

#include "crawler/runtime/listen_address.hpp"
#include "crawler/runtime/upgrade.hpp"

namespace seedscope::runtime {

Transport::Transport(Loop& loop, std::shared_ptr<const crypto::Signer> key)
    : loop_(loop),
      key_(std::move(key)) {}

Transport::~Transport() { close(); }

void Transport::dial(const PeerAddress& addr, DialOptions options, UpgradeHandler handler) {
  auto upgrade = std::make_unique<Upgrade>(
      loop_, key_, Direction::kOutbound, std::move(options.upgrade),
      [this](Upgrade& u, UpgradeResult result) { finish(u, std::move(result)); });
  Upgrade& ref = *upgrade;
  start_upgrade(std::move(upgrade), std::move(handler));
  ref.dial(addr, options.dial_timeout);
}

std::uint16_t Transport::listen(std::string_view laddr, UpgradeOptions options,
                                UpgradeHandler handler, PendingPoolConfig pool) {
  const ListenAddress address = parse_listen_address(laddr);
  listener_.emplace(loop_);
  inbound_options_ = std::move(options);
  inbound_handler_ = std::move(handler);
  pool_ = PendingPool(pool);
  int rc =
      listener_->listen(address.sockaddr_ptr(), 511, [this](int status) { on_incoming(status); });
  if (rc != 0) {
    listener_.reset();
    throw ListenError(std::string(laddr), listen_failure_reason(rc), rc);
  }
  // Listening on port 0 (tests, demo): advertise the port we got.
  std::string& advertised = inbound_options_.our_info.listen_addr;
  if (advertised.size() >= 2 && advertised.ends_with(":0"))
    advertised =
        advertised.substr(0, advertised.size() - 1) + std::to_string(listener_->local_port());
  return listener_->local_port();
}

void Transport::on_incoming(int status) {
  if (status != 0) return; // transient accept errors (EMFILE, ...): libuv retries
  accept_one();
}

void Transport::accept_one() {
  TcpSocket socket(loop_);
  if (listener_->accept(socket) != 0) return;
  sockaddr_storage peer{};
  if (!socket.peer_sockaddr(peer)) return; // gone already
  const std::optional<NetAddress> remote = net_address_of(reinterpret_cast<const sockaddr*>(&peer));
  if (!remote) return;
  if (accept_filter_ && accept_filter_(remote->ip)) {
    ++refused_at_accept_;
    return; // the socket closes as it goes out of scope
  }
  const TimePoint now = loop_.now();
  PendingAdmission admission = pool_.admit(remote->ip, now);
  for (PendingId id : admission.evicted) {
    auto it = inbound_.find(id);
    if (it != inbound_.end()) drop(it->second);
  }
  UpgradeOptions options = inbound_options_;
  options.handshake_timeout = admission.deadline - now;
  auto upgrade = std::make_unique<Upgrade>(
      loop_, key_, Direction::kInbound, std::move(options),
      [this](Upgrade& u, UpgradeResult result) { finish(u, std::move(result)); });
  Upgrade& ref = *upgrade;
  inbound_.emplace(admission.id, &ref);
  start_upgrade(std::move(upgrade), inbound_handler_);
  upgrades_.at(&ref).pool_id = admission.id;
  ref.accepted(std::move(socket), peer);
}

void Transport::drop(Upgrade* upgrade) {
  auto it = upgrades_.find(upgrade);
  if (it == upgrades_.end()) return;
  inbound_.erase(it->second.pool_id);
  pool_.remove(it->second.pool_id);
  Upgrade* raw = it->second.upgrade.release();
  upgrades_.erase(it);
  raw->abort();
  loop_.defer([raw] { delete raw; });
}

void Transport::start_upgrade(std::unique_ptr<Upgrade> upgrade, UpgradeHandler handler) {
  Upgrade* key = upgrade.get();
  upgrades_.emplace(key, Pending{std::move(upgrade), std::move(handler)});
}

void Transport::finish(Upgrade& upgrade, UpgradeResult result) {
  auto it = upgrades_.find(&upgrade);
  if (it == upgrades_.end()) return;
  // We are inside one of the upgrade's callbacks: delete it on a later loop turn.
  Upgrade* raw = it->second.upgrade.release();
  UpgradeHandler handler = std::move(it->second.handler);
  const PendingId it_pool_id = it->second.pool_id;
  upgrades_.erase(it);
  loop_.defer([raw] { delete raw; });
  if (raw->direction() == Direction::kInbound) {
    inbound_.erase(it_pool_id);
    pool_.remove(it_pool_id);
  }
  if (handler) handler(std::move(result)); // last: the handler may destroy the transport
}

void Transport::close() {
  if (listener_) listener_->close();
  listener_.reset();
  // Aborted upgrades close their sockets now; their memory goes on a later turn, as they
  // may be inside a callback of their own (a handler that shuts the transport down).
  for (auto& [raw, pending] : upgrades_) {
    pending.upgrade->abort();
    Upgrade* owned = pending.upgrade.release();
    loop_.defer([owned] { delete owned; });
  }
  upgrades_.clear();
  for (const auto& [id, raw] : inbound_) pool_.remove(id);
  inbound_.clear();
}

} // namespace seedscope::runtime
