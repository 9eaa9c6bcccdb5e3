#include "core/types/node_info.hpp"

#include <array>
#include <climits>
#include <string_view>

#include "core/base/error_category.hpp"
#include "core/proto/p2p.pb.h"
#include "core/types/net_address.hpp"

namespace seedscope {

namespace {

std::string_view describe(NodeInfoError e) {
  switch (e) {
  case NodeInfoError::kDecode: return "node info does not decode";
  case NodeInfoError::kInvalid: return "invalid node info";
  case NodeInfoError::kIncompatibleVersion: return "peer is on a different block version";
  case NodeInfoError::kIncompatibleNetwork: return "peer is on a different network";
  case NodeInfoError::kNoCommonChannel: return "peer has no common channels";
  }
  return "unknown node info error";
}

// Go's tmstrings.IsASCIIText: non-empty and every byte printable ASCII (32..126).
bool is_ascii_text(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 32 || b > 126) return false;
  }
  return true;
}

// Go's `tmstrings.ASCIITrim(s) == ""` for a string already known to be ASCII text.
bool is_blank(std::string_view s) { return s.find_first_not_of(' ') == std::string_view::npos; }

// Go: len(s) > 0 && (!IsASCIIText(s) || ASCIITrim(s) == "") is an error.
bool optional_text_ok(std::string_view s) {
  return s.empty() || (is_ascii_text(s) && !is_blank(s));
}

// Peer text made safe for an error detail: at most 64 bytes, non-printables as \xNN.
std::string quote(std::string_view s) {
  constexpr std::size_t kMaxShown = 64;
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size() && i < kMaxShown; ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b >= 32 && b <= 126 && b != '"' && b != '\\') {
      out.push_back(static_cast<char>(b));
    } else {
      out += "\\x";
      out.push_back(kDigits[b >> 4]);
      out.push_back(kDigits[b & 0x0f]);
    }
  }
  if (s.size() > kMaxShown) out += "...";
  out += "\"";
  return out;
}

Error invalid(std::string detail) { return make_error(NodeInfoError::kInvalid, std::move(detail)); }

// Go's removeProtocolIfDefined: strings.Split(addr, "://")[1] when "://" occurs.
std::string_view remove_protocol(std::string_view addr) {
  const std::size_t at = addr.find("://");
  if (at == std::string_view::npos) return addr;
  std::string_view rest = addr.substr(at + 3);
  return rest.substr(0, rest.find("://"));
}

Status validate_listen_addr(const NodeInfo& info) {
  // Go: NewNetAddressString(IDAddressString(info.ID(), info.ListenAddr)); IDAddressString
  // removes the scheme from the listen address before joining.
  std::string full = info.node_id + "@" + std::string(remove_protocol(info.listen_addr));
  Result<PeerAddress> parsed = parse_peer_address(full);
  if (!parsed) {
    return invalid("listen_addr: " + quote(full) + " is not a peer address (" +
                   parsed.error().message() + ")");
  }
  return ok_status();
}

Status validate_channels(const NodeInfo& info) {
  if (info.channels.size() > kMaxNumChannels) {
    return invalid("channels: " + std::to_string(info.channels.size()) + " > " +
                   std::to_string(kMaxNumChannels));
  }
  std::array<bool, 256> seen{};
  for (std::uint8_t ch : info.channels) {
    if (seen[ch]) return invalid("channels: duplicate channel id " + std::to_string(ch));
    seen[ch] = true;
  }
  return ok_status();
}

Status validate_other(const NodeInfo& info) {
  if (!info.tx_index.empty() && info.tx_index != "on" && info.tx_index != "off") {
    return invalid("other.tx_index must be 'on', 'off' or empty, got " + quote(info.tx_index));
  }
  if (!optional_text_ok(info.rpc_address)) {
    return invalid("other.rpc_address must be ASCII text without tabs, got " +
                   quote(info.rpc_address));
  }
  return ok_status();
}

} // namespace

const std::error_category& node_info_category() {
  return enum_category<NodeInfoError>("node_info", describe);
}

std::error_code make_error_code(NodeInfoError e) {
  return {static_cast<int>(e), node_info_category()};
}

Bytes encode_node_info(const NodeInfo& info) {
  wire::DefaultNodeInfo pb;
  // mutable_*() marks the embedded messages present, so they are emitted even when empty,
  // as Go's gogoproto (nullable=false) does.
  wire::ProtocolVersion* pv = pb.mutable_protocol_version();
  pv->set_p2p(info.protocol_version.p2p);
  pv->set_block(info.protocol_version.block);
  pv->set_app(info.protocol_version.app);
  pb.set_default_node_id(info.node_id);
  pb.set_listen_addr(info.listen_addr);
  pb.set_network(info.network);
  pb.set_version(info.version);
  pb.set_channels(info.channels.data(), info.channels.size());
  pb.set_moniker(info.moniker);
  wire::DefaultNodeInfoOther* other = pb.mutable_other();
  other->set_tx_index(info.tx_index);
  other->set_rpc_address(info.rpc_address);

  Bytes out(pb.ByteSizeLong());
  if (!out.empty()) pb.SerializeWithCachedSizesToArray(out.data());
  return out;
}

Result<NodeInfo> decode_node_info(ByteSpan protobuf) {
  if (protobuf.size() > static_cast<std::size_t>(INT_MAX)) {
    return make_error(NodeInfoError::kDecode, "too large");
  }
  wire::DefaultNodeInfo pb;
  static const std::uint8_t kEmpty = 0;
  const std::uint8_t* data = protobuf.empty() ? &kEmpty : protobuf.data();
  if (!pb.ParseFromArray(data, static_cast<int>(protobuf.size()))) {
    return make_error(NodeInfoError::kDecode, "not a DefaultNodeInfo protobuf");
  }
  NodeInfo info;
  info.protocol_version.p2p = pb.protocol_version().p2p();
  info.protocol_version.block = pb.protocol_version().block();
  info.protocol_version.app = pb.protocol_version().app();
  info.node_id = pb.default_node_id();
  info.listen_addr = pb.listen_addr();
  info.network = pb.network();
  info.version = pb.version();
  info.channels.assign(pb.channels().begin(), pb.channels().end());
  info.moniker = pb.moniker();
  info.tx_index = pb.other().tx_index();
  info.rpc_address = pb.other().rpc_address();
  return info;
}

Status validate_node_info(const NodeInfo& info) {
  // The ID itself is checked as part of the listen address, as in Go.
  if (Status s = validate_listen_addr(info); !s) return s;
  // network is checked by check_compatible, as in Go.
  if (!optional_text_ok(info.version)) {
    return invalid("version must be ASCII text without tabs, got " + quote(info.version));
  }
  if (Status s = validate_channels(info); !s) return s;
  if (!is_ascii_text(info.moniker) || is_blank(info.moniker)) {
    return invalid("moniker must be non-empty ASCII text without tabs, got " + quote(info.moniker));
  }
  return validate_other(info);
}

Status validate_chain_id(std::string_view chain_id) {
  if (chain_id.empty()) return invalid("chain ID is empty");
  if (chain_id.size() > kMaxChainIdLength)
    return invalid("chain ID is " + std::to_string(chain_id.size()) + " characters long, at most " +
                   std::to_string(kMaxChainIdLength) + " are allowed");
  for (char c : chain_id) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f)
      return invalid("chain ID " + quote(std::string(chain_id)) +
                     " holds whitespace or a character that is not printable ASCII");
  }
  return ok_status();
}

Status check_compatible(const NodeInfo& ours, const NodeInfo& theirs) {
  if (ours.protocol_version.block != theirs.protocol_version.block) {
    return make_error(NodeInfoError::kIncompatibleVersion,
                      "got " + std::to_string(theirs.protocol_version.block) + ", expected " +
                          std::to_string(ours.protocol_version.block));
  }
  if (ours.network != theirs.network) {
    return make_error(NodeInfoError::kIncompatibleNetwork,
                      "got " + quote(theirs.network) + ", expected " + quote(ours.network));
  }
  if (ours.channels.empty()) return ok_status(); // Go: "we're just testing"
  for (std::uint8_t ch : ours.channels) {
    for (std::uint8_t theirs_ch : theirs.channels) {
      if (ch == theirs_ch) return ok_status();
    }
  }
  return make_error(NodeInfoError::kNoCommonChannel,
                    "ours " + to_hex(ours.channels) + ", theirs " + to_hex(theirs.channels));
}

} // namespace seedscope
