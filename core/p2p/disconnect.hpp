// Every failed dial, handshake or disconnect is data: a (stage, reason) pair. The same pair
// becomes a metric label and a database column, so names are stable snake_case strings.
#pragma once

#include <string_view>

namespace seedscope {

enum class Stage {
  kDial,            // DNS + TCP connect
  kSecretHandshake, // ephemeral keys, DH, AuthSig
  kNodeInfo,        // NodeInfo exchange, validation, compatibility
  kMConnection,     // packets after the upgrade
  kPex,             // PEX reactor rules
  kLocalPolicy,     // our own decision (limits, shutdown, done)
};

enum class Reason {
  kNone,
  // transport
  kRefused,     // connection refused / reset before anything
  kTimeout,     // a deadline passed (dial or handshake phase)
  kUnreachable, // no route, host unreachable, network down
  kDnsFailure,  // name did not resolve
  kIoError,     // any other socket error
  kClosed,      // peer closed the stream (EOF)
  // secret connection
  kMalformed, // undecodable message or bad field
  kMessageTooLarge,
  kLowOrderKey,   // X25519 result all zero
  kDecryptFailed, // sealed frame did not open
  kFrameTooLong,  // plain frame length > 1024
  kAuthFailure,   // bad signature, wrong key type or size
  kIdMismatch,    // authenticated ID differs from the dialed ID or from NodeInfo
  // node info
  kInvalidNodeInfo,
  kIncompatibleNetwork,
  kIncompatibleVersion,
  kNoCommonChannel,
  kSelf,
  // mconnection
  kUnknownChannel, // packet for a channel we did not register
  kOverCapacity,   // message over the channel's receive capacity
  kUnknownPacketType,
  kPongTimeout,
  // pex
  kUnsolicitedAddrs, // PexAddrs without an outstanding request
  kTooManyRequests,  // PexRequest again within the minimum interval
  kBadAddrs,         // unparseable address in a PexAddrs
  // local policy
  kShutdown,
  kDone,
  kDuplicatePeer, // already connected to this ID
  kDuplicateIp,   // already connected to this IP
  kPeerLimit,     // inbound or outbound slots full
  kBanned,
  kFullAfterHandshake, // the peer closed at once after the handshake (its slots are full)
  kNotAllowed,         // outside the addresses we may dial (loopback-only simulations)
};

std::string_view to_string(Stage s);
std::string_view to_string(Reason r);

struct Failure {
  Stage stage = Stage::kLocalPolicy;
  Reason reason = Reason::kNone;
};

} // namespace seedscope
