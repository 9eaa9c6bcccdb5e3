// Peer addresses: ID@host:port parsing, validity, routability (RFC ranges) and the address
// book's group key. Ports p2p/netaddress.go and groupKeyFor in p2p/pex/addrbook.go @ v0.34.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "core/base/result.hpp"

namespace seedscope {

// An IPv4 or IPv6 address. IPv4 is stored as its IPv4-mapped IPv6 form (like Go's net.IP).
class IpAddress {
public:
  IpAddress() = default;
  static IpAddress v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d);
  static IpAddress v6(const std::array<std::uint8_t, 16>& bytes);
  // Literal only (no DNS): dotted quad, or IPv6 text with or without brackets.
  static std::optional<IpAddress> parse(std::string_view text);

  bool is_v4() const; // IPv4 or IPv4-mapped
  const std::array<std::uint8_t, 16>& bytes() const { return bytes_; }
  // Go's net.IP.String(): dotted quad for IPv4, RFC 5952 text for IPv6.
  std::string to_string() const;
  bool operator==(const IpAddress&) const = default;
  auto operator<=>(const IpAddress&) const = default;

private:
  std::array<std::uint8_t, 16> bytes_{};
};

struct NetAddress {
  std::string id; // may be empty
  IpAddress ip;
  std::uint16_t port = 0;

  // "id@ip:port" (IPv6 in brackets); "ip:port" when id is empty.
  std::string to_string() const;
  // "ip:port" (IPv6 in brackets), for dialing.
  std::string dial_string() const;

  bool valid() const;    // Go's Valid(): ID valid, IP not unspecified/RFC3849/broadcast
  bool local() const;    // loopback or unspecified
  bool loopback() const; // 127.0.0.0/8 or ::1
  bool routable() const; // valid and not private/link-local/ULA/ORCHID/loopback
  bool operator==(const NetAddress&) const = default;
};

enum class AddressError {
  kNoId = 1,    // no "@"
  kBadId,       // not 40 hex digits
  kBadHostPort, // cannot split host:port
  kBadPort,     // not a number or over 65535
  kBadHost,     // empty or syntactically impossible host
};
const std::error_category& address_category();
std::error_code make_error_code(AddressError e);

// A parsed "[scheme://]ID@host:port". The host is either an IP literal (ip set) or a DNS
// name to be resolved by the caller (ip empty).
struct PeerAddress {
  std::string id;
  std::string host;
  std::uint16_t port = 0;
  std::optional<IpAddress> ip;

  std::optional<NetAddress> net_address() const; // set when ip is set
  std::string to_string() const;                 // "id@host:port"
};

// Parses like Go's NewNetAddressString, minus DNS: a non-IP host must look like a host name.
Result<PeerAddress> parse_peer_address(std::string_view text);

// The address book's group key ("local", "unroutable", "a.b.0.0", "2001:db8::", ...).
std::string group_key(const NetAddress& addr, bool strict);

} // namespace seedscope

namespace std {
template <> struct is_error_code_enum<seedscope::AddressError> : true_type {};
} // namespace std
