#include "core/base/log_limiter.hpp"

#include <algorithm>
#include <utility>

namespace seedscope {

bool LogLimiter::take(Bucket& b, double rate, double burst, TimePoint now) {
  if (!b.started) {
    b = {burst, now, true};
  } else if (now > b.last) {
    b.tokens = std::min(burst, b.tokens + double((now - b.last).count()) * rate / 1000.0);
    b.last = now;
  }
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  return true;
}

bool LogLimiter::allow(std::string_view cause, std::string_view peer, TimePoint now) {
  auto it = causes_.find(cause);
  if (it == causes_.end()) it = causes_.emplace(std::string(cause), Bucket{}).first;
  bool ok = true;
  if (!peer.empty()) {
    if (peers_.size() >= limits_.max_peers && peers_.find(std::string(peer)) == peers_.end())
      peers_.clear();
    ok = take(peers_[std::string(cause) + '\n' + std::string(peer)], limits_.peer_per_second,
              limits_.peer_burst, now);
  }
  // A peer over its own budget does not spend its cause's.
  ok = ok && take(it->second, limits_.per_second, limits_.burst, now);
  if (!ok) {
    ++suppressed_[it->first];
    ++total_;
  }
  return ok;
}

std::map<std::string, std::uint64_t> LogLimiter::take_suppressed() {
  return std::exchange(suppressed_, {});
}

std::string suppressed_summary(const std::map<std::string, std::uint64_t>& counts) {
  std::uint64_t total = 0;
  std::string parts;
  for (const auto& [cause, n] : counts) {
    total += n;
    parts += (parts.empty() ? "" : ", ") + cause + " " + std::to_string(n);
  }
  return std::to_string(total) +
         " log lines suppressed (rate limit) since the last report: " + parts;
}

} // namespace seedscope
