// What a seed answers: addresses of nodes of the requester's network that were verified
// reachable recently, best reliability first, spread across autonomous systems where the
// ASN is known and across /16 (IPv4) or /32 (IPv6) groups otherwise: the best node of every
// group is taken before the second best of any. Free of I/O.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/base/clock.hpp"
#include "core/types/net_address.hpp"

namespace seedscope::crawl {

struct SeedCandidate {
  NetAddress addr;
  double score = 0;
  WallTime last_success{};
  std::uint32_t asn = 0; // 0: unknown (grouped by its /16)
};

// How many addresses a seed hands out for a book of `known` verified addresses: Go's
// GetSelection sizing (23 %, at least 32, at most 250).
std::size_t seed_answer_size(std::size_t known);

// Picks at most `max` of `candidates` whose last_success is at or after `fresh_since`.
// `strict` is the address book's routability rule for the group key.
std::vector<NetAddress> select_seed_addresses(std::vector<SeedCandidate> candidates,
                                              std::size_t max, WallTime fresh_since, bool strict);

} // namespace seedscope::crawl
