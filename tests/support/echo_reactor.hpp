// A test-only reactor on channels 0x70 (priority 1) and 0x71 (priority 5): records what it
// receives and every add/remove, and can echo messages back.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/p2p/reactor.hpp"

namespace seedscope::test {

class EchoReactor : public Reactor {
public:
  static constexpr mconn::ChannelId kLow = 0x70;
  static constexpr mconn::ChannelId kHigh = 0x71;

  struct Received {
    std::string peer;
    mconn::ChannelId channel;
    Bytes data;
  };
  struct Removed {
    std::string peer;
    Failure why;
  };

  explicit EchoReactor(bool echo = false) : echo_(echo) {}

  std::string_view name() const override { return "echo"; }
  std::vector<mconn::ChannelDescriptor> channels() const override;
  void add_peer(const PeerInfo& peer) override { added.push_back(peer); }
  void remove_peer(const PeerInfo& peer, const Failure& why) override {
    removed.push_back({peer.id, why});
  }
  void receive(const PeerInfo& peer, mconn::ChannelId channel, ByteSpan msg) override;

  SwitchApi& api() { return *switch_; }
  std::size_t received_on(mconn::ChannelId channel) const;

  std::vector<PeerInfo> added;
  std::vector<Removed> removed;
  std::vector<Received> received;

private:
  bool echo_;
};

} // namespace seedscope::test
