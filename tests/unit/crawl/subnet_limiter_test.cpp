// The per-subnet cap on contacts per second, on a fake clock.
#include <doctest/doctest.h>

#include "core/crawl/schedule.hpp"
#include "core/crawl/subnet_limiter.hpp"
#include "support/fake_clock.hpp"

namespace seedscope::crawl {

TEST_CASE("subnet limiter: two contacts a second per /24, the third waits, others unaffected") {
  test::FakeClock clock;
  SubnetLimiter limiter(2);
  const IpAddress a = IpAddress::v4(203, 0, 113, 1), b = IpAddress::v4(203, 0, 113, 200);
  const IpAddress other = IpAddress::v4(203, 0, 114, 1);
  CHECK_FALSE(limiter.take(a, clock.mono()));
  CHECK_FALSE(limiter.take(b, clock.mono())); // same /24
  auto later = limiter.take(a, clock.mono());
  REQUIRE(later);
  CHECK(*later > clock.mono());
  CHECK(*later - clock.mono() <= Millis(500));    // half a second refills one token at 2/s
  CHECK_FALSE(limiter.take(other, clock.mono())); // another /24 has its own bucket
  CHECK(limiter.deferred() == 1);
  // Trying again before then is still refused; at the time given it goes ahead.
  clock.advance(*later - clock.mono() - Millis(1));
  CHECK(limiter.take(a, clock.mono()));
  clock.advance(Millis(1));
  CHECK_FALSE(limiter.take(a, clock.mono()));
  CHECK(limiter.take(a, clock.mono()));
}

TEST_CASE("subnet limiter: over a long run the rate is the cap, IPv6 by /48") {
  test::FakeClock clock;
  SubnetLimiter limiter(2);
  std::size_t started = 0;
  const TimePoint start = clock.mono();
  // One attempt every 10 ms for 10 s: at most 2/s plus the initial burst of 2.
  for (int i = 0; i < 1000; ++i) {
    if (!limiter.take(IpAddress::v4(198, 51, 100, static_cast<std::uint8_t>(i % 250)),
                      clock.mono()))
      ++started;
    clock.advance(Millis(10));
  }
  CHECK(clock.mono() - start == Millis(10000));
  CHECK(started >= 20);
  CHECK(started <= 22);

  auto v6 = [](std::uint8_t third, std::uint8_t last) {
    std::array<std::uint8_t, 16> b{0x20, 0x01, 0x0d, 0xb8, 0, third};
    b[15] = last;
    return IpAddress::v6(b);
  };
  CHECK(SubnetLimiter::subnet_of(v6(1, 1)) == SubnetLimiter::subnet_of(v6(1, 2)));
  CHECK(SubnetLimiter::subnet_of(v6(1, 1)) != SubnetLimiter::subnet_of(v6(2, 1)));
  CHECK(SubnetLimiter::subnet_of(IpAddress::v4(0, 0, 0, 1)) != SubnetLimiter::subnet_of(v6(0, 0)));
  CHECK_FALSE(limiter.take(v6(1, 1), clock.mono()));
  CHECK_FALSE(limiter.take(v6(1, 2), clock.mono()));
  CHECK(limiter.take(v6(1, 3), clock.mono()));
}

TEST_CASE("subnet limiter: memory is bounded, refilled buckets go first; 0 is no cap") {
  test::FakeClock clock;
  SubnetLimiter limiter(1, 100);
  for (int i = 0; i < 1000; ++i) {
    CHECK_FALSE(limiter.take(IpAddress::v4(10, static_cast<std::uint8_t>(i / 250),
                                           static_cast<std::uint8_t>(i % 250), 1),
                             clock.mono()));
    CHECK(limiter.subnets() <= 100);
    clock.advance(Millis(20));
  }
  // A subnet used just now keeps its state through the clean-up: still waiting.
  const IpAddress recent = IpAddress::v4(10, 3, 249, 7);
  CHECK(limiter.take(recent, clock.mono()));

  SubnetLimiter off(0);
  for (int i = 0; i < 100; ++i) CHECK_FALSE(off.take(recent, clock.mono()));
  CHECK(off.subnets() == 0);
}

TEST_CASE("schedule: a postponed contact keeps its state and is due again at the time given") {
  test::FakeClock clock;
  Schedule s;
  const NetAddress a{std::string(40, 'c'), IpAddress::v4(203, 0, 113, 9), 26656};
  REQUIRE(s.add(a, "net", clock.wall()));
  auto due = s.pop_due(clock.wall());
  REQUIRE(due);
  CHECK(s.in_flight() == 1);
  CHECK(s.postpone(a, clock.wall() + Millis(500)));
  CHECK(s.in_flight() == 0);
  CHECK(s.find(a)->state == AddrState::kNew);
  CHECK(s.find(a)->failures == 0);
  CHECK_FALSE(s.pop_due(clock.wall()));
  CHECK(s.next_due() == clock.wall() + Millis(500));
  clock.advance(Millis(500));
  CHECK(s.pop_due(clock.wall()));
  // Not in flight: the caller's bug, counted, nothing changed.
  CHECK(s.postpone(a, clock.wall()));
  CHECK_FALSE(s.postpone(a, clock.wall()));
  CHECK(s.invariant_violations() == 1);
}

} // namespace seedscope::crawl
