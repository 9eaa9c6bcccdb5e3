// Where a peer can be reached (core/p2p/peer_address.hpp).
#include <doctest/doctest.h>

#include <ostream>

#include "core/p2p/peer_address.hpp"

using namespace seedscope;

namespace {
NodeInfo listening_on(const std::string& listen_addr) {
  NodeInfo i;
  i.node_id = std::string(40, 'a');
  i.listen_addr = listen_addr;
  return i;
}
} // namespace

TEST_CASE("advertised address: as advertised, or the observed IP for an unspecified host") {
  const IpAddress observed = IpAddress::v4(11, 7, 0, 9);
  const std::string id(40, 'a');
  CHECK(advertised_address(listening_on("tcp://11.8.0.1:26657"), observed) ==
        NetAddress{id, IpAddress::v4(11, 8, 0, 1), 26657});
  CHECK(advertised_address(listening_on("11.8.0.1:26657"), observed) ==
        NetAddress{id, IpAddress::v4(11, 8, 0, 1), 26657});
  CHECK(advertised_address(listening_on("tcp://0.0.0.0:26656"), observed) ==
        NetAddress{id, observed, 26656});
  CHECK(advertised_address(listening_on("tcp://[::]:26656"), observed) ==
        NetAddress{id, observed, 26656});
  const IpAddress v6 = *IpAddress::parse("2a01:4f8::9");
  CHECK(advertised_address(listening_on("tcp://0.0.0.0:26656"), v6) == NetAddress{id, v6, 26656});
  // Unusable: no port, a name (not resolved here), an unspecified host seen from nowhere.
  CHECK_FALSE(advertised_address(listening_on("tcp://11.8.0.1"), observed));
  CHECK_FALSE(advertised_address(listening_on("tcp://0.0.0.0:26656"), IpAddress{}));
  CHECK_FALSE(advertised_address(listening_on(""), observed));
}
