#include "core/p2p/peer_set.hpp"

#include <cmath>

namespace seedscope {

std::string_view to_string(Admission a) {
  switch (a) {
  case Admission::kOk: return "ok";
  case Admission::kSelf: return "self";
  case Admission::kDuplicateId: return "duplicate_id";
  case Admission::kDuplicateIp: return "duplicate_ip";
  case Admission::kInboundFull: return "inbound_full";
  case Admission::kOutboundFull: return "outbound_full";
  case Admission::kBanned: return "banned";
  }
  return "unknown";
}

Failure admission_failure(Admission a) {
  switch (a) {
  case Admission::kOk: return {Stage::kLocalPolicy, Reason::kNone};
  case Admission::kSelf: return {Stage::kLocalPolicy, Reason::kSelf};
  case Admission::kDuplicateId: return {Stage::kLocalPolicy, Reason::kDuplicatePeer};
  case Admission::kDuplicateIp: return {Stage::kLocalPolicy, Reason::kDuplicateIp};
  case Admission::kInboundFull:
  case Admission::kOutboundFull: return {Stage::kLocalPolicy, Reason::kPeerLimit};
  case Admission::kBanned: return {Stage::kLocalPolicy, Reason::kBanned};
  }
  return {Stage::kLocalPolicy, Reason::kNone};
}

Admission PeerSet::check(const std::string& id, const std::string& ip, bool outbound,
                         bool exempt_from_limits) const {
  if (id == our_id_) return Admission::kSelf;
  if (has(id)) return Admission::kDuplicateId;
  if (!limits_.allow_duplicate_ip && has_ip(ip)) return Admission::kDuplicateIp;
  if (exempt_from_limits || limits_.unconditional_ids.count(id) != 0) return Admission::kOk;
  if (outbound && outbound_ >= limits_.max_outbound) return Admission::kOutboundFull;
  if (!outbound && inbound_ >= limits_.max_inbound) return Admission::kInboundFull;
  return Admission::kOk;
}

void PeerSet::add(const std::string& id, const std::string& ip, bool outbound) {
  if (!peers_.emplace(id, Entry{ip, outbound}).second) return;
  ips_.insert(ip);
  ++(outbound ? outbound_ : inbound_);
}

void PeerSet::remove(const std::string& id) {
  auto it = peers_.find(id);
  if (it == peers_.end()) return;
  ips_.erase(ips_.find(it->second.ip));
  --(it->second.outbound ? outbound_ : inbound_);
  peers_.erase(it);
}

bool PeerSet::has_ip(const std::string& ip) const { return ips_.count(ip) != 0; }

std::optional<Millis> reconnect_delay(int attempt, double jitter01) {
  const auto jitter = Millis(static_cast<std::int64_t>(jitter01 * 3000));
  if (attempt < 0) attempt = 0;
  if (attempt < kReconnectAttempts) return Millis(5000) + jitter;
  const int n = attempt - kReconnectAttempts;
  if (n >= kReconnectBackOffAttempts) return std::nullopt;
  return Millis(static_cast<std::int64_t>(std::pow(3.0, n) * 1000)) + jitter;
}

} // namespace seedscope
