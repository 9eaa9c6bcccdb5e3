// AddrBook: snapshot() and restore(). Go's loadFromFile trusts the file and panics on a bucket
// index out of range or an unknown bucket type; restore() refuses such snapshots instead.
#include <algorithm>
#include <array>
#include <set>
#include <string>

#include <fmt/format.h>

#include "core/pex/addr_book.hpp"

namespace seedscope::pex {

namespace {

// A bucket can hold one more than its nominal size: Go expires only when it holds MORE.
constexpr std::size_t kMaxNewBucketLen = kNewBucketSize + 1;
constexpr std::size_t kMaxOldBucketLen = kOldBucketSize + 1;

Error inconsistent(std::string detail) {
  return make_error(AddrBookError::kInconsistent, std::move(detail));
}

bool valid_type(BucketType type) { return type == BucketType::kNew || type == BucketType::kOld; }

// Checks one entry's own fields; counts its bucket memberships.
std::optional<std::string> check_entry(const KnownAddress& ka, std::vector<std::size_t>& new_len,
                                       std::vector<std::size_t>& old_len) {
  if (!ka.addr.valid()) return "invalid address";
  if (!valid_type(ka.bucket_type))
    return fmt::format("bucket_type {} (expected 1 or 2)", int(ka.bucket_type));
  const bool is_new = ka.is_new();
  const std::size_t n = ka.buckets.size();
  if (!is_new && n != 1) return fmt::format("old entry in {} buckets (expected 1)", n);
  if (is_new && (n < 1 || n > std::size_t(kMaxNewBucketsPerAddress)))
    return fmt::format("new entry in {} buckets (expected 1 to {})", n, kMaxNewBucketsPerAddress);
  auto& len = is_new ? new_len : old_len;
  std::set<int> seen;
  for (int b : ka.buckets) {
    if (b < 0 || std::size_t(b) >= len.size())
      return fmt::format("{} bucket index {} out of range 0..{}", is_new ? "new" : "old", b,
                         len.size() - 1);
    if (!seen.insert(b).second) return fmt::format("bucket {} listed twice", b);
    ++len[b];
  }
  return std::nullopt;
}

std::optional<std::string> check_buckets(const std::vector<std::size_t>& len, std::size_t max,
                                         const char* kind) {
  for (std::size_t i = 0; i < len.size(); ++i)
    if (len[i] > max)
      return fmt::format("{} bucket {} holds {} entries (at most {})", kind, i, len[i], max);
  return std::nullopt;
}

Status check_snapshot(const AddrBookSnapshot& s) {
  if (!valid_addr_book_key(s.key_hex))
    return inconsistent(fmt::format("key '{}' is not 24 hex characters", s.key_hex));
  std::vector<std::size_t> new_len(kNewBucketCount), old_len(kOldBucketCount);
  std::set<std::string> ids;
  for (const KnownAddress& ka : s.addrs) {
    if (auto why = check_entry(ka, new_len, old_len))
      return inconsistent(fmt::format("address {}: {}", ka.addr.to_string(), *why));
    if (!ids.insert(ka.addr.id).second)
      return inconsistent(fmt::format("address {}: duplicate ID", ka.addr.to_string()));
  }
  if (auto why = check_buckets(new_len, kMaxNewBucketLen, "new")) return inconsistent(*why);
  if (auto why = check_buckets(old_len, kMaxOldBucketLen, "old")) return inconsistent(*why);
  std::set<std::string> banned;
  for (const Ban& ban : s.bans) {
    const std::string what = ban.entry.addr.to_string();
    if (!ban.entry.addr.valid()) return inconsistent(fmt::format("ban {}: invalid address", what));
    if (!valid_type(ban.entry.bucket_type))
      return inconsistent(fmt::format("ban {}: bucket_type {}", what, int(ban.entry.bucket_type)));
    if (!banned.insert(ban.entry.addr.id).second)
      return inconsistent(fmt::format("ban {}: duplicate ID", what));
    if (ids.count(ban.entry.addr.id))
      return inconsistent(fmt::format("ban {}: ID is also in the book", what));
  }
  return ok_status();
}

} // namespace

AddrBookSnapshot AddrBook::snapshot() const {
  AddrBookSnapshot s;
  s.key_hex = key_hex_;
  s.addrs.reserve(by_id_.size());
  for (const auto& [id, ka] : by_id_) s.addrs.push_back(ka);
  std::sort(s.addrs.begin(), s.addrs.end(),
            [](const KnownAddress& a, const KnownAddress& b) { return a.addr.id < b.addr.id; });
  for (const auto& [id, ban] : bans_) s.bans.push_back(ban);
  return s;
}

Status AddrBook::restore(const AddrBookSnapshot& snapshot) {
  if (auto st = check_snapshot(snapshot); !st) return st;
  set_key(snapshot.key_hex);
  by_id_.clear();
  for (auto& b : new_buckets_) b.clear();
  for (auto& b : old_buckets_) b.clear();
  bans_.clear();
  n_new_ = n_old_ = 0;
  for (const KnownAddress& ka : snapshot.addrs) {
    by_id_.emplace(ka.addr.id, ka);
    for (int index : ka.buckets) bucket(ka.bucket_type, index).push_back(ka.addr.id);
    ++(ka.is_new() ? n_new_ : n_old_);
  }
  for (const Ban& ban : snapshot.bans) bans_.emplace(ban.entry.addr.id, ban);
  dirty_ = true;
  return ok_status();
}

} // namespace seedscope::pex
