// Bans of node IDs and IPs, without sockets.
#include <doctest/doctest.h>

#include "core/p2p/ban_list.hpp"

using namespace seedscope;

namespace {
TimePoint t0() { return TimePoint(Millis(1'000'000)); }
} // namespace

TEST_CASE("ban list: an ID and its IP are refused until the ban ends") {
  BanList bans;
  const IpAddress ip = IpAddress::v4(192, 0, 2, 7);
  bans.ban("aa", ip, t0(), Millis(60000));
  CHECK(bans.id_banned("aa", t0()));
  CHECK(bans.ip_banned(ip, t0() + Millis(59999)));
  CHECK_FALSE(bans.ip_banned(ip, t0() + Millis(60000)));
  CHECK_FALSE(bans.id_banned("bb", t0()));
  CHECK_FALSE(bans.ip_banned(IpAddress::v4(192, 0, 2, 8), t0()));
  // A shorter ban does not cut a longer one short; a longer one extends it.
  bans.ban("aa", ip, t0(), Millis(1000));
  CHECK(bans.id_banned("aa", t0() + Millis(59000)));
  bans.ban("aa", ip, t0(), Millis(120000));
  CHECK(bans.id_banned("aa", t0() + Millis(119000)));
  // No ID (a peer known by its IP only) bans the IP.
  bans.ban("", IpAddress::v4(10, 0, 0, 1), t0(), Millis(1000));
  CHECK(bans.ip_banned(IpAddress::v4(10, 0, 0, 1), t0()));
  CHECK(bans.ids() == 1);
}

TEST_CASE("ban list: bounded; ended bans go first, then those that end soonest") {
  BanList bans(3);
  for (int i = 0; i < 3; ++i)
    bans.ban("id" + std::to_string(i), IpAddress::v4(10, 0, 0, std::uint8_t(i)), t0(),
             Millis(1000 * (i + 1)));
  // At t0 + 1.5 s the first ban has ended: it makes room.
  bans.ban("id3", IpAddress::v4(10, 0, 0, 3), t0() + Millis(1500), Millis(10000));
  CHECK(bans.ids() == 3);
  CHECK(bans.id_banned("id1", t0() + Millis(1500)));
  CHECK(bans.id_banned("id3", t0() + Millis(1500)));
  // None has ended: the one ending soonest (id1, at t0 + 2 s) goes.
  bans.ban("id4", IpAddress::v4(10, 0, 0, 4), t0() + Millis(1500), Millis(10000));
  CHECK(bans.ids() == 3);
  CHECK(bans.ips() == 3);
  CHECK_FALSE(bans.id_banned("id1", t0() + Millis(1500)));
  CHECK(bans.id_banned("id2", t0() + Millis(1500)));
  CHECK(bans.id_banned("id4", t0() + Millis(1500)));
}
