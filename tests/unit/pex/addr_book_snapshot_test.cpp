// AddrBook snapshot() / restore(): exact round trips, and every snapshot a Go node would panic
// on (or that is otherwise inconsistent) refused with kInconsistent, leaving the book unchanged.
#include <functional>

#include "unit/pex/addr_book_fixture.hpp"

using namespace seedscope;
using namespace seedscope::pex;
using namespace seedscope::pex::test;
using std::chrono::hours;

namespace {

// A book with new entries (one in several buckets), old entries, attempts and two bans.
AddrBook& populate(AddrBook& book) {
  fill(book, 40, 20);
  const NetAddress multi = v4(30, 40, 1, 1, 1);
  for (std::uint32_t i = 0; i < 300; ++i) REQUIRE(book.add_address(multi, spread_addr(i), kT0));
  REQUIRE(book.find(multi.id)->buckets.size() > 1);
  book.mark_attempt(spread_addr(30), kT0 + hours(1));
  book.mark_bad(spread_addr(31), hours(24), kT0);
  book.mark_bad(spread_addr(5), hours(48), kT0); // an old one
  return book;
}

void check_same_buckets(const AddrBook& a, const AddrBook& b) {
  for (int i = 0; i < kNewBucketCount; ++i)
    CHECK(a.bucket_len(BucketType::kNew, i) == b.bucket_len(BucketType::kNew, i));
  for (int i = 0; i < kOldBucketCount; ++i)
    CHECK(a.bucket_len(BucketType::kOld, i) == b.bucket_len(BucketType::kOld, i));
}

} // namespace

TEST_CASE("addr_book: snapshot -> restore -> snapshot is identical") {
  SeededRng r1(1), r2(2);
  AddrBook book(fixed_key(), r1);
  populate(book);
  const AddrBookSnapshot s = book.snapshot();
  CHECK(s.key_hex == kKey);
  CHECK(s.addrs.size() == book.size());
  CHECK(s.bans.size() == 2);
  for (std::size_t i = 1; i < s.addrs.size(); ++i)
    CHECK(s.addrs[i - 1].addr.id < s.addrs[i].addr.id); // sorted by ID

  AddrBook copy(AddrBookConfig{true, std::nullopt}, r2); // another key until restored
  CHECK(copy.key_hex() != kKey);
  REQUIRE(copy.restore(s));
  CHECK(copy.dirty());
  CHECK(copy.key_hex() == kKey);
  CHECK(copy.size() == book.size());
  CHECK(copy.size_new() == book.size_new());
  CHECK(copy.size_old() == book.size_old());
  check_same_buckets(book, copy);
  const AddrBookSnapshot again = copy.snapshot();
  CHECK(again.key_hex == s.key_hex);
  CHECK(again.addrs == s.addrs);
  CHECK(again.bans == s.bans);
  CHECK(copy.is_banned(spread_addr(31).id, kT0 + hours(1)));
  const NetAddress x = v4(77, 1, 2, 3, 4), src = v4(78, 1, 2, 3, 5);
  CHECK(copy.new_bucket_for(x, src) == book.new_bucket_for(x, src));
  CHECK(copy.old_bucket_for(x) == book.old_bucket_for(x));
}

TEST_CASE("addr_book: restore keeps the stored bucket lists (no rehashing)") {
  SeededRng rng(1);
  AddrBook book(fixed_key(), rng);
  const NetAddress a = v4(30, 40, 1, 1, 1);
  AddrBookSnapshot s{
      kKey, {KnownAddress{a, a, {7, 200}, 1, BucketType::kNew, kT0, {}, {}, {}}}, {}};
  REQUIRE(book.restore(s));
  CHECK(book.find(a.id)->buckets == std::vector<int>{7, 200});
  CHECK(book.bucket_len(BucketType::kNew, 7) == 1);
  CHECK(book.bucket_len(BucketType::kNew, 200) == 1);
  CHECK(book.size_new() == 1);
  // A bucket may hold 65 entries (Go's limit), not 66.
  AddrBookSnapshot full{kKey, {}, {}};
  for (std::uint32_t i = 0; i < 65; ++i)
    full.addrs.push_back(
        KnownAddress{spread_addr(i), a, {9}, 0, BucketType::kOld, kT0, kT0, {}, {}});
  CHECK(book.restore(full));
  CHECK(book.bucket_len(BucketType::kOld, 9) == 65);
  full.addrs.push_back(
      KnownAddress{spread_addr(65), a, {9}, 0, BucketType::kOld, kT0, kT0, {}, {}});
  CHECK(code_of(book.restore(full)) == AddrBookError::kInconsistent);
}

TEST_CASE("addr_book: restore refuses inconsistent snapshots and leaves the book unchanged") {
  SeededRng rng(1);
  AddrBook source(fixed_key(), rng);
  populate(source);
  const AddrBookSnapshot good = source.snapshot();
  auto first_of = [](AddrBookSnapshot& s, BucketType type) -> KnownAddress& {
    for (auto& ka : s.addrs)
      if (ka.bucket_type == type) return ka;
    FAIL("no entry of that type");
    return s.addrs.front();
  };
  using Mutation = std::function<void(AddrBookSnapshot&)>;
  const std::vector<std::pair<const char*, Mutation>> cases = {
      {"new bucket 256", [&](auto& s) { first_of(s, BucketType::kNew).buckets = {256}; }},
      {"new bucket -1", [&](auto& s) { first_of(s, BucketType::kNew).buckets = {-1}; }},
      {"old bucket 64", [&](auto& s) { first_of(s, BucketType::kOld).buckets = {64}; }},
      {"bucket_type 0", [&](auto& s) { s.addrs[3].bucket_type = BucketType(0); }},
      {"bucket_type 3", [&](auto& s) { s.addrs[3].bucket_type = BucketType(3); }},
      {"old in 0 buckets", [&](auto& s) { first_of(s, BucketType::kOld).buckets = {}; }},
      {"old in 2 buckets",
       [&](auto& s) {
         first_of(s, BucketType::kOld).buckets = {1, 2};
       }},
      {"new in 0 buckets", [&](auto& s) { first_of(s, BucketType::kNew).buckets = {}; }},
      {"new in 5 buckets",
       [&](auto& s) {
         first_of(s, BucketType::kNew).buckets = {1, 2, 3, 4, 5};
       }},
      {"bucket listed twice",
       [&](auto& s) {
         first_of(s, BucketType::kNew).buckets = {4, 4};
       }},
      {"invalid address", [&](auto& s) { s.addrs[2].addr.id = "nothex"; }},
      {"unspecified IP", [&](auto& s) { s.addrs[2].addr.ip = IpAddress::v4(0, 0, 0, 0); }},
      {"key too short", [&](auto& s) { s.key_hex = "00112233"; }},
      {"key not hex", [&](auto& s) { s.key_hex = "zz112233445566778899aabb"; }},
      {"duplicate ID", [&](auto& s) { s.addrs[4].addr.id = s.addrs[5].addr.id; }},
      {"ban with invalid address", [&](auto& s) { s.bans[0].entry.addr.id.clear(); }},
      {"ban of an ID in the book", [&](auto& s) { s.bans[0].entry.addr.id = s.addrs[0].addr.id; }},
      {"duplicate ban", [&](auto& s) { s.bans.push_back(s.bans[0]); }},
      {"ban with bucket_type 7", [&](auto& s) { s.bans[1].entry.bucket_type = BucketType(7); }},
      {"new bucket over 65",
       [&](auto& s) {
         for (std::uint32_t i = 0; i < 66; ++i)
           s.addrs.push_back(KnownAddress{v4(90, 1, 1, 1, 500000 + i),
                                          s.addrs[0].src,
                                          {11},
                                          0,
                                          BucketType::kNew,
                                          kT0,
                                          {},
                                          {},
                                          {}});
       }},
  };
  SeededRng rng2(2);
  AddrBook target(fixed_key(), rng2);
  fill(target, 3, 2);
  target.clear_dirty();
  const AddrBookSnapshot before = target.snapshot();
  for (const auto& [name, mutate] : cases) {
    const std::string case_name = name;
    CAPTURE(case_name);
    AddrBookSnapshot bad = good;
    mutate(bad);
    const Status st = target.restore(bad);
    REQUIRE_FALSE(st);
    CHECK(st.error().code == AddrBookError::kInconsistent);
    CHECK_FALSE(st.error().detail.empty());
    CHECK(target.snapshot().addrs == before.addrs);
    CHECK_FALSE(target.dirty());
  }
  CHECK(target.restore(good)); // and the unmodified one is fine
}
