// PEX messages on channel 0x00: tendermint.p2p.Message{PexRequest | PexAddrs}. Stateless
// encoders and decoders with Go's rules (p2p/pex/pex_reactor.go Receive and
// p2p/netaddress.go NetAddressFromProto @ v0.34): an entry whose IP net.ParseIP refuses, or
// whose port is >= 65536 (ports are uint32 on the wire), rejects the whole message. IDs are
// not checked here; the address book judges them.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <system_error>
#include <vector>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"
#include "core/types/net_address.hpp"

namespace seedscope::pex {

// The oneof of tendermint.p2p.Message. A plain struct rather than std::variant: GCC 12 warns
// (falsely, maybe-uninitialized) when a variant holding a vector moves through Result.
struct PexMessage {
  enum class Kind : std::uint8_t { kRequest, kAddrs };
  Kind kind = Kind::kRequest;
  std::vector<NetAddress> addrs; // kAddrs only

  static PexMessage request() { return {}; }
  static PexMessage addresses(std::vector<NetAddress> list) {
    return {Kind::kAddrs, std::move(list)};
  }
  bool is_request() const { return kind == Kind::kRequest; }
  bool operator==(const PexMessage&) const = default;
};

enum class PexMessageError {
  kMalformed = 1, // not a protobuf Message, or none of its oneof set (Go: Unwrap fails)
  kBadAddress,    // an IP that does not parse or a port >= 65536
};
const std::error_category& pex_message_category();
std::error_code make_error_code(PexMessageError e);

// Protobuf without length prefix (the MConnection frames it): PexRequest is `0a 00`.
Bytes encode_pex_request();
Bytes encode_pex_addrs(const std::vector<NetAddress>& addrs);
Bytes encode_pex_message(const PexMessage& msg);
Result<PexMessage> decode_pex_message(ByteSpan protobuf);

// Go's net.ParseIP: a bare IPv4 or IPv6 literal (no brackets, no zone).
std::optional<IpAddress> parse_wire_ip(std::string_view text);

} // namespace seedscope::pex

namespace std {
template <> struct is_error_code_enum<seedscope::pex::PexMessageError> : true_type {};
} // namespace std
