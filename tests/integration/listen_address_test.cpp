// Listen addresses in Tendermint's forms, parsed in one place for every server (p2p laddr,
// metrics, API): what each form means, and the one-line error for each bad one.
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

#include "core/base/spelling.hpp"
#include "crawler/runtime/listen_address.hpp"
#include "crawler/runtime/transport.hpp"

namespace seedscope {

using runtime::parse_listen_address;

TEST_CASE("listen addresses: Tendermint's forms") {
  auto all = parse_listen_address(":26660");
  CHECK(all.host == "0.0.0.0");
  CHECK(all.port == 26660);
  CHECK(all.addr.ss_family == AF_INET);
  auto local = parse_listen_address("127.0.0.1:26660");
  CHECK(local.host == "127.0.0.1");
  CHECK(local.port == 26660);
  auto tcp = parse_listen_address("tcp://127.0.0.1:1");
  CHECK(tcp.host == "127.0.0.1");
  CHECK(tcp.port == 1);
  auto tcp_all = parse_listen_address("tcp://:0");
  CHECK(tcp_all.host == "0.0.0.0");
  auto v6 = parse_listen_address("[::1]:26660");
  CHECK(v6.host == "::1");
  CHECK(v6.addr.ss_family == AF_INET6);
  auto v6_any = parse_listen_address("tcp://[::]:65535");
  CHECK(v6_any.host == "::");
  CHECK(v6_any.port == 65535);
  CHECK(v6_any.text == "tcp://[::]:65535");
  // The p2p laddr goes through the same parser.
  auto p2p = parse_listen_address(":26656");
  CHECK(p2p.host == "0.0.0.0");
  CHECK(p2p.port == 26656);
}

TEST_CASE("listen addresses: each bad one is one line naming the address and the reason") {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"127.0.0.1:99999", "port \"99999\" is not a number from 0 to 65535"},
      {"127.0.0.1:65536", "port \"65536\" is not a number from 0 to 65535"},
      {"127.0.0.1:-1", "port \"-1\" is not a number from 0 to 65535"},
      {"127.0.0.1:", "port \"\" is not a number from 0 to 65535"},
      {"127.0.0.1:http", "port \"http\" is not a number from 0 to 65535"},
      {"127.0.0.1", "expected host:port, :port or tcp://host:port"},
      {"", "expected host:port, :port or tcp://host:port"},
      {"udp://127.0.0.1:1", "scheme \"udp\" is not supported (only tcp://)"},
      {"localhost:26660", "host \"localhost\" is not an IP address"},
      {"256.0.0.1:1", "host \"256.0.0.1\" is not an IP address"},
      {"::1:26660", "an IPv6 host goes in brackets, e.g. [::1]:26660"},
      {"[]:1", "host \"\" is not an IP address"},
      {"[127.0.0.1:1", "host \"[127.0.0.1\" is not an IP address"},
      // Found by address_fuzz: brackets inside the brackets were accepted, the host keeping one
      // pair ("[::1]"), which no caller can print or parse back.
      {"[[::1]]:1", "host \"[::1]\" is not an IP address"},
      {"tcp://[[127.0.0.1]]:66", "host \"[127.0.0.1]\" is not an IP address"},
      // Found by address_fuzz: the IP parsers stop at a NUL byte, so this was "::". The message
      // shows it escaped.
      {std::string("tcp://[::\0junk]:26", 18), "host \"::\\x00junk\" is not an IP address"},
      {"127.0.0.1:2\n6", "port \"2\\n6\" is not a number from 0 to 65535"},
      // Found by address_fuzz: libuv takes any zone after '%'.
      {"tcp://[::1%a/tcp://b]:1", "host \"::1%a/tcp://b\" is not an IP address"},
      {"[fe80::1%\x11]:1", "host \"fe80::1%\\x11\" is not an IP address"},
  };
  for (const auto& [text, reason] : bad) {
    INFO(text);
    try {
      (void)parse_listen_address(text);
      FAIL("accepted");
    } catch (const runtime::ListenError& e) {
      CHECK(e.reason() == reason);
      CHECK(std::string(e.what()) == "cannot listen on " + one_line(text) + ": " + reason);
      CHECK(std::string(e.what()).find('\n') == std::string::npos);
    }
  }
}

} // namespace seedscope
