// Where nodes are, free of I/O: the country and autonomous system of an address (crawler/geo
// looks them up in MaxMind DB files), how concentrated a network's nodes are in a few
// countries or providers, and peer lists capped per ASN and per country.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace seedscope::geo {

// What the databases say of one IP address. Empty fields (asn 0) are unknown: no database of
// that kind is configured, or it has no entry for the address.
struct GeoInfo {
  std::string country; // ISO 3166-1 alpha-2 ("DE"), as the database spells it
  std::uint32_t asn = 0;
  std::string as_org; // the AS organisation ("Hetzner Online GmbH")
  bool operator==(const GeoInfo&) const = default;
  bool empty() const { return country.empty() && asn == 0 && as_org.empty(); }
};

// "AS24940", or "" for an unknown ASN.
std::string asn_label(std::uint32_t asn);

struct Share {
  std::string key; // a country code, an ASN label or an AS organisation
  std::size_t nodes = 0;
};

// How a network's nodes spread over the values of one attribute (country, ASN, AS
// organisation).
struct Concentration {
  std::size_t total = 0;    // nodes counted
  std::size_t unknown = 0;  // of them, nodes whose value is unknown
  std::size_t distinct = 0; // distinct known values
  std::vector<Share> top;   // the values holding most nodes, most first, then by key
  std::size_t other = 0;    // known nodes whose value is not in `top`
  // The smallest number of values that together hold at least a third (a half) of the nodes
  // whose value is known: a Nakamoto-style coefficient, 1 when one provider holds a third.
  // 0 when no value is known.
  std::size_t to_third = 0;
  std::size_t to_half = 0;
};

// `values` holds one entry per node ("" when unknown); `top` bounds Concentration::top.
Concentration concentration(const std::vector<std::string>& values, std::size_t top);

// Caps on a peer list; 0 is no cap.
struct Caps {
  std::size_t per_asn = 0;
  std::size_t per_country = 0;
};

// Walks `entries` in order (best first) and keeps an entry while its ASN and its country have
// fewer than their cap of kept entries. Unknown values are not capped: they are no one
// provider or country. Returns one flag per entry.
std::vector<bool> within_caps(const std::vector<GeoInfo>& entries, Caps caps);

} // namespace seedscope::geo
