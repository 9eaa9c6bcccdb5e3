// The address book: what a node knows about other nodes' addresses, in Tendermint's "new" and
// "old" buckets, with the selection, eviction, promotion and ban rules of
// p2p/pex/addrbook.go and known_address.go @ v0.34 (PROTOCOL.md section 7). Free of I/O:
// time (wall clock, persisted) and randomness are passed in; persistence goes through
// AddrBookStore, implemented by storage/. Single-threaded.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <system_error>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/base/clock.hpp"
#include "core/base/result.hpp"
#include "core/base/rng.hpp"
#include "core/types/net_address.hpp"

namespace seedscope::pex {

// Go's constants (p2p/pex/params.go).
constexpr int kNewBucketCount = 256;
constexpr int kOldBucketCount = 64;
constexpr int kNewBucketSize = 64;
constexpr int kOldBucketSize = 64;
constexpr int kMaxNewBucketsPerAddress = 4;
constexpr int kNewBucketsPerGroup = 32;
constexpr int kOldBucketsPerGroup = 4;
constexpr std::size_t kNeedAddressThreshold = 1000;
constexpr int kGetSelectionPercent = 23;
constexpr std::size_t kMinGetSelection = 32;
constexpr std::size_t kMaxGetSelection = 250;
constexpr int kNumMissingDays = 7;
constexpr int kNumRetries = 3;
constexpr int kMaxFailures = 10;
constexpr int kMinBadDays = 7;

enum class BucketType : std::uint8_t { kNew = 1, kOld = 2 };

// One address and what the book knows of it (Go's knownAddress).
struct KnownAddress {
  NetAddress addr;
  NetAddress src;
  std::vector<int> buckets; // bucket indices of bucket_type (new: up to 4, old: exactly 1)
  int attempts = 0;
  BucketType bucket_type = BucketType::kNew;
  WallTime last_attempt{};
  WallTime last_success{};
  WallTime last_ban_time{};
  // The chain of the node last verified at this address (an outbound handshake), "" when it
  // was never verified. Not in addrbook.json (Go has no such field); kept in the database.
  std::string network;

  bool is_old() const { return bucket_type == BucketType::kOld; }
  bool is_new() const { return bucket_type == BucketType::kNew; }
  // Go's isBad(): evictable. Only new entries can be bad.
  bool is_bad(WallTime now) const;
  bool operator==(const KnownAddress&) const = default;
};

// A banned ID and until when (Go's badPeers). Bans are kept in memory by Go; we persist them.
struct Ban {
  KnownAddress entry; // the address as it was when banned, reinstated as new when it expires
  WallTime until{};
  bool operator==(const Ban&) const = default;
};

// Everything needed to rebuild a book exactly: what storage writes and what addrbook.json
// carries (bans travel only through storage; the JSON format has no place for them).
struct AddrBookSnapshot {
  std::string key_hex; // 24 hex characters (12 bytes), the bucket-hash key
  std::vector<KnownAddress> addrs;
  std::vector<Ban> bans;
};

// Persistence, implemented by storage/ (SQLite) and by test fakes.
class AddrBookStore {
public:
  virtual ~AddrBookStore() = default;
  // nullopt: nothing stored yet.
  virtual Result<std::optional<AddrBookSnapshot>> load() = 0;
  // Replaces what is stored, atomically.
  virtual Status save(const AddrBookSnapshot& snapshot) = 0;
};

enum class AddrBookError {
  kInvalidAddress = 1, // not valid (bad ID, unspecified IP, ...)
  kNonRoutable,        // strict mode and not routable
  kOwnAddress,
  kPrivateId,
  kBanned,
  kPrivateSource, // learnt from a private ID
  kInconsistent,  // a snapshot whose buckets or types are out of range or inconsistent
};
const std::error_category& addr_book_category();
std::error_code make_error_code(AddrBookError e);

// True when `key_hex` is a usable book key: 24 hex characters (12 bytes).
bool valid_addr_book_key(const std::string& key_hex);

struct AddrBookConfig {
  bool strict = true; // addr_book_strict: refuse non-routable addresses
  // Fixed bucket-hash key (tests, or the stored one); drawn from the book's Rng when unset.
  // Must satisfy valid_addr_book_key(): the constructor throws std::invalid_argument otherwise.
  std::optional<std::string> key_hex;
  // Simulations on loopback (netsim, tests, the demo): 127.0.0.0/8 and ::1 count as routable
  // (with their /16 as group), while strict mode still refuses private ranges as it would on
  // the internet.
  bool loopback_routable = false;
};

class AddrBook {
public:
  // `rng` is not owned and must outlive the book.
  AddrBook(AddrBookConfig config, Rng& rng);

  // Our own addresses are never added (and are remembered when a self-connection is seen).
  void add_our_address(const NetAddress& addr);
  bool is_our_address(const NetAddress& addr) const;
  void add_private_ids(const std::vector<std::string>& ids);

  // Go's AddAddress: adds `addr` learnt from `src` to a new bucket (or not; see the rules).
  // Returns an error for refused addresses; Ok also when the address was already known and
  // the random draw left it where it was. A known new entry in n buckets gets another bucket
  // with probability 1/(2n), as v0.34.24's code does (PROTOCOL.md's 1/2^n is inexact). An ID
  // whose ban has expired is reinstated (as reinstate_bans() would) and nothing else is done.
  Status add_address(const NetAddress& addr, const NetAddress& src, WallTime now);
  void remove_address(const NetAddress& addr);

  // Connection outcomes.
  // Moves to an old bucket; `network` (when not empty) is the chain the node was verified in.
  void mark_good(const std::string& id, WallTime now, std::string_view network = {});
  void mark_attempt(const NetAddress& addr, WallTime now); // a failed dial
  // Removes the address and bans its ID for `ban` (Go: MarkBad(addr, 24h)). As in Go, an
  // address that is not in the book is ignored (not banned).
  void mark_bad(const NetAddress& addr, std::chrono::nanoseconds ban, WallTime now);
  // Puts expired bans back as new addresses (Go: ReinstateBadPeers, run by ensurePeers).
  void reinstate_bans(WallTime now);
  // True while a ban is in force (now < until). An expired ban stays listed until
  // reinstate_bans() runs or the address is added again.
  bool is_banned(const std::string& id, WallTime now) const;

  bool has(const std::string& id) const { return by_id_.count(id) != 0; }
  const KnownAddress* find(const std::string& id) const;
  std::size_t size() const { return by_id_.size(); }
  std::size_t size_new() const { return n_new_; }
  std::size_t size_old() const { return n_old_; }
  bool need_more_addrs() const { return size() < kNeedAddressThreshold; }
  bool empty() const { return size() == 0; }

  // Go's PickAddress(biasTowardsNewAddrs): nullopt when the book is empty, and (as in Go) when
  // the draw picks a kind the book has none of (bias 100 and no new, bias 0 and no old).
  std::optional<NetAddress> pick_address(int bias_towards_new);
  // Go's GetSelection: 23 % of the book, at least 32 (or all), at most 250, random order.
  std::vector<NetAddress> get_selection();
  // Go's GetSelectionWithBias: bias % new, the rest old, topped up with new when old run out.
  std::vector<NetAddress> get_selection_with_bias(int bias_towards_new);
  // For a book holding several chains (a network-adopting node): only addresses verified in
  // `network`, sized as GetSelection sizes a book of that many, random order. Empty when
  // the book knows none of that chain.
  std::vector<NetAddress> get_selection_in_network(const std::string& network);

  // Persistence.
  AddrBookSnapshot snapshot() const;
  // Replaces the book's content with `snapshot` after checking it is consistent (bucket indices
  // in range, types 1 or 2, old entries in exactly one bucket, bucket sizes). Adopts its key.
  // Rebuilds the buckets from each entry's bucket list (hashes are not recomputed). On error
  // the book is unchanged; on success it is dirty.
  Status restore(const AddrBookSnapshot& snapshot);
  // True when anything changed since the last clear_dirty() (the writer saves then).
  bool dirty() const { return dirty_; }
  void clear_dirty() { dirty_ = false; }

  const std::string& key_hex() const { return key_hex_; }
  bool strict() const { return config_.strict; }

  // Bucket placement (exposed for tests). Deterministic for a given key.
  int new_bucket_for(const NetAddress& addr, const NetAddress& src) const;
  int old_bucket_for(const NetAddress& addr) const;
  std::size_t bucket_len(BucketType type, int index) const;

private:
  // Implementation chooses the containers; keep them here.
  struct Impl;
  using Bucket = std::vector<std::string>; // ids, in insertion order

  void set_key(const std::string& key_hex); // key_hex_ and hash_key_
  bool strict_for(const NetAddress& addr) const {
    return config_.strict && !(config_.loopback_routable && addr.loopback());
  }
  std::uint64_t hash(const std::string& data) const;
  Bucket& bucket(BucketType type, int index);
  // Go's addToNewBucket / addToOldBucket / removeFromBucket / removeFromAllBuckets. `ka` is the
  // entry in by_id_; removing it from its last bucket erases it (and invalidates `ka`).
  void add_to_new_bucket(KnownAddress& ka, int index, WallTime now);
  bool add_to_old_bucket(KnownAddress& ka, int index);
  void remove_from_bucket(KnownAddress& ka, BucketType type, int index);
  void remove_from_all_buckets(KnownAddress& ka);
  void expire_new(int index, WallTime now);
  KnownAddress& pick_oldest(BucketType type, int index);
  void move_to_old(KnownAddress& ka, WallTime now);
  void reinstate(const std::string& id, WallTime now);
  std::vector<NetAddress> random_pick(BucketType type, std::size_t num);
  AddrBookConfig config_;
  Rng& rng_;
  std::string key_hex_;
  std::array<std::uint8_t, 16> hash_key_{}; // SipHash key derived from key_hex_
  std::unordered_map<std::string, KnownAddress> by_id_;
  std::vector<std::vector<std::string>> new_buckets_; // ids per bucket
  std::vector<std::vector<std::string>> old_buckets_;
  std::map<std::string, Ban> bans_;
  std::set<std::string> our_addrs_; // NetAddress::to_string() of our addresses
  std::unordered_set<std::string> private_ids_;
  std::size_t n_new_ = 0;
  std::size_t n_old_ = 0;
  bool dirty_ = false;
};

} // namespace seedscope::pex

namespace std {
template <> struct is_error_code_enum<seedscope::pex::AddrBookError> : true_type {};
} // namespace std
