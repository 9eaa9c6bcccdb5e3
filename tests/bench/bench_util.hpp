// Small helpers shared by the benchmark programs.
#pragma once

#include <sys/resource.h>

namespace seedscope::bench {

// User + system CPU time of this process so far, in seconds.
inline double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

} // namespace seedscope::bench
