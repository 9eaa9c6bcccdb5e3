// AddrBook: picking an address to dial and selections for PEX replies. Ports PickAddress,
// GetSelection, GetSelectionWithBias and randomPickAddresses of p2p/pex/addrbook.go @ v0.34.24.
#include <algorithm>
#include <cmath>
#include <unordered_set>

#include "core/pex/addr_book.hpp"

namespace seedscope::pex {

namespace {

// numAddresses of GetSelection and GetSelectionWithBias.
std::size_t selection_size(std::size_t book_size) {
  const std::size_t percent = book_size * kGetSelectionPercent / 100;
  return std::min(kMaxGetSelection, std::max(std::min(kMinGetSelection, book_size), percent));
}

// Go's percentageOfNum: math.Round rounds halves away from zero, like std::lround.
std::size_t percentage_of(int percent, std::size_t n) {
  return static_cast<std::size_t>(std::lround(percent / 100.0 * static_cast<double>(n)));
}

// Fisher-Yates over the first `count` positions (all of them when count == v.size()).
template <class T> void shuffle_prefix(std::vector<T>& v, std::size_t count, Rng& rng) {
  for (std::size_t i = 0; i < count && i + 1 < v.size(); ++i)
    std::swap(v[i], v[i + rng.below(v.size() - i)]);
}

// GetSelection's choice among `candidates`: selection_size of them, uniformly at random.
std::vector<NetAddress> random_selection(std::vector<const KnownAddress*> candidates, Rng& rng) {
  const std::size_t n = selection_size(candidates.size());
  shuffle_prefix(candidates, n, rng);
  std::vector<NetAddress> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) out.push_back(candidates[i]->addr);
  return out;
}

} // namespace

std::optional<NetAddress> AddrBook::pick_address(int bias_towards_new) {
  if (empty()) return std::nullopt;
  const int bias = std::clamp(bias_towards_new, 0, 100);
  const double old_weight = std::sqrt(static_cast<double>(n_old_)) * (100.0 - bias);
  const double new_weight = std::sqrt(static_cast<double>(n_new_)) * bias;
  const bool pick_old = (new_weight + old_weight) * rng_.uniform01() < old_weight;
  // As Go: no fallback to the other kind (bias 100 with only old entries gives nothing).
  if ((pick_old && n_old_ == 0) || (!pick_old && n_new_ == 0)) return std::nullopt;
  const auto& buckets = pick_old ? old_buckets_ : new_buckets_;
  // Go's loop: random buckets until a non-empty one (there is one: the count is non-zero).
  const Bucket* b = nullptr;
  while (!b || b->empty()) b = &buckets[rng_.below(buckets.size())];
  return by_id_.at((*b)[rng_.below(b->size())]).addr;
}

std::vector<NetAddress> AddrBook::get_selection() {
  if (empty()) return {};
  std::vector<const KnownAddress*> all;
  all.reserve(size());
  for (const auto& [id, ka] : by_id_) all.push_back(&ka);
  return random_selection(std::move(all), rng_);
}

std::vector<NetAddress> AddrBook::get_selection_in_network(const std::string& network) {
  if (network.empty()) return {};
  std::vector<const KnownAddress*> in_network;
  for (const auto& [id, ka] : by_id_)
    if (ka.network == network) in_network.push_back(&ka);
  return random_selection(std::move(in_network), rng_);
}

// Go: numRequiredNewAdd = max(round(bias% of n), n - nOld) new ones first, then old ones up
// to n (fewer new than required leaves room for more old).
std::vector<NetAddress> AddrBook::get_selection_with_bias(int bias_towards_new) {
  if (empty()) return {};
  const int bias = std::clamp(bias_towards_new, 0, 100);
  const std::size_t n = selection_size(size());
  const std::size_t required_new = std::max(percentage_of(bias, n), n > n_old_ ? n - n_old_ : 0);
  std::vector<NetAddress> out = random_pick(BucketType::kNew, required_new);
  std::vector<NetAddress> old = random_pick(BucketType::kOld, n - out.size());
  out.insert(out.end(), old.begin(), old.end());
  return out;
}

// Go's randomPickAddresses: every bucket entry (a new address once per bucket it is in, so
// one in more buckets is more likely to be chosen), shuffled, first `num` distinct.
// Deviation: Go appends before testing the count, so num == 0 still yields one address
// (a bias of 0 or 100 can then return one more or other than asked); we return none.
std::vector<NetAddress> AddrBook::random_pick(BucketType type, std::size_t num) {
  std::vector<NetAddress> out;
  if (num == 0) return out;
  std::vector<const std::string*> ids;
  for (const Bucket& b : type == BucketType::kNew ? new_buckets_ : old_buckets_)
    for (const std::string& id : b) ids.push_back(&id);
  shuffle_prefix(ids, ids.size(), rng_);
  std::unordered_set<std::string_view> chosen;
  for (const std::string* id : ids) {
    if (!chosen.insert(*id).second) continue;
    out.push_back(by_id_.at(*id).addr);
    if (out.size() >= num) break;
  }
  return out;
}

} // namespace seedscope::pex
