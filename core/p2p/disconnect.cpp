#include "core/p2p/disconnect.hpp"

namespace seedscope {

std::string_view to_string(Stage s) {
  switch (s) {
  case Stage::kDial: return "dial";
  case Stage::kSecretHandshake: return "secret_handshake";
  case Stage::kNodeInfo: return "node_info";
  case Stage::kMConnection: return "mconnection";
  case Stage::kPex: return "pex";
  case Stage::kLocalPolicy: return "local_policy";
  }
  return "unknown";
}

std::string_view to_string(Reason r) {
  switch (r) {
  case Reason::kNone: return "none";
  case Reason::kRefused: return "refused";
  case Reason::kTimeout: return "timeout";
  case Reason::kUnreachable: return "unreachable";
  case Reason::kDnsFailure: return "dns_failure";
  case Reason::kIoError: return "io_error";
  case Reason::kClosed: return "closed";
  case Reason::kMalformed: return "malformed";
  case Reason::kMessageTooLarge: return "message_too_large";
  case Reason::kLowOrderKey: return "low_order_key";
  case Reason::kDecryptFailed: return "decrypt_failed";
  case Reason::kFrameTooLong: return "frame_too_long";
  case Reason::kAuthFailure: return "auth_failure";
  case Reason::kIdMismatch: return "id_mismatch";
  case Reason::kInvalidNodeInfo: return "invalid_node_info";
  case Reason::kIncompatibleNetwork: return "incompatible_network";
  case Reason::kIncompatibleVersion: return "incompatible_version";
  case Reason::kNoCommonChannel: return "no_common_channel";
  case Reason::kSelf: return "self";
  case Reason::kUnknownChannel: return "unknown_channel";
  case Reason::kOverCapacity: return "over_capacity";
  case Reason::kUnknownPacketType: return "unknown_packet_type";
  case Reason::kPongTimeout: return "pong_timeout";
  case Reason::kUnsolicitedAddrs: return "unsolicited_addrs";
  case Reason::kTooManyRequests: return "too_many_requests";
  case Reason::kBadAddrs: return "bad_addrs";
  case Reason::kDuplicatePeer: return "duplicate_peer";
  case Reason::kDuplicateIp: return "duplicate_ip";
  case Reason::kPeerLimit: return "peer_limit";
  case Reason::kBanned: return "banned";
  case Reason::kFullAfterHandshake: return "full_after_handshake";
  case Reason::kNotAllowed: return "not_allowed";
  case Reason::kShutdown: return "shutdown";
  case Reason::kDone: return "done";
  }
  return "unknown";
}

} // namespace seedscope
