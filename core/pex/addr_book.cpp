// AddrBook: placement, adding, eviction, promotion and bans. Ports p2p/pex/addrbook.go @
// v0.34.24; selection is in addr_book_select.cpp, snapshot/restore in addr_book_snapshot.cpp.
//
// Buckets hold node IDs. Go keys its bucket maps by "id@ip:port", but an entry never changes
// its address once added (a known ID keeps its first address), so the ID is an equivalent key.
#include <algorithm>
#include <stdexcept>

#include <sodium.h>

#include "core/base/bytes.hpp"
#include "core/pex/addr_book.hpp"

namespace seedscope::pex {

namespace {

constexpr std::size_t kKeyBytes = 12; // Go: crypto.CRandHex(24), 96 bits

bool contains(const std::vector<std::string>& bucket, const std::string& id) {
  return std::find(bucket.begin(), bucket.end(), id) != bucket.end();
}

template <class T> void erase_value(std::vector<T>& v, const T& value) {
  auto it = std::find(v.begin(), v.end(), value);
  if (it != v.end()) v.erase(it);
}

std::string be64(std::uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i, v >>= 8) out[i] = static_cast<char>(v & 0xff);
  return out;
}

std::string random_key_hex(Rng& rng) {
  Bytes key(kKeyBytes);
  for (std::size_t i = 0; i < key.size(); i += 8) {
    std::uint64_t r = rng.next_u64();
    for (std::size_t j = i; j < std::min(i + 8, key.size()); ++j, r >>= 8)
      key[j] = static_cast<std::uint8_t>(r);
  }
  return to_hex(key);
}

} // namespace

bool valid_addr_book_key(const std::string& key_hex) {
  return key_hex.size() == 2 * kKeyBytes && from_hex(key_hex).has_value();
}

AddrBook::AddrBook(AddrBookConfig config, Rng& rng)
    : config_(std::move(config)),
      rng_(rng),
      new_buckets_(kNewBucketCount),
      old_buckets_(kOldBucketCount) {
  // A bad configured key is a start-up (configuration) error, so an exception is fine here.
  if (config_.key_hex && !valid_addr_book_key(*config_.key_hex))
    throw std::invalid_argument("address book key must be 24 hex characters");
  set_key(config_.key_hex ? *config_.key_hex : random_key_hex(rng_));
}

// The 12-byte book key is expanded to SipHash's 16-byte key with BLAKE2b (domain separated).
// Go instead prepends the key string to every hashed message and uses a separate random
// HighwayHash key that it never saves, so its placements change at every restart; ours are a
// function of the saved key.
void AddrBook::set_key(const std::string& key_hex) {
  key_hex_ = key_hex;
  Bytes input;
  append(input, as_bytes("seedscope/addrbook/bucket-key/v1"));
  append(input, *from_hex(key_hex));
  crypto_generichash(hash_key_.data(), hash_key_.size(), input.data(), input.size(), nullptr, 0);
}

std::uint64_t AddrBook::hash(const std::string& data) const {
  static_assert(crypto_shorthash_KEYBYTES == 16 && crypto_shorthash_BYTES == 8);
  std::uint8_t out[crypto_shorthash_BYTES];
  crypto_shorthash(out, reinterpret_cast<const unsigned char*>(data.data()), data.size(),
                   hash_key_.data());
  std::uint64_t v = 0;
  for (std::uint8_t b : out) v = (v << 8) | b; // big-endian, as Go reads its hash
  return v;
}

// Go's calcNewBucket: hash(sourcegroup + hash(group + sourcegroup) % 32) % 256, so one source
// group can place addresses in at most kNewBucketsPerGroup buckets.
int AddrBook::new_bucket_for(const NetAddress& addr, const NetAddress& src) const {
  const std::string group = group_key(addr, strict_for(addr));
  const std::string src_group = group_key(src, strict_for(src));
  const std::uint64_t h1 = hash(group + src_group) % kNewBucketsPerGroup;
  return static_cast<int>(hash(src_group + be64(h1)) % kNewBucketCount);
}

// Go's calcOldBucket: hash(group + hash(addr) % 4) % 64, so one group spreads over at most
// kOldBucketsPerGroup old buckets.
int AddrBook::old_bucket_for(const NetAddress& addr) const {
  const std::uint64_t h1 = hash(addr.to_string()) % kOldBucketsPerGroup;
  return static_cast<int>(hash(group_key(addr, strict_for(addr)) + be64(h1)) % kOldBucketCount);
}

AddrBook::Bucket& AddrBook::bucket(BucketType type, int index) {
  return type == BucketType::kNew ? new_buckets_[index] : old_buckets_[index];
}

std::size_t AddrBook::bucket_len(BucketType type, int index) const {
  const auto& buckets = type == BucketType::kNew ? new_buckets_ : old_buckets_;
  if (index < 0 || static_cast<std::size_t>(index) >= buckets.size()) return 0;
  return buckets[index].size();
}

const KnownAddress* AddrBook::find(const std::string& id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &it->second;
}

void AddrBook::add_our_address(const NetAddress& addr) { our_addrs_.insert(addr.to_string()); }

bool AddrBook::is_our_address(const NetAddress& addr) const {
  return our_addrs_.count(addr.to_string()) != 0;
}

void AddrBook::add_private_ids(const std::vector<std::string>& ids) {
  private_ids_.insert(ids.begin(), ids.end());
}

// Go's addAddress, with its checks in the same order.
Status AddrBook::add_address(const NetAddress& addr, const NetAddress& src, WallTime now) {
  const std::string what = addr.to_string();
  if (!addr.valid()) return make_error(AddrBookError::kInvalidAddress, what);
  if (auto ban = bans_.find(addr.id); ban != bans_.end()) {
    if (ban->second.until > now) return make_error(AddrBookError::kBanned, what);
    // Deviation: Go refuses an ID until ReinstateBadPeers runs (never, in seed mode); here an
    // expired ban is reinstated when the address shows up again, and the add ends there.
    reinstate(addr.id, now);
    return ok_status();
  }
  if (private_ids_.count(addr.id)) return make_error(AddrBookError::kPrivateId, what);
  if (private_ids_.count(src.id)) return make_error(AddrBookError::kPrivateSource, src.to_string());
  if (our_addrs_.count(what)) return make_error(AddrBookError::kOwnAddress, what);
  if (strict_for(addr) && !addr.routable()) return make_error(AddrBookError::kNonRoutable, what);

  auto it = by_id_.find(addr.id);
  if (it != by_id_.end()) {
    const KnownAddress& ka = it->second;
    // An old entry keeps its address: a peer cannot move a known-good ID to another IP.
    if (ka.is_old()) return ok_status();
    if (ka.buckets.size() >= static_cast<std::size_t>(kMaxNewBucketsPerAddress)) return ok_status();
    // The more buckets it is in, the less likely it is added again. PROTOCOL.md says
    // 1/2^n; v0.34.24 draws rand.Int31n(2*n) != 0 -> skip, i.e. adds with probability
    // 1/(2n) for an entry in n buckets. We follow the Go code.
    if (rng_.below(2 * ka.buckets.size()) != 0) return ok_status();
  } else {
    // Go's newKnownAddress sets LastAttempt to now (which is what isBad measures from).
    KnownAddress fresh{addr, src, {}, 0, BucketType::kNew, now, {}, {}, {}};
    it = by_id_.emplace(addr.id, std::move(fresh)).first;
  }
  add_to_new_bucket(it->second, new_bucket_for(addr, src), now);
  return ok_status();
}

void AddrBook::remove_address(const NetAddress& addr) {
  auto it = by_id_.find(addr.id);
  if (it == by_id_.end()) return;
  remove_from_all_buckets(it->second);
}

void AddrBook::mark_good(const std::string& id, WallTime now, std::string_view network) {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return;
  KnownAddress& ka = it->second;
  if (!network.empty()) ka.network = std::string(network);
  ka.last_attempt = now;
  ka.attempts = 0;
  ka.last_success = now;
  dirty_ = true;
  if (ka.is_new()) move_to_old(ka, now);
}

void AddrBook::mark_attempt(const NetAddress& addr, WallTime now) {
  auto it = by_id_.find(addr.id);
  if (it == by_id_.end()) return;
  it->second.last_attempt = now;
  ++it->second.attempts;
  dirty_ = true;
}

// Go's MarkBad/addBadPeer: only an address in the book is banned (an unknown one is ignored);
// the ban keeps the later of an existing ban time and now + ban.
void AddrBook::mark_bad(const NetAddress& addr, std::chrono::nanoseconds ban, WallTime now) {
  auto it = by_id_.find(addr.id);
  if (it == by_id_.end()) return;
  KnownAddress& ka = it->second;
  if (!bans_.count(addr.id)) {
    ka.last_ban_time = std::max(ka.last_ban_time, now + ban);
    Ban entry{ka, ka.last_ban_time};
    entry.entry.buckets.clear(); // as Go's removeFromAllBuckets leaves it
    bans_.emplace(addr.id, std::move(entry));
  }
  remove_from_all_buckets(ka);
}

void AddrBook::reinstate_bans(WallTime now) {
  std::vector<std::string> expired;
  for (const auto& [id, ban] : bans_)
    if (ban.until <= now) expired.push_back(id);
  for (const auto& id : expired) reinstate(id, now);
}

bool AddrBook::is_banned(const std::string& id, WallTime now) const {
  auto it = bans_.find(id);
  return it != bans_.end() && it->second.until > now;
}

// Go's ReinstateBadPeers for one ID: back into the new bucket of (addr, its own src).
// Deviation: an entry banned while old keeps bucket_type old in Go, so addToNewBucket refuses
// it and it is silently dropped; we reinstate it as new, as the documented intent says.
void AddrBook::reinstate(const std::string& id, WallTime now) {
  auto node = bans_.extract(id);
  if (node.empty()) return;
  dirty_ = true;
  KnownAddress ka = std::move(node.mapped().entry);
  if (by_id_.count(id)) return; // cannot happen (banned IDs are never added); keep the book's
  ka.bucket_type = BucketType::kNew;
  ka.buckets.clear();
  const int index = new_bucket_for(ka.addr, ka.src);
  auto it = by_id_.emplace(id, std::move(ka)).first;
  add_to_new_bucket(it->second, index, now);
}

// Go's addToNewBucket: a bucket is expired only when it holds MORE than kNewBucketSize, so it
// can hold kNewBucketSize + 1 entries.
void AddrBook::add_to_new_bucket(KnownAddress& ka, int index, WallTime now) {
  Bucket& b = new_buckets_[index];
  if (contains(b, ka.addr.id)) return;
  dirty_ = true;
  if (b.size() > static_cast<std::size_t>(kNewBucketSize)) expire_new(index, now);
  b.push_back(ka.addr.id);
  ka.buckets.push_back(index);
  if (ka.buckets.size() == 1) ++n_new_;
}

// Go's addToOldBucket: false when the bucket holds more than kOldBucketSize.
bool AddrBook::add_to_old_bucket(KnownAddress& ka, int index) {
  Bucket& b = old_buckets_[index];
  if (contains(b, ka.addr.id)) return true;
  if (b.size() > static_cast<std::size_t>(kOldBucketSize)) return false;
  dirty_ = true;
  b.push_back(ka.addr.id);
  ka.buckets.push_back(index);
  if (ka.buckets.size() == 1) ++n_old_;
  return true;
}

void AddrBook::remove_from_bucket(KnownAddress& ka, BucketType type, int index) {
  dirty_ = true;
  erase_value(bucket(type, index), ka.addr.id);
  erase_value(ka.buckets, index);
  if (!ka.buckets.empty()) return;
  --(type == BucketType::kNew ? n_new_ : n_old_);
  by_id_.erase(std::string(ka.addr.id)); // copy: the key dies with ka
}

void AddrBook::remove_from_all_buckets(KnownAddress& ka) {
  dirty_ = true;
  for (int index : ka.buckets) erase_value(bucket(ka.bucket_type, index), ka.addr.id);
  --(ka.is_new() ? n_new_ : n_old_);
  by_id_.erase(std::string(ka.addr.id)); // copy: the key dies with ka
}

// Go's expireNew: drop the first bad entry, else the oldest (by last attempt). Go walks a map
// (random order); we walk the bucket in insertion order, so ties go to the earliest added.
void AddrBook::expire_new(int index, WallTime now) {
  for (const std::string& id : new_buckets_[index]) {
    KnownAddress& ka = by_id_.at(id);
    if (ka.is_bad(now)) {
      remove_from_bucket(ka, BucketType::kNew, index);
      return;
    }
  }
  remove_from_bucket(pick_oldest(BucketType::kNew, index), BucketType::kNew, index);
}

KnownAddress& AddrBook::pick_oldest(BucketType type, int index) {
  KnownAddress* oldest = nullptr;
  for (const std::string& id : bucket(type, index)) {
    KnownAddress& ka = by_id_.at(id);
    if (!oldest || ka.last_attempt < oldest->last_attempt) oldest = &ka;
  }
  return *oldest;
}

// Go's moveToOld: leave every new bucket and join the old bucket for the address; when that
// bucket is full, its oldest entry goes back to a new bucket first.
// Deviation: Go leaves the demoted entry's BucketType old, so its addToNewBucket refuses it and
// the entry is dropped from the book; we demote it to new, as Go's comment and PROTOCOL.md say.
void AddrBook::move_to_old(KnownAddress& ka, WallTime now) {
  if (ka.is_old() || ka.buckets.empty()) return;
  dirty_ = true;
  for (int index : ka.buckets) erase_value(new_buckets_[index], ka.addr.id);
  ka.buckets.clear();
  --n_new_;
  ka.bucket_type = BucketType::kOld;
  const int index = old_bucket_for(ka.addr);
  if (add_to_old_bucket(ka, index)) return;

  KnownAddress& oldest = pick_oldest(BucketType::kOld, index);
  erase_value(old_buckets_[index], oldest.addr.id);
  oldest.buckets.clear();
  --n_old_;
  oldest.bucket_type = BucketType::kNew;
  add_to_new_bucket(oldest, new_bucket_for(oldest.addr, oldest.src), now);
  add_to_old_bucket(ka, index); // room now
}

} // namespace seedscope::pex
