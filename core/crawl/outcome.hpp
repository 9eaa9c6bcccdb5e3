// The outcome of one contact, as the crawler records it: a small, stable set of names for the
// contacts table and metric labels, next to the detailed (stage, reason) pair.
#pragma once

#include <string_view>

#include "core/p2p/disconnect.hpp"

namespace seedscope::crawl {

enum class Outcome {
  kOk,               // handshake, PexRequest answered
  kFull,             // handshake, then the node hung up at once (its inbound slots are full)
  kNoAnswer,         // handshake, but no PexAddrs before the timeout
  kRefused,          // TCP connection refused
  kTimeout,          // TCP connect did not complete in time
  kUnreachable,      // no route, DNS failure, other socket errors before the handshake
  kHandshakeTimeout, // connected, but the handshake did not complete in time (silent, slow)
  kHandshakeFailed,  // the handshake broke off (closed, malformed)
  kAuthFailure,      // bad signature or key, undecryptable frames
  kIdMismatch,       // the node is not the ID we dialed, or its NodeInfo lies about its ID
  kIncompatible,     // another network or protocol version, no common channel, bad NodeInfo
  kMisbehaving,      // handshake done, then protocol violations (garbage, oversized, unsolicited)
  kSelf,             // ourselves
  kServed,           // inbound: we answered its PexRequest (seed service)
  kIdle,             // inbound: connected but asked nothing before we let it go
  kRejected,         // refused by our own policy (limits, loopback-only, shutdown)
};

std::string_view to_string(Outcome o);

// Completed the handshake with us (whatever happened after it).
bool handshaken(Outcome o);
// Good for availability and the seed service: handshaken and well-behaved.
bool good(Outcome o);

// What one outbound contact says of the address it dialed. This is the one definition of
// "verified reachable" that the schedule, availability, the seed service, exports, stats and
// metrics all follow: a node is verified when it completed the handshake and behaved; one
// that completed the handshake and then broke the protocol (garbage, oversized messages,
// unsolicited PexAddrs) misbehaved, which is neither a success nor a plain failure.
enum class Verdict { kVerified, kMisbehaved, kFailed };
Verdict verdict(Outcome o);

// Classifies a failure. `after_handshake`: the failure ended an established connection.
Outcome classify(const Failure& f, bool after_handshake);

} // namespace seedscope::crawl
