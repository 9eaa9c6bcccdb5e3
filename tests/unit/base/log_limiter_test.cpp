// Rate limits for log lines, with a fake clock.
#include <doctest/doctest.h>

#include "core/base/log_limiter.hpp"

using namespace seedscope;

namespace {
TimePoint t0() { return TimePoint(Millis(1'000'000)); }
} // namespace

TEST_CASE("log limiter: a cause gets its burst, then its rate; the rest is counted") {
  LogLimiter lim({.per_second = 10, .burst = 20, .peer_per_second = 1000, .peer_burst = 1000});
  int allowed = 0;
  // 1,000 lines in one instant from 1,000 peers: the burst passes.
  for (int i = 0; i < 1000; ++i) allowed += lim.allow("connection failed", std::to_string(i), t0());
  CHECK(allowed == 20);
  // Over the next 10 s, 750 a second: 10 a second pass.
  for (int ms = 1; ms <= 10000; ++ms)
    if (ms % 4 == 0 || ms % 4 == 2 || ms % 4 == 1)
      allowed += lim.allow("connection failed", std::to_string(ms), t0() + Millis(ms));
  CHECK(allowed >= 20 + 99);
  CHECK(allowed <= 20 + 101);
  // Another cause has its own budget.
  CHECK(lim.allow("peer removed", "x", t0() + Millis(10000)));
  auto s = lim.take_suppressed();
  REQUIRE(s.size() == 1);
  CHECK(s["connection failed"] == 1000 + 7500 - std::uint64_t(allowed));
  CHECK(lim.take_suppressed().empty());
  CHECK(suppressed_summary({{"a", 2}, {"b", 3}}) ==
        "5 log lines suppressed (rate limit) since the last report: a 2, b 3");
}

TEST_CASE("log limiter: one peer cannot use up its cause's budget") {
  LogLimiter lim({.per_second = 10, .burst = 20, .peer_per_second = 1, .peer_burst = 3});
  int churner = 0;
  for (int i = 0; i < 100; ++i) churner += lim.allow("connection failed", "10.0.0.1", t0());
  CHECK(churner == 3);
  // Others are still logged.
  int others = 0;
  for (int i = 0; i < 10; ++i)
    others += lim.allow("connection failed", "10.0.1." + std::to_string(i), t0());
  CHECK(others == 10);
  // A second later the churner may log one more.
  CHECK(lim.allow("connection failed", "10.0.0.1", t0() + Millis(1000)));
  CHECK_FALSE(lim.allow("connection failed", "10.0.0.1", t0() + Millis(1000)));
  CHECK(lim.suppressed_total() == 98);
}

TEST_CASE("log limiter: peers tracked are bounded") {
  LogLimiter lim(
      {.per_second = 1e9, .burst = 1e9, .peer_per_second = 1, .peer_burst = 1, .max_peers = 100});
  for (int i = 0; i < 10000; ++i) CHECK(lim.allow("c", std::to_string(i), t0()));
  CHECK(lim.suppressed_total() == 0);
}
