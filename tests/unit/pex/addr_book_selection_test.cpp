// AddrBook selections: GetSelection sizes, GetSelectionWithBias splits (both checked against the
// Go address book in getselection_*.tsv) and PickAddress's bias.
#include <cmath>
#include <map>
#include <set>

#include "support/testdata.hpp"
#include "unit/pex/addr_book_fixture.hpp"

using namespace seedscope;
using namespace seedscope::pex;
using namespace seedscope::pex::test;

namespace {

std::set<std::string> ids_of(const std::vector<NetAddress>& v) {
  std::set<std::string> ids;
  for (const auto& a : v) ids.insert(a.id);
  return ids;
}

} // namespace

TEST_CASE("addr_book: get_selection sizes (getselection_sizes.tsv)") {
  const auto rows = seedscope::test::read_table("getselection_sizes.tsv", '\t');
  REQUIRE(rows.size() >= 18);
  for (const auto& r : rows) {
    REQUIRE(r.size() == 2);
    const std::size_t book_size = std::stoul(r[0]), expected = std::stoul(r[1]);
    CAPTURE(book_size);
    SeededRng rng(book_size);
    AddrBook book(fixed_key(), rng);
    fill(book, book_size - book_size / 3, book_size / 3);
    const auto selection = book.get_selection();
    CHECK(selection.size() == expected);
    const auto ids = ids_of(selection);
    CHECK(ids.size() == selection.size()); // distinct
    for (const auto& id : ids) CHECK(book.has(id));
  }
}

TEST_CASE("addr_book: get_selection_with_bias(30) splits (getselection_with_bias_sizes.tsv)") {
  // Columns: n_old n_new num required_new returned_new returned_old.
  const auto rows = seedscope::test::read_table("getselection_with_bias_sizes.tsv", '\t');
  REQUIRE(rows.size() >= 8);
  for (const auto& r : rows) {
    REQUIRE(r.size() == 6);
    const std::size_t n_old = std::stoul(r[0]), n_new = std::stoul(r[1]), num = std::stoul(r[2]);
    const std::size_t returned_new = std::stoul(r[4]), returned_old = std::stoul(r[5]);
    CAPTURE(n_old);
    CAPTURE(n_new);
    for (std::uint64_t seed = 1; seed <= 3; ++seed) {
      SeededRng rng(seed);
      AddrBook book(fixed_key(), rng);
      fill(book, n_new, n_old);
      const auto selection = book.get_selection_with_bias(30);
      REQUIRE(selection.size() == num);
      CHECK(ids_of(selection).size() == num);
      std::size_t got_new = 0;
      for (const auto& a : selection) got_new += book.find(a.id)->is_new();
      CHECK(got_new == returned_new);
      CHECK(num - got_new == returned_old);
      // New ones first, then old ones.
      for (std::size_t i = 0; i < selection.size(); ++i)
        CHECK(book.find(selection[i].id)->is_new() == (i < got_new));
    }
  }
}

TEST_CASE("addr_book: get_selection_with_bias proportions follow the bias") {
  SeededRng rng(5);
  AddrBook book(fixed_key(), rng);
  fill(book, 500, 500); // n = 230 of 1000
  for (int bias : {0, 10, 30, 50, 90, 100}) {
    const auto selection = book.get_selection_with_bias(bias);
    REQUIRE(selection.size() == 230);
    std::size_t got_new = 0;
    for (const auto& a : selection) got_new += book.find(a.id)->is_new();
    CAPTURE(bias);
    CHECK(got_new == std::size_t(std::lround(bias * 2.30)));
  }
  CHECK(book.get_selection_with_bias(-5).size() == 230); // clamped
  CHECK(book.get_selection_with_bias(500).size() == 230);
}

TEST_CASE("addr_book: empty book selects nothing; a small book gives all of itself") {
  SeededRng rng(1);
  AddrBook book(fixed_key(), rng);
  CHECK(book.get_selection().empty());
  CHECK(book.get_selection_with_bias(30).empty());
  CHECK_FALSE(book.pick_address(50).has_value());
  fill(book, 3, 2);
  CHECK(ids_of(book.get_selection()).size() == 5);
  CHECK(ids_of(book.get_selection_with_bias(30)).size() == 5);
}

TEST_CASE("addr_book: get_selection is a uniform random subset") {
  SeededRng rng(9);
  AddrBook book(fixed_key(), rng);
  fill(book, 100, 100); // n = 46 of 200
  std::map<std::string, int> hits;
  constexpr int kRounds = 2000;
  for (int i = 0; i < kRounds; ++i)
    for (const auto& a : book.get_selection()) ++hits[a.id];
  REQUIRE(hits.size() == 200);
  const double expected = kRounds * 46.0 / 200; // 460
  for (const auto& [id, n] : hits) CHECK(std::abs(n - expected) < expected * 0.25);
}

TEST_CASE("addr_book: pick_address bias") {
  SeededRng rng(2);
  AddrBook book(fixed_key(), rng);
  fill(book, 400, 100);
  for (int i = 0; i < 500; ++i) {
    CHECK(book.find(book.pick_address(100)->id)->is_new());
    CHECK(book.find(book.pick_address(0)->id)->is_old());
  }
  // P(new) = sqrt(nNew)*bias / (sqrt(nNew)*bias + sqrt(nOld)*(100-bias)).
  for (int bias : {30, 50, 80}) {
    constexpr int kPicks = 20000;
    int got_new = 0;
    for (int i = 0; i < kPicks; ++i) got_new += book.find(book.pick_address(bias)->id)->is_new();
    const double w_new = 20.0 * bias, w_old = 10.0 * (100 - bias);
    CAPTURE(bias);
    CHECK(std::abs(double(got_new) / kPicks - w_new / (w_new + w_old)) < 0.015);
  }
}

// Go returns nil when the bias rules out the only kind present (upstream TestAddrBookPickAddress).
TEST_CASE("addr_book: pick_address with one kind only") {
  SeededRng rng(2);
  AddrBook only_new(fixed_key(), rng), only_old(fixed_key(), rng);
  fill(only_new, 10, 0);
  fill(only_old, 0, 10);
  for (int bias : {0, 50, 100}) {
    CAPTURE(bias);
    CHECK(only_new.pick_address(bias).has_value());
    CHECK(only_old.pick_address(bias).has_value() == (bias != 100));
  }
}
