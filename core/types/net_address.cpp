// p2p/netaddress.go (NewNetAddressString, Valid, Local, Routable, RFC ranges) and groupKeyFor
// in p2p/pex/addrbook.go @ v0.34, without DNS.
#include "core/types/net_address.hpp"
#include "core/base/error_category.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>

#include "core/crypto/keys.hpp"

namespace seedscope {

namespace {

using Ip16 = std::array<std::uint8_t, 16>;

// A CIDR range over the 16-byte form; `v4` ranges match only IPv4 addresses, v6 ranges only
// non-IPv4 ones (as Go's IPNet.Contains does for nets of the other length).
struct Range {
  bool v4;
  Ip16 base;
  int bits; // prefix length within the family
};

Range v4_range(std::uint8_t a, std::uint8_t b, int bits) {
  Ip16 ip{};
  ip[10] = ip[11] = 0xff;
  ip[12] = a;
  ip[13] = b;
  return {true, ip, bits};
}

Range v6_range(std::initializer_list<std::uint16_t> groups, int bits) {
  Ip16 ip{};
  std::size_t i = 0;
  for (std::uint16_t g : groups) {
    ip[i++] = static_cast<std::uint8_t>(g >> 8);
    ip[i++] = static_cast<std::uint8_t>(g);
  }
  return {false, ip, bits};
}

bool contains(const Range& r, const IpAddress& ip) {
  if (r.v4 != ip.is_v4()) return false;
  const int offset = r.v4 ? 12 : 0;
  const auto& b = ip.bytes();
  for (int bit = 0; bit < r.bits; ++bit) {
    const int byte = offset + bit / 8;
    const int mask = 0x80 >> (bit % 8);
    if ((b[byte] & mask) != (r.base[byte] & mask)) return false;
  }
  return true;
}

const Range kRfc1918[] = {v4_range(10, 0, 8), v4_range(172, 16, 12), v4_range(192, 168, 16)};
const Range kRfc3927 = v4_range(169, 254, 16);
const Range kZero4 = v4_range(0, 0, 8);
const Range kRfc3849 = v6_range({0x2001, 0x0db8}, 32);
const Range kRfc3964 = v6_range({0x2002}, 16);
const Range kRfc4193 = v6_range({0xfc00}, 7);
const Range kRfc4380 = v6_range({0x2001, 0x0000}, 32);
const Range kRfc4843 = v6_range({0x2001, 0x0010}, 28);
const Range kRfc4862 = v6_range({0xfe80, 0, 0, 0}, 64);
const Range kRfc6052 = v6_range({0x0064, 0xff9b, 0, 0, 0, 0}, 96);
const Range kRfc6145 = v6_range({0, 0, 0, 0, 0xffff, 0}, 96);
const Range kOnionCatTor = v6_range({0xfd87, 0xd87e, 0xeb43}, 48);
const Range kHeNet = v6_range({0x2001, 0x0470}, 32);

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Go's ParseIP for dotted quads: four decimal octets, no leading zeros, each <= 255.
std::optional<std::array<std::uint8_t, 4>> parse_v4(std::string_view s) {
  std::array<std::uint8_t, 4> out{};
  for (int i = 0; i < 4; ++i) {
    if (i > 0) {
      if (s.empty() || s[0] != '.') return std::nullopt;
      s.remove_prefix(1);
    }
    std::size_t n = 0;
    unsigned v = 0;
    while (n < s.size() && is_digit(s[n]) && n < 4) v = v * 10 + unsigned(s[n++] - '0');
    if (n == 0 || n > 3 || v > 255 || (n > 1 && s[0] == '0')) return std::nullopt;
    out[i] = static_cast<std::uint8_t>(v);
    s.remove_prefix(n);
  }
  if (!s.empty()) return std::nullopt;
  return out;
}

std::string v4_string(const std::uint8_t* b) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
  return buf;
}

// The /16 of four IPv4 bytes, as Go prints ip.Mask(CIDRMask(16, 32)).
std::string v4_group(std::uint8_t a, std::uint8_t b) {
  const std::uint8_t g[4] = {a, b, 0, 0};
  return v4_string(g);
}

bool is_host_name(std::string_view h) {
  if (h.empty() || h.size() > 253 || h.front() == '.' || h.front() == '-') return false;
  std::size_t label = 0;
  for (char c : h) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    const bool ok =
        is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_';
    if (!ok || ++label > 63) return false;
  }
  return true;
}

std::string_view describe(AddressError e) {
  switch (e) {
  case AddressError::kNoId: return "address has no node ID (expected ID@host:port)";
  case AddressError::kBadId: return "node ID is not 40 hex digits";
  case AddressError::kBadHostPort: return "cannot split host and port";
  case AddressError::kBadPort: return "port is not a number from 0 to 65535";
  case AddressError::kBadHost: return "host is empty or not a valid IP or host name";
  }
  return "unknown address error";
}

} // namespace

const std::error_category& address_category() {
  return enum_category<AddressError>("address", describe);
}

std::error_code make_error_code(AddressError e) {
  return {static_cast<int>(e), address_category()};
}

IpAddress IpAddress::v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  IpAddress ip;
  ip.bytes_[10] = ip.bytes_[11] = 0xff;
  ip.bytes_[12] = a;
  ip.bytes_[13] = b;
  ip.bytes_[14] = c;
  ip.bytes_[15] = d;
  return ip;
}

IpAddress IpAddress::v6(const std::array<std::uint8_t, 16>& bytes) {
  IpAddress ip;
  ip.bytes_ = bytes;
  return ip;
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']')
    text = text.substr(1, text.size() - 2);
  if (text.find(':') == std::string_view::npos) {
    auto v4 = parse_v4(text);
    if (!v4) return std::nullopt;
    return IpAddress::v4((*v4)[0], (*v4)[1], (*v4)[2], (*v4)[3]);
  }
  if (text.size() > 45) return std::nullopt;
  // An embedded IPv4 tail must follow Go's (stricter) dotted-quad rules too.
  if (auto colon = text.rfind(':');
      text.find('.', colon) != std::string_view::npos && !parse_v4(text.substr(colon + 1)))
    return std::nullopt;
  std::string z(text);
  Ip16 b;
  if (inet_pton(AF_INET6, z.c_str(), b.data()) != 1) return std::nullopt;
  return IpAddress::v6(b);
}

bool IpAddress::is_v4() const {
  for (int i = 0; i < 10; ++i)
    if (bytes_[i] != 0) return false;
  return bytes_[10] == 0xff && bytes_[11] == 0xff;
}

std::string IpAddress::to_string() const {
  if (is_v4()) return v4_string(bytes_.data() + 12);
  // RFC 5952 as Go prints it: the longest run of two or more zero groups becomes "::".
  int best_start = -1, best_len = 0;
  for (int i = 0; i < 8;) {
    int j = i;
    while (j < 8 && bytes_[2 * j] == 0 && bytes_[2 * j + 1] == 0) ++j;
    if (j - i > best_len) {
      best_start = i;
      best_len = j - i;
    }
    i = j > i ? j : i + 1;
  }
  if (best_len < 2) best_start = -1;
  std::string out;
  char buf[8];
  for (int i = 0; i < 8; ++i) {
    if (i == best_start) {
      out += "::";
      i += best_len - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    std::snprintf(buf, sizeof buf, "%x", unsigned(bytes_[2 * i]) << 8 | bytes_[2 * i + 1]);
    out += buf;
  }
  return out;
}

std::string NetAddress::dial_string() const {
  const std::string host = ip.to_string();
  const std::string p = std::to_string(port);
  return host.find(':') != std::string::npos ? "[" + host + "]:" + p : host + ":" + p;
}

std::string NetAddress::to_string() const {
  return id.empty() ? dial_string() : id + "@" + dial_string();
}

bool NetAddress::valid() const {
  if (!crypto::is_valid_node_id(id)) return false;
  const bool unspecified = ip == IpAddress() || ip == IpAddress::v4(0, 0, 0, 0);
  const bool broadcast = ip == IpAddress::v4(255, 255, 255, 255);
  return !unspecified && !contains(kRfc3849, ip) && !broadcast;
}

bool NetAddress::local() const {
  static const Range kLoopback4 = v4_range(127, 0, 8);
  static const IpAddress kLoopback6 =
      IpAddress::v6({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  return contains(kLoopback4, ip) || ip == kLoopback6 || contains(kZero4, ip);
}

bool NetAddress::loopback() const {
  static const Range kLoopback4 = v4_range(127, 0, 8);
  static const IpAddress kLoopback6 =
      IpAddress::v6({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  return contains(kLoopback4, ip) || ip == kLoopback6;
}

bool NetAddress::routable() const {
  if (!valid()) return false;
  const bool rfc1918 = std::any_of(std::begin(kRfc1918), std::end(kRfc1918),
                                   [&](const Range& r) { return contains(r, ip); });
  return !(rfc1918 || contains(kRfc3927, ip) || contains(kRfc4862, ip) || contains(kRfc4193, ip) ||
           contains(kRfc4843, ip) || local());
}

std::optional<NetAddress> PeerAddress::net_address() const {
  if (!ip) return std::nullopt;
  return NetAddress{id, *ip, port};
}

std::string PeerAddress::to_string() const {
  if (auto na = net_address()) return na->to_string();
  return id + "@" + host + ":" + std::to_string(port);
}

Result<PeerAddress> parse_peer_address(std::string_view text) {
  const std::string_view original = text;
  if (auto p = text.find("://"); p != std::string_view::npos) {
    text.remove_prefix(p + 3);
    if (auto q = text.find("://"); q != std::string_view::npos) text = text.substr(0, q);
  }
  const auto at = text.find('@');
  if (at == std::string_view::npos || text.find('@', at + 1) != std::string_view::npos)
    return make_error(AddressError::kNoId, std::string(original));
  PeerAddress out;
  out.id = std::string(text.substr(0, at));
  if (!crypto::is_valid_node_id(out.id)) return make_error(AddressError::kBadId, out.id);
  std::string_view hostport = text.substr(at + 1);

  // net.SplitHostPort: "[v6]:port" or "host:port" with exactly one colon.
  std::string_view host, port;
  if (!hostport.empty() && hostport.front() == '[') {
    const auto close = hostport.find(']');
    if (close == std::string_view::npos || close + 1 >= hostport.size() ||
        hostport[close + 1] != ':')
      return make_error(AddressError::kBadHostPort, std::string(hostport));
    host = hostport.substr(1, close - 1);
    port = hostport.substr(close + 2);
  } else {
    const auto colon = hostport.rfind(':');
    if (colon == std::string_view::npos || hostport.find(':') != colon)
      return make_error(AddressError::kBadHostPort, std::string(hostport));
    host = hostport.substr(0, colon);
    port = hostport.substr(colon + 1);
  }
  if (host.find_first_of("[]") != std::string_view::npos ||
      port.find_first_of("[]") != std::string_view::npos)
    return make_error(AddressError::kBadHostPort, std::string(hostport));
  if (host.empty()) return make_error(AddressError::kBadHost, "host is empty");

  if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), is_digit))
    return make_error(AddressError::kBadPort, std::string(port));
  const unsigned long p = std::stoul(std::string(port));
  if (p > 65535) return make_error(AddressError::kBadPort, std::string(port));
  out.port = static_cast<std::uint16_t>(p);

  out.host = std::string(host);
  out.ip = IpAddress::parse(host);
  if (!out.ip && (host.find(':') != std::string_view::npos || !is_host_name(host)))
    return make_error(AddressError::kBadHost, std::string(host));
  return out;
}

std::string group_key(const NetAddress& addr, bool strict) {
  if (strict && addr.local()) return "local";
  if (strict && !addr.routable()) return "unroutable";
  const auto& b = addr.ip.bytes();
  if (addr.ip.is_v4()) return v4_group(b[12], b[13]);
  if (contains(kRfc6145, addr.ip) || contains(kRfc6052, addr.ip)) return v4_group(b[12], b[13]);
  if (contains(kRfc3964, addr.ip)) return v4_group(b[2], b[3]);
  if (contains(kRfc4380, addr.ip))
    return v4_group(static_cast<std::uint8_t>(b[12] ^ 0xff),
                    static_cast<std::uint8_t>(b[13] ^ 0xff));
  if (contains(kOnionCatTor, addr.ip)) return "tor:" + std::to_string(b[6] & 0x0f);
  const int bits = contains(kHeNet, addr.ip) ? 36 : 32;
  Ip16 masked{};
  for (int i = 0; i < bits / 8; ++i) masked[i] = b[i];
  if (bits % 8 != 0)
    masked[bits / 8] = static_cast<std::uint8_t>(b[bits / 8] & (0xff << (8 - bits % 8)));
  return IpAddress::v6(masked).to_string();
}

} // namespace seedscope
