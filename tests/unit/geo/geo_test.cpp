// Where nodes are, free of I/O: concentration figures, caps on peer lists, and seed answers
// spread over autonomous systems.
#include <doctest/doctest.h>

#include "core/crawl/seed_selection.hpp"
#include "core/geo/geo.hpp"

namespace seedscope::geo {
namespace {

std::vector<std::string> repeat(std::initializer_list<std::pair<const char*, int>> parts) {
  std::vector<std::string> out;
  for (const auto& [key, n] : parts)
    for (int i = 0; i < n; ++i) out.emplace_back(key);
  return out;
}

} // namespace

TEST_CASE("geo concentration: top values, the rest, unknown, and the third and half holders") {
  // 10 located nodes: A 5, B 3, C 2; 2 unknown.
  auto c = concentration(repeat({{"B", 3}, {"", 2}, {"A", 5}, {"C", 2}}), 2);
  CHECK(c.total == 12);
  CHECK(c.unknown == 2);
  CHECK(c.distinct == 3);
  REQUIRE(c.top.size() == 2);
  CHECK(c.top[0].key == "A");
  CHECK(c.top[0].nodes == 5);
  CHECK(c.top[1].key == "B");
  CHECK(c.top[1].nodes == 3);
  CHECK(c.other == 2);
  CHECK(c.to_third == 1); // 5 of 10 located
  CHECK(c.to_half == 1);

  // A 4, B 3, C 3: one holds a third (4 >= 10/3), a half needs two (4 < 5 <= 7).
  c = concentration(repeat({{"C", 3}, {"A", 4}, {"B", 3}}), 10);
  CHECK(c.to_third == 1);
  CHECK(c.to_half == 2);
  CHECK(c.other == 0);
  // Ties are listed by key.
  CHECK(c.top[1].key == "B");
  CHECK(c.top[2].key == "C");

  // Ten providers of one node each: four for a third, five for a half.
  std::vector<std::string> spread;
  for (int i = 0; i < 10; ++i) spread.push_back("AS" + std::to_string(i));
  c = concentration(spread, 3);
  CHECK(c.to_third == 4);
  CHECK(c.to_half == 5);
  CHECK(c.other == 7);

  // Nothing located: no coefficient.
  c = concentration(repeat({{"", 4}}), 5);
  CHECK(c.total == 4);
  CHECK(c.unknown == 4);
  CHECK(c.to_third == 0);
  CHECK(c.to_half == 0);
  CHECK(c.top.empty());
  CHECK(concentration({}, 5).total == 0);
}

TEST_CASE("geo caps: at most N per ASN and per country, best first, unknown values uncapped") {
  const std::vector<GeoInfo> list = {
      {"DE", 1, "a"}, {"DE", 1, "a"}, {"DE", 2, "b"}, {"US", 1, "a"},
      {"DE", 3, "c"}, {"", 0, ""},    {"", 0, ""},    {"US", 4, "d"},
  };
  // One per ASN: the second AS1 (index 1) and the US AS1 (3) go.
  CHECK(within_caps(list, {1, 0}) ==
        std::vector<bool>{true, false, true, false, true, true, true, true});
  // Two per country: DE keeps its first two; unknown countries stay.
  CHECK(within_caps(list, {0, 2}) ==
        std::vector<bool>{true, true, false, true, false, true, true, true});
  // Both: an entry refused by one cap uses up no room under the other: index 1 (refused for
  // AS1) leaves DE room for index 2; index 4 (AS3) finds DE full.
  CHECK(within_caps(list, {1, 2}) ==
        std::vector<bool>{true, false, true, false, false, true, true, true});
  CHECK(within_caps(list, {}) == std::vector<bool>(list.size(), true));
  CHECK(asn_label(0).empty());
  CHECK(asn_label(24940) == "AS24940");
}

TEST_CASE("seed selection: where the ASN is known, answers spread over ASNs before /16 groups") {
  using crawl::SeedCandidate;
  const WallTime t = WallTime{} + std::chrono::hours(1000);
  auto a = [](int id, std::uint8_t b, std::uint8_t c) {
    return NetAddress{std::string(39, '0') + std::to_string(id), IpAddress::v4(10, b, c, 1), 26656};
  };
  std::vector<SeedCandidate> c;
  // Three /16 groups in one provider (AS1), all better than the one node of AS2.
  c.push_back({a(1, 1, 1), 0.9, t, 1});
  c.push_back({a(2, 2, 1), 0.9, t, 1});
  c.push_back({a(3, 3, 1), 0.9, t, 1});
  c.push_back({a(4, 1, 2), 0.5, t, 2});
  // Unknown ASN: grouped by its /16, which AS1's node in 10.1/16 does not take away.
  c.push_back({a(5, 1, 3), 0.4, t, 0});
  auto got = crawl::select_seed_addresses(c, 3, WallTime{}, false);
  REQUIRE(got.size() == 3);
  CHECK(got[0] == a(1, 1, 1)); // AS1's best
  CHECK(got[1] == a(4, 1, 2)); // then AS2, before a second AS1 node
  CHECK(got[2] == a(5, 1, 3)); // then the /16 group of the unlocated node
  // Without ASNs the /16 groups decide, as before.
  for (auto& x : c) x.asn = 0;
  got = crawl::select_seed_addresses(c, 3, WallTime{}, false);
  REQUIRE(got.size() == 3);
  CHECK(got[0] == a(1, 1, 1));
  CHECK(got[1] == a(2, 2, 1));
  CHECK(got[2] == a(3, 3, 1));
}

} // namespace seedscope::geo
