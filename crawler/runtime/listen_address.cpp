#include "crawler/runtime/listen_address.hpp"

#include <uv.h>

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "core/base/spelling.hpp"
#include "crawler/runtime/tcp.hpp"

namespace seedscope::runtime {

ListenError::ListenError(const std::string& address, std::string reason, int status)
    // Escaped: the address and the parts of it a reason quotes may hold any byte (one line).
    : std::runtime_error(
          fmt::format("cannot listen on {}: {}", one_line(address), one_line(reason))),
      reason_(one_line(reason)),
      status_(status) {}

bool ListenError::address_in_use() const { return status_ == UV_EADDRINUSE; }

ListenAddress parse_listen_address(std::string_view text) {
  const std::string original(text);
  auto fail = [&](const std::string& why) { return ListenError(original, why); };
  std::string_view rest = text;
  if (auto pos = rest.find("://"); pos != std::string_view::npos) {
    if (rest.substr(0, pos) != "tcp")
      throw fail(fmt::format("scheme \"{}\" is not supported (only tcp://)", rest.substr(0, pos)));
    rest.remove_prefix(pos + 3);
  }
  const auto colon = rest.rfind(':');
  if (colon == std::string_view::npos) throw fail("expected host:port, :port or tcp://host:port");
  std::string_view host = rest.substr(0, colon);
  const std::string_view port_text = rest.substr(colon + 1);
  if (port_text.empty() || port_text.size() > 5 ||
      port_text.find_first_not_of("0123456789") != std::string_view::npos ||
      std::stoul(std::string(port_text)) > 65535)
    throw fail(fmt::format("port \"{}\" is not a number from 0 to 65535", port_text));
  const bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
  if (bracketed) host = host.substr(1, host.size() - 2);
  else if (host.find(':') != std::string_view::npos)
    throw fail("an IPv6 host goes in brackets, e.g. [::1]:26660");
  // An IP literal, with an IPv6 zone at most ("fe80::1%eth0"): brackets inside ("[[::1]]"),
  // NUL bytes (the IP parsers stop at one: "[::\0junk]" would be "::") and any other byte a
  // zone cannot hold ("[::1%a/b://c]", libuv takes any zone) are refused.
  const auto ip_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == ':' || c == '%' ||
           c == '_' || c == '-';
  };
  if (!std::all_of(host.begin(), host.end(), ip_char))
    throw fail(fmt::format("host \"{}\" is not an IP address", host));
  ListenAddress out;
  out.text = original;
  out.host = host.empty() && !bracketed ? "0.0.0.0" : std::string(host);
  out.port = static_cast<std::uint16_t>(std::stoul(std::string(port_text)));
  auto sa = make_sockaddr(out.host, out.port);
  if (!sa) throw fail(fmt::format("host \"{}\" is not an IP address", out.host));
  out.addr = *sa;
  return out;
}

std::string listen_failure_reason(int uv_status) {
  return fmt::format("{} ({})", uv_strerror(uv_status), uv_err_name(uv_status));
}

} // namespace seedscope::runtime
