// Small helpers shared by the benchmark programs.
#pragma once

#include <sys/resource.h>

namespace seedscope::bench {

// User + system CPU time so far, in seconds: of the process (RUSAGE_SELF) or of the calling
// thread (RUSAGE_THREAD).
inline double cpu_seconds(int who = RUSAGE_SELF) {
  rusage ru{};
  getrusage(who, &ru);
  return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

} // namespace seedscope::bench
