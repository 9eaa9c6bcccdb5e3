#include "support/echo_reactor.hpp"

namespace seedscope::test {

std::vector<mconn::ChannelDescriptor> EchoReactor::channels() const {
  return {{kLow, 1, 16, 4 << 20}, {kHigh, 5, 16, 4 << 20}};
}

void EchoReactor::receive(const PeerInfo& peer, mconn::ChannelId channel, ByteSpan msg) {
  received.push_back({peer.id, channel, Bytes(msg.begin(), msg.end())});
  if (echo_) switch_->send(peer.id, channel, Bytes(msg.begin(), msg.end()));
}

std::size_t EchoReactor::received_on(mconn::ChannelId channel) const {
  std::size_t n = 0;
  for (const auto& r : received) n += r.channel == channel;
  return n;
}

} // namespace seedscope::test
