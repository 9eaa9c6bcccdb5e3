#include "core/crawl/outcome.hpp"

namespace seedscope::crawl {

std::string_view to_string(Outcome o) {
  switch (o) {
  case Outcome::kOk: return "ok";
  case Outcome::kFull: return "full";
  case Outcome::kNoAnswer: return "no_answer";
  case Outcome::kRefused: return "refused";
  case Outcome::kTimeout: return "timeout";
  case Outcome::kUnreachable: return "unreachable";
  case Outcome::kHandshakeTimeout: return "handshake_timeout";
  case Outcome::kHandshakeFailed: return "handshake_failed";
  case Outcome::kAuthFailure: return "auth_failure";
  case Outcome::kIdMismatch: return "id_mismatch";
  case Outcome::kIncompatible: return "incompatible";
  case Outcome::kMisbehaving: return "misbehaving";
  case Outcome::kSelf: return "self";
  case Outcome::kServed: return "served";
  case Outcome::kIdle: return "idle";
  case Outcome::kRejected: return "rejected";
  }
  return "rejected";
}

bool handshaken(Outcome o) {
  switch (o) {
  case Outcome::kOk:
  case Outcome::kFull:
  case Outcome::kNoAnswer:
  case Outcome::kMisbehaving:
  case Outcome::kServed:
  case Outcome::kIdle: return true;
  default: return false;
  }
}

bool good(Outcome o) {
  return o == Outcome::kOk || o == Outcome::kFull || o == Outcome::kNoAnswer ||
         o == Outcome::kServed || o == Outcome::kIdle;
}

Verdict verdict(Outcome o) {
  if (good(o)) return Verdict::kVerified;
  if (o == Outcome::kMisbehaving) return Verdict::kMisbehaved;
  return Verdict::kFailed;
}

Outcome classify(const Failure& f, bool after_handshake) {
  if (f.stage == Stage::kLocalPolicy) {
    if (f.reason == Reason::kFullAfterHandshake) return Outcome::kFull;
    if (f.reason == Reason::kSelf) return Outcome::kSelf;
    return Outcome::kRejected;
  }
  if (after_handshake || f.stage == Stage::kMConnection || f.stage == Stage::kPex) {
    return Outcome::kMisbehaving;
  }
  switch (f.reason) {
  case Reason::kRefused:
    return f.stage == Stage::kDial ? Outcome::kRefused : Outcome::kHandshakeFailed;
  case Reason::kTimeout:
    return f.stage == Stage::kDial ? Outcome::kTimeout : Outcome::kHandshakeTimeout;
  case Reason::kUnreachable:
  case Reason::kDnsFailure: return Outcome::kUnreachable;
  case Reason::kIoError:
    return f.stage == Stage::kDial ? Outcome::kUnreachable : Outcome::kHandshakeFailed;
  case Reason::kClosed:
  case Reason::kMalformed:
  case Reason::kMessageTooLarge:
  case Reason::kFrameTooLong: return Outcome::kHandshakeFailed;
  case Reason::kLowOrderKey:
  case Reason::kDecryptFailed:
  case Reason::kAuthFailure: return Outcome::kAuthFailure;
  case Reason::kIdMismatch: return Outcome::kIdMismatch;
  case Reason::kInvalidNodeInfo:
  case Reason::kIncompatibleNetwork:
  case Reason::kIncompatibleVersion:
  case Reason::kNoCommonChannel: return Outcome::kIncompatible;
  case Reason::kSelf: return Outcome::kSelf;
  default: return Outcome::kHandshakeFailed;
  }
}

} // namespace seedscope::crawl
