// AddrBook: placement, adding rules, eviction, promotion/demotion, bad addresses and bans
// (p2p/pex/addrbook.go, known_address.go @ v0.34.24). Selection and snapshots are tested in
// addr_book_selection_test.cpp and addr_book_snapshot_test.cpp.
#include <cmath>
#include <set>
#include <stdexcept>

#include "unit/pex/addr_book_fixture.hpp"

using namespace seedscope;
using namespace seedscope::pex;
using namespace seedscope::pex::test;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using Days = std::chrono::days;

TEST_CASE("addr_book: bucket counts and sizes") {
  CHECK(kNewBucketCount == 256);
  CHECK(kOldBucketCount == 64);
  CHECK(kNewBucketSize == 64);
  CHECK(kOldBucketSize == 64);
  SeededRng rng(1);
  AddrBook book(fixed_key(), rng);
  CHECK(book.empty());
  CHECK(book.need_more_addrs());
  CHECK(book.bucket_len(BucketType::kNew, 255) == 0);
  CHECK(book.bucket_len(BucketType::kNew, 256) == 0); // out of range: 0, no crash
  CHECK(book.bucket_len(BucketType::kOld, -1) == 0);
  for (std::uint32_t i = 0; i < 500; ++i) {
    const NetAddress a = spread_addr(i);
    const int nb = book.new_bucket_for(a, spread_addr(i + 7));
    CHECK((nb >= 0 && nb < kNewBucketCount));
    const int ob = book.old_bucket_for(a);
    CHECK((ob >= 0 && ob < kOldBucketCount));
  }
}

TEST_CASE("addr_book: placement is deterministic for a key, and the key comes from the rng") {
  SeededRng r1(1), r2(2), r3(7), r4(7);
  AddrBook a(fixed_key(), r1), b(fixed_key(), r2);
  AddrBook c(AddrBookConfig{true, "ffeeddccbbaa998877665544"}, r1);
  int differ = 0;
  for (std::uint32_t i = 0; i < 200; ++i) {
    const NetAddress x = spread_addr(i), src = spread_addr(i * 3 + 1);
    CHECK(a.new_bucket_for(x, src) == b.new_bucket_for(x, src));
    CHECK(a.old_bucket_for(x) == b.old_bucket_for(x));
    differ += a.new_bucket_for(x, src) != c.new_bucket_for(x, src);
  }
  CHECK(differ > 150); // another key, another placement

  AddrBook d(AddrBookConfig{true, std::nullopt}, r3), e(AddrBookConfig{true, std::nullopt}, r4);
  CHECK(d.key_hex() == e.key_hex());
  CHECK(valid_addr_book_key(d.key_hex()));
  CHECK(d.key_hex() != a.key_hex());
  CHECK_THROWS_AS(AddrBook(AddrBookConfig{true, "0011"}, r1), std::invalid_argument);
}

TEST_CASE("addr_book: one source group spreads over at most 32 new buckets, one group over 4 old") {
  SeededRng rng(1);
  AddrBook book(fixed_key(), rng);
  std::set<int> from_one_src_group, one_addr_many_src_groups, old_of_one_group;
  const NetAddress fixed = v4(30, 40, 1, 1, 1);
  for (std::uint32_t i = 0; i < 3000; ++i) {
    const NetAddress src = v4(50, 60, int(i % 250), 1, 2); // one /16 source group
    from_one_src_group.insert(book.new_bucket_for(spread_addr(i), src));
    one_addr_many_src_groups.insert(book.new_bucket_for(fixed, spread_addr(i)));
    old_of_one_group.insert(book.old_bucket_for(v4(30, 40, int(i % 250), int(i / 250), 3)));
  }
  CHECK(from_one_src_group.size() <= std::size_t(kNewBucketsPerGroup));
  CHECK(from_one_src_group.size() >= 24); // and it does use them
  CHECK(one_addr_many_src_groups.size() > std::size_t(kNewBucketsPerGroup));
  CHECK(old_of_one_group.size() <= std::size_t(kOldBucketsPerGroup));
  CHECK(old_of_one_group.size() >= 2);
}

TEST_CASE("addr_book: an address is in at most 4 new buckets") {
  SeededRng rng(3);
  AddrBook book(fixed_key(), rng);
  const NetAddress a = v4(30, 40, 1, 1, 1);
  std::size_t max_seen = 0;
  for (std::uint32_t i = 0; i < 2000; ++i) {
    REQUIRE(book.add_address(a, spread_addr(i), kT0));
    max_seen = std::max(max_seen, book.find(a.id)->buckets.size());
  }
  CHECK(max_seen == std::size_t(kMaxNewBucketsPerAddress));
  const KnownAddress* ka = book.find(a.id);
  CHECK(ka->buckets.size() == 4);
  CHECK(std::set<int>(ka->buckets.begin(), ka->buckets.end()).size() == 4);
  CHECK(book.size() == 1);
  CHECK(book.size_new() == 1);
  std::size_t total = 0;
  for (int b = 0; b < kNewBucketCount; ++b) total += book.bucket_len(BucketType::kNew, b);
  CHECK(total == 4);
}

// Go v0.34.24: factor := 2*len(ka.Buckets); rand.Int31n(factor) != 0 -> skip. So an entry in
// n buckets is added again with probability 1/(2n) (1/2, 1/4, 1/6), not 1/2^n as PROTOCOL.md
// states (which would be 1/2, 1/4, 1/8): n = 3 tells them apart.
TEST_CASE("addr_book: re-adding a known new address succeeds with probability 1/(2n)") {
  SeededRng rng(11);
  AddrBook book(fixed_key(), rng);
  const NetAddress a = v4(30, 40, 1, 1, 1);
  for (int n = 1; n <= 3; ++n) {
    AddrBookSnapshot s{kKey, {}, {}};
    KnownAddress ka{a, a, {}, 0, BucketType::kNew, kT0, {}, {}, {}};
    for (int b = 0; b < n; ++b) ka.buckets.push_back(b);
    s.addrs.push_back(ka);
    NetAddress src = spread_addr(0);
    for (std::uint32_t i = 1; book.new_bucket_for(a, src) < n; ++i) src = spread_addr(i);
    constexpr int kTrials = 20000;
    int added = 0;
    for (int t = 0; t < kTrials; ++t) {
      REQUIRE(book.restore(s));
      REQUIRE(book.add_address(a, src, kT0));
      added += book.find(a.id)->buckets.size() == std::size_t(n + 1);
    }
    const double rate = double(added) / kTrials;
    CAPTURE(n);
    CAPTURE(rate);
    CHECK(std::abs(rate - 1.0 / (2 * n)) < 0.012);
  }
}

TEST_CASE("addr_book: refusals (strict mode, our address, private IDs, bans, invalid)") {
  SeededRng rng(1);
  AddrBook strict(fixed_key(true), rng), loose(fixed_key(false), rng);
  const NetAddress src = v4(50, 60, 1, 1, 9);
  for (auto ip :
       {v4(127, 0, 0, 1, 1), v4(127, 0, 0, 5, 2), v4(192, 168, 1, 1, 3), v4(10, 0, 0, 1, 4)}) {
    CHECK(code_of(strict.add_address(ip, src, kT0)) == AddrBookError::kNonRoutable);
    CHECK(loose.add_address(ip, src, kT0));
  }
  CHECK(strict.empty());
  CHECK(loose.size() == 4);

  const NetAddress a = v4(30, 40, 1, 1, 1);
  strict.add_our_address(a);
  CHECK(strict.is_our_address(a));
  CHECK(code_of(strict.add_address(a, src, kT0)) == AddrBookError::kOwnAddress);
  NetAddress no_id = a;
  no_id.id.clear();
  CHECK(code_of(strict.add_address(no_id, src, kT0)) == AddrBookError::kInvalidAddress);
  NetAddress bad_id = a;
  bad_id.id = "xyz";
  CHECK(code_of(strict.add_address(bad_id, src, kT0)) == AddrBookError::kInvalidAddress);

  const NetAddress p = v4(30, 41, 1, 1, 2), q = v4(30, 42, 1, 1, 3);
  strict.add_private_ids({p.id, src.id});
  CHECK(code_of(strict.add_address(p, q, kT0)) == AddrBookError::kPrivateId);
  CHECK(code_of(strict.add_address(q, src, kT0)) == AddrBookError::kPrivateSource);
  CHECK(strict.empty());
  CHECK_FALSE(strict.dirty()); // refusals change nothing

  REQUIRE(strict.add_address(q, q, kT0));
  strict.mark_bad(q, hours(24), kT0);
  CHECK(code_of(strict.add_address(q, q, kT0 + hours(1))) == AddrBookError::kBanned);
}

TEST_CASE("addr_book: a known old ID keeps its address; a new one keeps its first address") {
  SeededRng rng(1);
  AddrBook book(fixed_key(), rng);
  const NetAddress a = v4(30, 40, 1, 1, 1);
  NetAddress moved = a;
  moved.ip = IpAddress::v4(31, 41, 1, 1);
  REQUIRE(book.add_address(a, a, kT0));
  book.mark_good(a.id, kT0 + seconds(1));
  const KnownAddress before = *book.find(a.id);
  for (std::uint32_t i = 0; i < 50; ++i) REQUIRE(book.add_address(moved, spread_addr(i), kT0));
  CHECK(*book.find(a.id) == before);
  CHECK(book.size() == 1);
  CHECK(book.size_new() == 0);
}

TEST_CASE("addr_book: a full new bucket holds 65, then evicts a bad entry first, else the oldest") {
  SeededRng rng(1);
  AddrBook book(fixed_key(), rng);
  const NetAddress src = v4(50, 60, 1, 1, 999);
  // Same address group and same source group: all in one new bucket.
  auto member = [](std::uint32_t i) { return v4(30, 40, int(i / 200), int(i % 200 + 1), i); };
  const int index = book.new_bucket_for(member(0), src);
  for (std::uint32_t i = 0; i < 65; ++i)
    REQUIRE(book.add_address(member(i), src, kT0 + seconds(i)));
  CHECK(book.bucket_len(BucketType::kNew, index) == 65); // Go expires only above 64

  SUBCASE("no bad entry: the oldest goes") {
    REQUIRE(book.add_address(member(65), src, kT0 + minutes(10)));
    CHECK(book.bucket_len(BucketType::kNew, index) == 65);
    CHECK_FALSE(book.has(member(0).id));
    CHECK(book.has(member(1).id));
    CHECK(book.has(member(65).id));
    REQUIRE(book.add_address(member(66), src, kT0 + minutes(11)));
    CHECK_FALSE(book.has(member(1).id));
    CHECK(book.size() == 65);
  }
  SUBCASE("a bad entry goes first") {
    for (int k = 0; k < kNumRetries; ++k) book.mark_attempt(member(40), kT0 + minutes(1));
    REQUIRE(book.find(member(40).id)->is_bad(kT0 + minutes(10)));
    REQUIRE(book.add_address(member(65), src, kT0 + minutes(10)));
    CHECK_FALSE(book.has(member(40).id));
    CHECK(book.has(member(0).id));
    CHECK(book.bucket_len(BucketType::kNew, index) == 65);
  }
}

TEST_CASE("addr_book: mark_good promotes to old and clears attempts; mark_attempt counts") {
  SeededRng rng(1);
  AddrBook book(fixed_key(), rng);
  const NetAddress a = v4(30, 40, 1, 1, 1);
  REQUIRE(book.add_address(a, v4(50, 60, 1, 1, 2), kT0));
  CHECK(book.find(a.id)->last_attempt == kT0); // Go's newKnownAddress sets LastAttempt
  book.mark_attempt(a, kT0 + seconds(1));
  book.mark_attempt(a, kT0 + seconds(2));
  CHECK(book.find(a.id)->attempts == 2);
  CHECK(book.find(a.id)->last_attempt == kT0 + seconds(2));
  book.mark_good(a.id, kT0 + seconds(3));
  const KnownAddress* ka = book.find(a.id);
  CHECK(ka->is_old());
  CHECK(ka->attempts == 0);
  CHECK(ka->last_success == kT0 + seconds(3));
  CHECK(ka->buckets == std::vector<int>{book.old_bucket_for(a)});
  CHECK(book.size_old() == 1);
  CHECK(book.size_new() == 0);
  CHECK(book.bucket_len(BucketType::kOld, book.old_bucket_for(a)) == 1);
  book.mark_good(a.id, kT0 + seconds(4)); // already old: times only
  CHECK(book.find(a.id)->last_success == kT0 + seconds(4));
  CHECK(book.size_old() == 1);
  book.mark_good(make_id(77), kT0); // unknown: nothing
  book.mark_attempt(v4(1, 2, 3, 4, 77), kT0);
  CHECK(book.size() == 1);
}

TEST_CASE("addr_book: a full old bucket pushes its oldest entry back to a new bucket") {
  SeededRng rng(1);
  AddrBook book(fixed_key(), rng);
  // Addresses of one group spread over 4 old buckets; keep those of one of them.
  std::vector<NetAddress> same_old;
  const int target = book.old_bucket_for(v4(30, 40, 0, 1, 0));
  for (std::uint32_t i = 0; same_old.size() < 66; ++i) {
    const NetAddress a = v4(30, 40, int(i / 250), int(i % 250 + 1), i);
    if (book.old_bucket_for(a) == target) same_old.push_back(a);
  }
  for (std::size_t i = 0; i < 65; ++i) {
    const NetAddress& a = same_old[i];
    REQUIRE(book.add_address(a, a, kT0));
    book.mark_good(a.id, kT0 + seconds(i));
  }
  CHECK(book.bucket_len(BucketType::kOld, target) == 65);
  const NetAddress& last = same_old[65];
  REQUIRE(book.add_address(last, last, kT0));
  book.mark_good(last.id, kT0 + minutes(5));
  CHECK(book.bucket_len(BucketType::kOld, target) == 65);
  CHECK(book.find(last.id)->is_old());
  const KnownAddress* demoted = book.find(same_old[0].id); // the oldest success
  REQUIRE(demoted != nullptr);
  CHECK(demoted->is_new());
  CHECK(demoted->buckets == std::vector<int>{book.new_bucket_for(demoted->addr, demoted->src)});
  CHECK(book.size() == 66);
  CHECK(book.size_old() == 65);
  CHECK(book.size_new() == 1);
}

TEST_CASE("addr_book: is_bad (known_address.go isBad)") {
  const WallTime now = kT0 + Days(30);
  KnownAddress ka{v4(30, 40, 1, 1, 1),
                  v4(30, 40, 1, 1, 1),
                  {3},
                  0,
                  BucketType::kNew,
                  now - hours(1),
                  {},
                  {},
                  {}};
  CHECK_FALSE(ka.is_bad(now));
  auto with = [&](int attempts, WallTime last_attempt, WallTime last_success) {
    KnownAddress k = ka;
    k.attempts = attempts;
    k.last_attempt = last_attempt;
    k.last_success = last_success;
    return k.is_bad(now);
  };
  // Not attempted for over a week.
  CHECK(with(0, now - Days(8), {}));
  CHECK_FALSE(with(0, now - Days(6), {}));
  // Three failures and never a success.
  CHECK(with(3, now - hours(1), {}));
  CHECK_FALSE(with(2, now - hours(1), {}));
  CHECK_FALSE(with(3, now - hours(1), now - Days(20))); // has succeeded once
  // Ten failures and no success within a week.
  CHECK(with(10, now - hours(1), now - Days(8)));
  CHECK_FALSE(with(9, now - hours(1), now - Days(8)));
  CHECK_FALSE(with(10, now - hours(1), now - Days(6)));
  // Attempted within the last minute: never bad.
  CHECK_FALSE(with(20, now - seconds(30), {}));
  // Old entries are never bad.
  KnownAddress old = ka;
  old.bucket_type = BucketType::kOld;
  old.attempts = 50;
  old.last_attempt = now - Days(60);
  CHECK_FALSE(old.is_bad(now));
}

TEST_CASE("addr_book: mark_bad bans, reinstate_bans brings it back as new after expiry") {
  SeededRng rng(1);
  AddrBook book(fixed_key(), rng);
  const NetAddress a = v4(30, 40, 1, 1, 1), src = v4(50, 60, 1, 1, 2);
  REQUIRE(book.add_address(a, src, kT0));
  book.mark_bad(a, hours(24), kT0);
  CHECK_FALSE(book.has(a.id));
  CHECK(book.empty());
  CHECK(book.is_banned(a.id, kT0 + hours(23)));
  CHECK_FALSE(book.is_banned(a.id, kT0 + hours(24)));
  CHECK(code_of(book.add_address(a, src, kT0 + hours(1))) == AddrBookError::kBanned);
  book.reinstate_bans(kT0 + hours(23));
  CHECK_FALSE(book.has(a.id));
  book.reinstate_bans(kT0 + hours(25));
  REQUIRE(book.has(a.id));
  const KnownAddress* ka = book.find(a.id);
  CHECK(ka->is_new());
  CHECK(ka->src == src); // placed by its own source
  CHECK(ka->buckets == std::vector<int>{book.new_bucket_for(a, src)});
  CHECK(ka->last_ban_time == kT0 + hours(24));
  CHECK(book.snapshot().bans.empty());

  // Go bans only addresses in the book.
  const NetAddress unknown = v4(30, 41, 1, 1, 3);
  book.mark_bad(unknown, hours(24), kT0);
  CHECK_FALSE(book.is_banned(unknown.id, kT0));
}

TEST_CASE("addr_book: a banned old entry is reinstated as new; an expired ban is lifted on add") {
  SeededRng rng(1);
  AddrBook book(fixed_key(), rng);
  const NetAddress a = v4(30, 40, 1, 1, 1), b = v4(30, 41, 1, 1, 2);
  REQUIRE(book.add_address(a, a, kT0));
  REQUIRE(book.add_address(b, b, kT0));
  book.mark_good(a.id, kT0);
  book.mark_bad(a, hours(1), kT0);
  book.mark_bad(b, hours(1), kT0);
  CHECK(book.snapshot().bans.size() == 2);
  book.reinstate_bans(kT0 + hours(2)); // Go would drop `a` here (see addr_book.cpp)
  CHECK(book.find(a.id)->is_new());
  CHECK(book.size_new() == 2);

  book.mark_bad(b, hours(1), kT0 + hours(3));
  REQUIRE(book.add_address(b, b, kT0 + hours(5)));
  CHECK(book.has(b.id));
  CHECK_FALSE(book.is_banned(b.id, kT0 + hours(5)));
  CHECK(book.snapshot().bans.empty());
}

TEST_CASE("addr_book: remove_address and the dirty flag") {
  SeededRng rng(1);
  AddrBook book(fixed_key(), rng);
  const NetAddress a = v4(30, 40, 1, 1, 1);
  CHECK_FALSE(book.dirty());
  book.mark_attempt(a, kT0); // unknown: no change
  book.remove_address(a);
  CHECK_FALSE(book.dirty());
  REQUIRE(book.add_address(a, a, kT0));
  CHECK(book.dirty());
  book.clear_dirty();
  book.mark_attempt(a, kT0);
  CHECK(book.dirty());
  book.clear_dirty();
  book.mark_good(a.id, kT0);
  CHECK(book.dirty());
  book.clear_dirty();
  book.remove_address(a);
  CHECK(book.dirty());
  CHECK(book.empty());
  CHECK(book.size_old() == 0);
  CHECK(book.bucket_len(BucketType::kOld, book.old_bucket_for(a)) == 0);
}

TEST_CASE("addr_book: loopback_routable (simulations): strict, but 127/8 counts as routable") {
  SeededRng rng(9);
  AddrBookConfig cfg = fixed_key(true);
  cfg.loopback_routable = true;
  AddrBook book(cfg, rng);
  const NetAddress loop1 = v4(127, 1, 0, 1, 1), loop2 = v4(127, 2, 0, 1, 2);
  CHECK(book.add_address(loop1, loop2, kT0).ok());
  CHECK(code_of(book.add_address(v4(10, 0, 0, 1, 3), loop2, kT0)) == AddrBookError::kNonRoutable);
  CHECK(code_of(book.add_address(v4(192, 168, 1, 1, 4), loop2, kT0)) ==
        AddrBookError::kNonRoutable);
  // Loopback /16s are groups of their own, as public /16s are: placement follows them.
  AddrBook plain(fixed_key(true), rng);
  CHECK(code_of(plain.add_address(loop1, loop2, kT0)) == AddrBookError::kNonRoutable);
  std::set<int> buckets;
  for (std::uint32_t i = 0; i < 50; ++i)
    buckets.insert(book.old_bucket_for(v4(127, static_cast<int>(1 + i), 0, 1, 100 + i)));
  CHECK(buckets.size() > 4); // one group would give at most 4 old buckets
}
