// The switch's filters and limits, and the persistent-peer reconnect schedule.
#include <doctest/doctest.h>

#include "core/p2p/peer_set.hpp"

using namespace seedscope;

namespace {
std::string id(int n) {
  std::string s = std::to_string(n);
  return std::string(40 - s.size(), '0') + s;
}
} // namespace

TEST_CASE("the 41st inbound peer is refused; an unconditional ID is not") {
  SwitchLimits limits;
  limits.unconditional_ids.insert(id(999));
  PeerSet set(id(0), limits);
  for (int i = 1; i <= 40; ++i) {
    REQUIRE(set.check(id(i), "10.0.0." + std::to_string(i), false) == Admission::kOk);
    set.add(id(i), "10.0.0." + std::to_string(i), false);
  }
  CHECK(set.inbound() == 40);
  CHECK(set.check(id(41), "10.0.1.1", false) == Admission::kInboundFull);
  CHECK(admission_failure(Admission::kInboundFull).reason == Reason::kPeerLimit);
  CHECK(set.check(id(999), "10.0.1.2", false) == Admission::kOk);
  // Outbound slots are counted apart.
  CHECK(set.check(id(42), "10.0.1.3", true) == Admission::kOk);
  set.remove(id(5));
  CHECK(set.check(id(41), "10.0.1.1", false) == Admission::kOk);
}

TEST_CASE("outbound limit") {
  PeerSet set(id(0), SwitchLimits{40, 2, false, {}});
  set.add(id(1), "1.1.1.1", true);
  set.add(id(2), "1.1.1.2", true);
  CHECK(set.check(id(3), "1.1.1.3", true) == Admission::kOutboundFull);
  CHECK(set.check(id(3), "1.1.1.3", false) == Admission::kOk);
}

TEST_CASE("self, duplicate ID and duplicate IP") {
  PeerSet set(id(0), SwitchLimits{});
  CHECK(set.check(id(0), "1.1.1.1", true) == Admission::kSelf);
  set.add(id(1), "1.1.1.1", false);
  CHECK(set.check(id(1), "2.2.2.2", true) == Admission::kDuplicateId);
  CHECK(set.check(id(2), "1.1.1.1", true) == Admission::kDuplicateIp);
  PeerSet lax(id(0), SwitchLimits{40, 10, true, {}});
  lax.add(id(1), "1.1.1.1", false);
  CHECK(lax.check(id(2), "1.1.1.1", true) == Admission::kOk);
  lax.add(id(2), "1.1.1.1", true);
  lax.remove(id(1));
  CHECK(lax.has_ip("1.1.1.1")); // still one peer there
  lax.remove(id(2));
  CHECK_FALSE(lax.has_ip("1.1.1.1"));
}

TEST_CASE("one dial in flight per ID") {
  PeerSet set(id(0), SwitchLimits{});
  CHECK(set.begin_dial(id(1)));
  CHECK_FALSE(set.begin_dial(id(1)));
  CHECK(set.dialing(id(1)));
  set.end_dial(id(1));
  CHECK(set.begin_dial(id(1)));
}

TEST_CASE("persistent peer reconnect schedule (Go's reconnectToPeer)") {
  CHECK(*reconnect_delay(0, 0.0) == Millis(5000));
  CHECK(*reconnect_delay(19, 0.999) == Millis(7997));
  CHECK(*reconnect_delay(20, 0.0) == Millis(1000));     // 3^0 s
  CHECK(*reconnect_delay(21, 0.0) == Millis(3000));     // 3^1 s
  CHECK(*reconnect_delay(29, 0.0) == Millis(19683000)); // 3^9 s
  CHECK_FALSE(reconnect_delay(30, 0.0).has_value());
  // The whole schedule lasts about eight hours.
  std::int64_t total = 0;
  for (int i = 0; reconnect_delay(i, 0.5); ++i) total += reconnect_delay(i, 0.5)->count();
  CHECK(total / 3600000.0 > 8.0);
  CHECK(total / 3600000.0 < 8.5);
}
