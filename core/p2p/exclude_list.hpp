// Nodes an operator has asked us never to contact, serve or export: node IDs, IP addresses and
// CIDR ranges, one per line of a text file ([crawler] exclude_file). Parsing and matching only
// (no I/O: the caller reads the file). An IPv4-mapped IPv6 address is the IPv4 address it maps,
// as everywhere in seedscope (IpAddress stores IPv4 that way), so "203.0.113.0/24" also
// excludes ::ffff:203.0.113.7. Immutable once parsed; a reload replaces the whole list.
// Single-threaded per object; copies may be read on other threads.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "core/types/net_address.hpp"

namespace seedscope {

class ExcludeList {
public:
  ExcludeList() = default;

  // Parses `text`: per line a node ID (40 hex digits, either case), an IP (v4 or v6, IPv6 with
  // or without brackets) or a CIDR (v4 /0-/32, v6 /0-/128; host bits may be set and are
  // ignored). `#` starts a comment, blank lines are allowed. Every bad line appends one
  // "<source>:<line>: <problem>" to `errors`; the good lines are kept in the result.
  static ExcludeList parse(std::string_view text, std::string_view source,
                           std::vector<std::string>& errors);

  bool excluded_id(std::string_view id) const; // case-insensitive
  bool excluded_ip(const IpAddress& ip) const;
  // By its ID (when set) or its IP.
  bool excluded(const NetAddress& addr) const {
    return (!addr.id.empty() && excluded_id(addr.id)) || excluded_ip(addr.ip);
  }

  std::size_t size() const { return entries_; } // entries (lines) in effect
  bool empty() const { return entries_ == 0; }

private:
  using Bytes16 = std::array<std::uint8_t, 16>;
  static Bytes16 masked(const Bytes16& b, int bits);

  std::unordered_set<std::string> ids_;       // lower case
  std::map<int, std::set<Bytes16>> networks_; // prefix length (of 128) -> masked addresses
  std::size_t entries_ = 0;
};

} // namespace seedscope
