// The admission pool for connections still in the handshake, without sockets.
#include <doctest/doctest.h>

#include "core/p2p/pending_pool.hpp"

using namespace seedscope;

namespace {

TimePoint t0() { return TimePoint(Millis(1'000'000)); }
IpAddress ip(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  return IpAddress::v4(a, b, c, d);
}

} // namespace

TEST_CASE("pending pool: a flood from many addresses replaces itself oldest first") {
  PendingPool pool({.capacity = 10, .per_ip = 0, .per_subnet = 0});
  std::vector<PendingId> ids;
  for (int i = 0; i < 10; ++i) {
    auto a = pool.admit(ip(10, std::uint8_t(i), 0, 1), t0());
    CHECK(a.evicted.empty());
    ids.push_back(a.id);
  }
  CHECK(pool.size() == 10);
  // The 11th is admitted; the oldest goes.
  auto honest = pool.admit(ip(192, 0, 2, 1), t0());
  CHECK(honest.evicted == std::vector<PendingId>{ids[0]});
  CHECK(pool.size() == 10);
  // The honest one survives nine more newcomers, then is the oldest.
  for (int i = 1; i < 10; ++i)
    CHECK(pool.admit(ip(10, 99, 0, std::uint8_t(i)), t0()).evicted ==
          std::vector<PendingId>{ids[std::size_t(i)]});
  CHECK(pool.admit(ip(10, 99, 1, 1), t0()).evicted == std::vector<PendingId>{honest.id});
  CHECK(pool.evictions() == 11);
}

TEST_CASE("pending pool: one IP and one subnet only ever replace their own") {
  PendingPool pool({.capacity = 100, .per_ip = 3, .per_subnet = 5});
  const auto honest = pool.admit(ip(192, 0, 2, 1), t0());
  std::vector<PendingId> flood;
  for (int i = 0; i < 3; ++i) flood.push_back(pool.admit(ip(10, 0, 0, 1), t0()).id);
  // A fourth from the same IP evicts that IP's oldest, nothing else.
  auto a = pool.admit(ip(10, 0, 0, 1), t0());
  CHECK(a.evicted == std::vector<PendingId>{flood[0]});
  CHECK(pool.size() == 4);
  // Two more IPs of 10.0/16 fill the subnet's five; the next of that subnet evicts its oldest.
  pool.admit(ip(10, 0, 7, 7), t0());
  pool.admit(ip(10, 0, 8, 8), t0());
  auto b = pool.admit(ip(10, 0, 9, 9), t0());
  CHECK(b.evicted == std::vector<PendingId>{flood[1]});
  // IPv6: the /32 is the subnet.
  auto v6 = [](std::uint8_t third) {
    std::array<std::uint8_t, 16> bytes{0x20, 0x01, 0x0d, 0xb8, third};
    return IpAddress::v6(bytes);
  };
  CHECK(PendingPool::subnet_of(v6(1)) == PendingPool::subnet_of(v6(2)));
  CHECK(PendingPool::subnet_of(ip(10, 0, 1, 1)) == PendingPool::subnet_of(ip(10, 0, 2, 2)));
  CHECK(PendingPool::subnet_of(ip(10, 0, 1, 1)) != PendingPool::subnet_of(ip(10, 1, 1, 1)));
  // The honest peer of another subnet was never touched.
  pool.remove(honest.id);
  CHECK(pool.size() == 5);
  pool.remove(honest.id); // twice: ignored
  CHECK(pool.size() == 5);
}

TEST_CASE("pending pool: the handshake deadline shrinks as the pool fills") {
  PendingPool pool({.capacity = 100,
                    .per_ip = 0,
                    .per_subnet = 0,
                    .timeout = Millis(20000),
                    .min_timeout = Millis(2000)});
  CHECK(pool.timeout_at(1) == Millis(20000));
  CHECK(pool.timeout_at(50) == Millis(20000));
  CHECK(pool.timeout_at(75) == Millis(11000));
  CHECK(pool.timeout_at(100) == Millis(2000));
  CHECK(pool.timeout_at(500) == Millis(2000));
  // A handshake timeout below the floor is never lengthened by it.
  PendingPool quick({.capacity = 10, .timeout = Millis(1000)});
  CHECK(quick.timeout_at(10) == Millis(1000));
  TimePoint last;
  for (int i = 0; i < 100; ++i) last = pool.admit(ip(10, std::uint8_t(i), 0, 1), t0()).deadline;
  CHECK(last == t0() + Millis(2000));
  // Emptied, the next one gets the whole time again.
  for (PendingId id = 1; id <= 100; ++id) pool.remove(id);
  CHECK(pool.size() == 0);
  CHECK(pool.admit(ip(10, 0, 0, 1), t0()).deadline == t0() + Millis(20000));
}
