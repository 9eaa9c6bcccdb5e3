// Helpers shared by the address-book tests: IDs, addresses, fixed wall times, filled books.
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <ostream> // doctest prints std::error_code through it
#include <string>

#include <fmt/format.h>

#include "core/base/clock.hpp"
#include "core/base/rng.hpp"
#include "core/pex/addr_book.hpp"

namespace seedscope::pex::test {

inline const WallTime kT0{std::chrono::sys_days{std::chrono::year{2024} / 1 / 1}};
inline const std::string kKey = "00112233445566778899aabb";

inline std::string make_id(std::uint32_t n) { return fmt::format("{:040x}", n + 1); }

inline NetAddress v4(int a, int b, int c, int d, std::uint32_t id_n, std::uint16_t port = 26656) {
  return NetAddress{
      make_id(id_n),
      IpAddress::v4(std::uint8_t(a), std::uint8_t(b), std::uint8_t(c), std::uint8_t(d)), port};
}

// The i-th address of a family in which every address has its own /16 group (routable:
// first octets 20..99), so placement spreads and nothing is evicted in books of a few
// thousand entries.
inline NetAddress spread_addr(std::uint32_t i) {
  return v4(20 + int(i % 80), int((i / 80) % 250), 1, 1, 100000 + i);
}

inline AddrBookConfig fixed_key(bool strict = true) { return AddrBookConfig{strict, kKey}; }

inline std::error_code code_of(const Status& st) {
  return st ? std::error_code{} : st.error().code;
}

// Adds n_new + n_old spread addresses (each its own source) and promotes n_old of them.
inline void fill(AddrBook& book, std::size_t n_new, std::size_t n_old) {
  for (std::uint32_t i = 0; i < n_new + n_old; ++i) {
    const NetAddress a = spread_addr(i);
    REQUIRE(book.add_address(a, a, kT0));
    if (i < n_old) book.mark_good(a.id, kT0);
  }
  REQUIRE(book.size_new() == n_new);
  REQUIRE(book.size_old() == n_old);
}

} // namespace seedscope::pex::test
