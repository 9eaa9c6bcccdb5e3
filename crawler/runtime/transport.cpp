#include "crawler/runtime/transport.hpp"

#include <stdexcept>

#include <fmt/format.h>

#include "crawler/runtime/upgrade.hpp"

namespace seedscope::runtime {

std::pair<std::string, std::uint16_t> split_listen_address(std::string_view laddr) {
  std::string_view rest = laddr;
  if (auto pos = rest.find("://"); pos != std::string_view::npos) {
    if (rest.substr(0, pos) != "tcp")
      throw std::runtime_error(fmt::format("listen address {}: only tcp:// is supported", laddr));
    rest.remove_prefix(pos + 3);
  }
  auto colon = rest.rfind(':');
  if (colon == std::string_view::npos || colon + 1 == rest.size())
    throw std::runtime_error(fmt::format("listen address {}: expected host:port", laddr));
  std::string host(rest.substr(0, colon));
  std::string_view port_text = rest.substr(colon + 1);
  unsigned long port = 0;
  for (char c : port_text) {
    if (c < '0' || c > '9' || port > 65535)
      throw std::runtime_error(fmt::format("listen address {}: bad port", laddr));
    port = port * 10 + static_cast<unsigned long>(c - '0');
  }
  if (port > 65535) throw std::runtime_error(fmt::format("listen address {}: bad port", laddr));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host.empty()) host = "0.0.0.0";
  return {host, static_cast<std::uint16_t>(port)};
}

Transport::Transport(Loop& loop, std::shared_ptr<const crypto::NodeKey> node_key)
    : loop_(loop), node_key_(std::move(node_key)) {}

Transport::~Transport() { close(); }

void Transport::dial(const PeerAddress& addr, DialOptions options, UpgradeHandler handler) {
  auto upgrade = std::make_unique<Upgrade>(
      loop_, node_key_, Direction::kOutbound, std::move(options.upgrade),
      [this](Upgrade& u, UpgradeResult result) { finish(u, std::move(result)); });
  Upgrade& ref = *upgrade;
  start_upgrade(std::move(upgrade), std::move(handler));
  ref.dial(addr, options.dial_timeout);
}

std::uint16_t Transport::listen(std::string_view laddr, UpgradeOptions options,
                                UpgradeHandler handler, std::size_t max_pending_upgrades) {
  auto [host, port] = split_listen_address(laddr);
  auto sa = make_sockaddr(host, port);
  if (!sa)
    throw std::runtime_error(
        fmt::format("listen address {}: host must be an IP address", laddr));
  listener_.emplace(loop_);
  inbound_options_ = std::move(options);
  inbound_handler_ = std::move(handler);
  max_inbound_ = max_pending_upgrades;
  int rc = listener_->listen(reinterpret_cast<const sockaddr*>(&*sa), 128,
                             [this](int status) { on_incoming(status); });
  if (rc != 0) {
    listener_.reset();
    throw ListenError(fmt::format("listen on {}: {}", laddr, uv_error_text(rc)), rc);
  }
  // Listening on port 0 (tests, demo): advertise the port we got.
  std::string& advertised = inbound_options_.our_info.listen_addr;
  if (advertised.size() >= 2 && advertised.ends_with(":0"))
    advertised = advertised.substr(0, advertised.size() - 1) + std::to_string(listener_->local_port());
  return listener_->local_port();
}

void Transport::on_incoming(int status) {
  if (status != 0) return; // transient accept errors (EMFILE, ...): libuv retries
  if (max_inbound_ != 0 && inbound_pending_ >= max_inbound_) {
    accept_paused_ = true; // libuv stops polling until we accept
    return;
  }
  accept_one();
}

void Transport::accept_one() {
  TcpSocket socket(loop_);
  if (listener_->accept(socket) != 0) return;
  auto upgrade = std::make_unique<Upgrade>(
      loop_, node_key_, Direction::kInbound, inbound_options_,
      [this](Upgrade& u, UpgradeResult result) { finish(u, std::move(result)); });
  Upgrade& ref = *upgrade;
  ++inbound_pending_;
  start_upgrade(std::move(upgrade), inbound_handler_);
  ref.accepted(std::move(socket));
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
  upgrades_.erase(it);
  loop_.defer([raw] { delete raw; });
  if (raw->direction() == Direction::kInbound) {
    --inbound_pending_;
    if (accept_paused_ && listener_) {
      accept_paused_ = false;
      accept_one();
    }
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
  inbound_pending_ = 0;
  accept_paused_ = false;
}

} // namespace seedscope::runtime
