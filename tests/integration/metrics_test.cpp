// The Prometheus endpoint: served on loopback, scraped over HTTP by hand.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <string>

#include "metrics/node_metrics.hpp"

namespace {

// Debian's prebuilt civetweb (the HTTP server under prometheus-cpp) crashes in mg_printf
// (__vsnprintf_chk) when the process runs under AddressSanitizer, in its own thread, before
// any of our code is involved; the release build runs these tests.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kUnderAsan = true;
#else
constexpr bool kUnderAsan = false;
#endif

std::string http_get(std::uint16_t port, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
  const std::string req = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  REQUIRE(::write(fd, req.data(), req.size()) == static_cast<ssize_t>(req.size()));
  std::string out;
  char buf[4096];
  for (int i = 0; i < 1000; ++i) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

} // namespace

TEST_CASE("metrics: the node's gauges and counters are served in Prometheus text format" *
          doctest::skip(kUnderAsan)) {
  seedscope::metrics::NodeMetrics m("127.0.0.1:0", "seedscope");
  const auto colon = m.endpoint().rfind(':');
  const auto port = static_cast<std::uint16_t>(std::stoi(m.endpoint().substr(colon + 1)));
  REQUIRE(port != 0);
  seedscope::metrics::NodeSample s;
  s.book_new = 5;
  s.book_old = 2;
  s.peers_inbound = 3;
  s.peers_outbound = 4;
  s.dialing = 1;
  m.update(s);
  m.peer_added();
  m.peer_added();
  m.peer_removed();
  const std::string text = http_get(port, "/metrics");
  INFO(text);
  CHECK(text.find("200 OK") != std::string::npos);
  CHECK(text.find("seedscope_addrbook_addresses{bucket=\"new\"} 5") != std::string::npos);
  CHECK(text.find("seedscope_addrbook_addresses{bucket=\"old\"} 2") != std::string::npos);
  CHECK(text.find("seedscope_peers{direction=\"inbound\"} 3") != std::string::npos);
  CHECK(text.find("seedscope_peers{direction=\"outbound\"} 4") != std::string::npos);
  CHECK(text.find("seedscope_dials_in_flight 1") != std::string::npos);
  CHECK(text.find("seedscope_peers_added_total 2") != std::string::npos);
  CHECK(text.find("seedscope_peers_removed_total 1") != std::string::npos);
}

TEST_CASE("metrics: an address that cannot be bound is a clear error") {
  CHECK_THROWS_WITH_AS(seedscope::metrics::NodeMetrics("256.1.1.1:1"),
                       doctest::Contains("metrics: cannot serve on 256.1.1.1:1"),
                       std::runtime_error);
}
