// Rate limits for log lines that strangers can cause (a connection that fails, a peer that
// comes and goes): a flood of connections must not become a flood of lines. Each cause has a
// budget of lines per second with a burst, and within it each peer (its IP) a smaller one,
// so one churning peer cannot use up a cause's budget alone. Refused lines are counted by
// cause; the caller logs the counts now and then (take_suppressed()). Bounded: at most
// `max_peers` peers are tracked (all forgotten when full). Single-threaded; time passed in.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/base/clock.hpp"

namespace seedscope {

struct LogLimits {
  double per_second = 10; // lines of one cause
  double burst = 20;
  double peer_per_second = 1; // lines about one peer, within its cause's budget
  double peer_burst = 3;
  std::size_t max_peers = 4096;
};

class LogLimiter {
public:
  explicit LogLimiter(LogLimits limits = {}) : limits_(limits) {}

  // Whether a line of `cause` about `peer` ("" for none) may be written at `now`; a refused
  // one is counted.
  bool allow(std::string_view cause, std::string_view peer, TimePoint now);
  // The lines refused since the last call, by cause (empty when none); resets the counts.
  std::map<std::string, std::uint64_t> take_suppressed();
  std::uint64_t suppressed_total() const { return total_; }

private:
  struct Bucket {
    double tokens = 0;
    TimePoint last{};
    bool started = false;
  };
  static bool take(Bucket& b, double rate, double burst, TimePoint now);

  LogLimits limits_;
  std::map<std::string, Bucket, std::less<>> causes_;
  std::unordered_map<std::string, Bucket> peers_;
  std::map<std::string, std::uint64_t> suppressed_;
  std::uint64_t total_ = 0;
};

// "12 lines suppressed in the last interval: connection failed 10, peer removed 2".
std::string suppressed_summary(const std::map<std::string, std::uint64_t>& counts);

} // namespace seedscope
