// The exclude list: what a line may say, the error of each bad line (every one, with its
// line number), and matching by ID, IPv4, IPv6, IPv4-mapped IPv6 and CIDR edges.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/p2p/exclude_list.hpp"

namespace seedscope {

namespace {

IpAddress exclude_ip(const char* text) {
  auto ip = IpAddress::parse(text);
  REQUIRE(ip);
  return *ip;
}

} // namespace

TEST_CASE("exclude list: IDs, IPs, CIDRs, comments and blank lines") {
  const std::string id(40, 'a');
  const std::string text = "# operators who asked\n"
                           "\n" +
                           std::string(40, 'A') + "   # upper case is the same ID\n" +
                           "203.0.113.7\n"
                           "  198.51.100.0/24  \n"
                           "2001:db8::1\n"
                           "[2001:db8:1::]/48\n"
                           "10.0.0.0/8\r\n";
  std::vector<std::string> errors;
  const ExcludeList list = ExcludeList::parse(text, "exclude.txt", errors);
  CHECK(errors.empty());
  CHECK(list.size() == 6);
  CHECK(list.excluded_id(id));
  CHECK(list.excluded_id(std::string(40, 'A')));
  CHECK_FALSE(list.excluded_id(std::string(40, 'b')));
  CHECK(list.excluded(NetAddress{id, exclude_ip("192.0.2.1"), 26656}));
  CHECK(list.excluded_ip(exclude_ip("203.0.113.7")));
  CHECK_FALSE(list.excluded_ip(exclude_ip("203.0.113.8")));
  CHECK(list.excluded_ip(exclude_ip("10.255.255.255")));
  CHECK(list.excluded_ip(exclude_ip("2001:db8::1")));
  CHECK_FALSE(list.excluded_ip(exclude_ip("2001:db8::2")));
  CHECK(list.excluded_ip(exclude_ip("2001:db8:1:ffff::9")));
  CHECK_FALSE(list.excluded_ip(exclude_ip("2001:db8:2::9")));
  CHECK(ExcludeList{}.empty());
}

TEST_CASE("exclude list: every bad line is one error naming its line") {
  const std::string text = "203.0.113.7\n"        // 1 fine
                           "not-an-address\n"     // 2
                           "198.51.100.0/33\n"    // 3 prefix too long for IPv4
                           "2001:db8::/129\n"     // 4 prefix too long for IPv6
                           "198.51.100.0/\n"      // 5 no prefix
                           "198.51.100.0/2x\n"    // 6 not a number
                           "1.2.3.4 5.6.7.8\n"    // 7 two entries
                           + std::string(39, 'a') // 8 an ID one digit short
                           + "\n"
                             "256.1.1.1\n" // 9
                             "# fine\n"
                             "2001:db8::/0\n"; // 11 fine: everything IPv6 (and IPv4 too)
  std::vector<std::string> errors;
  const ExcludeList list = ExcludeList::parse(text, "ex.txt", errors);
  REQUIRE(errors.size() == 8);
  const char* lines[] = {"ex.txt:2: ", "ex.txt:3: ", "ex.txt:4: ", "ex.txt:5: ",
                         "ex.txt:6: ", "ex.txt:7: ", "ex.txt:8: ", "ex.txt:9: "};
  for (std::size_t i = 0; i < errors.size(); ++i) {
    INFO(errors[i]);
    CHECK(errors[i].rfind(lines[i], 0) == 0);
    CHECK(errors[i].find('\n') == std::string::npos);
  }
  CHECK(errors[1].find("from 0 to 32") != std::string::npos);
  CHECK(errors[2].find("from 0 to 128") != std::string::npos);
  CHECK(errors[5].find("one entry per line") != std::string::npos);
  // The good lines are kept.
  CHECK(list.size() == 2);
}

TEST_CASE("exclude list: IPv4-mapped IPv6 is IPv4, CIDR edges") {
  std::vector<std::string> errors;
  const ExcludeList list = ExcludeList::parse("192.0.2.0/25\n"
                                              "::ffff:198.51.100.9\n"
                                              "203.0.113.255/32\n"
                                              "100.64.0.0/10\n",
                                              "t", errors);
  REQUIRE(errors.empty());
  // A /25: .0 to .127, not .128.
  CHECK(list.excluded_ip(exclude_ip("192.0.2.0")));
  CHECK(list.excluded_ip(exclude_ip("192.0.2.127")));
  CHECK_FALSE(list.excluded_ip(exclude_ip("192.0.2.128")));
  CHECK_FALSE(list.excluded_ip(exclude_ip("192.0.1.255")));
  // Mapped forms match IPv4 entries and the other way round.
  CHECK(list.excluded_ip(exclude_ip("::ffff:192.0.2.5")));
  CHECK(list.excluded_ip(exclude_ip("198.51.100.9")));
  CHECK_FALSE(list.excluded_ip(exclude_ip("198.51.100.10")));
  CHECK(list.excluded_ip(exclude_ip("203.0.113.255")));
  CHECK_FALSE(list.excluded_ip(exclude_ip("203.0.113.254")));
  // A prefix that is not a multiple of 8.
  CHECK(list.excluded_ip(exclude_ip("100.127.255.255")));
  CHECK_FALSE(list.excluded_ip(exclude_ip("100.128.0.0")));
  // IPv6 outside the mapped range is never an IPv4 match.
  CHECK_FALSE(list.excluded_ip(exclude_ip("2001:db8::c000:205")));

  // /0 excludes every address of its family.
  const ExcludeList all_v4 = ExcludeList::parse("0.0.0.0/0\n", "t", errors);
  CHECK(all_v4.excluded_ip(exclude_ip("8.8.8.8")));
  CHECK_FALSE(all_v4.excluded_ip(exclude_ip("2001:db8::1")));
  REQUIRE(errors.empty());
}

} // namespace seedscope
