#include "core/p2p/ban_list.hpp"

#include <algorithm>

namespace seedscope {

template <typename Key>
void BanList::put(std::map<Key, TimePoint>& bans, const Key& key, TimePoint now, TimePoint until) {
  auto [it, inserted] = bans.emplace(key, until);
  if (!inserted) {
    it->second = std::max(it->second, until);
    return;
  }
  if (bans.size() <= capacity_) return;
  // Over capacity: bans that ended go first, then those that end soonest.
  std::erase_if(bans, [&](const auto& kv) { return kv.second <= now; });
  while (bans.size() > capacity_) {
    auto soonest = std::min_element(
        bans.begin(), bans.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
    bans.erase(soonest);
  }
}

void BanList::ban(const std::string& id, const IpAddress& ip, TimePoint now, Millis duration) {
  if (duration <= Millis(0)) return;
  if (!id.empty()) put(ids_, id, now, now + duration);
  put(ips_, ip, now, now + duration);
}

bool BanList::id_banned(const std::string& id, TimePoint now) const {
  auto it = ids_.find(id);
  return it != ids_.end() && now < it->second;
}

bool BanList::ip_banned(const IpAddress& ip, TimePoint now) const {
  auto it = ips_.find(ip);
  return it != ips_.end() && now < it->second;
}

} // namespace seedscope
