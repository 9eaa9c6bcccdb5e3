#include "core/p2p/peer_address.hpp"

#include <algorithm>
#include <string>
#include <string_view>

namespace seedscope {

namespace {

bool unspecified(const IpAddress& ip) {
  const auto& b = ip.bytes();
  if (ip.is_v4()) return b[12] == 0 && b[13] == 0 && b[14] == 0 && b[15] == 0;
  return std::all_of(b.begin(), b.end(), [](std::uint8_t x) { return x == 0; });
}

} // namespace

std::optional<NetAddress> advertised_address(const NodeInfo& info, const IpAddress& observed_ip) {
  std::string_view listen = info.listen_addr;
  if (auto scheme = listen.find("://"); scheme != std::string_view::npos)
    listen.remove_prefix(scheme + 3);
  auto parsed = parse_peer_address(info.node_id + "@" + std::string(listen));
  if (!parsed.ok()) return std::nullopt;
  NetAddress addr{info.node_id, parsed->ip.value_or(IpAddress{}), parsed->port};
  if (!parsed->ip || unspecified(addr.ip)) {
    if (unspecified(observed_ip)) return std::nullopt;
    addr.ip = observed_ip;
  }
  return addr;
}

} // namespace seedscope
