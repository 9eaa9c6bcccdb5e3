#include "core/crawl/schedule.hpp"

#include <algorithm>

namespace seedscope::crawl {

std::string_view to_string(AddrState s) {
  switch (s) {
  case AddrState::kNew: return "new";
  case AddrState::kReachable: return "reachable";
  case AddrState::kMisbehaving: return "misbehaving";
  case AddrState::kUnreachable: return "unreachable";
  case AddrState::kRetired: return "retired";
  }
  return "new";
}

std::optional<AddrState> addr_state_from_string(std::string_view s) {
  for (auto st : {AddrState::kNew, AddrState::kReachable, AddrState::kMisbehaving,
                  AddrState::kUnreachable, AddrState::kRetired}) {
    if (to_string(st) == s) return st;
  }
  return std::nullopt;
}

void Schedule::push(const std::string& key, WallTime at) { heap_.push(Due{at, seq_++, key}); }

void Schedule::set_state(Entry& e, AddrState s) {
  --counts_[static_cast<int>(e.a.state)];
  e.a.state = s;
  ++counts_[static_cast<int>(s)];
}

Millis Schedule::backoff(int failures) const {
  // retry_base * 2^(failures-1), capped.
  auto delay = config_.retry_base;
  for (int i = 1; i < failures && delay < config_.retry_cap; ++i) delay *= 2;
  return std::min(delay, config_.retry_cap);
}

bool Schedule::add(const NetAddress& addr, std::string_view network, WallTime now) {
  auto k = key(addr);
  auto it = entries_.find(k);
  if (it != entries_.end()) {
    Entry& e = it->second;
    if (e.a.network.empty() && !network.empty()) e.a.network = std::string(network);
    if (e.a.state == AddrState::kRetired && !e.in_flight) {
      set_state(e, AddrState::kUnreachable);
      // One more attempt, not before retry_cap: if it fails, it is retired again.
      e.a.next_attempt = now + config_.retry_cap;
      push(k, e.a.next_attempt);
    }
    return false;
  }
  Entry e;
  e.a.addr = addr;
  e.a.network = std::string(network);
  e.a.first_seen = now;
  e.a.next_attempt = now;
  ++counts_[static_cast<int>(AddrState::kNew)];
  entries_.emplace(k, std::move(e));
  push(k, now);
  return true;
}

void Schedule::restore(const ScheduledAddress& entry) {
  auto k = key(entry.addr);
  auto it = entries_.find(k);
  if (it != entries_.end()) {
    if (it->second.in_flight) {
      in_flight_ids_.erase(it->second.a.addr.id);
      --in_flight_;
    }
    --counts_[static_cast<int>(it->second.a.state)];
    entries_.erase(it);
  }
  Entry e;
  e.a = entry;
  ++counts_[static_cast<int>(e.a.state)];
  entries_.emplace(k, std::move(e));
  if (entry.state != AddrState::kRetired) push(k, entry.next_attempt);
}

void Schedule::drop_stale_heads() const {
  while (!heap_.empty()) {
    const Due& d = heap_.top();
    auto it = entries_.find(d.key);
    if (it != entries_.end() && !it->second.in_flight &&
        it->second.a.state != AddrState::kRetired && it->second.a.next_attempt == d.at) {
      return;
    }
    heap_.pop();
  }
}

std::optional<ScheduledAddress> Schedule::pop_due(WallTime now) {
  // Entries whose ID is busy are pushed back; bound the work per call.
  for (std::size_t tries = 0; tries < 64; ++tries) {
    drop_stale_heads();
    if (heap_.empty() || heap_.top().at > now) return std::nullopt;
    Due d = heap_.top();
    heap_.pop();
    Entry& e = entries_.at(d.key);
    if (!e.a.addr.id.empty() && in_flight_ids_.count(e.a.addr.id) != 0) {
      e.a.next_attempt = now + config_.id_busy_delay;
      push(d.key, e.a.next_attempt);
      continue;
    }
    e.in_flight = true;
    ++in_flight_;
    if (!e.a.addr.id.empty()) in_flight_ids_.insert(e.a.addr.id);
    return e.a;
  }
  return std::nullopt;
}

std::optional<ScheduledAddress> Schedule::finish(const NetAddress& addr, Verdict verdict,
                                                 std::string_view network, WallTime now) {
  auto k = key(addr);
  auto it = entries_.find(k);
  if (it == entries_.end() || !it->second.in_flight) {
    ++violations_; // finish without pop_due: the caller's bug; nothing to change
    return std::nullopt;
  }
  Entry& e = it->second;
  e.in_flight = false;
  --in_flight_;
  in_flight_ids_.erase(e.a.addr.id);
  if (!network.empty()) e.a.network = std::string(network);
  e.a.last_attempt = now;
  if (verdict == Verdict::kVerified) {
    e.a.failures = 0;
    e.a.last_success = now;
    set_state(e, AddrState::kReachable);
    e.a.next_attempt = now + config_.recrawl_interval;
  } else {
    ++e.a.failures;
    // Never reached: retire after retire_after from first sight; else from the last success.
    WallTime since = is_set(e.a.last_success) ? e.a.last_success : e.a.first_seen;
    if (now - since >= config_.retire_after) {
      set_state(e, AddrState::kRetired);
      e.a.next_attempt = WallTime::max();
      return e.a;
    }
    set_state(e,
              verdict == Verdict::kMisbehaved ? AddrState::kMisbehaving : AddrState::kUnreachable);
    e.a.next_attempt = now + backoff(e.a.failures);
  }
  push(k, e.a.next_attempt);
  return e.a;
}

bool Schedule::postpone(const NetAddress& addr, WallTime at) {
  auto k = key(addr);
  auto it = entries_.find(k);
  if (it == entries_.end() || !it->second.in_flight) {
    ++violations_;
    return false;
  }
  Entry& e = it->second;
  e.in_flight = false;
  --in_flight_;
  in_flight_ids_.erase(e.a.addr.id);
  e.a.next_attempt = at;
  push(k, at);
  return true;
}

WallTime Schedule::next_due() const {
  drop_stale_heads();
  return heap_.empty() ? WallTime::max() : heap_.top().at;
}

const ScheduledAddress* Schedule::find(const NetAddress& addr) const {
  auto it = entries_.find(key(addr));
  return it == entries_.end() ? nullptr : &it->second.a;
}

} // namespace seedscope::crawl
