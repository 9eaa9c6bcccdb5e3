#include "support/pex_client.hpp"

#include <doctest/doctest.h>

#include <memory>

#include "core/crypto/keys.hpp"
#include "core/pex/pex_messages.hpp"
#include "core/pex/pex_reactor.hpp"
#include "crawler/runtime/peer.hpp"
#include "crawler/runtime/transport.hpp"
#include "support/loop_harness.hpp"

namespace seedscope::test {

PexAnswer pex_request(runtime::Loop& loop, const PeerAddress& target, const std::string& network,
                      Millis limit, bool until_hang_up) {
  return pex_send(loop, target, network, pex::encode_pex_request(), limit, until_hang_up);
}

PexAnswer pex_send(runtime::Loop& loop, const PeerAddress& target, const std::string& network,
                   Bytes message, Millis limit, bool until_hang_up) {
  PexAnswer out;
  runtime::Transport client(loop,
                            std::make_shared<const crypto::NodeKey>(crypto::NodeKey::generate()));
  runtime::DialOptions dial;
  dial.upgrade.our_info.network = network;
  dial.upgrade.our_info.version = "0.34.24";
  dial.upgrade.our_info.moniker = "go-like-test-client";
  dial.upgrade.our_info.listen_addr = "tcp://127.0.0.1:1";
  dial.upgrade.our_info.channels = Bytes{0x00};
  std::unique_ptr<runtime::Connection> conn;
  bool done = false;
  client.dial(target, dial, [&](runtime::UpgradeResult r) {
    done = true;
    if (r.ok()) conn = std::move(r.connection);
    else out.failure = std::string(to_string(r.failure.failure.reason)) + ": " + r.failure.detail;
  });
  run_until(
      loop, [&] { return done; }, limit);
  if (!conn) return out;
  out.connected = true;
  out.their_network = conn->peer_info().network;
  mconn::ChannelDescriptor pexd;
  pexd.id = pex::kPexChannel;
  pexd.recv_message_capacity = pex::kMaxMsgSize;
  PeerInfo pi;
  pi.id = conn->peer_id();
  pi.node_info = conn->peer_info();
  runtime::Peer peer(loop, std::move(conn), pi, {pexd}, mconn::MConnConfig{});
  peer.start(
      [&](runtime::Peer&, mconn::ChannelId, Bytes msg) {
        auto m = pex::decode_pex_message(msg);
        if (!m.ok()) return;
        if (m->is_request()) ++out.requests;
        else out.addrs = m->addrs;
      },
      [&](runtime::Peer&, const Failure&, const std::string&) { out.closed = true; });
  peer.send(pex::kPexChannel, std::move(message));
  run_until(
      loop,
      [&] {
        return until_hang_up ? out.addrs.has_value() && out.closed
                             : out.addrs.has_value() || out.closed;
      },
      limit);
  peer.stop(false);
  return out;
}

} // namespace seedscope::test
