#include "core/geo/geo.hpp"

#include <algorithm>
#include <map>
#include <unordered_map>

namespace seedscope::geo {

std::string asn_label(std::uint32_t asn) { return asn == 0 ? "" : "AS" + std::to_string(asn); }

namespace {

// The smallest k such that the k largest counts hold at least numerator/denominator of
// `known` (counts sorted, largest first).
std::size_t holders(const std::vector<Share>& sorted, std::size_t known, std::size_t numerator,
                    std::size_t denominator) {
  if (known == 0) return 0;
  std::size_t held = 0;
  for (std::size_t k = 0; k < sorted.size(); ++k) {
    held += sorted[k].nodes;
    if (held * denominator >= known * numerator) return k + 1;
  }
  return sorted.size();
}

} // namespace

Concentration concentration(const std::vector<std::string>& values, std::size_t top) {
  Concentration c;
  c.total = values.size();
  std::map<std::string, std::size_t> counts;
  for (const auto& v : values) {
    if (v.empty()) ++c.unknown;
    else ++counts[v];
  }
  std::vector<Share> sorted;
  sorted.reserve(counts.size());
  for (const auto& [key, n] : counts) sorted.push_back({key, n});
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const Share& a, const Share& b) { return a.nodes > b.nodes; });
  const std::size_t known = c.total - c.unknown;
  c.distinct = sorted.size();
  c.to_third = holders(sorted, known, 1, 3);
  c.to_half = holders(sorted, known, 1, 2);
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    if (i < top) c.top.push_back(sorted[i]);
    else c.other += sorted[i].nodes;
  }
  return c;
}

std::vector<bool> within_caps(const std::vector<GeoInfo>& entries, Caps caps) {
  std::unordered_map<std::uint32_t, std::size_t> per_asn;
  std::unordered_map<std::string, std::size_t> per_country;
  std::vector<bool> keep(entries.size(), false);
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    const bool asn_capped = caps.per_asn > 0 && e.asn != 0;
    const bool country_capped = caps.per_country > 0 && !e.country.empty();
    if (asn_capped && per_asn[e.asn] >= caps.per_asn) continue;
    if (country_capped && per_country[e.country] >= caps.per_country) continue;
    if (asn_capped) ++per_asn[e.asn];
    if (country_capped) ++per_country[e.country];
    keep[i] = true;
  }
  return keep;
}

} // namespace seedscope::geo
