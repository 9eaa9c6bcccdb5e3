// The crawler's policy, free of I/O: the schedule (due times, one attempt per address and per
// ID, back-off, retirement), availability and the reliability score, what a seed answers,
// and how failures become outcome classes.
#include <doctest/doctest.h>

#include <ostream>
#include <set>

#include "core/crawl/availability.hpp"
#include "core/crawl/outcome.hpp"
#include "core/crawl/schedule.hpp"
#include "core/crawl/seed_selection.hpp"

namespace seedscope::crawl {
namespace {

using namespace std::chrono_literals;

WallTime at(std::chrono::seconds s) { return WallTime(std::chrono::hours(24 * 365 * 50)) + s; }

NetAddress addr(int id, int a, int b, int c, std::uint16_t port = 26656) {
  char hex[41];
  std::snprintf(hex, sizeof hex, "%040x", id);
  return NetAddress{hex, IpAddress::v4(std::uint8_t(a), std::uint8_t(b), std::uint8_t(c), 1), port};
}

ScheduleConfig config() {
  ScheduleConfig c;
  c.recrawl_interval = 600s;
  c.retry_base = 60s;
  c.retry_cap = 3600s;
  c.retire_after = 86400s;
  c.id_busy_delay = 5s;
  return c;
}

} // namespace

TEST_CASE("schedule: a new address is due at once and attempted once at a time") {
  Schedule s(config());
  const auto a = addr(1, 1, 2, 3);
  CHECK(s.add(a, "chain-1", at(0s)));
  CHECK_FALSE(s.add(a, "chain-1", at(1s))); // known: keeps its schedule
  CHECK(s.size() == 1);
  CHECK(s.count(AddrState::kNew) == 1);
  CHECK(s.next_due() == at(0s));
  auto got = s.pop_due(at(0s));
  REQUIRE(got);
  CHECK(got->addr == a);
  CHECK(got->network == "chain-1");
  CHECK(s.in_flight() == 1);
  CHECK_FALSE(s.pop_due(at(10s))); // in flight: not handed out again
  CHECK(s.next_due() == WallTime::max());
}

TEST_CASE("schedule: reachable addresses are recrawled; failures back off up to the cap") {
  Schedule s(config());
  const auto a = addr(1, 1, 2, 3);
  s.add(a, "", at(0s));
  REQUIRE(s.pop_due(at(0s)));
  auto e = *s.finish(a, Verdict::kVerified, "chain-1", at(1s));
  CHECK(e.state == AddrState::kReachable);
  CHECK(e.network == "chain-1");
  CHECK(e.next_attempt == at(601s));
  CHECK_FALSE(s.pop_due(at(600s)));
  REQUIRE(s.pop_due(at(601s)));
  // Failures: 60 s, 120 s, 240 s, ... capped at 3600 s.
  std::chrono::seconds now = 601s;
  std::vector<std::chrono::seconds> delays;
  for (int i = 0; i < 8; ++i) {
    e = *s.finish(a, Verdict::kFailed, "", at(now));
    CHECK(e.state == AddrState::kUnreachable);
    CHECK(e.failures == i + 1);
    delays.push_back(std::chrono::duration_cast<std::chrono::seconds>(e.next_attempt - at(now)));
    now = std::chrono::duration_cast<std::chrono::seconds>(e.next_attempt - at(0s));
    REQUIRE(s.pop_due(at(now)));
  }
  CHECK(delays ==
        std::vector<std::chrono::seconds>{60s, 120s, 240s, 480s, 960s, 1920s, 3600s, 3600s});
  // Success resets the failures.
  e = *s.finish(a, Verdict::kVerified, "", at(now));
  CHECK(e.failures == 0);
  CHECK(e.network == "chain-1"); // an empty network keeps the known one
}

TEST_CASE("schedule: an address without success for retire_after is retired, and revived once when "
          "advertised again") {
  Schedule s(config());
  const auto a = addr(1, 1, 2, 3);
  s.add(a, "chain-1", at(0s));
  REQUIRE(s.pop_due(at(0s)));
  auto e = *s.finish(a, Verdict::kFailed, "", at(0s));
  // Keep failing until a day has passed since first sight.
  std::chrono::seconds now = 0s;
  for (int i = 0; i < 100 && e.state != AddrState::kRetired; ++i) {
    now = std::chrono::duration_cast<std::chrono::seconds>(e.next_attempt - at(0s));
    REQUIRE(s.pop_due(at(now)));
    e = *s.finish(a, Verdict::kFailed, "", at(now));
  }
  CHECK(e.state == AddrState::kRetired);
  CHECK(now >= 86400s);
  CHECK(s.count(AddrState::kRetired) == 1);
  CHECK(s.next_due() == WallTime::max());
  CHECK_FALSE(s.pop_due(at(now + 100000s)));
  // Advertised again: one more attempt after retry_cap; failing it retires it again.
  CHECK_FALSE(s.add(a, "chain-1", at(now + 10s)));
  CHECK(s.find(a)->state == AddrState::kUnreachable);
  CHECK_FALSE(s.pop_due(at(now + 10s)));
  REQUIRE(s.pop_due(at(now + 10s + 3600s)));
  e = *s.finish(a, Verdict::kFailed, "", at(now + 10s + 3600s));
  CHECK(e.state == AddrState::kRetired);
}

TEST_CASE("schedule: a node that misbehaves after the handshake is not recorded as reachable") {
  Schedule s(config());
  const auto a = addr(1, 1, 2, 3);
  s.add(a, "", at(0s));
  REQUIRE(s.pop_due(at(0s)));
  auto e = *s.finish(a, Verdict::kMisbehaved, "chain-1", at(1s));
  CHECK(e.state == AddrState::kMisbehaving);
  CHECK_FALSE(is_set(e.last_success));
  CHECK(e.failures == 1);
  CHECK(e.network == "chain-1");
  CHECK(e.next_attempt == at(61s)); // backs off like a failure
  CHECK(s.count(AddrState::kMisbehaving) == 1);
  CHECK(s.count(AddrState::kReachable) == 0);
  // Behaving at the next contact makes it reachable; misbehaving again takes that back
  // without touching the success time.
  REQUIRE(s.pop_due(at(61s)));
  e = *s.finish(a, Verdict::kVerified, "chain-1", at(62s));
  CHECK(e.state == AddrState::kReachable);
  CHECK(e.last_success == at(62s));
  REQUIRE(s.pop_due(at(662s)));
  e = *s.finish(a, Verdict::kMisbehaved, "chain-1", at(663s));
  CHECK(e.state == AddrState::kMisbehaving);
  CHECK(e.last_success == at(62s));
  CHECK(to_string(AddrState::kMisbehaving) == "misbehaving");
  CHECK(addr_state_from_string("misbehaving") == AddrState::kMisbehaving);
}

TEST_CASE("schedule: finishing an address that is not in flight changes nothing and is counted") {
  Schedule s(config());
  const auto a = addr(1, 1, 2, 3);
  s.add(a, "chain-1", at(0s));
  CHECK_FALSE(s.finish(a, Verdict::kVerified, "", at(1s)));              // never popped
  CHECK_FALSE(s.finish(addr(2, 1, 2, 3), Verdict::kFailed, "", at(1s))); // unknown
  CHECK(s.invariant_violations() == 2);
  CHECK(s.find(a)->state == AddrState::kNew);
  CHECK(s.pop_due(at(2s))); // still due as it was
}

TEST_CASE("outcomes: one verdict per outcome; only handshaken and well-behaved is verified") {
  CHECK(verdict(Outcome::kOk) == Verdict::kVerified);
  CHECK(verdict(Outcome::kFull) == Verdict::kVerified);
  CHECK(verdict(Outcome::kNoAnswer) == Verdict::kVerified);
  CHECK(verdict(Outcome::kMisbehaving) == Verdict::kMisbehaved);
  for (auto o : {Outcome::kRefused, Outcome::kTimeout, Outcome::kUnreachable,
                 Outcome::kHandshakeTimeout, Outcome::kHandshakeFailed, Outcome::kAuthFailure,
                 Outcome::kIdMismatch, Outcome::kIncompatible, Outcome::kSelf, Outcome::kRejected})
    CHECK(verdict(o) == Verdict::kFailed);
}

TEST_CASE("schedule: one attempt at a time per node ID; due order is by time") {
  Schedule s(config());
  auto a1 = addr(7, 1, 2, 3);
  auto a2 = addr(7, 4, 5, 6); // same ID, other address
  auto b = addr(8, 7, 8, 9);
  s.add(a1, "", at(0s));
  s.add(a2, "", at(0s));
  s.add(b, "", at(1s));
  auto first = s.pop_due(at(2s));
  REQUIRE(first);
  CHECK(first->addr == a1);
  auto second = s.pop_due(at(2s));
  REQUIRE(second);
  CHECK(second->addr == b); // a2 deferred: its ID is busy
  CHECK(s.find(a2)->next_attempt == at(7s));
  CHECK_FALSE(s.pop_due(at(2s)));
  s.finish(a1, Verdict::kVerified, "", at(3s));
  auto third = s.pop_due(at(7s));
  REQUIRE(third);
  CHECK(third->addr == a2);
}

TEST_CASE("schedule: restored entries keep their state and due time") {
  Schedule s(config());
  ScheduledAddress r;
  r.addr = addr(3, 9, 9, 9);
  r.network = "chain-2";
  r.state = AddrState::kReachable;
  r.first_seen = at(0s);
  r.last_success = at(100s);
  r.next_attempt = at(700s);
  s.restore(r);
  ScheduledAddress gone = r;
  gone.addr = addr(4, 9, 9, 8);
  gone.state = AddrState::kRetired;
  gone.next_attempt = WallTime::max();
  s.restore(gone);
  CHECK(s.count(AddrState::kReachable) == 1);
  CHECK(s.count(AddrState::kRetired) == 1);
  CHECK(s.next_due() == at(700s));
  CHECK_FALSE(s.pop_due(at(699s)));
  auto got = s.pop_due(at(700s));
  REQUIRE(got);
  CHECK(got->addr == r.addr);
  CHECK_FALSE(s.pop_due(at(1000000s)));
}

TEST_CASE("availability: decayed share of good contacts per window, and the score") {
  Availability always;
  Availability never;
  Availability flaky;
  for (int i = 0; i < 50; ++i) {
    const auto t = at(std::chrono::seconds(600 * i));
    always.update(true, t);
    never.update(false, t);
    flaky.update(i % 2 == 0, t);
  }
  for (const auto& w : always.windows) CHECK(w.availability() == doctest::Approx(1.0));
  for (const auto& w : never.windows) CHECK(w.availability() == doctest::Approx(0.0));
  for (const auto& w : flaky.windows) {
    CHECK(w.availability() > 0.3);
    CHECK(w.availability() < 0.7);
  }
  CHECK(always.score() == doctest::Approx(1.0));
  CHECK(never.score() == doctest::Approx(0.0));
  CHECK(flaky.score() > 0.3);
  CHECK(flaky.score() < 0.7);

  // One contact is weak evidence: a node seen once ranks below one seen up many times.
  Availability once;
  once.update(true, at(0s));
  CHECK(once.windows[0].availability() == doctest::Approx(1.0));
  CHECK(once.score() == doctest::Approx(0.5));
  CHECK(once.score() < always.score());

  // An old outage fades from the 2 h window long before it fades from the 30 d one.
  Availability recovered;
  recovered.update(false, at(0s));
  for (int i = 1; i <= 12; ++i) recovered.update(true, at(std::chrono::seconds(3600 * i)));
  CHECK(recovered.windows[0].availability() > 0.99);
  CHECK(recovered.windows[4].availability() < 0.99);
  CHECK(recovered.windows[2].availability() < recovered.windows[1].availability());
  CHECK(recovered.windows[0].count < recovered.windows[4].count);
}

TEST_CASE("seed selection: fresh and reachable only, best first, spread over /16 groups") {
  std::vector<SeedCandidate> c;
  // Group 1.2.x.x: three good nodes; group 5.6.x.x: one mediocre; group 9.9.x.x: stale.
  c.push_back({addr(1, 1, 2, 1), 0.9, at(1000s)});
  c.push_back({addr(2, 1, 2, 2), 0.95, at(1000s)});
  c.push_back({addr(3, 1, 2, 3), 0.8, at(1000s)});
  c.push_back({addr(4, 5, 6, 1), 0.5, at(1000s)});
  c.push_back({addr(5, 9, 9, 1), 1.0, at(10s)});
  auto got = select_seed_addresses(c, 3, at(500s), false);
  REQUIRE(got.size() == 3);
  CHECK(got[0] == addr(2, 1, 2, 2)); // best of the best group
  CHECK(got[1] == addr(4, 5, 6, 1)); // then the best of the next group before a second 1.2/16
  CHECK(got[2] == addr(1, 1, 2, 1));
  auto all = select_seed_addresses(c, 100, at(500s), false);
  CHECK(all.size() == 4); // the stale one never
  CHECK(select_seed_addresses(c, 100, at(2000s), false).empty());

  CHECK(seed_answer_size(0) == 0);
  CHECK(seed_answer_size(10) == 10);
  CHECK(seed_answer_size(100) == 32);
  CHECK(seed_answer_size(1000) == 230);
  CHECK(seed_answer_size(100000) == 250);
}

TEST_CASE("outcomes: failures map to stable classes") {
  CHECK(classify({Stage::kDial, Reason::kRefused}, false) == Outcome::kRefused);
  CHECK(classify({Stage::kDial, Reason::kTimeout}, false) == Outcome::kTimeout);
  CHECK(classify({Stage::kSecretHandshake, Reason::kTimeout}, false) == Outcome::kHandshakeTimeout);
  CHECK(classify({Stage::kSecretHandshake, Reason::kAuthFailure}, false) == Outcome::kAuthFailure);
  CHECK(classify({Stage::kNodeInfo, Reason::kIdMismatch}, false) == Outcome::kIdMismatch);
  CHECK(classify({Stage::kNodeInfo, Reason::kIncompatibleNetwork}, false) ==
        Outcome::kIncompatible);
  CHECK(classify({Stage::kNodeInfo, Reason::kSelf}, false) == Outcome::kSelf);
  CHECK(classify({Stage::kMConnection, Reason::kMalformed}, true) == Outcome::kMisbehaving);
  CHECK(classify({Stage::kLocalPolicy, Reason::kFullAfterHandshake}, true) == Outcome::kFull);
  CHECK(classify({Stage::kLocalPolicy, Reason::kNotAllowed}, false) == Outcome::kRejected);
  CHECK(handshaken(Outcome::kFull));
  CHECK(handshaken(Outcome::kMisbehaving));
  CHECK_FALSE(good(Outcome::kMisbehaving));
  CHECK_FALSE(handshaken(Outcome::kHandshakeTimeout));
  std::set<std::string_view> names;
  for (int i = 0; i <= static_cast<int>(Outcome::kRejected); ++i)
    names.insert(to_string(static_cast<Outcome>(i)));
  CHECK(names.size() == static_cast<std::size_t>(Outcome::kRejected) + 1);
}

} // namespace seedscope::crawl
