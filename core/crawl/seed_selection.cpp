#include "core/crawl/seed_selection.hpp"

#include <algorithm>
#include <map>

#include "core/pex/addr_book.hpp"

namespace seedscope::crawl {

std::size_t seed_answer_size(std::size_t known) {
  std::size_t n =
      std::max(std::min(pex::kMinGetSelection, known), known * pex::kGetSelectionPercent / 100);
  return std::min(n, pex::kMaxGetSelection);
}

std::vector<NetAddress> select_seed_addresses(std::vector<SeedCandidate> candidates,
                                              std::size_t max, WallTime fresh_since, bool strict) {
  std::erase_if(candidates, [&](const SeedCandidate& c) { return c.last_success < fresh_since; });
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const SeedCandidate& a, const SeedCandidate& b) {
                     if (a.score != b.score) return a.score > b.score;
                     return a.last_success > b.last_success;
                   });
  // Each group's candidates in score order; then take round by round.
  std::map<std::string, std::vector<const SeedCandidate*>> groups;
  std::vector<std::string> order; // groups by their best candidate
  for (const auto& c : candidates) {
    auto g = c.asn != 0 ? "AS" + std::to_string(c.asn) : group_key(c.addr, strict);
    auto& list = groups[g];
    if (list.empty()) order.push_back(g);
    list.push_back(&c);
  }
  std::vector<NetAddress> out;
  for (std::size_t round = 0; out.size() < max; ++round) {
    bool any = false;
    for (const auto& g : order) {
      const auto& list = groups[g];
      if (round >= list.size()) continue;
      any = true;
      out.push_back(list[round]->addr);
      if (out.size() == max) break;
    }
    if (!any) break;
  }
  return out;
}

} // namespace seedscope::crawl
