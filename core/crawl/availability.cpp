#include "core/crawl/availability.hpp"

#include <algorithm>
#include <cmath>

namespace seedscope::crawl {

void Availability::update(bool good, WallTime now) {
  double age = 0;
  if (is_set(last_update) && now > last_update) {
    age = std::chrono::duration<double>(now - last_update).count();
  }
  for (std::size_t i = 0; i < kWindowCount; ++i) {
    double tau = static_cast<double>(kWindows[i].count());
    // The first sample weighs as one contact after a typical recrawl interval would; it would
    // otherwise stand for a whole window of history and outweigh every later contact.
    double f = std::exp(-(is_set(last_update) ? age : kFirstSampleAge) / tau);
    WindowStat& w = windows[i];
    w.reliability = w.reliability * f + (good ? 1.0 - f : 0.0);
    w.weight = w.weight * f + (1.0 - f);
    w.count = w.count * f + 1.0;
  }
  last_update = std::max(last_update, now);
}

double Availability::score() const {
  double sum = 0;
  for (const auto& w : windows) sum += w.availability() * std::min(1.0, w.count / 2.0);
  return sum / static_cast<double>(kWindowCount);
}

} // namespace seedscope::crawl
