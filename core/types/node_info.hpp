// DefaultNodeInfo: what peers tell each other after the SecretConnection.
// Ports p2p/node_info.go @ v0.34 (Validate, CompatibleWith) and its protobuf form.
#pragma once

#include <cstdint>
#include <string>
#include <system_error>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"

namespace seedscope {

constexpr std::uint64_t kP2PProtocol = 8;
constexpr std::uint64_t kBlockProtocol = 11;
constexpr std::size_t kMaxNodeInfoSize = 10240;
constexpr std::size_t kMaxNumChannels = 16;

struct ProtocolVersion {
  std::uint64_t p2p = kP2PProtocol;
  std::uint64_t block = kBlockProtocol;
  std::uint64_t app = 0;
  bool operator==(const ProtocolVersion&) const = default;
};

struct NodeInfo {
  ProtocolVersion protocol_version;
  std::string node_id;     // default_node_id
  std::string listen_addr; // may carry tcp://
  std::string network;     // chain ID
  std::string version;
  Bytes channels;
  std::string moniker;
  std::string tx_index;    // other.tx_index
  std::string rpc_address; // other.rpc_address
  bool operator==(const NodeInfo&) const = default;
};

enum class NodeInfoError {
  kDecode = 1,
  kInvalid,             // Validate() failed; Error::detail says which rule
  kIncompatibleVersion, // block protocol differs
  kIncompatibleNetwork, // network differs
  kNoCommonChannel,
};
const std::error_category& node_info_category();
std::error_code make_error_code(NodeInfoError e);

// Protobuf encoding without length prefix, byte-identical to Go (embedded messages always
// emitted).
Bytes encode_node_info(const NodeInfo& info);
Result<NodeInfo> decode_node_info(ByteSpan protobuf);

// Go's DefaultNodeInfo.Validate(), except that a non-IP listen_addr host is checked only for
// syntax (the core does no DNS).
Status validate_node_info(const NodeInfo& info);

// A chain ID as Tendermint allows one (types.MaxChainIDLen): 1 to 50 characters, printable
// ASCII without whitespace. Go's NodeInfo.Validate() does not look at it (compatibility
// compares it); a network-adopting endpoint must, or any peer could make up chains. (Two
// adopting endpoints settle on none, the empty network, which is no chain.)
inline constexpr std::size_t kMaxChainIdLength = 50;
Status validate_chain_id(std::string_view chain_id);

// Go's ours.CompatibleWith(theirs).
Status check_compatible(const NodeInfo& ours, const NodeInfo& theirs);

} // namespace seedscope

namespace std {
template <> struct is_error_code_enum<seedscope::NodeInfoError> : true_type {};
} // namespace std
