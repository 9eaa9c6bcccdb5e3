#include "core/pex/pex_rules.hpp"

namespace seedscope::pex {

bool PexPeerRules::begin_request() {
  if (outstanding_) return false;
  outstanding_ = true;
  return true;
}

bool PexPeerRules::take_answer() {
  if (!outstanding_) return false;
  outstanding_ = false;
  return true;
}

PexPeerRules::Verdict PexPeerRules::on_request(TimePoint now) {
  ++requests_;
  if (serving_ == Serving::kOnce) return requests_ == 1 ? Verdict::kAnswer : Verdict::kIgnore;
  // Go: the first request only creates the entry, the second starts the clock; from the third
  // on, one sooner than the interval after the last counted one is abuse.
  if (requests_ == 1) return Verdict::kAnswer;
  if (requests_ == 2 || !last_counted_) {
    last_counted_ = now;
    return Verdict::kAnswer;
  }
  if (now - *last_counted_ < min_interval_) return Verdict::kTooSoon;
  last_counted_ = now;
  return Verdict::kAnswer;
}

} // namespace seedscope::pex
