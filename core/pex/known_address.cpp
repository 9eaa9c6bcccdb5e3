// KnownAddress::is_bad (p2p/pex/known_address.go @ v0.34.24) and the address book's error
// category.
#include <chrono>
#include <string>

#include "core/base/error_category.hpp"
#include "core/pex/addr_book.hpp"

namespace seedscope::pex {

namespace {

using Days = std::chrono::days;

std::string_view describe(AddrBookError e) {
  switch (e) {
  case AddrBookError::kInvalidAddress: return "invalid address";
  case AddrBookError::kNonRoutable: return "address is not routable (strict address book)";
  case AddrBookError::kOwnAddress: return "address is our own";
  case AddrBookError::kPrivateId: return "address has a private ID";
  case AddrBookError::kBanned: return "address is banned";
  case AddrBookError::kPrivateSource: return "address learnt from a private ID";
  case AddrBookError::kInconsistent: return "inconsistent address book snapshot";
  }
  return "unknown address book error";
}

} // namespace

const std::error_category& addr_book_category() {
  return enum_category<AddrBookError>("addr_book", describe);
}

std::error_code make_error_code(AddrBookError e) {
  return {static_cast<int>(e), addr_book_category()};
}

// Go's isBad(). Note that Go sets LastAttempt when an address is first added, so "never
// attempted for a week" really means "added or last attempted over a week ago". An unset
// last_success (Go's zero time) is before any cut-off, as in Go.
bool KnownAddress::is_bad(WallTime now) const {
  if (is_old()) return false;
  // Attempted within the last minute: give it a chance.
  if (last_attempt > now - std::chrono::minutes(1)) return false;
  // Not seen (attempted) for too long.
  if (last_attempt < now - Days(kNumMissingDays)) return true;
  // Failed kNumRetries times and never succeeded.
  if (!is_set(last_success) && attempts >= kNumRetries) return true;
  // Failed kMaxFailures times and no success for kMinBadDays.
  if (last_success < now - Days(kMinBadDays) && attempts >= kMaxFailures) return true;
  return false;
}

} // namespace seedscope::pex
