// Fuzz target: address strings. One input is read as each of:
//   - an IP literal (IpAddress::parse, and the wire form parse_wire_ip): what parses formats
//     to text that parses back to the same address;
//   - a peer address "[scheme://]ID@host:port" (parse_peer_address): what parses formats to a
//     string that parses back to the same ID, port and IP (or host name); with an IP, its
//     NetAddress does too, and its group key is computed without trouble;
//   - a NodeInfo listen address (advertised_address): what it yields has the observed IP when
//     it names an unspecified one, and a port;
//   - a listen address ("host:port", ":port", "tcp://[v6]:port"; parse_listen_address):
//     refused only with a one-line ListenError; what parses gives the same host and port again when
//     written back as host:port.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/p2p/peer_address.hpp"
#include "core/pex/pex_messages.hpp"
#include "core/types/net_address.hpp"
#include "crawler/runtime/listen_address.hpp"
#include "fuzz/fuzz_invariant.hpp"

using namespace seedscope;

namespace {

void check_ip(std::string_view text) {
  if (auto ip = IpAddress::parse(text)) {
    const auto again = IpAddress::parse(ip->to_string());
    FUZZ_INVARIANT(again && *again == *ip);
  }
  if (auto ip = pex::parse_wire_ip(text)) {
    FUZZ_INVARIANT(IpAddress::parse(text) == ip);
    const auto again = pex::parse_wire_ip(ip->to_string());
    FUZZ_INVARIANT(again && *again == *ip);
  }
}

void check_peer_address(std::string_view text) {
  auto parsed = parse_peer_address(text);
  if (!parsed.ok()) {
    FUZZ_INVARIANT(parsed.error().code.category() == address_category());
    return;
  }
  const PeerAddress& p = *parsed;
  auto again = parse_peer_address(p.to_string());
  FUZZ_INVARIANT(again.ok());
  FUZZ_INVARIANT(again->id == p.id && again->port == p.port && again->ip == p.ip);
  if (!p.ip) FUZZ_INVARIANT(again->host == p.host);
  if (auto na = p.net_address()) {
    FUZZ_INVARIANT(p.ip && na->ip == *p.ip && na->port == p.port && na->id == p.id);
    auto from_net = parse_peer_address(na->to_string());
    FUZZ_INVARIANT(from_net.ok() && from_net->ip == p.ip && from_net->port == p.port);
    FUZZ_INVARIANT(!group_key(*na, true).empty());
    FUZZ_INVARIANT(!group_key(*na, false).empty());
    (void)na->valid();
    (void)na->routable();
  } else {
    FUZZ_INVARIANT(!p.ip);
  }
}

void check_advertised(std::string_view text) {
  NodeInfo info;
  info.node_id = std::string(40, 'a');
  info.listen_addr = std::string(text);
  const IpAddress observed = IpAddress::v4(10, 1, 2, 3);
  if (auto a = advertised_address(info, observed)) {
    FUZZ_INVARIANT(a->id == info.node_id);
    FUZZ_INVARIANT(a->ip != IpAddress() && a->ip != IpAddress::v4(0, 0, 0, 0));
  }
}

void check_listen_address(std::string_view text) {
  runtime::ListenAddress a;
  try {
    a = runtime::parse_listen_address(text);
  } catch (const runtime::ListenError& e) {
    FUZZ_INVARIANT(std::string(e.what()).rfind("cannot listen on ", 0) == 0);
    FUZZ_INVARIANT(!e.reason().empty());
    FUZZ_INVARIANT(std::string(e.what()).find('\n') == std::string::npos); // one line
    return;
  }
  FUZZ_INVARIANT(a.text == text);
  const bool v6 = a.host.find(':') != std::string::npos;
  const std::string back = (v6 ? "[" + a.host + "]" : a.host) + ":" + std::to_string(a.port);
  const runtime::ListenAddress again = runtime::parse_listen_address(back); // must not throw
  FUZZ_INVARIANT(again.host == a.host && again.port == a.port);
  FUZZ_INVARIANT(a.addr.ss_family == (v6 ? AF_INET6 : AF_INET));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 512) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  check_ip(text);
  check_peer_address(text);
  check_advertised(text);
  check_listen_address(text);
  return 0;
}
