#include "core/pex/pex_messages.hpp"

#include <string>

#include "core/base/error_category.hpp"
#include "core/proto/p2p.pb.h"

namespace seedscope::pex {
namespace {

std::string_view describe(PexMessageError e) {
  switch (e) {
  case PexMessageError::kMalformed: return "malformed PEX message";
  case PexMessageError::kBadAddress: return "invalid address in PexAddrs";
  }
  return "unknown PEX message error";
}

Bytes serialize(const wire::Message& m) {
  Bytes out(m.ByteSizeLong());
  m.SerializeWithCachedSizesToArray(out.data());
  return out;
}

} // namespace

const std::error_category& pex_message_category() {
  return enum_category<PexMessageError>("pex_message", describe);
}

std::error_code make_error_code(PexMessageError e) {
  return {static_cast<int>(e), pex_message_category()};
}

std::optional<IpAddress> parse_wire_ip(std::string_view text) {
  // IpAddress::parse also takes "[v6]"; net.ParseIP does not.
  if (text.empty() || text.front() == '[') return std::nullopt;
  return IpAddress::parse(text);
}

Bytes encode_pex_request() {
  wire::Message m;
  m.mutable_pex_request();
  return serialize(m);
}

Bytes encode_pex_addrs(const std::vector<NetAddress>& addrs) {
  wire::Message m;
  auto* list = m.mutable_pex_addrs();
  for (const auto& a : addrs) {
    auto* pb = list->add_addrs();
    pb->set_id(a.id);
    pb->set_ip(a.ip.to_string());
    pb->set_port(a.port);
  }
  return serialize(m);
}

Bytes encode_pex_message(const PexMessage& msg) {
  return msg.is_request() ? encode_pex_request() : encode_pex_addrs(msg.addrs);
}

Result<PexMessage> decode_pex_message(ByteSpan protobuf) {
  wire::Message m;
  if (!m.ParseFromArray(protobuf.data(), static_cast<int>(protobuf.size())))
    return make_error(PexMessageError::kMalformed, "not a tendermint.p2p.Message");
  switch (m.sum_case()) {
  case wire::Message::kPexRequest: return PexMessage::request();
  case wire::Message::kPexAddrs: break;
  default: return make_error(PexMessageError::kMalformed, "no message in the oneof");
  }
  PexMessage out = PexMessage::addresses({});
  out.addrs.reserve(static_cast<std::size_t>(m.pex_addrs().addrs_size()));
  for (const auto& pb : m.pex_addrs().addrs()) {
    auto ip = parse_wire_ip(pb.ip());
    if (!ip) return make_error(PexMessageError::kBadAddress, "invalid IP address");
    if (pb.port() >= (1u << 16))
      return make_error(PexMessageError::kBadAddress,
                        "invalid port number " + std::to_string(pb.port()));
    out.addrs.push_back(NetAddress{pb.id(), *ip, static_cast<std::uint16_t>(pb.port())});
  }
  return out;
}

} // namespace seedscope::pex
