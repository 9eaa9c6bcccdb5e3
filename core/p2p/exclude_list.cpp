#include "core/p2p/exclude_list.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <fmt/format.h>

namespace seedscope {

namespace {

std::string_view trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

bool hex_id(std::string_view s) {
  return s.size() == 40 && std::all_of(s.begin(), s.end(), [](char c) {
           return std::isxdigit(static_cast<unsigned char>(c)) != 0;
         });
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Printable text for an error message: a binary line does not spill into the log.
std::string shown(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 80)) out += (c >= 0x20 && c <= 0x7e) ? c : '?';
  return s.size() > 80 ? out + "..." : out;
}

} // namespace

ExcludeList::Bytes16 ExcludeList::masked(const Bytes16& b, int bits) {
  Bytes16 out{};
  for (int i = 0; i < 16 && bits > 0; ++i, bits -= 8)
    out[i] = bits >= 8 ? b[i] : static_cast<std::uint8_t>(b[i] & (0xff << (8 - bits)));
  return out;
}

ExcludeList ExcludeList::parse(std::string_view text, std::string_view source,
                               std::vector<std::string>& errors) {
  ExcludeList list;
  std::size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    line = trim(line.substr(0, line.find('#')));
    if (line.empty()) continue;
    auto bad = [&](const std::string& why) {
      errors.push_back(fmt::format("{}:{}: \"{}\": {}", source, line_no, shown(line), why));
    };
    if (line.find_first_of(" \t") != std::string_view::npos) {
      bad("one entry per line (a node ID, an IP or a CIDR)");
      continue;
    }
    if (hex_id(line)) {
      list.ids_.insert(lower(line));
      ++list.entries_;
      continue;
    }
    const auto slash = line.find('/');
    const auto ip = IpAddress::parse(line.substr(0, slash));
    if (!ip) {
      bad(slash == std::string_view::npos && line.size() == 40
              ? "not a node ID (40 hex digits) or an IP address"
              : "not a node ID (40 hex digits), an IP address or a CIDR (e.g. 203.0.113.0/24)");
      continue;
    }
    const bool v4 = ip->is_v4() && line.substr(0, slash).find(':') == std::string_view::npos;
    const int max_bits = v4 ? 32 : 128;
    int bits = max_bits;
    if (slash != std::string_view::npos) {
      const std::string_view p = line.substr(slash + 1);
      auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), bits);
      if (p.empty() || ec != std::errc() || end != p.data() + p.size() || bits < 0 ||
          bits > max_bits) {
        bad(fmt::format("the prefix length must be a number from 0 to {}", max_bits));
        continue;
      }
    }
    // IPv4 sits in the last 32 bits of its mapped form (::ffff:a.b.c.d).
    const int prefix = v4 ? 96 + bits : bits;
    list.networks_[prefix].insert(masked(ip->bytes(), prefix));
    ++list.entries_;
  }
  return list;
}

bool ExcludeList::excluded_id(std::string_view id) const {
  if (ids_.empty() || id.size() != 40) return false;
  return ids_.count(lower(id)) != 0;
}

bool ExcludeList::excluded_ip(const IpAddress& ip) const {
  for (const auto& [bits, nets] : networks_)
    if (nets.count(masked(ip.bytes(), bits)) != 0) return true;
  return false;
}

} // namespace seedscope
