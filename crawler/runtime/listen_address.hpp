// Listen addresses in Tendermint's forms, parsed in one place for every server of the process
// (the p2p laddr, the metrics endpoint, the API): ":26660" (every IPv4 interface),
// "127.0.0.1:26660", "tcp://127.0.0.1:26660", "[::1]:26660", "tcp://[::]:26660". The host is
// an IP literal (no DNS at start-up); port 0 lets the system pick one. Errors name the address
// and the reason on one line: "cannot listen on 127.0.0.1:99999: port 99999 is out of range
// (0-65535)", "cannot listen on 127.0.0.1:26660: address already in use (EADDRINUSE)".
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace seedscope::runtime {

struct ListenAddress {
  std::string text; // as written
  std::string host; // IP literal without brackets ("0.0.0.0" for ":port")
  std::uint16_t port = 0;
  sockaddr_storage addr{}; // host and port, ready for bind
  const sockaddr* sockaddr_ptr() const { return reinterpret_cast<const sockaddr*>(&addr); }
};

class ListenError : public std::runtime_error {
public:
  // `status`: the libuv error of a failed bind or listen (0 for an address that does not parse).
  ListenError(const std::string& address, std::string reason, int status = 0);
  const std::string& reason() const { return reason_; }
  bool address_in_use() const; // EADDRINUSE: another process has it

private:
  std::string reason_;
  int status_ = 0;
};

// Parses one of the forms above; throws ListenError (start-up only).
ListenAddress parse_listen_address(std::string_view text);
// The system's reason for a failed bind or listen, as a ListenError reason:
// "address already in use (EADDRINUSE)".
std::string listen_failure_reason(int uv_status);
// "off" and "" mean "no server" where a server is optional (metrics).
inline bool listen_address_off(std::string_view text) { return text.empty() || text == "off"; }

} // namespace seedscope::runtime
