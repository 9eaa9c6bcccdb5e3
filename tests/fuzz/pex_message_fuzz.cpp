// Fuzz target: the PEX message decoder (tendermint.p2p.Message on channel 0x00).
// Anything may fail to decode, with kMalformed or kBadAddress only; what decodes must survive
// encode -> decode unchanged, encoding must be stable, and every decoded address has a port
// below 65536 and an IP whose text parses back to it.
#include <cstdint>

#include "core/pex/pex_messages.hpp"
#include "fuzz/fuzz_invariant.hpp"

using namespace seedscope;
using namespace seedscope::pex;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto decoded = decode_pex_message(ByteSpan(data, size));
  if (!decoded.ok()) {
    FUZZ_INVARIANT(decoded.error().code == PexMessageError::kMalformed ||
                   decoded.error().code == PexMessageError::kBadAddress);
    FUZZ_INVARIANT(!decoded.error().message().empty());
    return 0;
  }
  const PexMessage& msg = *decoded;
  if (msg.is_request()) FUZZ_INVARIANT(msg.addrs.empty());
  for (const auto& a : msg.addrs) {
    const auto ip = parse_wire_ip(a.ip.to_string());
    FUZZ_INVARIANT(ip && *ip == a.ip);
  }
  const Bytes encoded = encode_pex_message(msg);
  auto again = decode_pex_message(encoded);
  FUZZ_INVARIANT(again.ok());
  FUZZ_INVARIANT(*again == msg);
  FUZZ_INVARIANT(encode_pex_message(*again) == encoded);
  return 0;
}
