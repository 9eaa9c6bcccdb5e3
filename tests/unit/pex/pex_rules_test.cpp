// The PEX request rules of one connection (core/pex/pex_rules.hpp), on a fake clock.
#include <doctest/doctest.h>

#include "core/pex/pex_rules.hpp"

using namespace seedscope;
using namespace seedscope::pex;
using namespace std::chrono_literals;
using Verdict = PexPeerRules::Verdict;

namespace {
TimePoint at(Millis ms) { return TimePoint(ms); }
} // namespace

TEST_CASE("pex rules: one request of ours outstanding; an answer without one is unsolicited") {
  PexPeerRules r(PexPeerRules::Serving::kEveryInterval);
  CHECK_FALSE(r.take_answer()); // nobody asked: unsolicited
  CHECK(r.begin_request());
  CHECK_FALSE(r.begin_request()); // still outstanding
  CHECK(r.request_outstanding());
  CHECK(r.take_answer());
  CHECK_FALSE(r.take_answer()); // a second PexAddrs for one request
  CHECK(r.begin_request());
  r.cancel_request(); // could not be queued
  CHECK_FALSE(r.request_outstanding());
  CHECK_FALSE(r.take_answer());
}

TEST_CASE("pex rules: two requests are free, then one per interval, else too soon") {
  PexPeerRules r(PexPeerRules::Serving::kEveryInterval, 10'000ms);
  CHECK(r.on_request(at(0ms)) == Verdict::kAnswer);
  CHECK(r.on_request(at(1ms)) == Verdict::kAnswer); // the clock starts here
  CHECK(r.on_request(at(9'000ms)) == Verdict::kTooSoon);
  CHECK(r.on_request(at(10'001ms)) == Verdict::kAnswer);
  CHECK(r.on_request(at(20'001ms)) == Verdict::kAnswer);
  CHECK(r.on_request(at(20'002ms)) == Verdict::kTooSoon);
  CHECK_FALSE(r.answered()); // only seeds stop answering
}

TEST_CASE("pex rules: a seed answers an inbound peer once and then ignores it") {
  PexPeerRules r(PexPeerRules::Serving::kOnce);
  CHECK_FALSE(r.answered());
  CHECK(r.on_request(at(0ms)) == Verdict::kAnswer);
  CHECK(r.answered());
  CHECK(r.on_request(at(1ms)) == Verdict::kIgnore);
  CHECK(r.on_request(at(100'000ms)) == Verdict::kIgnore);
}
