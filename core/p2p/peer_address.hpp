// Where a peer can be reached, from what it says and where its connection came from.
#pragma once

#include <optional>

#include "core/types/net_address.hpp"
#include "core/types/node_info.hpp"

namespace seedscope {

// The address worth recording for a peer: its NodeInfo listen address (a `tcp://` prefix
// allowed), with the observed IP of its connection when it advertises an unspecified host
// (0.0.0.0 or ::, as many nodes do; PROTOCOL.md 3). nullopt when it is unusable. Names are not
// resolved (the core does no DNS): a host name gives nullopt.
std::optional<NetAddress> advertised_address(const NodeInfo& info, const IpAddress& observed_ip);

} // namespace seedscope
