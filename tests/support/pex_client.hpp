// A Go-style PEX client for integration tests: dials a node as a node of `network` (listing
// only the PEX channel), sends one PexRequest and waits for the PexAddrs (and, with
// `until_hang_up`, for the node to close the connection too). Runs `loop` until then
// (bounded by `limit`, REQUIRE on timeout).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/base/bytes.hpp"
#include "core/types/net_address.hpp"
#include "crawler/runtime/loop.hpp"

namespace seedscope::test {

struct PexAnswer {
  bool connected = false;                       // the handshake completed
  std::string failure;                          // why not, when it did not
  std::string their_network;                    // the network the node answered in
  std::optional<std::vector<NetAddress>> addrs; // the PexAddrs, when one arrived
  std::size_t requests = 0;                     // PexRequests the node sent us
  bool closed = false;                          // the node hung up (or the connection broke)
};

PexAnswer pex_request(runtime::Loop& loop, const PeerAddress& target, const std::string& network,
                      Millis limit = Millis(10000), bool until_hang_up = false);
// The same, sending `message` on the PEX channel instead of a PexRequest (a peer that breaks
// the rules: an unsolicited PexAddrs, say), then waiting for an answer or the hang-up.
PexAnswer pex_send(runtime::Loop& loop, const PeerAddress& target, const std::string& network,
                   Bytes message, Millis limit = Millis(10000), bool until_hang_up = false);

} // namespace seedscope::test
